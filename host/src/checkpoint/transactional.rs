//! The restore point of a pipeline with exactly-once Kafka sinks: the latest
//! complete checkpoint whose transactions were committed (see
//! [`crate::connector::kafka::commit_marker`]).
//!
//! A sink commits transaction `n` only after `_metadata` of `n` exists, so its last
//! committed checkpoint is the latest complete one, or the one before it when the
//! host died between the two. In that case the run restores the one before: its
//! input after that checkpoint is read again and the lost transaction's output
//! written again, once. With several exactly-once sinks, a crash that lets one of
//! them commit and not another is restored from the older point, which repeats the
//! committed sink's last transaction: one transaction per sink is the limit of what
//! Kafka can resume.

use super::restore::Restored;
use super::{CheckpointError, Layout, Metadata};
use crate::config::kafka::DeliveryName;
use crate::config::{PipelineConfig, SinkSection};
use crate::connector::kafka::commit_marker::last_committed;

/// `restored`, or the older checkpoint the exactly-once sinks of `config` last
/// committed; `None` when they never committed (a fresh start).
///
/// # Errors
/// Brokers that do not answer, or the older checkpoint missing (pruned).
pub fn committed_restore_point(
    config: &PipelineConfig,
    layout: &Layout,
    restored: Option<Restored>,
) -> Result<Option<Restored>, CheckpointError> {
    let Some(restored) = restored else {
        return Ok(None);
    };
    let mut oldest = restored.id;
    for sink in &config.sinks {
        let SinkSection::Kafka(kafka) = &sink.section else {
            continue;
        };
        if kafka.delivery != DeliveryName::ExactlyOnce {
            continue;
        }
        let spec = kafka.spec(&config.name);
        let committed = last_committed(
            &spec.brokers,
            &spec.properties,
            &spec.transactional_id,
            &spec.topic,
        )
        .map_err(|error| CheckpointError::Unsupported(error.to_string()))?;
        oldest = oldest.min(committed);
    }
    if oldest == restored.id {
        return Ok(Some(restored));
    }
    if oldest == 0 {
        tracing::info!(
            target: "weir::checkpoint",
            "checkpoint {}: no Kafka transaction was committed yet; starting fresh",
            restored.id
        );
        return Ok(None);
    }
    tracing::info!(
        target: "weir::checkpoint",
        "checkpoint {}: its Kafka transaction was lost; restoring checkpoint {oldest}, whose output is committed",
        restored.id
    );
    let dir = layout.checkpoint_dir(oldest);
    let metadata = Metadata::read(&dir)?;
    Ok(Some(Restored {
        id: oldest,
        dir,
        metadata,
    }))
}
