//! [`GroupMember`]: this host's membership in its pipeline's Kafka consumer group, for
//! scale-out across hosts ([`crate::scale_out`]).
//!
//! The member subscribes to the source's topics and lets Kafka's group protocol share
//! their partitions among the hosts of the group. It reads no records itself: every
//! partition it is given is paused at once, and the host runs a task per partition
//! that reads it through a consumer of its own, from the task's checkpoint. The
//! member only reports what the group decides ([`GroupEvent`]) and commits the tasks'
//! checkpointed offsets, with its generation (a consumer outside the group cannot
//! commit to an active group).
//!
//! The group uses librdkafka's eager protocol: a rebalance first takes every
//! partition back from every member, then hands them out again. The revocation
//! waits (inside librdkafka's callback, so the group does not move on) until the
//! host says its tasks have stopped with a savepoint: the next owner of a partition
//! always restores from the last state its previous owner had.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, TopicPartitionList};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::source::KafkaSourceSpec;
use super::{client_config, kafka_error};
use crate::connector::ConnectorError;

/// One partition of a topic.
pub type TopicPartition = (String, i32);

/// What the group decided for this host.
#[derive(Debug)]
pub enum GroupEvent {
    /// These partitions are now this host's.
    Assigned(Vec<TopicPartition>),
    /// These partitions are taken back. The rebalance waits until `stopped` is sent
    /// (or dropped): their tasks must have stopped, with a savepoint, by then.
    Revoked {
        partitions: Vec<TopicPartition>,
        stopped: SyncSender<()>,
    },
}

/// How long a revocation waits for the host's tasks before the rebalance goes on.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(120);

struct MemberContext {
    describe: String,
    events: UnboundedSender<GroupEvent>,
    leaving: Arc<AtomicBool>,
}

impl ClientContext for MemberContext {}

impl ConsumerContext for MemberContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(list) = rebalance else {
            return;
        };
        if self.leaving.load(Ordering::Acquire) {
            // The host has stopped its tasks already.
            return;
        }
        let (stopped, wait) = sync_channel(1);
        let partitions = partitions_of(list);
        if partitions.is_empty() {
            return;
        }
        if self
            .events
            .send(GroupEvent::Revoked {
                partitions,
                stopped,
            })
            .is_err()
        {
            return;
        }
        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(HANDOVER_TIMEOUT) {
            tracing::warn!(
                target: "weir::kafka",
                "{}: the tasks of revoked partitions did not stop within {} s; the rebalance goes on",
                self.describe,
                HANDOVER_TIMEOUT.as_secs()
            );
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                // The member reads nothing: each partition's task does.
                if let Err(error) = consumer.pause(list) {
                    tracing::warn!(target: "weir::kafka", "{}: pausing the group's partitions: {error}", self.describe);
                }
                let _ = self.events.send(GroupEvent::Assigned(partitions_of(list)));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(target: "weir::kafka", "{}: rebalance: {error}", self.describe);
            }
        }
    }
}

fn partitions_of(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements()
        .iter()
        .map(|element| (element.topic().to_owned(), element.partition()))
        .collect()
}

/// This host's member of the group; see the module docs.
pub struct GroupMember {
    describe: String,
    consumer: Arc<BaseConsumer<MemberContext>>,
    leaving: Arc<AtomicBool>,
    poller: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for GroupMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupMember")
            .field("describe", &self.describe)
            .finish_non_exhaustive()
    }
}

impl GroupMember {
    /// Joins group `spec.group_id` for `spec.topics`; the group's decisions arrive on
    /// the receiver.
    ///
    /// # Errors
    /// An invalid setting, or a subscription librdkafka refuses.
    pub fn join(
        spec: &KafkaSourceSpec,
    ) -> Result<(Arc<Self>, UnboundedReceiver<GroupEvent>), ConnectorError> {
        let describe = format!("kafka group `{}`", spec.group_id);
        let mut config = client_config(&spec.brokers, &spec.properties);
        config.set("group.id", &spec.group_id);
        config.set("enable.auto.commit", "false");
        config.set("enable.auto.offset.store", "false");
        let (events, received) = unbounded_channel();
        let leaving = Arc::new(AtomicBool::new(false));
        let context = MemberContext {
            describe: describe.clone(),
            events,
            leaving: leaving.clone(),
        };
        let consumer: BaseConsumer<MemberContext> = config
            .create_with_context(context)
            .map_err(kafka_error(&describe, "creating the group member"))?;
        let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(kafka_error(&describe, "subscribing"))?;
        let consumer = Arc::new(consumer);
        let poller = {
            let (consumer, leaving, name) = (consumer.clone(), leaving.clone(), describe.clone());
            std::thread::Builder::new()
                .name("weir-group".into())
                .spawn(move || {
                    // Polling serves the group's callbacks (and keeps the member alive);
                    // records are not expected: every partition is paused.
                    while !leaving.load(Ordering::Acquire) {
                        if let Some(Err(error)) = consumer.poll(Duration::from_millis(100)) {
                            tracing::warn!(target: "weir::kafka", "{name}: {error}");
                        }
                    }
                })
                .map_err(|error| ConnectorError::new(&describe, error))?
        };
        Ok((
            Arc::new(GroupMember {
                describe,
                consumer,
                leaving,
                poller: Some(poller),
            }),
            received,
        ))
    }

    /// Commits `offsets` (next offsets to read) to the group, so lag tools see progress.
    pub fn commit(&self, offsets: &TopicPartitionList) {
        if let Err(error) = self.consumer.commit(offsets, CommitMode::Async) {
            tracing::warn!(target: "weir::kafka", "{}: committing offsets: {error}", self.describe);
        }
    }
}

/// Dropping the member (once the tasks, which hold it for commits, have stopped) leaves
/// the group: its partitions go to the other members at once.
impl Drop for GroupMember {
    fn drop(&mut self) {
        self.leaving.store(true, Ordering::Release);
        if let Some(poller) = self.poller.take() {
            let _ = poller.join();
        }
        // Dropping the last consumer handle closes it: librdkafka leaves the group.
    }
}
