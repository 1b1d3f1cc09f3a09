//! Channels between tasks: bounded (so a slow consumer slows its producers down), one
//! receiving queue per subtask, and [`Outlet`]s that spread a producer's batches over
//! the consumer's subtasks: round-robin, or by key group in front of a keyed operator
//! ([`Partitioning::KeyGroups`]). Watermarks, idleness, barriers and `End` are
//! broadcast to every subtask.
//!
//! Sources and sinks are async tasks on tokio; operator chains run on task threads of
//! their own (Wasm calls are synchronous and CPU-bound, and must not stall the I/O
//! reactor), so an outlet can send both ways: `send_*` from async code and
//! `blocking_send_*` from a task thread.

use tokio::sync::mpsc;
use weir_batch::Batch;

use super::message::{Envelope, Message};
use super::partition::KeyGroupSplitter;
use crate::state::KeyGroup;

/// The receiving end of a subtask's input queue.
pub type Inbox = mpsc::Receiver<Envelope>;

/// The consumer is gone: the pipeline is shutting down after a failure elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("downstream task has stopped")]
pub struct Disconnected;

/// Makes the input queues of a consumer with `parallelism` subtasks, each holding at
/// most `capacity` messages.
pub fn inboxes(parallelism: usize, capacity: usize) -> (Vec<mpsc::Sender<Envelope>>, Vec<Inbox>) {
    (0..parallelism)
        .map(|_| mpsc::channel(capacity.max(1)))
        .unzip()
}

/// How a producer subtask spreads batches over the subtasks of one consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioning {
    /// Batch `n` goes to subtask `n mod parallelism`, starting at the producer's index
    /// (so parallel producers do not all start on subtask 0).
    RoundRobin,
    /// Each event goes to the subtask that owns its key's key group (see
    /// [`KeyGroupSplitter`]): a batch is split into one sub-batch per subtask, each in
    /// the batch's order.
    KeyGroups {
        /// The pipeline's number of key groups.
        max_key_groups: KeyGroup,
    },
}

/// One producer subtask's connection to one consumer (all its subtasks).
#[derive(Debug, Clone)]
pub struct Outlet {
    targets: Vec<mpsc::Sender<Envelope>>,
    /// This producer's input index at the consumer.
    input: usize,
    partitioning: Partitioning,
    next: usize,
    /// For [`Partitioning::KeyGroups`].
    splitter: Option<KeyGroupSplitter>,
    /// Sub-batches of the batch being sent, reused.
    parts: Vec<(usize, Batch)>,
}

impl Outlet {
    /// Connects producer subtask `input` to the consumer whose queues are `targets`.
    pub fn new(
        targets: Vec<mpsc::Sender<Envelope>>,
        input: usize,
        partitioning: Partitioning,
    ) -> Self {
        let next = input % targets.len().max(1);
        let splitter = match partitioning {
            Partitioning::RoundRobin => None,
            Partitioning::KeyGroups { max_key_groups } => {
                Some(KeyGroupSplitter::new(max_key_groups, targets.len()))
            }
        };
        Outlet {
            targets,
            input,
            partitioning,
            next,
            splitter,
            parts: Vec::new(),
        }
    }

    /// How this outlet spreads batches.
    pub fn partitioning(&self) -> Partitioning {
        self.partitioning
    }

    /// Fills `self.parts` with `(subtask, batch)` pairs for `batch`.
    fn route(&mut self, batch: Batch) {
        self.parts.clear();
        match &mut self.splitter {
            Some(splitter) => splitter.split(batch, &mut self.parts),
            None => {
                let target = self.next;
                self.next = (self.next + 1) % self.targets.len();
                self.parts.push((target, batch));
            }
        }
    }

    fn envelope(&self, message: Message) -> Envelope {
        Envelope {
            input: self.input,
            message,
        }
    }

