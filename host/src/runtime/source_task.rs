//! The source task: reads batches, gives the source's watermarks, keys events for a
//! keyed first stage, and sends it all downstream.
//!
//! Each batch comes from one split of the source ([`Source::last_split`]; a Kafka
//! partition) and moves only that split's watermark generator; the source's
//! watermark is the minimum over its splits that are not idle.
//!
//! The source's reads run in a task of their own that hands batches over a channel
//! of one; this task `select!`s on that channel and on an interval of
//! [`WATERMARK_INTERVAL`]. So watermarks and idleness are reported while the source
//! is silent (a quiet stdin, a slow generator), and no read is ever cancelled halfway
//! (both futures raced are cancel safe: `recv` and `tick`).
//!
//! Laws (tested below):
//! - a batch is sent before the watermark its events moved; watermarks only advance;
//! - when every split has been silent for the idle timeout, `Idle` is sent, once, and
//!   the next batch makes the source active again;
//! - the end of a bounded source is a watermark of +∞ (`Timestamp::MAX`), then `End`.
//!
//! Checkpoints (`SourceCheckpoints`): when the coordinator triggers checkpoint `n`,
//! the task finishes the batch in hand, sends `Barrier(n)` to every output and
//! acknowledges with the source's position after the last batch it sent (the reader
//! hands each batch over with the position after it) and its watermark. After a
//! savepoint's barrier it sends `End` (no +∞ watermark: the stream is not complete)
//! and stops. A restored run starts by sending the watermark of its checkpoint, and
//! never sends a lower one. A source with a [`Source::position_committer`] is told
//! the position of each checkpoint once it completes (Kafka commits it to the
//! consumer group).
//!
//! Plugin swaps ([`SwapBoard`]) are armed at the next barrier this task sends: the next
//! checkpoint's, or, without checkpoints, one it injects between two batches at once.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;
use weir_batch::{Batch, Timestamp};

use super::channel::Fanout;
use super::dead_letter::DeadLetter;
use super::key_selector::KeySelector;
use super::message::{Barrier, Message};
use super::pipeline::PipelineError;
use super::stats::PipelineStats;
use super::swap::SwapBoard;
use crate::checkpoint::metadata::SourceEntry;
use crate::checkpoint::{Ack, AckAt, AckPayload};
use crate::connector::SourcePosition;
use crate::connector::{CommitPosition, ConnectorError, Source};
use crate::time::{SourceProgress, SourceWatermarks, WatermarkSpec};

/// How often a source polls its watermark generators while it reads nothing.
pub const WATERMARK_INTERVAL: Duration = Duration::from_millis(200);

/// The split recorded in a checkpoint's source entry: the position of a source
/// covers all its splits (a Kafka position lists every partition).
const ENTRY_SPLIT: usize = 0;

/// A source and where its output goes.
pub(crate) struct SourceTask {
    pub source: Box<dyn Source>,
    pub fanout: Fanout,
    /// Keys events when the first stage is keyed.
    pub key_selector: Option<KeySelector>,
    pub dead_letters: mpsc::Sender<DeadLetter>,
    pub batch_size: usize,
    pub watermarks: WatermarkSpec,
    pub stats: Arc<PipelineStats>,
    pub checkpoints: Option<SourceCheckpoints>,
    /// Plugin swaps, armed at the barriers this task sends.
    pub swaps: Option<Arc<SwapBoard>>,
}

/// How a source task takes part in checkpoints.
#[derive(Debug)]
pub(crate) struct SourceCheckpoints {
    /// Barriers the coordinator triggers.
    pub triggers: mpsc::Receiver<Barrier>,
    pub acks: mpsc::UnboundedSender<Ack>,
    /// The checkpoint restored (0 for a fresh run).
    pub last_barrier: u64,
    /// The watermark sent before that checkpoint's barrier, if restored.
    pub watermark: Option<Timestamp>,
    /// Where the source starts.
    pub position: SourcePosition,
    /// The latest completed checkpoint, to commit its position to the source's
    /// system ([`Source::position_committer`]).
    pub commits: Option<watch::Receiver<u64>>,
}

/// One read of the source, handed from the reader task with the position after it.
enum Read {
    /// A batch of one split, with that split.
    Batch(Batch, usize, Vec<DeadLetter>, Option<SourcePosition>),
    End(Vec<DeadLetter>, Option<SourcePosition>),
    Failed(ConnectorError),
}

