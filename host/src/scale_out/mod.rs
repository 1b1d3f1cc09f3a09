//! Scale-out across hosts through Kafka's consumer groups, the way Kafka Streams does
//! it: a *task* per input partition, and the group deciding which host runs which.
//!
//! With `[source] scale_out = true`, `weir run` joins the pipeline's consumer group
//! ([`GroupMember`]) and runs, for each partition the group gives it, a task
//! ([`task`]): the whole pipeline over that one partition, with its own state and
//! checkpoints. When the group takes partitions back (a host joined, left or died),
//! their tasks take a savepoint and stop *before* the rebalance completes; the next
//! owner of a partition starts its task from the latest checkpoint of that task, which
//! holds the partition's offset and the state of its keys.
//!
//! Choices, and why:
//! - **State moves through checkpoints in a directory every host can read** (`[state]
//!   dir` on a shared file system), not through a changelog topic: the checkpoint is
//!   already what a restore after a crash reads, a handover is a savepoint (so no
//!   event is replayed when a host leaves cleanly), and state writes do not all go
//!   through the broker a second time. The cost is the shared directory. A host that
//!   dies is replaced from its tasks' last completed checkpoints: exactly-once sinks
//!   stay exactly-once (the task's transactional id fences the dead owner), an
//!   at-least-once sink repeats what followed that checkpoint.
//! - **A key must live in one partition.** A task sees only its partition, so keyed
//!   state is correct when the input is keyed so that each key is in one partition
//!   (Kafka's producers do that with the record key), or when it goes through a
//!   `repartition_topic` first: input tasks key their events and write them there,
//!   and that topic's tasks run the operators ([`task::plan_task`]).
//! - **The task is the unit of parallelism**: run operators with `parallelism = 1` and
//!   more partitions than hosts; hot deployment and the admin API are not served in
//!   this mode yet.
//! - **Eager rebalancing**: every rebalance stops and restarts all of a host's tasks
//!   (from their savepoints). Rebalances are rare; cooperative rebalancing would keep
//!   the tasks that stay.

pub mod task;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::config::{PipelineConfig, SourceSection};
use crate::connector::ConnectorError;
use crate::connector::kafka::group::{GroupEvent, GroupMember, TopicPartition};
use crate::plugin::PluginLoader;

/// Why a scale-out host stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScaleOutError {
    #[error("scale-out needs a Kafka source with `scale_out = true`")]
    NotScaleOut,
    #[error("[source]: {0}")]
    Source(String),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("task `{task}`: {error}")]
    Task { task: String, error: String },
    #[error("the consumer group member stopped")]
    MemberGone,
}

/// A task that runs, on a thread of its own (a pipeline's run is not `Send`).
struct RunningTask {
    name: String,
    savepoint: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    ended: oneshot::Receiver<Result<(), String>>,
}

impl RunningTask {
    /// How the task ended (waiting for it).
    async fn ended(self) -> Result<(), String> {
        self.ended
            .await
            .unwrap_or_else(|_| Err("the task's thread panicked".into()))
    }
}

/// Whether `config` runs as a member of a group of hosts.
pub fn is_scale_out(config: &PipelineConfig) -> bool {
    matches!(&config.source, SourceSection::Kafka(kafka) if kafka.scale_out)
}

