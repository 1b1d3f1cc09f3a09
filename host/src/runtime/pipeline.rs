//! [`Pipeline`]: a source, operators and sinks wired together and run to the end.
//!
//! The physical graph: the source is one async task ([`super::source_task`]), which
//! times events and sends watermarks; operators are grouped into chains
//! (`plan`), each chain subtask a task thread; sinks and the dead-letter sink
//! are async tasks. Between stages, bounded channels spread batches round-robin over
//! the next stage's subtasks, or by key group when that stage is keyed (after the
//! producer has keyed them, [`super::key_selector`]); watermarks, idleness, barriers
//! and `End` are broadcast to all of them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::chain::{Chain, ChainCheckpoints, ChainError, ChainOutputs};
use super::channel::{Fanout, Outlet, Partitioning, inboxes};
use super::dead_letter::DeadLetter;
use super::key_selector::{KeyBy, KeySelector};
use super::message::Envelope;
use super::operator::{Operator, OperatorError};
use super::plan::{StagePlan, check_routes, plan_stages};
use super::sink_task::SinkCheckpoints;
use super::sink_task::{report_progress, run_dead_letters, run_sink};
use super::source_task::SourceCheckpoints;
use super::source_task::SourceTask;
use super::stats::{OperatorStats, PipelineStats, SinkStats};
use super::subtask::SubtaskInfo;
use super::swap::SwapBoard;
use crate::checkpoint::coordinator::{MetadataBase, Outcome};
use crate::checkpoint::{CheckpointError, Coordinator, Layout, Restored};
use crate::config::Route;
use crate::connector::{ConnectorError, DeadLetterSink, Sink, Source};
use crate::state::KeyGroup;
use crate::time::WatermarkSpec;

/// Makes the operator instance of one subtask, told which subtask it is and which key
/// groups it owns.
pub type OperatorFactory = Box<
    dyn Fn(SubtaskInfo, Arc<OperatorStats>) -> Result<Box<dyn Operator>, OperatorError>
        + Send
        + Sync,
>;

/// One operator of a pipeline.
pub struct OperatorSpec {
    /// The operator's name in the pipeline.
    pub name: String,
    /// `name@version+hash` of its plugin, or `native`.
    pub plugin: String,
    /// Its number of subtasks.
    pub parallelism: usize,
    /// What its input is keyed by, for a keyed operator: its stage then begins with a
    /// key-group exchange.
    pub key_by: Option<KeyBy>,
    /// Named outputs the operator may emit to.
    pub outputs: Vec<String>,
    /// Makes each subtask's instance.
    pub factory: OperatorFactory,
}

impl std::fmt::Debug for OperatorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSpec")
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("parallelism", &self.parallelism)
            .field("key_by", &self.key_by)
            .finish_non_exhaustive()
    }
}

/// A pipeline ready to run.
pub struct Pipeline {
    pub name: String,
    /// Most events per batch.
    pub batch_size: usize,
    /// Messages a channel holds before its producer waits.
    pub channel_capacity: usize,
    /// Key groups of keyed operators.
    pub max_key_groups: KeyGroup,
    pub source: Box<dyn Source>,
    /// How the source's watermarks follow its events' times.
    pub watermarks: WatermarkSpec,
    pub operators: Vec<OperatorSpec>,
    pub sinks: Vec<(Route, Box<dyn Sink>)>,
    pub dead_letters: Box<dyn DeadLetterSink>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("operators", &self.operators)
            .finish_non_exhaustive()
    }
}

/// Why a pipeline stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Operator(#[from] OperatorError),
    #[error("pipeline graph: {0}")]
    Graph(String),
    #[error("task `{0}` stopped unexpectedly: {1}")]
    Task(String, String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// How a run takes checkpoints (see [`crate::checkpoint`]).
#[derive(Debug)]
pub struct Checkpointing {
    pub layout: Layout,
    pub interval: Duration,
    /// Completed checkpoints kept.
    pub retain: usize,
    /// The checkpoint the run starts from, if any (checked compatible).
    pub restored: Option<Restored>,
    /// What every `_metadata` says besides the tasks' acknowledgements.
    pub base: MetadataBase,
    /// A message here takes a savepoint and stops the run.
    pub savepoints: mpsc::Receiver<()>,
}

/// How to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Print a progress line to stderr every second.
    pub progress: bool,
}

/// What a finished run did.
#[derive(Debug)]
pub struct RunReport {
    pub stats: Arc<PipelineStats>,
    pub elapsed: Duration,
    /// What checkpointing did, if it was on.
    pub checkpoints: Option<Outcome>,
}

