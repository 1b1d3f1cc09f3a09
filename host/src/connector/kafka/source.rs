//! [`KafkaSource`]: the partitions of one or more topics, each a split.
//!
//! The source assigns itself every partition of its topics, or the one partition of
//! its scale-out task (the group's rebalancing is the [`super::group`] member's: the
//! checkpoint decides where each partition continues). A read takes what the
//! consumer has (up to the batch size), groups it by partition and hands out one
//! partition's batch at a time, so that each batch belongs to one split and moves
//! only that split's watermark generator.
//!
//! An event gets the record's key, value and headers; its time is the record's
//! timestamp (or, where the record has none, the time of the read), a field of the
//! JSON value, or a header, per `[source.event_time]`. A record whose value is not
//! JSON (with `format = "json"`) or whose time cannot be read becomes a dead letter
//! with its topic, partition and offset.
//!
//! Positions ([`SourcePosition::Kafka`]) are the next offset of every partition;
//! before the first record of a partition is read it is librdkafka's logical offset
//! of the start position (`-2` earliest, `-1` latest).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use weir_batch::Batch;

use super::group::{GroupMember, TopicPartition};
use super::{CLIENT_TIMEOUT, client_config, default_property, kafka_error};
use crate::connector::decode::check_json;
use crate::connector::file::now_ms;
use crate::connector::{CommitPosition, ConnectorError, Source, SourcePosition};
use crate::runtime::dead_letter::DeadLetter;
use crate::time::extract::{FieldTimestamps, TimestampSpec, timestamp_of_text};

/// Where a source without a checkpoint starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartOffset {
    /// The first record still in each partition.
    #[default]
    Earliest,
    /// Only records produced after the start.
    Latest,
    /// The first record whose timestamp is at or after this time (ms).
    Timestamp(i64),
}

/// How record values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFormat {
    /// Each value must be one JSON value (else it is a dead letter).
    #[default]
    Json,
    /// Values are opaque bytes.
    Raw,
}

/// What a Kafka source reads.
#[derive(Debug, Clone, Default)]
pub struct KafkaSourceSpec {
    /// `host:port,...`
    pub brokers: String,
    pub topics: Vec<String>,
    /// The consumer group progress is committed to.
    pub group_id: String,
    pub start: StartOffset,
    pub format: ValueFormat,
    /// Where each event's time comes from ([`TimestampSpec::Ingestion`]: the
    /// record's timestamp).
    pub timestamps: TimestampSpec,
    /// librdkafka settings on top of Weir's.
    pub properties: BTreeMap<String, String>,
    /// Only these partitions (a scale-out task's), instead of every partition of
    /// `topics`.
    pub only: Option<Vec<TopicPartition>>,
    /// The group member that commits progress, when this host shares the group with
    /// others ([`crate::scale_out`]); else the source's own consumer commits.
    pub member: Option<Arc<GroupMember>>,
}

/// The next offset of one partition, in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionOffset {
    pub topic: String,
    pub partition: i32,
    /// The next offset to read; negative: librdkafka's logical start offset.
    pub offset: i64,
}

/// One partition's share of a read, waiting to be handed out.
struct Ready {
    split: usize,
    batch: Batch,
    letters: Vec<DeadLetter>,
    next_offset: i64,
}

/// How record times are read.
enum Times {
    Record,
    Field(FieldTimestamps),
    Header(String, crate::time::extract::TimeUnit),
}

/// A Kafka source; see the module docs.
pub struct KafkaSource {
    describe: String,
    consumer: Arc<StreamConsumer>,
    /// Split `i` is partition `partitions[i]`.
    partitions: Vec<(String, i32)>,
    /// The first split of each topic (its partitions are numbered from 0).
    first_split: BTreeMap<String, usize>,
    next_offsets: Vec<i64>,
    /// Whether the partitions are assigned to the consumer (at the first read).
    assigned: bool,
    member: Option<Arc<GroupMember>>,
    ready: VecDeque<Ready>,
    last_split: usize,
    format: ValueFormat,
    times: Times,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource")
            .field("describe", &self.describe)
            .field("partitions", &self.partitions)
            .finish_non_exhaustive()
    }
}