impl SourceTask {
    /// Runs the source to its end (or until downstream stops).
    ///
    /// # Errors
    /// The source's own failure, or a downstream task that stopped.
    pub(crate) async fn run(self) -> Result<(), PipelineError> {
        let SourceTask {
            mut source,
            fanout,
            key_selector,
            dead_letters,
            batch_size,
            watermarks,
            stats,
            checkpoints,
            swaps,
        } = self;
        let describe = source.describe();
        let clock = SourceWatermarks::new(source.splits(), watermarks)
            .map_err(|why| PipelineError::Task(describe.clone(), why))?;
        let committer = source.position_committer();
        let (handover, reads) = mpsc::channel(1);
        let reader = tokio::spawn(async move {
            loop {
                let mut letters = Vec::new();
                let read = match source.next_batch(batch_size, &mut letters).await {
                    Ok(Some(batch)) => {
                        Read::Batch(batch, source.last_split(), letters, source.position())
                    }
                    Ok(None) => Read::End(letters, source.position()),
                    Err(error) => Read::Failed(error),
                };
                let last = !matches!(read, Read::Batch(..));
                if handover.send(read).await.is_err() || last {
                    return;
                }
            }
        });
        let mut pump = Pump {
            describe,
            fanout,
            key_selector,
            dead_letters,
            rejected: Vec::new(),
            stats,
            clock,
            started: Instant::now(),
            sent_watermark: checkpoints.as_ref().and_then(|c| c.watermark),
            completions: committer
                .as_ref()
                .and(checkpoints.as_ref())
                .and_then(|checkpoints| checkpoints.commits.clone()),
            checkpoints,
            committer,
            acked: BTreeMap::new(),
            swaps,
        };
        let result = pump.run(reads).await;
        // Stops a read that waits for ever (stdin) once the pipeline is done with it.
        reader.abort();
        result
    }
}

/// The loop of the source task.
struct Pump {
    describe: String,
    fanout: Fanout,
    key_selector: Option<KeySelector>,
    dead_letters: mpsc::Sender<DeadLetter>,
    rejected: Vec<DeadLetter>,
    stats: Arc<PipelineStats>,
    clock: SourceWatermarks,
    /// Processing time, for idleness, counts from here.
    started: Instant,
    /// The last watermark sent (a restored run starts at its checkpoint's).
    sent_watermark: Option<Timestamp>,
    checkpoints: Option<SourceCheckpoints>,
    /// Commits the positions of completed checkpoints, if the source keeps them.
    committer: Option<Box<dyn CommitPosition>>,
    /// Completed checkpoints, when there is a committer.
    completions: Option<watch::Receiver<u64>>,
    /// The positions acknowledged for checkpoints not yet known to be complete.
    acked: BTreeMap<u64, SourcePosition>,
    /// Plugin swaps to arm at the next barrier this task sends.
    swaps: Option<Arc<SwapBoard>>,
}

/// Waits for the coordinator to complete a checkpoint; never without `completions`
/// or once the coordinator is gone.
///
/// # Cancel safety
/// Cancel safe (`watch::Receiver::changed`).
async fn next_completed(completions: &mut Option<watch::Receiver<u64>>) -> u64 {
    if let Some(completions) = completions
        && completions.changed().await.is_ok()
    {
        return *completions.borrow_and_update();
    }
    std::future::pending().await
}

/// Waits until a plugin swap is posted, in a run without checkpoints (with them,
/// swaps wait for the next checkpoint barrier); never otherwise.
///
/// # Cancel safety
/// Cancel safe (`Notify::notified`).
async fn next_swap(swaps: &Option<Arc<SwapBoard>>, checkpointed: bool) {
    match swaps {
        Some(board) if !checkpointed => board.requested().await,
        _ => std::future::pending().await,
    }
}

/// Waits for the next trigger; never, without checkpoints or once the coordinator is
/// gone.
///
/// # Cancel safety
/// Cancel safe (`mpsc::Receiver::recv`).
async fn next_trigger(checkpoints: &mut Option<SourceCheckpoints>) -> Barrier {
    if let Some(checkpoints) = checkpoints
        && let Some(barrier) = checkpoints.triggers.recv().await
    {
        return barrier;
    }
    std::future::pending().await
}

