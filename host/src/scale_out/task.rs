//! A scale-out task: the pipeline of one input partition, with a name, a data
//! directory and sinks of its own, run from its latest checkpoint.
//!
//! A task's copy of the pipeline file differs from the file in:
//! - its name, `<pipeline>.<topic>-<partition>`: its checkpoints live under
//!   `<state dir>/<pipeline>.<topic>-<partition>/`, and the default transactional id of
//!   an exactly-once Kafka sink is the task's, so that the broker fences the task's
//!   previous owner;
//! - its source, which reads that partition only and commits through the group member;
//! - a file sink's directory (`<path>/<topic>-<partition>/`), a dead-letter file
//!   (`<stem>.<topic>-<partition>.<ext>`) and a given `transactional_id`
//!   (`<id>.<topic>-<partition>`), so that tasks never write the same file or id.
//!
//! With a `repartition_topic`, there are two kinds of task ([`plan_task`]): an input
//! partition's task only keys its events (by the first keyed operator's `key_by`) and
//! writes them to the repartition topic, with their time as the record's timestamp
//! (exactly-once when the pipeline has an exactly-once Kafka sink, else at least
//! once); a repartition partition's task runs the pipeline's operators and sinks over
//! that partition, with the record timestamps as event time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::checkpoint::StartFrom;
use crate::checkpoint::start::prepare_run;
use crate::config::kafka::{DeliveryName, KafkaSinkSection, ScaleOutTask};
use crate::config::{
    DeadLetterSection, PipelineConfig, Route, SinkConfig, SinkSection, SourceSection,
};
use crate::connector::kafka::group::{GroupMember, TopicPartition};
use crate::plugin::PluginLoader;
use crate::runtime::assemble::assemble_with_plugins;
use crate::runtime::key_selector::KeyBy;
use crate::runtime::operator::{Emitted, Operator, OperatorError};
use crate::runtime::pipeline::{OperatorSpec, RunOptions};
use crate::time::TimestampSpec;

/// What a task runs: its pipeline file and, for a task that feeds the repartition
/// topic, the key its events get.
#[derive(Debug)]
pub struct TaskPlan {
    pub config: PipelineConfig,
    pub rekey: Option<KeyBy>,
}

/// The task of `partition` (see the module docs).
pub fn plan_task(
    config: &PipelineConfig,
    partition: &TopicPartition,
    member: &Arc<GroupMember>,
) -> TaskPlan {
    let mut task = task_config(config, partition, member);
    let repartition = match &config.source {
        SourceSection::Kafka(kafka) => kafka.repartition_topic.clone(),
        _ => None,
    };
    let Some(topic) = repartition else {
        return TaskPlan {
            config: task,
            rekey: None,
        };
    };
    if partition.0 == topic {
        // After the repartition topic: its records carry the events' times.
        if let SourceSection::Kafka(kafka) = &mut task.source {
            kafka.topics = vec![topic];
        }
        task.event_time.timestamps = TimestampSpec::Ingestion;
        return TaskPlan {
            config: task,
            rekey: None,
        };
    }
    let rekey = config
        .operators
        .iter()
        .find_map(|operator| operator.key_by.clone());
    let SourceSection::Kafka(kafka) = &task.source else {
        unreachable!("scale-out sources are Kafka sources")
    };
    let exactly_once = config.sinks.iter().any(|sink| {
        matches!(&sink.section, SinkSection::Kafka(kafka) if kafka.delivery == DeliveryName::ExactlyOnce)
    });
    task.sinks = vec![SinkConfig {
        section: SinkSection::Kafka(KafkaSinkSection {
            brokers: kafka.brokers.clone(),
            topic,
            delivery: if exactly_once {
                DeliveryName::ExactlyOnce
            } else {
                DeliveryName::AtLeastOnce
            },
            transactional_id: None,
            properties: std::collections::BTreeMap::new(),
            from: None,
        }),
        route: Route::Main,
    }];
    task.operators.clear();
    TaskPlan {
        config: task,
        rekey,
    }
}

/// `<topic>-<partition>`: how a task is named in paths and ids.
pub fn task_id((topic, partition): &TopicPartition) -> String {
    format!("{topic}-{partition}")
}