impl KafkaSource {
    /// Connects and finds the partitions of every topic; they are assigned from
    /// `spec.start` (or where [`Source::seek`] says) at the first read.
    ///
    /// # Errors
    /// An invalid setting, a topic that does not exist, brokers that do not answer
    /// within [`CLIENT_TIMEOUT`].
    pub async fn open(spec: &KafkaSourceSpec) -> Result<Self, ConnectorError> {
        let describe = format!("kafka:{}", spec.topics.join(","));
        let mut config = client_config(&spec.brokers, &spec.properties);
        config.set("group.id", &spec.group_id);
        config.set("enable.auto.commit", "false");
        config.set("enable.auto.offset.store", "false");
        default_property(
            &mut config,
            &spec.properties,
            "isolation.level",
            "read_committed",
        );
        let reset = match spec.start {
            StartOffset::Latest => "latest",
            StartOffset::Earliest | StartOffset::Timestamp(_) => "earliest",
        };
        default_property(&mut config, &spec.properties, "auto.offset.reset", reset);
        let consumer: StreamConsumer = config
            .create()
            .map_err(kafka_error(&describe, "creating the consumer"))?;
        let consumer = Arc::new(consumer);
        let (partitions, first_split) = {
            let consumer = consumer.clone();
            let topics = spec.topics.clone();
            let describe2 = describe.clone();
            tokio::task::spawn_blocking(move || partitions_of(&consumer, &topics, &describe2))
                .await
                .map_err(|error| ConnectorError::new(describe.clone(), error))??
        };
        let (partitions, first_split) = match &spec.only {
            Some(only) => only_these(partitions, only, &describe)?,
            None => (partitions, first_split),
        };
        let start = match spec.start {
            StartOffset::Earliest => Offset::Beginning,
            StartOffset::Latest => Offset::End,
            StartOffset::Timestamp(ms) => Offset::Offset(ms),
        };
        let mut next_offsets = vec![start.to_raw().unwrap_or(-2); partitions.len()];
        if let StartOffset::Timestamp(ms) = spec.start {
            let consumer = consumer.clone();
            let wanted = partitions.clone();
            let describe2 = describe.clone();
            next_offsets = tokio::task::spawn_blocking(move || {
                offsets_for_time(&consumer, &wanted, ms, &describe2)
            })
            .await
            .map_err(|error| ConnectorError::new(describe.clone(), error))??;
        }
        let source = KafkaSource {
            describe,
            consumer,
            partitions,
            first_split,
            next_offsets,
            assigned: false,
            member: spec.member.clone(),
            ready: VecDeque::new(),
            last_split: 0,
            format: spec.format,
            times: match &spec.timestamps {
                TimestampSpec::Ingestion => Times::Record,
                TimestampSpec::Field { field, unit } => {
                    Times::Field(FieldTimestamps::new(field, *unit))
                }
                TimestampSpec::Header { name, unit } => Times::Header(name.clone(), *unit),
            },
        };
        // Assigned at the first read: a restore seeks first, and messages fetched from
        // an earlier assignment could still be delivered after a new one.
        Ok(source)
    }

    /// Assigns every partition from its next offset.
    fn assign(&mut self) -> Result<(), ConnectorError> {
        self.assigned = true;
        let mut list = TopicPartitionList::new();
        for ((topic, partition), offset) in self.partitions.iter().zip(&self.next_offsets) {
            list.add_partition_offset(topic, *partition, Offset::from_raw(*offset))
                .map_err(kafka_error(&self.describe, "assigning partitions"))?;
        }
        self.consumer
            .assign(&list)
            .map_err(kafka_error(&self.describe, "assigning partitions"))
    }

    /// The split of `partition` of `topic`, if the source reads it.
    fn split_of(&self, topic: &str, partition: i32) -> Option<usize> {
        let first = *self.first_split.get(topic)?;
        let split = first + usize::try_from(partition).ok()?;
        match self.partitions.get(split) {
            Some((found, number)) if found == topic && *number == partition => Some(split),
            // A task's source reads some partitions only: look for it.
            _ => self
                .partitions
                .iter()
                .position(|(found, number)| found == topic && *number == partition),
        }
    }

