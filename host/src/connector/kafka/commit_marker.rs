//! Which checkpoint an exactly-once Kafka sink committed last.
//!
//! A Kafka transaction cannot be resumed by a new producer: after a crash between
//! the checkpoint's `_metadata` and the transaction's commit, `init_transactions`
//! aborts it. So each transaction also commits, atomically with its records, a
//! *marker*: the offset `n` (the checkpoint) of partition 0 of the output topic in a
//! consumer group of the sink's own (`<transactional.id>.weir-commits`, through
//! `send_offsets_to_transaction`). On restore the pipeline starts from the newest
//! checkpoint whose output is committed: the latest complete one, or the one before
//! it when that one's transaction was lost (its input is then read again and its
//! output written again, once).

use std::collections::BTreeMap;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::{CLIENT_TIMEOUT, client_config, kafka_error};
use crate::connector::ConnectorError;

/// The group holding the marker of the sink with `transactional_id`.
pub fn marker_group(transactional_id: &str) -> String {
    format!("{transactional_id}.weir-commits")
}

/// The marker's partition list for checkpoint `checkpoint`.
///
/// # Errors
/// A topic name librdkafka refuses.
pub(crate) fn marker(
    topic: &str,
    checkpoint: u64,
) -> Result<TopicPartitionList, rdkafka::error::KafkaError> {
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(
        topic,
        0,
        Offset::Offset(i64::try_from(checkpoint).unwrap_or(i64::MAX)),
    )?;
    Ok(list)
}

/// A consumer of the marker group (not subscribed to anything): its group metadata
/// goes into each transaction, and it reads the marker back.
///
/// # Errors
/// An invalid setting.
pub(crate) fn marker_consumer(
    brokers: &str,
    properties: &BTreeMap<String, String>,
    transactional_id: &str,
    describe: &str,
) -> Result<BaseConsumer, ConnectorError> {
    let mut config = client_config(brokers, properties);
    config.remove("transactional.id");
    config.set("group.id", marker_group(transactional_id));
    config.set("enable.auto.commit", "false");
    config
        .create()
        .map_err(kafka_error(describe, "creating the commit-marker consumer"))
}

/// The last checkpoint whose transaction the sink committed (0: none). Blocking.
///
/// # Errors
/// Brokers that do not answer.
pub fn last_committed(
    brokers: &str,
    properties: &BTreeMap<String, String>,
    transactional_id: &str,
    topic: &str,
) -> Result<u64, ConnectorError> {
    let describe = format!("kafka:{topic}");
    let consumer = marker_consumer(brokers, properties, transactional_id, &describe)?;
    let wanted = marker(topic, 0).map_err(kafka_error(&describe, "reading the commit marker"))?;
    let committed = consumer
        .committed_offsets(wanted, CLIENT_TIMEOUT)
        .map_err(kafka_error(&describe, "reading the commit marker"))?;
    Ok(committed
        .find_partition(topic, 0)
        .and_then(|element| element.offset().to_raw())
        .and_then(|offset| u64::try_from(offset).ok())
        .unwrap_or(0))
}