/// The pipeline of the task of `partition`, before [`plan_task`] makes it one side of
/// a repartition topic.
fn task_config(
    config: &PipelineConfig,
    partition: &TopicPartition,
    member: &Arc<GroupMember>,
) -> PipelineConfig {
    let id = task_id(partition);
    let mut task = config.clone();
    task.name = format!("{}.{id}", config.name);
    if let SourceSection::Kafka(kafka) = &mut task.source {
        // The group stays the pipeline's, not the task's name.
        kafka
            .group_id
            .get_or_insert_with(|| format!("weir-{}", config.name));
        kafka.task = Some(ScaleOutTask {
            partition: partition.clone(),
            member: member.clone(),
        });
    }
    for sink in &mut task.sinks {
        match &mut sink.section {
            SinkSection::File { path, .. } => *path = path.join(&id),
            SinkSection::Kafka(kafka) => {
                if let Some(given) = &mut kafka.transactional_id {
                    *given = format!("{given}.{id}");
                }
            }
            SinkSection::Stdout { .. } | SinkSection::Discard { .. } => {}
        }
    }
    if let DeadLetterSection::File { path } = &mut task.dead_letter {
        *path = per_task_file(path, &id);
    }
    task
}

/// `dir/stem.ext` → `dir/stem.<id>.ext`.
fn per_task_file(path: &Path, id: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(extension) => format!("{stem}.{id}.{}", extension.to_string_lossy()),
        None => format!("{stem}.{id}"),
    };
    path.with_file_name(name)
}

/// The operator of a task that feeds the repartition topic: events pass as they are,
/// keyed by the exchange in front of it.
struct Rekeyed;

impl Operator for Rekeyed {
    fn name(&self) -> &str {
        "repartition"
    }

    fn process(
        &mut self,
        batch: weir_batch::Batch,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        out.main.append(batch);
        Ok(())
    }
}

/// Runs the task `plan` from its latest checkpoint until a message on `savepoints`
/// makes it take a savepoint and stop.
///
/// # Errors
/// Why the task could not start or stopped: as `weir run`, as text.
pub async fn run_task(
    plan: TaskPlan,
    loader: PluginLoader,
    savepoints: mpsc::Receiver<()>,
) -> Result<(), String> {
    let TaskPlan { config, rekey } = plan;
    let (mut pipeline, plugin_names) = assemble_with_plugins(&config, &loader)
        .await
        .map_err(|error| error.to_string())?;
    if let Some(key_by) = rekey {
        pipeline.operators.push(OperatorSpec {
            name: "repartition".into(),
            plugin: "native".into(),
            parallelism: 1,
            key_by: Some(key_by),
            outputs: Vec::new(),
            factory: Box::new(|_, _| Ok(Box::new(Rekeyed))),
        });
    }
    let (checkpointing, _pid_file) = prepare_run(
        &config,
        &pipeline,
        &plugin_names,
        &StartFrom::Latest,
        savepoints,
    )
    .map_err(|error| error.to_string())?;
    match &checkpointing.restored {
        Some(restored) => tracing::info!(
            target: "weir::scale_out",
            "task {}: restored checkpoint {} ({})",
            config.name,
            restored.id,
            restored.dir.display()
        ),
        None => tracing::info!(target: "weir::scale_out", "task {}: from the start", config.name),
    }
    let report = pipeline
        .run_checkpointed(RunOptions::default(), checkpointing)
        .await
        .map_err(|error| error.to_string())?;
    if let Some(id) = report.checkpoints.and_then(|outcome| outcome.savepoint) {
        tracing::info!(target: "weir::scale_out", "task {}: savepoint {id} taken", config.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::per_task_file;
    use std::path::Path;

    #[test]
    fn a_dead_letter_file_gets_the_task_before_its_extension() {
        assert_eq!(
            per_task_file(Path::new("out/dead.jsonl"), "a-3"),
            Path::new("out/dead.a-3.jsonl")
        );
        assert_eq!(
            per_task_file(Path::new("dead"), "a-0"),
            Path::new("dead.a-0")
        );
    }
}