impl RunReport {
    pub fn summary(&self) -> String {
        self.stats.summary(self.elapsed)
    }
}

impl Pipeline {
    /// Runs the pipeline until its source ends and every sink has finished.
    ///
    /// # Errors
    /// The first failure that stopped it (a connector's I/O, an operator that could not
    /// contain a fault, a malformed graph).
    pub async fn run(self, options: RunOptions) -> Result<RunReport, PipelineError> {
        self.run_with(options, None, None).await
    }

    /// Runs the pipeline with checkpoints, from the checkpoint `checkpointing`
    /// restores, if any, until its source ends or a savepoint is taken.
    ///
    /// # Errors
    /// As [`Pipeline::run`]; also a source that cannot be checkpointed (stdin) or
    /// restored, an operator that cannot restore its state, and a checkpoint that
    /// cannot be written.
    pub async fn run_checkpointed(
        self,
        options: RunOptions,
        checkpointing: Checkpointing,
    ) -> Result<RunReport, PipelineError> {
        self.run_with(options, Some(checkpointing), None).await
    }

    /// Runs the pipeline (with checkpoints when `checkpointing` is given) and lets
    /// `swaps` change its operators' plugins while it runs (see [`super::swap`]).
    ///
    /// # Errors
    /// As [`Pipeline::run_checkpointed`].
    pub async fn run_swappable(
        self,
        options: RunOptions,
        checkpointing: Option<Checkpointing>,
        swaps: Arc<SwapBoard>,
    ) -> Result<RunReport, PipelineError> {
        self.run_with(options, checkpointing, Some(swaps)).await
    }

