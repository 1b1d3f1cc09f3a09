//! [`Pipeline`]: a source, operators and sinks wired together and run to the end.
//!
//! The physical graph: the source is one async task; operators are grouped into
//! chains (consecutive operators with the same parallelism), each chain subtask a task
//! thread; sinks and the dead-letter sink are async tasks. Between stages, bounded
//! channels spread batches round-robin over the next stage's subtasks; watermarks,
//! barriers and `End` are broadcast to all of them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::chain::{Chain, ChainError, ChainOutputs};
use super::channel::{Fanout, Inbox, InputTracker, Outlet, Partitioning, inboxes};
use super::dead_letter::DeadLetter;
use super::message::{Envelope, Message};
use super::operator::{Operator, OperatorError};
use super::stats::{OperatorStats, PipelineStats};
use crate::config::Route;
use crate::connector::{ConnectorError, DeadLetterSink, Sink, Source};

/// Makes the operator instance of one subtask.
pub type OperatorFactory = Box<
    dyn Fn(usize, Arc<OperatorStats>) -> Result<Box<dyn Operator>, OperatorError> + Send + Sync,
>;

/// One operator of a pipeline.
pub struct OperatorSpec {
    pub name: String,
    /// `name@version+hash` of its plugin, or `native`.
    pub plugin: String,
    pub parallelism: usize,
    /// Named outputs the operator may emit to.
    pub outputs: Vec<String>,
    pub factory: OperatorFactory,
}

impl std::fmt::Debug for OperatorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSpec")
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("parallelism", &self.parallelism)
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
    pub source: Box<dyn Source>,
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
}

impl RunReport {
    pub fn summary(&self) -> String {
        self.stats.summary(self.elapsed)
    }
}

/// Consecutive operators with one parallelism.
struct StagePlan {
    operators: std::ops::Range<usize>,
    parallelism: usize,
}

fn plan_stages(operators: &[OperatorSpec]) -> Vec<StagePlan> {
    let mut stages: Vec<StagePlan> = Vec::new();
    for (index, operator) in operators.iter().enumerate() {
        match stages.last_mut() {
            Some(stage) if stage.parallelism == operator.parallelism => {
                stage.operators.end = index + 1
            }
            _ => stages.push(StagePlan {
                operators: index..index + 1,
                parallelism: operator.parallelism,
            }),
        }
    }
    stages
}

impl Pipeline {
    /// Runs the pipeline until its source ends and every sink has finished.
    ///
    /// # Errors
    /// The first failure that stopped it (a connector's I/O, an operator that could not
    /// contain a fault, a malformed graph).
    pub async fn run(self, options: RunOptions) -> Result<RunReport, PipelineError> {
        let started = Instant::now();
        let Pipeline {
            name,
            batch_size,
            channel_capacity,
            mut source,
            operators,
            sinks,
            dead_letters,
        } = self;
        check_routes(&operators, &sinks)?;
        let stages = plan_stages(&operators);
        let operator_stats: Vec<Arc<OperatorStats>> = operators
            .iter()
            .map(|operator| Arc::new(OperatorStats::new(&operator.name, &operator.plugin)))
            .collect();
        let stats = Arc::new(PipelineStats {
            source: source.describe(),
            operators: operator_stats.clone(),
            sinks: sinks
                .iter()
                .map(|(_, sink)| (sink.describe(), AtomicU64::new(0)))
                .collect(),
            ..PipelineStats::default()
        });

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
                let mut chain_operators: Vec<Box<dyn Operator>> = Vec::new();
                for index in stage.operators.clone() {
                    chain_operators.push((operators[index].factory)(
                        subtask,
                        operator_stats[index].clone(),
                    )?);
                }
                let main = match stage_senders.get(stage_index + 1) {
                    Some(next) => Fanout::new(vec![Outlet::new(
                        next.clone(),
                        subtask,
                        Partitioning::RoundRobin,
                    )]),
                    None => sink_outlets(&|route| *route == Route::Main, subtask),
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
                chains.push(Chain {
                    name: chain_name,
                    operators: chain_operators,
                    inbox,
                    inputs,
                    outputs: ChainOutputs {
                        main,
                        named,
                        dead_letters: dead_letter_sender.clone(),
                    },
                });
            }
        }
        let mut source_fanout = match stage_senders.first() {
            Some(first) => Fanout::new(vec![Outlet::new(
                first.clone(),
                0,
                Partitioning::RoundRobin,
            )]),
            None => sink_outlets(&|route| *route == Route::Main, 0),
        };
        drop(stage_senders);