/// Runs `config` as one host of its group until `shutdown` completes; then every task
/// takes a savepoint, and the host leaves the group.
///
/// # Errors
/// A group that cannot be joined, or a task that failed (the others are stopped with a
/// savepoint first).
pub async fn run(
    config: PipelineConfig,
    loader: PluginLoader,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ScaleOutError> {
    let SourceSection::Kafka(kafka) = &config.source else {
        return Err(ScaleOutError::NotScaleOut);
    };
    if !kafka.scale_out {
        return Err(ScaleOutError::NotScaleOut);
    }
    let mut spec = kafka
        .spec(&config.name, &config.event_time.timestamps)
        .map_err(ScaleOutError::Source)?;
    // The group shares the repartition topic's partitions too.
    spec.topics.extend(kafka.repartition_topic.clone());
    let (member, mut events) = GroupMember::join(&spec)?;
    tracing::info!(
        target: "weir::scale_out",
        "joined group `{}` for {}; waiting for partitions",
        spec.group_id,
        spec.topics.join(", ")
    );
    let mut tasks: BTreeMap<TopicPartition, RunningTask> = BTreeMap::new();
    let mut check = tokio::time::interval(Duration::from_millis(200));
    tokio::pin!(shutdown);
    let outcome = loop {
        tokio::select! {
            () = &mut shutdown => break Ok(()),
            event = events.recv() => match event {
                Some(GroupEvent::Assigned(partitions)) => {
                    tracing::info!(
                        target: "weir::scale_out",
                        "assigned {}",
                        describe(&partitions)
                    );
                    let mut failed = None;
                    for partition in partitions {
                        if tasks.contains_key(&partition) {
                            continue;
                        }
                        match start(&config, &partition, &member, &loader) {
                            Ok(task) => {
                                tasks.insert(partition, task);
                            }
                            Err(error) => {
                                failed = Some(error);
                                break;
                            }
                        }
                    }
                    if let Some(error) = failed {
                        break Err(error);
                    }
                }
                Some(GroupEvent::Revoked { partitions, stopped }) => {
                    tracing::info!(
                        target: "weir::scale_out",
                        "revoked {}: their tasks take savepoints",
                        describe(&partitions)
                    );
                    let revoked = partitions
                        .iter()
                        .filter_map(|partition| tasks.remove(partition))
                        .collect();
                    let result = stop(revoked).await;
                    let _ = stopped.send(());
                    if let Err(error) = result {
                        break Err(error);
                    }
                }
                None => break Err(ScaleOutError::MemberGone),
            },
            _ = check.tick() => {
                // A Kafka task runs until it is stopped: one that ended has failed.
                let ended: Vec<TopicPartition> = tasks
                    .iter()
                    .filter(|(_, task)| task.thread.is_finished())
                    .map(|(partition, _)| partition.clone())
                    .collect();
                if let Some(partition) = ended.first()
                    && let Some(task) = tasks.remove(partition)
                {
                    let name = task.name.clone();
                    let error = match task.ended().await {
                        Ok(()) => "stopped on its own".to_owned(),
                        Err(error) => error,
                    };
                    break Err(ScaleOutError::Task { task: name, error });
                }
            }
        }
    };
    let stopped = stop(std::mem::take(&mut tasks).into_values().collect()).await;
    // Leaving the group hands this host's partitions to the others: after the
    // savepoints, so that they restore from them.
    drop(events);
    drop(member);
    tracing::info!(target: "weir::scale_out", "left the group");
    outcome.and(stopped)
}

fn start(
    config: &PipelineConfig,
    partition: &TopicPartition,
    member: &Arc<GroupMember>,
    loader: &PluginLoader,
) -> Result<RunningTask, ScaleOutError> {
    let plan = task::plan_task(config, partition, member);
    let (savepoint, savepoints) = mpsc::channel(1);
    let (report, ended) = oneshot::channel();
    let name = plan.config.name.clone();
    let loader = loader.clone();
    let thread = std::thread::Builder::new()
        .name(format!("weir-task-{}", task::task_id(partition)))
        .spawn(move || {
            let result = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(task::run_task(plan, loader, savepoints)),
                Err(error) => Err(format!("cannot start the task's runtime: {error}")),
            };
            let _ = report.send(result);
        });
    let thread = thread.map_err(|error| ScaleOutError::Task {
        task: name.clone(),
        error: format!("cannot start the task's thread: {error}"),
    })?;
    Ok(RunningTask {
        name,
        savepoint,
        thread,
        ended,
    })
}

/// Asks every task of `tasks` for a savepoint at once, then waits for all of them.
///
/// # Errors
/// The first task that failed.
async fn stop(tasks: Vec<RunningTask>) -> Result<(), ScaleOutError> {
    for task in &tasks {
        // A task that has already ended has dropped its receiver.
        let _ = task.savepoint.send(()).await;
    }
    let mut first_error = None;
    for task in tasks {
        let name = task.name.clone();
        if let Err(error) = task.ended().await {
            tracing::error!(target: "weir::scale_out", "task {name}: {error}");
            first_error.get_or_insert(ScaleOutError::Task { task: name, error });
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn describe(partitions: &[TopicPartition]) -> String {
    if partitions.is_empty() {
        return "no partitions".into();
    }
    partitions
        .iter()
        .map(task::task_id)
        .collect::<Vec<_>>()
        .join(", ")
}