    /// Reads what the consumer has (waiting for the first record), up to
    /// `max_events`, into one [`Ready`] per partition.
    async fn read(&mut self, max_events: usize) {
        let mut slots: Vec<Option<Ready>> = Vec::new();
        slots.resize_with(self.partitions.len(), || None);
        let mut taken = 0;
        // One stream for the whole read: each `recv` would register a waker and drop
        // it again, two locks per message.
        let consumer = self.consumer.clone();
        let mut stream = consumer.stream();
        while taken < max_events.max(1) {
            let next = if taken == 0 {
                next_message(&mut stream).await
            } else {
                // What is already fetched, without waiting.
                match poll_once(next_message(&mut stream)) {
                    Some(next) => next,
                    None => break,
                }
            };
            let Some(received) = next else {
                break;
            };
            let message = match received {
                Ok(message) => message,
                Err(error) => {
                    // Broker failures are retried by librdkafka; the source waits.
                    tracing::warn!(target: "weir::kafka", "{}: {error}", self.describe);
                    if taken == 0 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    break;
                }
            };
            let Some(split) = self.split_of(message.topic(), message.partition()) else {
                continue;
            };
            let slot = slots[split].get_or_insert_with(|| Ready {
                split,
                batch: Batch::default(),
                letters: Vec::new(),
                next_offset: 0,
            });
            slot.next_offset = message.offset() + 1;
            self.decode(&message, &mut slot.batch, &mut slot.letters);
            taken += 1;
        }
        self.ready.extend(slots.into_iter().flatten());
    }

    /// Pushes the event of `message` to `batch`, or a dead letter.
    fn decode(
        &self,
        message: &BorrowedMessage<'_>,
        batch: &mut Batch,
        letters: &mut Vec<DeadLetter>,
    ) {
        let value = message.payload().unwrap_or_default();
        let record_time = message.timestamp().to_millis();
        let headers: Vec<(&str, &[u8])> = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| (header.key, header.value.unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let checked = match self.format {
            ValueFormat::Json if message.payload().is_none() => {
                Err("the record has no value (a tombstone); JSON expected".to_owned())
            }
            ValueFormat::Json if !matches!(self.times, Times::Field(_)) => check_json(value),
            ValueFormat::Json | ValueFormat::Raw => Ok(()),
        };
        let timestamp = checked.and_then(|()| match &self.times {
            Times::Record => Ok(record_time.unwrap_or_else(now_ms)),
            Times::Field(field) => field.timestamp(value),
            Times::Header(name, unit) => {
                let (_, raw) = headers
                    .iter()
                    .find(|(key, _)| key == name)
                    .ok_or_else(|| format!("event time: header `{name}` is missing"))?;
                let text = std::str::from_utf8(raw)
                    .map_err(|_| format!("event time: header `{name}` is not UTF-8 text"))?;
                timestamp_of_text(text.trim(), *unit)
                    .map_err(|why| format!("event time: header `{name}`: {why}"))
            }
        });
        match timestamp {
            Ok(timestamp) => {
                batch.push(message.key(), value, timestamp);
                for (name, value) in headers {
                    batch.push_header(name.to_owned(), value);
                }
            }
            Err(reason) => {
                let mut letter = DeadLetter::for_record(
                    &self.describe,
                    format!(
                        "topic {} partition {} offset {}",
                        message.topic(),
                        message.partition(),
                        message.offset()
                    ),
                    reason,
                    value,
                );
                letter.key = message.key().map(<[u8]>::to_vec);
                letter.timestamp = record_time;
                letter.headers = headers
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value.to_vec()))
                    .collect();
                letters.push(letter);
            }
        }
    }
}

/// The next item of a message stream.
fn next_message<S: futures_core::Stream + Unpin>(
    stream: &mut S,
) -> impl Future<Output = Option<S::Item>> + '_ {
    std::future::poll_fn(move |context| std::pin::Pin::new(&mut *stream).poll_next(context))
}

/// Polls `future` once: its output if it is ready, without waiting or a timer.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// Every partition of the source's topics (split `i` is entry `i`), and each topic's
/// first split.
type Splits = (Vec<(String, i32)>, BTreeMap<String, usize>);

/// The [`Splits`] of `topics`, in order.
fn partitions_of(
    consumer: &StreamConsumer,
    topics: &[String],
    describe: &str,
) -> Result<Splits, ConnectorError> {
    let mut partitions = Vec::new();
    let mut first_split = BTreeMap::new();
    for topic in topics {
        let metadata = consumer
            .fetch_metadata(Some(topic), CLIENT_TIMEOUT)
            .map_err(kafka_error(
                describe,
                &format!("reading metadata of topic `{topic}`"),
            ))?;
        let count = metadata
            .topics()
            .iter()
            .find(|found| found.name() == topic)
            .filter(|found| found.error().is_none())
            .map_or(0, |found| found.partitions().len());
        if count == 0 {
            return Err(ConnectorError::new(
                describe,
                format!("topic `{topic}` does not exist (or has no partitions)"),
            ));
        }
        first_split.insert(topic.clone(), partitions.len());
        for partition in 0..count {
            partitions.push((topic.clone(), i32::try_from(partition).unwrap_or(i32::MAX)));
        }
    }
    Ok((partitions, first_split))
}

