//! The Kafka tables of a pipeline file: `[source] type = "kafka"`, `[[sink]] type =
//! "kafka"` and `[dead_letter] type = "kafka"`.
//!
//! ```toml
//! [source]
//! type = "kafka"
//! brokers = "127.0.0.1:9092"
//! topics = ["payments"]
//! group_id = "fraud"          # default: weir-<pipeline name>
//! start = "earliest"          # earliest | latest | a time: 2024-05-01T00:00:00Z or ms
//! format = "json"             # json | raw
//! scale_out = true            # share the partitions with the group's other hosts
//! repartition_topic = "payments-by-card"   # with scale_out: input not keyed by key_by
//! properties = { "session.timeout.ms" = "6000" }   # librdkafka settings
//! [source.event_time]         # default: the record's timestamp
//! field = "ts"                # or header = "ts"
//! idle_timeout_ms = 5000      # a silent partition stops holding the watermark
//!
//! [[sink]]
//! type = "kafka"
//! brokers = "127.0.0.1:9092"
//! topic = "alerts"
//! delivery = "exactly-once"   # at-least-once (default) | exactly-once
//! transactional_id = "fraud-alerts"   # default: weir-<pipeline>-<topic>
//!
//! [dead_letter]
//! type = "kafka"
//! brokers = "127.0.0.1:9092"
//! topic = "fraud-dead-letters"
//! ```
//!
//! Exactly-once needs `[checkpoint]`: transactions commit with checkpoints.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::connector::kafka::group::{GroupMember, TopicPartition};
use crate::connector::kafka::sink::{Delivery, KafkaSinkSpec};
use crate::connector::kafka::source::{KafkaSourceSpec, StartOffset, ValueFormat};
use crate::time::TimestampSpec;

use super::EventTimeSection;

/// `[source]` with `type = "kafka"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceSection {
    pub brokers: String,
    pub topics: Vec<String>,
    pub group_id: Option<String>,
    /// `earliest`, `latest`, or a time (RFC 3339, or milliseconds as a number).
    pub start: Option<toml::Value>,
    #[serde(default)]
    pub format: KafkaFormatName,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    pub event_time: Option<EventTimeSection>,
    /// Share the partitions with the other hosts of the group (see
    /// [`crate::scale_out`]); needs `[checkpoint]`.
    #[serde(default)]
    pub scale_out: bool,
    /// With `scale_out`: a topic the input goes through first, keyed by the first keyed
    /// operator's `key_by`, for input whose keys are spread over partitions.
    pub repartition_topic: Option<String>,
    /// Set by [`crate::scale_out`] in a task's copy of the file: the task's partition
    /// and the host's group member.
    #[serde(skip)]
    pub task: Option<ScaleOutTask>,
}

/// What a scale-out task's source reads, and who commits its progress.
#[derive(Debug, Clone)]
pub struct ScaleOutTask {
    pub partition: TopicPartition,
    pub member: Arc<GroupMember>,
}

/// Value formats of a Kafka source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaFormatName {
    #[default]
    Json,
    Raw,
}

/// `[[sink]]` with `type = "kafka"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkSection {
    pub brokers: String,
    pub topic: String,
    #[serde(default)]
    pub delivery: DeliveryName,
    pub transactional_id: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// `operator.output` for a named output; absent = the main output.
    pub from: Option<String>,
}

/// Delivery guarantees, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryName {
    #[default]
    AtLeastOnce,
    ExactlyOnce,
}

