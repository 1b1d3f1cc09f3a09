//! [`KafkaSink`]: events to a topic — key, value, headers and timestamp as they are.
//!
//! - **At-least-once**: an idempotent producer (no duplicates from its own retries);
//!   each checkpoint's pre-commit waits until everything written is acknowledged, so
//!   a restore replays at most what came after the last checkpoint.
//! - **Exactly-once**: a transactional producer with a stable `transactional.id`.
//!   The records between barriers `n-1` and `n` form transaction `n`: flushed at the
//!   pre-commit of `n`, committed once checkpoint `n` completes (with the commit
//!   marker, see [`super::commit_marker`]). Records that arrive while transaction `n`
//!   waits for its checkpoint are held in memory and sent in transaction `n+1`. A new
//!   sink's `init_transactions` fences every older producer of the same id and aborts
//!   its open transaction. Readers with `isolation.level=read_committed` see each
//!   result once.
//!
//! Records older than the topic's time retention are written, with one warning (see
//! [`super::retention`]).
//!
//! Laws: a transaction commits only after its checkpoint's `_metadata` exists
//! (transaction `n` is committed either on the completion of `n`, or on barrier
//! `n+1`, which the coordinator triggers only after `n` completed — one checkpoint
//! in flight at a time); records after barrier `n` never enter transaction `n`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::Producer as _;
use weir_batch::Batch;

use super::commit_marker::{marker, marker_consumer};
use super::producer::{Producer, Record, headers};
use super::retention::RetentionCheck;
use super::{CLIENT_TIMEOUT, client_config, kafka_error};
use crate::connector::{ConnectorError, Sink};

/// The delivery guarantee of a Kafka sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    #[default]
    AtLeastOnce,
    ExactlyOnce,
}

/// Where and how a Kafka sink writes.
#[derive(Debug, Clone, Default)]
pub struct KafkaSinkSpec {
    pub brokers: String,
    pub topic: String,
    pub delivery: Delivery,
    /// The producer's `transactional.id` (exactly-once): stable across restarts.
    pub transactional_id: String,
    pub properties: BTreeMap<String, String>,
}

/// The transaction state of an exactly-once sink.
struct Transactions {
    topic: String,
    /// Its group metadata goes into each transaction with the commit marker.
    marker_consumer: BaseConsumer,
    /// The pre-committed transaction waiting for its checkpoint.
    pending: Option<u64>,
    /// Batches that arrived while a transaction was pending.
    held: Vec<Batch>,
}

/// See the module docs.
pub struct KafkaSink {
    topic: String,
    producer: Producer,
    transactions: Option<Transactions>,
    retention: RetentionCheck,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("topic", &self.topic)
            .field("exactly_once", &self.transactions.is_some())
            .finish_non_exhaustive()
    }
}

impl KafkaSink {
    /// Connects; in exactly-once mode fences older producers of the same
    /// `transactional.id` (aborting their open transaction) and begins a transaction.
    ///
    /// # Errors
    /// An invalid setting, brokers that do not answer.
    pub async fn open(spec: &KafkaSinkSpec) -> Result<Self, ConnectorError> {
        let describe = format!("kafka:{}", spec.topic);
        let mut config = client_config(&spec.brokers, &spec.properties);
        config.set("enable.idempotence", "true");
        let transactional = spec.delivery == Delivery::ExactlyOnce;
        if transactional {
            config.set("transactional.id", &spec.transactional_id);
        }
        let producer = Producer::create(describe.clone(), &config)?;
        let transactions = if transactional {
            producer
                .blocking("starting transactions (fencing older producers)", |p| {
                    p.init_transactions(CLIENT_TIMEOUT)
                })
                .await?;
            producer
                .blocking("beginning a transaction", |p| p.begin_transaction())
                .await?;
            Some(Transactions {
                topic: spec.topic.clone(),
                marker_consumer: marker_consumer(
                    &spec.brokers,
                    &spec.properties,
                    &spec.transactional_id,
                    &describe,
                )?,
                pending: None,
                held: Vec::new(),
            })
        } else {
            None
        };
        let retention =
            RetentionCheck::read(&spec.brokers, &spec.properties, &spec.topic, &describe).await;
        Ok(KafkaSink {
            topic: spec.topic.clone(),
            producer,
            transactions,
            retention,
        })
    }

    async fn send(&self, batch: &Batch) -> Result<(), ConnectorError> {
        for event in batch.iter() {
            let record = Record {
                key: event.key,
                value: event.value,
                timestamp: Some(event.timestamp),
                headers: headers(
                    event
                        .headers
                        .iter()
                        .map(|header| (header.name.as_str(), header.value.as_slice())),
                ),
            };
            self.producer.send(&self.topic, record).await?;
        }
        Ok(())
    }

    /// Commits the pending transaction with its marker, begins the next and sends
    /// what was held back into it.
    async fn commit_pending(&mut self) -> Result<(), ConnectorError> {
        let Some(transactions) = &mut self.transactions else {
            return Ok(());
        };
        let Some(checkpoint) = transactions.pending.take() else {
            return Ok(());
        };
        let describe = self.producer.describe.clone();
        let offsets = marker(&transactions.topic, checkpoint)
            .map_err(kafka_error(&describe, "preparing the commit marker"))?;
        let group = transactions
            .marker_consumer
            .group_metadata()
            .ok_or_else(|| {
                ConnectorError::new(
                    &describe,
                    "the commit-marker consumer has no group metadata",
                )
            })?;
        self.producer
            .blocking("committing a transaction", move |p| {
                p.send_offsets_to_transaction(&offsets, &group, CLIENT_TIMEOUT)?;
                p.commit_transaction(CLIENT_TIMEOUT)
            })
            .await?;
        self.producer
            .blocking("beginning a transaction", |p| p.begin_transaction())
            .await?;
        let held = std::mem::take(&mut transactions.held);
        for batch in &held {
            self.send(batch).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Sink for KafkaSink {
    fn describe(&self) -> String {
        self.producer.describe.clone()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        self.retention.check(batch);
        if let Some(transactions) = &mut self.transactions
            && transactions.pending.is_some()
        {
            transactions.held.push(batch.clone());
            return Ok(());
        }
        self.send(batch).await
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        self.producer.flush().await
    }

    async fn pre_commit(&mut self, checkpoint: u64) -> Result<(), ConnectorError> {
        // Barrier `checkpoint` exists, so the pending checkpoint completed.
        self.commit_pending().await?;
        self.producer.flush().await?;
        if let Some(transactions) = &mut self.transactions {
            transactions.pending = Some(checkpoint);
        }
        Ok(())
    }

    async fn commit(&mut self, checkpoint: u64) -> Result<(), ConnectorError> {
        if self
            .transactions
            .as_ref()
            .and_then(|transactions| transactions.pending)
            .is_some_and(|pending| pending <= checkpoint)
        {
            self.commit_pending().await?;
        }
        Ok(())
    }

    async fn discard_uncommitted(&mut self) -> Result<(), ConnectorError> {
        let Some(transactions) = &mut self.transactions else {
            return Ok(());
        };
        transactions.held.clear();
        if transactions.pending.is_none() {
            self.producer
                .blocking("aborting a transaction", |p| {
                    p.abort_transaction(CLIENT_TIMEOUT)?;
                    p.begin_transaction()
                })
                .await?;
        }
        Ok(())
    }
}