/// The [`Splits`] of the partitions in `only`, which must be among `partitions`.
fn only_these(
    partitions: Vec<(String, i32)>,
    only: &[TopicPartition],
    describe: &str,
) -> Result<Splits, ConnectorError> {
    if let Some((topic, partition)) = only.iter().find(|wanted| !partitions.contains(wanted)) {
        return Err(ConnectorError::new(
            describe,
            format!("topic `{topic}` has no partition {partition}"),
        ));
    }
    let mut first_split = BTreeMap::new();
    for (split, (topic, _)) in only.iter().enumerate() {
        first_split.entry(topic.clone()).or_insert(split);
    }
    Ok((only.to_vec(), first_split))
}

/// The first offset at or after time `ms` of each partition (the end where none is).
fn offsets_for_time(
    consumer: &StreamConsumer,
    partitions: &[(String, i32)],
    ms: i64,
    describe: &str,
) -> Result<Vec<i64>, ConnectorError> {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition_offset(topic, *partition, Offset::Offset(ms))
            .map_err(kafka_error(describe, "looking up offsets by time"))?;
    }
    let found = consumer
        .offsets_for_times(list, CLIENT_TIMEOUT)
        .map_err(kafka_error(describe, "looking up offsets by time"))?;
    Ok(partitions
        .iter()
        .map(|(topic, partition)| {
            found
                .find_partition(topic, *partition)
                .and_then(|element| element.offset().to_raw())
                .unwrap_or(-1)
        })
        .collect())
}

#[async_trait]
impl Source for KafkaSource {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn next_batch(
        &mut self,
        max_events: usize,
        dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        if !self.assigned {
            self.assign()?;
        }
        if self.ready.is_empty() {
            self.read(max_events).await;
        }
        let Some(ready) = self.ready.pop_front() else {
            return Ok(Some(Batch::default()));
        };
        dead_letters.extend(ready.letters);
        self.next_offsets[ready.split] = ready.next_offset;
        self.last_split = ready.split;
        Ok(Some(ready.batch))
    }

    fn splits(&self) -> usize {
        self.partitions.len()
    }

    fn last_split(&self) -> usize {
        self.last_split
    }

    fn position(&self) -> Option<SourcePosition> {
        Some(SourcePosition::Kafka {
            partitions: self
                .partitions
                .iter()
                .zip(&self.next_offsets)
                .map(|((topic, partition), offset)| PartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    offset: *offset,
                })
                .collect(),
        })
    }

    async fn seek(&mut self, position: &SourcePosition) -> Result<(), ConnectorError> {
        let SourcePosition::Kafka { partitions } = position else {
            return Err(ConnectorError::new(
                self.describe(),
                format!("cannot continue from {position:?}: not a Kafka position"),
            ));
        };
        for saved in partitions {
            let split = self
                .partitions
                .iter()
                .position(|(topic, partition)| *topic == saved.topic && *partition == saved.partition)
                .ok_or_else(|| {
                    ConnectorError::new(
                        self.describe(),
                        format!(
                            "the checkpoint has topic `{}` partition {}, which this source does not read",
                            saved.topic, saved.partition
                        ),
                    )
                })?;
            self.next_offsets[split] = saved.offset;
        }
        if self.assigned {
            self.assign()?;
        }
        Ok(())
    }

    fn position_committer(&self) -> Option<Box<dyn CommitPosition>> {
        Some(Box::new(GroupCommitter {
            consumer: self.consumer.clone(),
            member: self.member.clone(),
            describe: self.describe.clone(),
        }))
    }
}

/// Commits the offsets of completed checkpoints to the consumer group.
struct GroupCommitter {
    consumer: Arc<StreamConsumer>,
    member: Option<Arc<GroupMember>>,
    describe: String,
}

impl CommitPosition for GroupCommitter {
    fn commit(&self, position: &SourcePosition) {
        let SourcePosition::Kafka { partitions } = position else {
            return;
        };
        let mut list = TopicPartitionList::new();
        for saved in partitions.iter().filter(|saved| saved.offset >= 0) {
            // Only a malformed topic name fails here; the rest is still committed.
            let _ = list.add_partition_offset(
                &saved.topic,
                saved.partition,
                Offset::Offset(saved.offset),
            );
        }
        if list.count() == 0 {
            return;
        }
        if let Some(member) = &self.member {
            member.commit(&list);
        } else if let Err(error) = self.consumer.commit(&list, CommitMode::Async) {
            tracing::warn!(target: "weir::kafka", "{}: committing offsets to the group: {error}", self.describe);
        }
    }
}
