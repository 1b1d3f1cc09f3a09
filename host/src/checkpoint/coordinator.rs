//! [`Coordinator`]: the tokio task that runs checkpoints.
//!
//! Every `interval` it triggers checkpoint `n` at the source task (one checkpoint in
//! flight at a time, as Flink's default); the source sends `Barrier(n)` downstream,
//! every chain subtask aligns, snapshots and acknowledges, every sink pre-commits and
//! acknowledges. With every acknowledgement in, it writes `_metadata` (the checkpoint
//! now exists), publishes `n` on the commit channel (sinks commit) and prunes old
//! checkpoints.
//!
//! A savepoint request triggers a checkpoint marked as a savepoint; the source stops
//! after its barrier. At the end of a bounded source every task acknowledges its end
//! instead ([`AckAt::End`]); that final checkpoint, one after the last barrier the
//! source sent, is marked `finished`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::metadata::{
    FORMAT_VERSION, Metadata, PluginEntry, SinkEntry, SnapshotEntry, SourceEntry,
};
use super::{CheckpointError, Fingerprint, Layout};
use crate::runtime::message::Barrier;
use crate::runtime::stats::CheckpointStats;

/// Which checkpoint an acknowledgement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckAt {
    /// The barrier of this checkpoint.
    Checkpoint(u64),
    /// The end of the task's input (a bounded run's final checkpoint).
    End,
}

/// What a task wrote for a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckPayload {
    /// The source's position; at its end, with the last barrier it sent.
    Source {
        entry: SourceEntry,
        last_barrier: u64,
    },
    /// A chain subtask's operators' snapshots.
    Operators(Vec<SnapshotEntry>),
    /// A sink pre-committed.
    Sink,
}

/// One task's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The task, for logs.
    pub task: String,
    pub at: AckAt,
    pub payload: AckPayload,
}

/// The task ends of the coordinator's channels.
#[derive(Debug)]
pub struct CheckpointChannels {
    /// Barriers to inject, for the source task.
    pub triggers: mpsc::Receiver<Barrier>,
    /// Acknowledgements, for every task.
    pub acks: mpsc::UnboundedSender<Ack>,
    /// The latest completed checkpoint, for the sinks.
    pub commits: watch::Receiver<u64>,
}

/// What `_metadata` says besides the acknowledgements.
#[derive(Debug, Clone)]
pub struct MetadataBase {
    pub pipeline: String,
    pub fingerprint: Fingerprint,
    pub plugins: Vec<PluginEntry>,
    /// The sinks' descriptions.
    pub sinks: Vec<String>,
}

/// The coordinator of one run (see the module docs).
#[derive(Debug)]
pub struct Coordinator {
    layout: Layout,
    interval: Duration,
    retain: usize,
    /// Tasks that acknowledge each checkpoint.
    participants: usize,
    base: MetadataBase,
    next_id: u64,
    triggers: mpsc::Sender<Barrier>,
    acks: mpsc::UnboundedReceiver<Ack>,
    commits: watch::Sender<u64>,
    savepoints: mpsc::Receiver<()>,
    /// Where completed checkpoints are counted, for `GET /metrics`.
    stats: Arc<CheckpointStats>,
}

/// The checkpoint being collected.
#[derive(Debug)]
struct InFlight {
    barrier: Barrier,
    acks: Vec<Ack>,
    started: Instant,
}

/// How a run's checkpointing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The savepoint taken, if the run stopped for one.
    pub savepoint: Option<u64>,
    /// The final checkpoint of a finished bounded run.
    pub finished: Option<u64>,
    /// Checkpoints completed.
    pub completed: u64,
}

impl Coordinator {
    /// A coordinator for `participants` tasks, continuing after checkpoint
    /// `last_id` (0 for a fresh run); returns it with the tasks' ends of its channels.
    pub fn new(
        layout: Layout,
        interval: Duration,
        retain: usize,
        participants: usize,
        base: MetadataBase,
        last_id: u64,
        savepoints: mpsc::Receiver<()>,
    ) -> (Self, CheckpointChannels) {
        let (triggers, trigger_rx) = mpsc::channel(1);
        let (acks, ack_rx) = mpsc::unbounded_channel();
        let (commits, commit_rx) = watch::channel(last_id);
        let coordinator = Coordinator {
            layout,
            interval,
            retain,
            participants,
            base,
            next_id: last_id + 1,
            triggers,
            acks: ack_rx,
            commits,
            savepoints,
            stats: Arc::default(),
        };
        let channels = CheckpointChannels {
            triggers: trigger_rx,
            acks,
            commits: commit_rx,
        };
        (coordinator, channels)
    }

    /// Counts completed checkpoints, their durations and sizes in `stats`.
    #[must_use]
    pub fn reporting_to(mut self, stats: Arc<CheckpointStats>) -> Self {
        self.stats = stats;
        self
    }

