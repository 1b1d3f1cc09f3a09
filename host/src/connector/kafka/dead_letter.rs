//! [`KafkaDeadLetterSink`]: dead letters as records of a topic. The value is the
//! dead letter's JSON line (origin — for a Kafka source its topic, partition and
//! offset —, reason, original value), the key the original key. At-least-once, like
//! every dead-letter output (idempotent producer, flushed at the end).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::client_config;
use super::producer::{Producer, Record, headers};
use crate::connector::{ConnectorError, DeadLetterSink};
use crate::runtime::dead_letter::DeadLetter;

/// See the module docs.
#[derive(Debug)]
pub struct KafkaDeadLetterSink {
    topic: String,
    producer: Producer,
}

impl KafkaDeadLetterSink {
    /// A sink of dead letters to `topic`.
    ///
    /// # Errors
    /// An invalid setting.
    pub fn create(
        brokers: &str,
        topic: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<Self, ConnectorError> {
        let mut config = client_config(brokers, properties);
        config.set("enable.idempotence", "true");
        Ok(KafkaDeadLetterSink {
            topic: topic.to_owned(),
            producer: Producer::create(format!("kafka:{topic}"), &config)?,
        })
    }
}

#[async_trait]
impl DeadLetterSink for KafkaDeadLetterSink {
    fn describe(&self) -> String {
        self.producer.describe.clone()
    }

    async fn write(&mut self, letter: &DeadLetter) -> Result<(), ConnectorError> {
        let line = letter.to_json_line();
        let record = Record {
            key: letter.key.as_deref(),
            value: line.as_bytes(),
            timestamp: letter.timestamp,
            headers: headers(
                letter
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_slice())),
            ),
        };
        self.producer.send(&self.topic, record).await
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        self.producer.flush().await
    }
}
