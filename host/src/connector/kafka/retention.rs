//! [`RetentionCheck`]: warns when a Kafka sink writes records that its topic's time
//! retention has already expired.
//!
//! A Kafka sink writes an event's time as its record's timestamp (as Kafka Streams
//! does). With `message.timestamp.type = CreateTime` (the default), a topic's
//! `retention.ms` (7 days by default) is measured on those timestamps, so the output of
//! a job over older data — a backfill, a replay, fixed test times — is deleted by the
//! broker as soon as it enforces retention: Kafka once the segment rolls, noida-db
//! within seconds. Nothing fails; the records are simply gone, including the ones of
//! committed transactions. The sink reads the topic's settings when it opens and logs
//! one warning, naming the fix (`retention.ms = -1`, or `message.timestamp.type =
//! LogAppendTime`), at the first record already past retention.
//!
//! A broker that does not describe the topic's settings (or says nothing of
//! `retention.ms`, as tansu does for defaults) gets no check.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use weir_batch::Batch;

use super::client_config;
use crate::connector::file::now_ms;

/// How long the sink waits for the topic's settings before it goes on without the
/// check.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The topic's time retention, and whether it has been reported.
#[derive(Debug)]
pub struct RetentionCheck {
    describe: String,
    /// `retention.ms` on record timestamps; `None`: no limit, or unknown.
    retention_ms: Option<i64>,
    warned: bool,
}

impl RetentionCheck {
    /// Reads `topic`'s `retention.ms` and `message.timestamp.type`.
    pub async fn read(
        brokers: &str,
        properties: &BTreeMap<String, String>,
        topic: &str,
        describe: &str,
    ) -> Self {
        let retention_ms = match describe_topic(brokers, properties, topic).await {
            Ok(settings) => retention_on_timestamps(&settings),
            Err(error) => {
                tracing::debug!(target: "weir::kafka", "{describe}: topic settings not read: {error}");
                None
            }
        };
        RetentionCheck::new(describe, retention_ms)
    }

    /// A check of a topic whose retention on record timestamps is `retention_ms`.
    pub fn new(describe: &str, retention_ms: Option<i64>) -> Self {
        RetentionCheck {
            describe: describe.to_owned(),
            retention_ms,
            warned: false,
        }
    }

    /// The topic's retention on record timestamps (`None`: no limit, or unknown).
    pub fn retention_ms(&self) -> Option<i64> {
        self.retention_ms
    }

    /// Warns (once) if `batch` holds a record older than the topic's retention;
    /// `true` when it warned now.
    pub fn check(&mut self, batch: &Batch) -> bool {
        let Some(retention_ms) = self.retention_ms else {
            return false;
        };
        if self.warned {
            return false;
        }
        let Some(&oldest) = batch.timestamps().iter().min() else {
            return false;
        };
        let expired_before = now_ms().saturating_sub(retention_ms);
        if oldest >= expired_before {
            return false;
        }
        self.warned = true;
        tracing::warn!(
            target: "weir::kafka",
            "{}: writing records whose timestamps (event time, here {oldest} ms) are older \
             than the topic's retention.ms ({retention_ms} ms, measured on record \
             timestamps): the broker deletes them once it enforces retention. For output \
             over past event time, set retention.ms=-1 or \
             message.timestamp.type=LogAppendTime on the topic",
            self.describe
        );
        true
    }
}

/// `retention.ms` when it applies to record timestamps and limits them; `None` for no
/// limit (`-1`), `LogAppendTime` topics and settings the broker did not give.
fn retention_on_timestamps(settings: &BTreeMap<String, String>) -> Option<i64> {
    if settings
        .get("message.timestamp.type")
        .is_some_and(|kind| kind == "LogAppendTime")
    {
        return None;
    }
    let retention: i64 = settings.get("retention.ms")?.parse().ok()?;
    (retention >= 0).then_some(retention)
}

/// The topic's settings, as the broker describes them.
async fn describe_topic(
    brokers: &str,
    properties: &BTreeMap<String, String>,
    topic: &str,
) -> Result<BTreeMap<String, String>, rdkafka::error::KafkaError> {
    let admin: AdminClient<DefaultClientContext> = client_config(brokers, properties).create()?;
    let options = AdminOptions::new().request_timeout(Some(DESCRIBE_TIMEOUT));
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await?;
    let mut settings = BTreeMap::new();
    for resource in described.into_iter().flatten() {
        for entry in resource.entries {
            if let Some(value) = entry.value {
                settings.insert(entry.name, value);
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn retention_applies_to_create_time_topics_with_a_limit() {
        let week = "604800000";
        assert_eq!(
            retention_on_timestamps(&settings(&[("retention.ms", week)])),
            Some(604_800_000)
        );
        assert_eq!(
            retention_on_timestamps(&settings(&[
                ("retention.ms", week),
                ("message.timestamp.type", "CreateTime")
            ])),
            Some(604_800_000)
        );
        assert_eq!(
            retention_on_timestamps(&settings(&[
                ("retention.ms", week),
                ("message.timestamp.type", "LogAppendTime")
            ])),
            None
        );
        assert_eq!(
            retention_on_timestamps(&settings(&[("retention.ms", "-1")])),
            None
        );
        assert_eq!(retention_on_timestamps(&settings(&[])), None);
    }

    #[test]
    fn warns_once_at_the_first_expired_record() {
        let mut check = RetentionCheck::new("kafka:out", Some(60_000));
        let mut fresh = Batch::default();
        fresh.push(None, b"{}", now_ms());
        assert!(!check.check(&fresh), "a record of now is kept");
        let mut old = Batch::default();
        old.push(None, b"{}", now_ms());
        old.push(None, b"{}", 1_700_000_000_000);
        assert!(
            check.check(&old),
            "a record of 2023 is past a minute's retention"
        );
        assert!(!check.check(&old), "one warning");
        let mut unlimited = RetentionCheck::new("kafka:out", None);
        assert!(!unlimited.check(&old));
    }
}