/// `[dead_letter]` with `type = "kafka"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaDeadLetterSection {
    pub brokers: String,
    pub topic: String,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl KafkaSourceSection {
    /// The source's settings in pipeline `pipeline`.
    ///
    /// # Errors
    /// A `start` that is not `earliest`, `latest` or a time; the reason.
    pub fn spec(
        &self,
        pipeline: &str,
        timestamps: &TimestampSpec,
    ) -> Result<KafkaSourceSpec, String> {
        let start = match &self.start {
            None => StartOffset::Earliest,
            Some(toml::Value::String(text)) if text == "earliest" => StartOffset::Earliest,
            Some(toml::Value::String(text)) if text == "latest" => StartOffset::Latest,
            Some(toml::Value::String(text)) => StartOffset::Timestamp(
                crate::time::rfc3339::parse_rfc3339(text).map_err(|why| {
                    format!("`start`: expected \"earliest\", \"latest\" or an RFC 3339 time: {why}")
                })?,
            ),
            Some(toml::Value::Integer(ms)) => StartOffset::Timestamp(*ms),
            Some(other) => {
                return Err(format!(
                    "`start`: expected \"earliest\", \"latest\" or a time, not {other}"
                ));
            }
        };
        Ok(KafkaSourceSpec {
            brokers: self.brokers.clone(),
            topics: self.topics.clone(),
            group_id: self
                .group_id
                .clone()
                .unwrap_or_else(|| format!("weir-{pipeline}")),
            start,
            format: match self.format {
                KafkaFormatName::Json => ValueFormat::Json,
                KafkaFormatName::Raw => ValueFormat::Raw,
            },
            timestamps: timestamps.clone(),
            properties: self.properties.clone(),
            only: self.task.as_ref().map(|task| vec![task.partition.clone()]),
            member: self.task.as_ref().map(|task| task.member.clone()),
        })
    }
}

impl KafkaSinkSection {
    /// The sink's settings in pipeline `pipeline`.
    pub fn spec(&self, pipeline: &str) -> KafkaSinkSpec {
        KafkaSinkSpec {
            brokers: self.brokers.clone(),
            topic: self.topic.clone(),
            delivery: match self.delivery {
                DeliveryName::AtLeastOnce => Delivery::AtLeastOnce,
                DeliveryName::ExactlyOnce => Delivery::ExactlyOnce,
            },
            transactional_id: self
                .transactional_id
                .clone()
                .unwrap_or_else(|| format!("weir-{pipeline}-{}", self.topic)),
            properties: self.properties.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{SinkSection, SourceSection, load_str};
    use crate::connector::kafka::source::StartOffset;
    use crate::time::TimestampSpec;

    const SOURCE: &str = r#"name = "k"
[source]
type = "kafka"
brokers = "127.0.0.1:9092"
topics = ["in"]
"#;

    fn error(text: &str) -> String {
        load_str(Path::new("p.toml"), text)
            .expect_err("the file is wrong")
            .to_string()
    }

    #[test]
    fn a_kafka_pipeline_reads_with_its_defaults() {
        let text = format!(
            "{SOURCE}[source.event_time]\nheader = \"ts\"\n\n[[sink]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"out\"\n"
        );
        let config = load_str(Path::new("p.toml"), &text).expect("valid");
        let SourceSection::Kafka(source) = &config.source else {
            panic!("a Kafka source");
        };
        let spec = source
            .spec(&config.name, &config.event_time.timestamps)
            .expect("valid");
        assert_eq!(spec.group_id, "weir-k");
        assert_eq!(spec.start, StartOffset::Earliest);
        assert!(matches!(spec.timestamps, TimestampSpec::Header { ref name, .. } if name == "ts"));
        let SinkSection::Kafka(sink) = &config.sinks[0].section else {
            panic!("a Kafka sink");
        };
        assert_eq!(sink.spec(&config.name).transactional_id, "weir-k-out");
    }

    #[test]
    fn a_bad_start_is_reported_at_its_line() {
        let text = SOURCE.replace("topics", "start = \"yesterday\"\ntopics")
            + "[[sink]]\ntype = \"discard\"\n";
        let message = error(&text);
        assert!(message.starts_with("p.toml:5:"), "{message}");
        assert!(
            message.contains("\"earliest\", \"latest\" or an RFC 3339 time"),
            "{message}"
        );
    }

    #[test]
    fn exactly_once_needs_checkpoints() {
        let text = format!(
            "{SOURCE}[[sink]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"out\"\ndelivery = \"exactly-once\"\n"
        );
        let message = error(&text);
        assert!(message.starts_with("p.toml:10:"), "{message}");
        assert!(
            message.contains("add a `[checkpoint]` section"),
            "{message}"
        );
    }
}