    async fn run_with(
        self,
        options: RunOptions,
        checkpointing: Option<Checkpointing>,
        swaps: Option<Arc<SwapBoard>>,
    ) -> Result<RunReport, PipelineError> {
        let started = Instant::now();
        let Pipeline {
            name,
            batch_size,
            channel_capacity,
            max_key_groups,
            source,
            watermarks,
            operators,
            sinks,
            dead_letters,
        } = self;
        let mut source = source;
        check_routes(&operators, &sinks)?;
        let stages = plan_stages(&operators);
        // Checkpoints: the coordinator, the source's starting point, the ends of the
        // coordinator's channels for every task.
        let participants =
            1 + stages.iter().map(|stage| stage.parallelism).sum::<usize>() + sinks.len();
        let mut checkpoint_parts = None;
        if let Some(checkpointing) = checkpointing {
            let restored_id = checkpointing.restored.as_ref().map_or(0, |r| r.id);
            let (position, watermark) = match &checkpointing.restored {
                Some(restored) => {
                    let entry = restored.metadata.sources.first().ok_or_else(|| {
                        CheckpointError::Metadata {
                            path: restored.dir.join(crate::checkpoint::layout::METADATA_FILE),
                            message: "no source position".into(),
                        }
                    })?;
                    source.seek(&entry.position).await?;
                    (entry.position.clone(), entry.watermark)
                }
                None => {
                    let position = source.position().ok_or_else(|| {
                        CheckpointError::Unsupported(format!(
                            "the source {} cannot be read again from a position; checkpoints need a file, generator or Kafka source (or remove `[checkpoint]`)",
                            source.describe()
                        ))
                    })?;
                    (position, None)
                }
            };
            let (coordinator, channels) = Coordinator::new(
                checkpointing.layout.clone(),
                checkpointing.interval,
                checkpointing.retain,
                participants,
                checkpointing.base,
                restored_id,
                checkpointing.savepoints,
            );
            checkpoint_parts = Some((
                coordinator,
                channels,
                checkpointing.layout,
                checkpointing.restored,
                position,
                watermark,
            ));
        }
        let operator_stats: Vec<Arc<OperatorStats>> = operators
            .iter()
            .map(|operator| Arc::new(OperatorStats::new(&operator.name, &operator.plugin)))
            .collect();
        let stats = Arc::new(PipelineStats {
            source: source.describe(),
            operators: operator_stats.clone(),
            sinks: sinks
                .iter()
                .map(|(_, sink)| SinkStats::new(sink.describe()))
                .collect(),
            ..PipelineStats::default()
        });
        if let Some(board) = &swaps {
            board.publish_stats(stats.clone());
        }

        // Queues: one per chain subtask, one per sink, one for dead letters.
        let (stage_senders, stage_inboxes): (Vec<_>, Vec<_>) = stages
            .iter()
            .map(|stage| inboxes(stage.parallelism, channel_capacity))
            .unzip();
        let (sink_senders, sink_inboxes): (Vec<_>, Vec<_>) = sinks
            .iter()
            .map(|_| mpsc::channel::<Envelope>(channel_capacity))
            .unzip();
        let (dead_letter_sender, dead_letter_inbox) =
            mpsc::channel::<DeadLetter>(channel_capacity * 64);

        // The parallelism of whatever feeds each route, for the sinks' input counts.
        let producer_parallelism = |route: &Route| match route {
            Route::Main => stages.last().map_or(1, |stage| stage.parallelism),
            Route::Named { operator, .. } => operators[*operator].parallelism,
        };
        let sink_outlets = |route_matches: &dyn Fn(&Route) -> bool, input: usize| {
            Fanout::new(
                sinks
                    .iter()
                    .zip(&sink_senders)
                    .filter(|((route, _), _)| route_matches(route))
                    .map(|(_, sender)| {
                        Outlet::new(vec![sender.clone()], input, Partitioning::RoundRobin)
                    })
                    .collect(),
            )
        };
        // What feeds stage `index` from producer subtask `input`: its outlet, and the
        // key selector the producer runs when the stage is keyed.
        let stage_entry = |index: usize, input: usize| {
            let stage: &StagePlan = &stages[index];
            let first = &operators[stage.operators.start];
            let (partitioning, selector) = match (&first.key_by, stage.keyed) {
                (Some(key_by), true) => (
                    Partitioning::KeyGroups { max_key_groups },
                    Some(KeySelector::new(
                        key_by.clone(),
                        &first.name,
                        &first.plugin,
                        operator_stats[stage.operators.start].clone(),
                    )),
                ),
                _ => (Partitioning::RoundRobin, None),
            };
            let outlet = Outlet::new(stage_senders[index].clone(), input, partitioning);
            (Fanout::new(vec![outlet]), selector)
        };

        // Chains: build every subtask's operators first, so that a plugin that cannot
        // start fails the pipeline before any thread runs.
        let mut chains = Vec::new();
        for (stage_index, (stage, inboxes)) in stages.iter().zip(stage_inboxes).enumerate() {
            let inputs = if stage_index == 0 {
                1
            } else {
                stages[stage_index - 1].parallelism
            };
            for (subtask, inbox) in inboxes.into_iter().enumerate() {
                let info = if stage.keyed {
                    SubtaskInfo::keyed(subtask, stage.parallelism, max_key_groups)
                } else {
                    SubtaskInfo::unkeyed(subtask, stage.parallelism, max_key_groups)
                };
                let mut chain_operators: Vec<Box<dyn Operator>> = Vec::new();
                for index in stage.operators.clone() {
                    chain_operators.push((operators[index].factory)(
                        info.clone(),
                        operator_stats[index].clone(),
                    )?);
                }
                let (main, key_selector) = if stage_index + 1 < stages.len() {
                    stage_entry(stage_index + 1, subtask)
                } else {
                    (sink_outlets(&|route| *route == Route::Main, subtask), None)
                };
                let mut named = HashMap::new();
                for index in stage.operators.clone() {
                    for output in &operators[index].outputs {
                        let wanted = Route::Named {
                            operator: index,
                            output: output.clone(),
                        };
                        let fanout = sink_outlets(&|route| *route == wanted, subtask);
                        if !fanout.is_empty() {
                            named.insert((index - stage.operators.start, output.clone()), fanout);
                        }
                    }
                }
                let chain_name = format!(
                    "{}[{subtask}]",
                    operators[stage.operators.clone()]
                        .iter()
                        .map(|operator| operator.name.as_str())
                        .collect::<Vec<_>>()
                        .join("+")
                );
                let mut chain = Chain::new(
                    chain_name,
                    chain_operators,
                    inbox,
                    inputs,
                    ChainOutputs {
                        main,
                        key_selector,
                        named,
                        dead_letters: dead_letter_sender.clone(),
                    },
                );
                if let Some((_, channels, layout, restored, ..)) = &checkpoint_parts {
                    if let Some(restored) = restored {
                        chain.restore(|operator| {
                            restored
                                .metadata
                                .snapshot_of(&restored.dir, operator, subtask)
                        })?;
                    }
                    chain = chain.with_checkpoints(ChainCheckpoints {
                        layout: layout.clone(),
                        subtask,
                        acks: channels.acks.clone(),
                    });
                }
                if let Some(board) = &swaps {
                    chain = chain.with_swaps(board.clone());
                }
                chains.push(chain);
            }
        }
        let (source_fanout, source_selector) = if stages.is_empty() {
            (sink_outlets(&|route| *route == Route::Main, 0), None)
        } else {
            stage_entry(0, 0)
        };
        drop(stage_senders);

        let mut chain_threads = Vec::new();
        for chain in chains {
            let thread_name = format!("weir-{}", chain.name());
            let handle = std::thread::Builder::new()
                .name(thread_name.clone())
                .spawn(move || chain.run())
                .map_err(|error| PipelineError::Task(thread_name.clone(), error.to_string()))?;
            chain_threads.push((thread_name, handle));
        }

        let mut sink_tasks = Vec::new();
        for (index, (((route, sink), inbox), _)) in sinks
            .into_iter()
            .zip(sink_inboxes)
            .zip(sink_senders)
            .enumerate()
        {
            let inputs = producer_parallelism(&route);
            let stats = stats.clone();
            let checkpoints = checkpoint_parts
                .as_ref()
                .map(|(_, channels, _, restored, ..)| SinkCheckpoints {
                    acks: channels.acks.clone(),
                    commits: channels.commits.clone(),
                    last_barrier: restored.as_ref().map_or(0, |r| r.id),
                });
            sink_tasks.push(tokio::spawn(run_sink(
                sink,
                inbox,
                inputs,
                stats,
                index,
                checkpoints,
            )));
        }
        let dead_letter_task = tokio::spawn(run_dead_letters(
            dead_letters,
            dead_letter_inbox,
            stats.clone(),
        ));
        let progress = options
            .progress
            .then(|| tokio::spawn(report_progress(name.clone(), stats.clone())));

        let mut source_checkpoints = None;
        let mut coordinator_task = None;
        if let Some((coordinator, channels, _, restored, position, watermark)) = checkpoint_parts {
            source_checkpoints = Some(SourceCheckpoints {
                triggers: channels.triggers,
                acks: channels.acks,
                last_barrier: restored.as_ref().map_or(0, |r| r.id),
                watermark,
                position,
                commits: Some(channels.commits),
            });
            let coordinator = coordinator.reporting_to(stats.checkpoints.clone());
            coordinator_task = Some(tokio::spawn(async move {
                let outcome = coordinator.run().await;
                if let Err(error) = &outcome {
                    tracing::error!(target: "weir::checkpoint", "checkpoints stopped: {error}");
                }
                outcome
            }));
        }

        // The source runs here, in this task.
        let source_result = SourceTask {
            source,
            fanout: source_fanout,
            key_selector: source_selector,
            dead_letters: dead_letter_sender,
            batch_size,
            watermarks,
            stats: stats.clone(),
            checkpoints: source_checkpoints,
            swaps,
        }
        .run()
        .await;

        let mut errors: Vec<PipelineError> = Vec::new();
        if let Err(error) = source_result {
            errors.push(error);
        }
        for (thread_name, handle) in chain_threads {
            let joined = tokio::task::spawn_blocking(move || handle.join()).await;
            match joined {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(ChainError::Operator(error)))) => errors.insert(0, error.into()),
                Ok(Ok(Err(error @ ChainError::Disconnected(_)))) => {
                    errors.push(PipelineError::Task(thread_name, error.to_string()));
                }
                Ok(Err(_)) | Err(_) => {
                    errors.insert(0, PipelineError::Task(thread_name, "panicked".into()))
                }
            }
        }
        for task in sink_tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => errors.insert(0, error),
                Err(error) => {
                    errors.insert(0, PipelineError::Task("sink".into(), error.to_string()))
                }
            }
        }
        match dead_letter_task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => errors.insert(0, error),
            Err(error) => errors.insert(
                0,
                PipelineError::Task("dead letters".into(), error.to_string()),
            ),
        }
        if let Some(progress) = progress {
            progress.abort();
        }
        let mut checkpoints = None;
        if let Some(task) = coordinator_task {
            match task.await {
                Ok(Ok(outcome)) => checkpoints = Some(outcome),
                Ok(Err(error)) => errors.insert(0, error.into()),
                Err(error) => errors.insert(
                    0,
                    PipelineError::Task("checkpoint coordinator".into(), error.to_string()),
                ),
            }
        }
        match errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(RunReport {
                stats,
                elapsed: started.elapsed(),
                checkpoints,
            }),
        }
    }
}