impl Pump {
    async fn run(&mut self, mut reads: mpsc::Receiver<Read>) -> Result<(), PipelineError> {
        let mut ticker = tokio::time::interval(WATERMARK_INTERVAL);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if let Some(watermark) = self.sent_watermark {
            self.broadcast(Message::Watermark(watermark)).await?;
        }
        loop {
            tokio::select! {
                read = reads.recv() => match read {
                    Some(Read::Batch(batch, split, letters, position)) => {
                        self.source_dead_letters(letters).await?;
                        self.batch(batch, split).await?;
                        self.moved_to(position);
                    }
                    Some(Read::End(letters, position)) => {
                        self.source_dead_letters(letters).await?;
                        self.moved_to(position);
                        // End of a bounded source: event time is complete, every
                        // window fires.
                        self.broadcast(Message::Watermark(Timestamp::MAX)).await?;
                        self.acknowledge(AckAt::End);
                        return self.broadcast(Message::End).await;
                    }
                    Some(Read::Failed(error)) => return Err(error.into()),
                    None => {
                        return Err(PipelineError::Task(
                            self.describe.clone(),
                            "the source's reader stopped".into(),
                        ));
                    }
                },
                _ = ticker.tick() => self.poll().await?,
                completed = next_completed(&mut self.completions) => {
                    self.committed(completed);
                }
                () = next_swap(&self.swaps, self.checkpoints.is_some()) => {
                    if let Some(board) = self.swaps.clone() && board.has_requests() {
                        let barrier = board.next_swap_barrier();
                        board.arm(barrier, self.stats.events_read.load(Relaxed));
                        self.broadcast(Message::Barrier(Barrier { checkpoint: barrier, savepoint: false })).await?;
                    }
                }
                barrier = next_trigger(&mut self.checkpoints) => {
                    if let Some(board) = &self.swaps {
                        board.arm(barrier.checkpoint, self.stats.events_read.load(Relaxed));
                    }
                    self.broadcast(Message::Barrier(barrier)).await?;
                    if let Some(checkpoints) = &mut self.checkpoints {
                        checkpoints.last_barrier = barrier.checkpoint;
                    }
                    self.acknowledge(AckAt::Checkpoint(barrier.checkpoint));
                    if let (Some(_), Some(checkpoints)) = (&self.committer, &self.checkpoints) {
                        self.acked.insert(barrier.checkpoint, checkpoints.position.clone());
                    }
                    if barrier.savepoint {
                        // Stop here: the run resumes from the savepoint.
                        return self.broadcast(Message::End).await;
                    }
                }
            }
        }
    }

    /// Checkpoint `completed` exists: tells the source's system where it is.
    fn committed(&mut self, completed: u64) {
        let mut newest = None;
        while let Some(entry) = self.acked.first_entry() {
            if *entry.key() > completed {
                break;
            }
            newest = Some(entry.remove());
        }
        if let (Some(committer), Some(position)) = (&self.committer, newest) {
            committer.commit(&position);
        }
    }

    /// Records where the source is after the batch just sent.
    fn moved_to(&mut self, position: Option<SourcePosition>) {
        if let (Some(checkpoints), Some(position)) = (&mut self.checkpoints, position) {
            checkpoints.position = position;
        }
    }

    /// Tells the coordinator where the source is.
    fn acknowledge(&self, at: AckAt) {
        let Some(checkpoints) = &self.checkpoints else {
            return;
        };
        // A coordinator that is gone has failed, and reports it.
        let _ = checkpoints.acks.send(Ack {
            task: self.describe.clone(),
            at,
            payload: AckPayload::Source {
                entry: SourceEntry {
                    source: self.describe.clone(),
                    split: ENTRY_SPLIT,
                    position: checkpoints.position.clone(),
                    watermark: self.sent_watermark,
                },
                last_barrier: checkpoints.last_barrier,
            },
        });
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn batch(&mut self, batch: Batch, split: usize) -> Result<(), PipelineError> {
        if !batch.is_empty() {
            self.stats
                .events_read
                .fetch_add(batch.len() as u64, Relaxed);
            let now = self.now_ms();
            self.clock.on_batch(split, batch.timestamps(), now);
            let batch = match &mut self.key_selector {
                Some(selector) => selector.select(batch, &mut self.rejected),
                None => batch,
            };
            let rejected = std::mem::take(&mut self.rejected);
            self.send_dead_letters(rejected).await?;
            if !batch.is_empty() {
                self.fanout
                    .send_batch(batch)
                    .await
                    .map_err(|_| self.stopped())?;
            }
        }
        self.poll().await
    }

    /// Sends what the watermark generators have to say now.
    async fn poll(&mut self) -> Result<(), PipelineError> {
        let SourceProgress { watermark, idle } = self.clock.poll(self.now_ms());
        if let Some(watermark) = watermark
            && self.sent_watermark.is_none_or(|sent| watermark > sent)
        {
            self.sent_watermark = Some(watermark);
            self.broadcast(Message::Watermark(watermark)).await?;
        }
        if idle {
            self.broadcast(Message::Idle).await?;
        }
        Ok(())
    }

    async fn broadcast(&mut self, message: Message) -> Result<(), PipelineError> {
        self.fanout
            .broadcast(message)
            .await
            .map_err(|_| self.stopped())
    }

    async fn source_dead_letters(&mut self, letters: Vec<DeadLetter>) -> Result<(), PipelineError> {
        self.stats
            .source_dead_lettered
            .fetch_add(letters.len() as u64, Relaxed);
        self.send_dead_letters(letters).await
    }

    async fn send_dead_letters(&mut self, letters: Vec<DeadLetter>) -> Result<(), PipelineError> {
        for letter in letters {
            self.dead_letters.send(letter).await.map_err(|_| {
                PipelineError::Task(self.describe.clone(), "dead-letter sink stopped".into())
            })?;
        }
        Ok(())
    }

    fn stopped(&self) -> PipelineError {
        PipelineError::Task(self.describe.clone(), "downstream stopped".into())
    }
}

#[cfg(test)]
#[path = "source_task_tests.rs"]
mod tests;