    /// Runs until every task has dropped its acknowledgement sender.
    ///
    /// # Errors
    /// When `_metadata` cannot be written or a checkpoint directory made: the
    /// checkpoint then does not exist, and the run stops.
    pub async fn run(mut self) -> Result<Outcome, CheckpointError> {
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + self.interval, self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut in_flight: Option<InFlight> = None;
        let mut finals: Vec<Ack> = Vec::new();
        let mut final_id: Option<u64> = None;
        let mut want_savepoint = false;
        let mut requests_closed = false;
        // No more triggers: the source ended, or a savepoint was taken.
        let mut stopped = false;
        let mut outcome = Outcome::default();
        loop {
            tokio::select! {
                _ = ticker.tick(), if !stopped && in_flight.is_none() => {
                    in_flight = self.trigger(false).await?;
                    stopped |= in_flight.is_none();
                }
                request = self.savepoints.recv(), if !want_savepoint && !requests_closed => {
                    if request.is_none() {
                        // Nobody can ask any more: checkpoints go on as before.
                        requests_closed = true;
                        continue;
                    }
                    want_savepoint = true;
                    if !stopped && in_flight.is_none() {
                        in_flight = self.trigger(true).await?;
                        stopped = true;
                    }
                }
                ack = self.acks.recv() => {
                    let Some(ack) = ack else { return Ok(outcome) };
                    match ack.at {
                        AckAt::Checkpoint(id) => {
                            let Some(flight) = in_flight.as_mut().filter(|f| f.barrier.checkpoint == id) else {
                                continue;
                            };
                            flight.acks.push(ack);
                            if flight.acks.len() < self.participants {
                                continue;
                            }
                            let Some(flight) = in_flight.take() else { continue };
                            self.complete(flight.barrier, &flight.acks, false, flight.started)?;
                            outcome.completed += 1;
                            if flight.barrier.savepoint {
                                outcome.savepoint = Some(id);
                            } else if want_savepoint && !stopped && outcome.savepoint.is_none() {
                                in_flight = self.trigger(true).await?;
                                stopped = true;
                            }
                        }
                        AckAt::End => {
                            if let AckPayload::Source { last_barrier, .. } = &ack.payload {
                                final_id = Some(last_barrier + 1);
                                stopped = true;
                                // A barrier triggered but never sent can never complete.
                                if in_flight.as_ref().is_some_and(|f| f.barrier.checkpoint > *last_barrier) {
                                    in_flight = None;
                                }
                            }
                            finals.push(ack);
                            if let (Some(id), true) = (final_id, finals.len() == self.participants) {
                                let barrier = Barrier { checkpoint: id, savepoint: false };
                                self.complete(barrier, &finals, true, Instant::now())?;
                                outcome.finished = Some(id);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Triggers the next checkpoint; `None` when the source is gone.
    async fn trigger(&mut self, savepoint: bool) -> Result<Option<InFlight>, CheckpointError> {
        let barrier = Barrier {
            checkpoint: self.next_id,
            savepoint,
        };
        let dir = self.layout.checkpoint_dir(barrier.checkpoint);
        std::fs::create_dir_all(&dir).map_err(|error| CheckpointError::Io {
            path: dir,
            what: "creating the checkpoint directory",
            error,
        })?;
        if self.triggers.send(barrier).await.is_err() {
            return Ok(None);
        }
        self.next_id += 1;
        tracing::debug!(
            checkpoint = barrier.checkpoint,
            savepoint,
            "checkpoint triggered"
        );
        Ok(Some(InFlight {
            barrier,
            acks: Vec::new(),
            started: Instant::now(),
        }))
    }

    /// Writes `_metadata` for `barrier` from `acks`, tells the sinks, prunes.
    fn complete(
        &mut self,
        barrier: Barrier,
        acks: &[Ack],
        finished: bool,
        started: Instant,
    ) -> Result<(), CheckpointError> {
        let id = barrier.checkpoint;
        let mut sources = Vec::new();
        let mut snapshots = Vec::new();
        for ack in acks {
            match &ack.payload {
                AckPayload::Source { entry, .. } => sources.push(entry.clone()),
                AckPayload::Operators(entries) => snapshots.extend(entries.iter().cloned()),
                AckPayload::Sink => {}
            }
        }
        snapshots.sort_by(|a, b| (&a.operator, a.subtask).cmp(&(&b.operator, b.subtask)));
        let metadata = Metadata {
            format_version: FORMAT_VERSION,
            checkpoint: id,
            pipeline: self.base.pipeline.clone(),
            savepoint: barrier.savepoint,
            finished,
            completed_ms: crate::connector::file::now_ms(),
            fingerprint: self.base.fingerprint.clone(),
            sources,
            snapshots,
            sinks: self
                .base
                .sinks
                .iter()
                .map(|sink| SinkEntry {
                    sink: sink.clone(),
                    committed_through: id,
                })
                .collect(),
            plugins: self.base.plugins.clone(),
        };
        let dir = self.layout.checkpoint_dir(id);
        std::fs::create_dir_all(&dir).map_err(|error| CheckpointError::Io {
            path: dir.clone(),
            what: "creating the checkpoint directory",
            error,
        })?;
        metadata.write(&dir)?;
        self.commits.send_replace(id);
        let size = crate::fsutil::dir_size(&dir).unwrap_or_else(|error| {
            tracing::debug!(target: "weir::checkpoint", "cannot measure {}: {error}", dir.display());
            0
        });
        self.stats.record(started.elapsed(), size);
        let kind = if barrier.savepoint {
            "savepoint"
        } else if finished {
            "final checkpoint"
        } else {
            "checkpoint"
        };
        tracing::info!(
            target: "weir::checkpoint",
            checkpoint = id,
            millis = started.elapsed().as_millis() as u64,
            "{kind} {id} complete: {}",
            dir.display()
        );
        self.layout
            .prune(id, self.retain)
            .map_err(|error| CheckpointError::Io {
                path: self.layout.checkpoints_dir(),
                what: "removing old checkpoints",
                error,
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::connector::SourcePosition;

    fn source_ack(at: AckAt, line: u64, last_barrier: u64) -> Ack {
        Ack {
            task: "source".into(),
            at,
            payload: AckPayload::Source {
                entry: SourceEntry {
                    source: "file:x".into(),
                    split: 0,
                    position: SourcePosition::File {
                        offset: line * 10,
                        line,
                    },
                    watermark: None,
                },
                last_barrier,
            },
        }
    }

    #[tokio::test]
    async fn a_checkpoint_exists_once_every_task_acknowledged_then_sinks_commit() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path(), "p");
        let base = MetadataBase {
            pipeline: "p".into(),
            fingerprint: Fingerprint {
                max_key_groups: 128,
                operators: Vec::new(),
            },
            plugins: Vec::new(),
            sinks: vec!["file:out".into()],
        };
        let (requests, savepoints) = mpsc::channel(1);
        drop(requests); // nobody asks for a savepoint: checkpoints go on
        let (coordinator, mut channels) = Coordinator::new(
            layout.clone(),
            Duration::from_millis(10),
            2,
            2,
            base,
            4,
            savepoints,
        );
        let stats = Arc::new(CheckpointStats::default());
        let running = tokio::spawn(coordinator.reporting_to(stats.clone()).run());
        for expected in 5..8 {
            let barrier = channels.triggers.recv().await.unwrap();
            assert_eq!(
                barrier.checkpoint, expected,
                "ids go on after the restored one"
            );
            assert!(!barrier.savepoint);
            channels
                .acks
                .send(source_ack(AckAt::Checkpoint(expected), expected, expected))
                .unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(
                !layout.checkpoint_dir(expected).join("_metadata").exists(),
                "the sink has not acknowledged"
            );
            channels
                .acks
                .send(Ack {
                    task: "sink".into(),
                    at: AckAt::Checkpoint(expected),
                    payload: AckPayload::Sink,
                })
                .unwrap();
            channels
                .commits
                .wait_for(|id| *id == expected)
                .await
                .unwrap();
            let metadata = Metadata::read(&layout.checkpoint_dir(expected)).unwrap();
            assert_eq!(
                metadata.sources[0].position,
                SourcePosition::File {
                    offset: expected * 10,
                    line: expected
                }
            );
        }
        let metadata_bytes = std::fs::metadata(layout.checkpoint_dir(7).join("_metadata"))
            .unwrap()
            .len();
        assert_eq!(
            stats.completed.load(std::sync::atomic::Ordering::Relaxed),
            3
        );
        assert_eq!(stats.duration.read().count, 3);
        assert_eq!(
            stats
                .last_size_bytes
                .load(std::sync::atomic::Ordering::Relaxed),
            metadata_bytes,
            "the checkpoint holds its metadata alone"
        );
        // The end: the final checkpoint is one after the last barrier sent.
        channels.acks.send(source_ack(AckAt::End, 99, 7)).unwrap();
        channels
            .acks
            .send(Ack {
                task: "sink".into(),
                at: AckAt::End,
                payload: AckPayload::Sink,
            })
            .unwrap();
        channels.commits.wait_for(|id| *id == 8).await.unwrap();
        drop(channels);
        let outcome = running.await.unwrap().unwrap();
        assert_eq!(outcome.finished, Some(8));
        assert_eq!(outcome.completed, 3);
        assert!(Metadata::read(&layout.checkpoint_dir(8)).unwrap().finished);
        let kept: Vec<u64> = layout
            .list()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(kept, [7, 8], "retain = 2");
    }
}