    /// Sends a batch by the outlet's partitioning (to one subtask, or split by key
    /// group), waiting while a queue is full.
    ///
    /// # Errors
    /// [`Disconnected`] when the consumer has stopped.
    ///
    /// # Cancel safety
    /// Not cancel safe: a cancelled send may lose the batch.
    pub async fn send_batch(&mut self, batch: Batch) -> Result<(), Disconnected> {
        self.route(batch);
        for index in 0..self.parts.len() {
            let (target, part) = std::mem::take(&mut self.parts[index]);
            let envelope = self.envelope(Message::Batch(part));
            self.targets[target]
                .send(envelope)
                .await
                .map_err(|_| Disconnected)?;
        }
        Ok(())
    }

    /// Sends `message` to every subtask (watermarks, barriers, end).
    ///
    /// # Errors
    /// [`Disconnected`] when the consumer has stopped.
    pub async fn broadcast(&mut self, message: Message) -> Result<(), Disconnected> {
        for target in &self.targets {
            let envelope = Envelope {
                input: self.input,
                message: message.clone(),
            };
            target.send(envelope).await.map_err(|_| Disconnected)?;
        }
        Ok(())
    }

    /// As [`Outlet::send_batch`], from a task thread.
    ///
    /// # Errors
    /// [`Disconnected`] when the consumer has stopped.
    ///
    /// # Panics
    /// When called from async code (tokio forbids blocking there).
    pub fn blocking_send_batch(&mut self, batch: Batch) -> Result<(), Disconnected> {
        self.route(batch);
        for index in 0..self.parts.len() {
            let (target, part) = std::mem::take(&mut self.parts[index]);
            let envelope = self.envelope(Message::Batch(part));
            self.targets[target]
                .blocking_send(envelope)
                .map_err(|_| Disconnected)?;
        }
        Ok(())
    }

    /// As [`Outlet::broadcast`], from a task thread.
    ///
    /// # Errors
    /// [`Disconnected`] when the consumer has stopped.
    pub fn blocking_broadcast(&mut self, message: &Message) -> Result<(), Disconnected> {
        for target in &self.targets {
            let envelope = Envelope {
                input: self.input,
                message: message.clone(),
            };
            target.blocking_send(envelope).map_err(|_| Disconnected)?;
        }
        Ok(())
    }
}

/// Every consumer of one output: a batch goes to each of them (cloned for all but
/// the last), spread over each one's subtasks by its [`Outlet`].
#[derive(Debug, Clone, Default)]
pub struct Fanout {
    outlets: Vec<Outlet>,
}

impl Fanout {
    /// A fanout to the consumers of `outlets`.
    pub fn new(outlets: Vec<Outlet>) -> Self {
        Fanout { outlets }
    }

    /// Whether no consumer reads this output.
    pub fn is_empty(&self) -> bool {
        self.outlets.is_empty()
    }

    /// # Errors
    /// [`Disconnected`] when a consumer has stopped.
    pub async fn send_batch(&mut self, batch: Batch) -> Result<(), Disconnected> {
        let Some((last, others)) = self.outlets.split_last_mut() else {
            return Ok(());
        };
        for outlet in others {
            outlet.send_batch(batch.clone()).await?;
        }
        last.send_batch(batch).await
    }

    /// # Errors
    /// [`Disconnected`] when a consumer has stopped.
    pub async fn broadcast(&mut self, message: Message) -> Result<(), Disconnected> {
        for outlet in &mut self.outlets {
            outlet.broadcast(message.clone()).await?;
        }
        Ok(())
    }

    /// # Errors
    /// [`Disconnected`] when a consumer has stopped.
    pub fn blocking_send_batch(&mut self, batch: Batch) -> Result<(), Disconnected> {
        let Some((last, others)) = self.outlets.split_last_mut() else {
            return Ok(());
        };
        for outlet in others {
            outlet.blocking_send_batch(batch.clone())?;
        }
        last.blocking_send_batch(batch)
    }