        let mut chain_threads = Vec::new();
        for chain in chains {
            let thread_name = format!("weir-{}", chain.name);
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
            sink_tasks.push(tokio::spawn(run_sink(sink, inbox, inputs, stats, index)));
        }
        let dead_letter_task = tokio::spawn(run_dead_letters(
            dead_letters,
            dead_letter_inbox,
            stats.clone(),
        ));
        let progress = options
            .progress
            .then(|| tokio::spawn(report_progress(name.clone(), stats.clone())));

        // The source runs here, in this task.
        let source_result = run_source(
            &mut *source,
            &mut source_fanout,
            dead_letter_sender,
            batch_size,
            &stats,
        )
        .await;
        drop(source_fanout);

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
        match errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(RunReport {
                stats,
                elapsed: started.elapsed(),
            }),
        }
    }
}

/// Every `from` must name an output its operator declares.
fn check_routes(
    operators: &[OperatorSpec],
    sinks: &[(Route, Box<dyn Sink>)],
) -> Result<(), PipelineError> {
    for (route, sink) in sinks {
        if let Route::Named { operator, output } = route {
            let spec = operators.get(*operator).ok_or_else(|| {
                PipelineError::Graph(format!(
                    "sink {} reads operator #{operator}, which does not exist",
                    sink.describe()
                ))
            })?;
            if !spec.outputs.contains(output) {
                return Err(PipelineError::Graph(format!(
                    "sink {} reads output `{output}` of operator `{}`, whose plugin {} declares only {:?}",
                    sink.describe(),
                    spec.name,
                    spec.plugin,
                    spec.outputs
                )));
            }
        }
    }
    Ok(())
}

async fn run_source(
    source: &mut dyn Source,
    fanout: &mut Fanout,
    dead_letter_sender: mpsc::Sender<DeadLetter>,
    batch_size: usize,
    stats: &PipelineStats,
) -> Result<(), PipelineError> {
    let describe = source.describe();
    let stopped = |_| PipelineError::Task(describe.clone(), "downstream stopped".into());
    let mut dead_letters = Vec::new();
    loop {
        let next = source.next_batch(batch_size, &mut dead_letters).await?;
        stats
            .source_dead_lettered
            .fetch_add(dead_letters.len() as u64, Relaxed);
        for letter in dead_letters.drain(..) {
            dead_letter_sender.send(letter).await.map_err(|_| {
                PipelineError::Task(describe.clone(), "dead-letter sink stopped".into())
            })?;
        }
        match next {
            Some(batch) if batch.is_empty() => {}
            Some(batch) => {
                stats.events_read.fetch_add(batch.len() as u64, Relaxed);
                fanout.send_batch(batch).await.map_err(stopped)?;
            }
            None => {
                // End of a bounded source: event time is complete, every window fires.
                fanout
                    .broadcast(Message::Watermark(i64::MAX))
                    .await
                    .map_err(stopped)?;
                fanout.broadcast(Message::End).await.map_err(stopped)?;
                return Ok(());
            }
        }
    }
}

async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut inbox: Inbox,
    inputs: usize,
    stats: Arc<PipelineStats>,
    index: usize,
) -> Result<(), PipelineError> {
    let mut tracker = InputTracker::new(inputs);
    while let Some(envelope) = inbox.recv().await {
        match envelope.message {
            Message::Batch(batch) => {
                sink.write(&batch).await?;
                stats.sinks[index].1.fetch_add(batch.len() as u64, Relaxed);
            }
            Message::Watermark(_) | Message::Barrier(_) => {}
            Message::End => {
                if tracker.end(envelope.input) {
                    sink.finish().await?;
                    return Ok(());
                }
            }
        }
    }
    // Producers are gone without `End`: they failed and report it; keep what we have.
    sink.finish().await?;
    Ok(())
}

async fn run_dead_letters(
    mut sink: Box<dyn DeadLetterSink>,
    mut inbox: mpsc::Receiver<DeadLetter>,
    stats: Arc<PipelineStats>,
) -> Result<(), PipelineError> {
    while let Some(letter) = inbox.recv().await {
        sink.write(&letter).await?;
        stats.dead_letters_written.fetch_add(1, Relaxed);
    }
    sink.finish().await?;
    Ok(())
}

async fn report_progress(name: String, stats: Arc<PipelineStats>) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut last = 0;
    loop {
        ticker.tick().await;
        let read = stats.events_read.load(Relaxed);
        let dead = stats.dead_letters_written.load(Relaxed);
        eprintln!(
            "[{name}] {:>6.1} s: {read} events read ({} /s), {dead} dead letters",
            started.elapsed().as_secs_f64(),
            read - last
        );
        last = read;
    }
}
