//! Kafka: a source and a sink on `rdkafka` (librdkafka, built from its bundled
//! source), and a dead-letter sink writing to a topic.
//!
//! - [`source`]: every partition of the configured topics is a split, with its own
//!   watermark generator and idleness; positions (next offset per partition) go into
//!   checkpoints and, once a checkpoint completes, are committed to the consumer
//!   group so that lag tools see progress (the checkpoint stays the truth on
//!   restore);
//! - [`sink`]: at-least-once (idempotent producer, flushed on every checkpoint) or
//!   exactly-once (a transactional producer, one transaction per checkpoint,
//!   committed when the checkpoint completes; see [`commit_marker`] for restore);
//! - [`dead_letter`]: dead letters as JSON records of a topic;
//! - [`group`]: this host's member of the consumer group, for scale-out;
//! - [`commit_marker`]: which checkpoint an exactly-once sink committed last;
//! - [`retention`]: a warning when a sink writes records its topic's retention expires.

pub mod commit_marker;
pub mod dead_letter;
pub mod group;
mod producer;
pub mod retention;
pub mod sink;
pub mod source;

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;

use super::ConnectorError;

/// How long a blocking client call (metadata, flush, transaction step) may take.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client configuration for `brokers`, with librdkafka `properties` on top (they
/// win over Weir's defaults).
pub(crate) fn client_config(brokers: &str, properties: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    for (name, value) in properties {
        config.set(name, value);
    }
    config
}

/// Sets `name` to `value` unless the pipeline's `properties` set it.
pub(crate) fn default_property(
    config: &mut ClientConfig,
    properties: &BTreeMap<String, String>,
    name: &str,
    value: &str,
) {
    if !properties.contains_key(name) {
        config.set(name, value);
    }
}

/// A connector error of `describe` from a Kafka client error.
pub(crate) fn kafka_error(
    describe: &str,
    what: &str,
) -> impl FnOnce(rdkafka::error::KafkaError) -> ConnectorError {
    move |error| ConnectorError::new(describe, format!("{what}: {error}"))
}