    /// # Errors
    /// [`Disconnected`] when a consumer has stopped.
    pub fn blocking_broadcast(&mut self, message: &Message) -> Result<(), Disconnected> {
        for outlet in &mut self.outlets {
            outlet.blocking_broadcast(message)?;
        }
        Ok(())
    }
}

/// Tracks which inputs of a subtask have ended.
#[derive(Debug, Clone)]
pub struct InputTracker {
    ended: Vec<bool>,
    remaining: usize,
}

impl InputTracker {
    /// A tracker of `inputs` inputs, none ended.
    pub fn new(inputs: usize) -> Self {
        InputTracker {
            ended: vec![false; inputs],
            remaining: inputs,
        }
    }

    /// Records the end of `input`; returns whether every input has now ended. An input
    /// that ends twice, or an index out of range, is ignored.
    pub fn end(&mut self, input: usize) -> bool {
        if let Some(ended) = self.ended.get_mut(input)
            && !*ended
        {
            *ended = true;
            self.remaining -= 1;
        }
        self.remaining == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_event() -> Batch {
        let mut batch = Batch::default();
        batch.push(None, b"x", 0);
        batch
    }

    #[tokio::test]
    async fn round_robin_spreads_and_broadcast_reaches_all() {
        let (senders, mut inboxes) = inboxes(3, 8);
        let mut outlet = Outlet::new(senders, 1, Partitioning::RoundRobin);
        for _ in 0..6 {
            outlet.send_batch(one_event()).await.expect("open");
        }
        outlet.broadcast(Message::End).await.expect("open");
        for inbox in &mut inboxes {
            let mut batches = 0;
            loop {
                let envelope = inbox.recv().await.expect("message");
                assert_eq!(envelope.input, 1);
                match envelope.message {
                    Message::Batch(_) => batches += 1,
                    Message::End => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(batches, 2, "6 batches over 3 subtasks");
        }
    }

    #[tokio::test]
    async fn key_groups_split_batches_and_broadcast_the_rest() {
        let (senders, mut inboxes) = inboxes(3, 8);
        let mut outlet = Outlet::new(
            senders,
            0,
            Partitioning::KeyGroups {
                max_key_groups: 128,
            },
        );
        let mut batch = Batch::default();
        for index in 0..60 {
            batch.push(Some(format!("key-{}", index % 12).as_bytes()), b"v", index);
        }
        outlet.send_batch(batch).await.expect("open");
        outlet.broadcast(Message::Idle).await.expect("open");
        outlet.broadcast(Message::End).await.expect("open");
        let mut owner = std::collections::HashMap::new();
        let mut total = 0;
        for (subtask, inbox) in inboxes.iter_mut().enumerate() {
            let mut messages = Vec::new();
            while let Some(envelope) = inbox.recv().await {
                let end = envelope.message == Message::End;
                messages.push(envelope.message);
                if end {
                    break;
                }
            }
            let (batches, last_two) = messages.split_at(messages.len() - 2);
            assert_eq!(
                last_two,
                [Message::Idle, Message::End],
                "broadcast to every subtask"
            );
            for message in batches {
                let Message::Batch(part) = message else {
                    panic!("{message:?}");
                };
                assert!(part.timestamps().windows(2).all(|pair| pair[0] < pair[1]));
                for event in part.iter() {
                    let key = event.key.expect("keyed").to_vec();
                    assert_eq!(
                        *owner.entry(key).or_insert(subtask),
                        subtask,
                        "one subtask per key"
                    );
                    total += 1;
                }
            }
        }
        assert_eq!(total, 60);
        assert!(
            owner
                .values()
                .collect::<std::collections::HashSet<_>>()
                .len()
                > 1
        );
    }

    #[test]
    fn tracker_ends_when_every_input_ended_once() {
        let mut tracker = InputTracker::new(2);
        assert!(!tracker.end(0));
        assert!(!tracker.end(0), "a repeated end does not count twice");
        assert!(!tracker.end(9), "an unknown input is ignored");
        assert!(tracker.end(1));
    }
}
