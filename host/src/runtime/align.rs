//! [`BarrierAligner`]: barrier alignment for a task with several inputs that share one
//! queue.
//!
//! When the barrier of checkpoint `n` arrives on one input, that input is *blocked*:
//! its later messages are held back, in order, until barrier `n` has arrived on every
//! input that has not ended. Then the task sees the aligned barrier once
//! ([`Delivery::Aligned`]) and the held messages follow. Laws (tested as properties
//! below):
//! - nothing is lost or duplicated, and each input's messages keep their order;
//! - every message sent before barrier `n` on any input is delivered before
//!   `Aligned(n)`, every message sent after it, after;
//! - messages of inputs that are not blocked flow on during alignment, so watermarks
//!   and idleness of those inputs keep their laws (a blocked input's watermarks wait
//!   with its data, as they belong to the next checkpoint);
//! - an input that ends no longer holds an alignment back.

use std::collections::VecDeque;

use super::message::{Barrier, Envelope, Message};

/// What the task handles next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A message (never a barrier).
    Message(Envelope),
    /// Barrier `n` has arrived on every live input.
    Aligned(Barrier),
}

/// Alignment state of one task's inputs (see the module docs).
#[derive(Debug)]
pub struct BarrierAligner {
    ended: Vec<bool>,
    blocked: Vec<bool>,
    current: Option<Barrier>,
    held: VecDeque<Envelope>,
    ready: VecDeque<Delivery>,
}

impl BarrierAligner {
    /// An aligner for `inputs` inputs.
    pub fn new(inputs: usize) -> Self {
        BarrierAligner {
            ended: vec![false; inputs],
            blocked: vec![false; inputs],
            current: None,
            held: VecDeque::new(),
            ready: VecDeque::new(),
        }
    }

    /// Takes a message that arrived; see [`BarrierAligner::pop`] for what to handle.
    pub fn push(&mut self, envelope: Envelope) {
        let input = envelope.input;
        if self.current.is_some() && self.blocked.get(input).copied().unwrap_or(false) {
            self.held.push_back(envelope);
            return;
        }
        match envelope.message {
            Message::Barrier(barrier) => {
                let current = self.current.get_or_insert(barrier);
                // One checkpoint is in flight at a time; a savepoint flag on any
                // input's barrier marks the aligned one.
                current.savepoint |= barrier.savepoint;
                if let Some(blocked) = self.blocked.get_mut(input) {
                    *blocked = true;
                }
                self.try_complete();
            }
            Message::End => {
                if let Some(ended) = self.ended.get_mut(input) {
                    *ended = true;
                }
                self.ready.push_back(Delivery::Message(envelope));
                self.try_complete();
            }
            _ => self.ready.push_back(Delivery::Message(envelope)),
        }
    }

    /// The next thing to handle, if any.
    pub fn pop(&mut self) -> Option<Delivery> {
        self.ready.pop_front()
    }

    /// Whether a barrier is waiting for some inputs.
    pub fn is_aligning(&self) -> bool {
        self.current.is_some()
    }

    fn try_complete(&mut self) {
        let Some(barrier) = self.current else { return };
        let aligned = self
            .blocked
            .iter()
            .zip(&self.ended)
            .all(|(blocked, ended)| *blocked || *ended);
        if !aligned {
            return;
        }
        self.current = None;
        self.blocked.fill(false);
        self.ready.push_back(Delivery::Aligned(barrier));
        for envelope in std::mem::take(&mut self.held) {
            self.push(envelope);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn barrier(checkpoint: u64) -> Message {
        Message::Barrier(Barrier {
            checkpoint,
            savepoint: false,
        })
    }

    /// Input `i` sends `len` watermarks (numbered per input) with barriers
    /// `1..=barriers` spread among them, then `End`.
    fn streams() -> impl Strategy<Value = (Vec<Vec<Message>>, Vec<usize>)> {
        (1usize..4, 0u64..4).prop_flat_map(|(inputs, barriers)| {
            let per_input = proptest::collection::vec(
                proptest::collection::vec(0usize..4, barriers as usize + 1),
                inputs,
            );
            (per_input, Just(barriers)).prop_flat_map(move |(gaps, barriers)| {
                let streams: Vec<Vec<Message>> = gaps
                    .iter()
                    .map(|gaps| {
                        let mut messages = Vec::new();
                        let mut n = 0;
                        for (index, gap) in gaps.iter().enumerate() {
                            for _ in 0..*gap {
                                messages.push(Message::Watermark(n));
                                n += 1;
                            }
                            if (index as u64) < barriers {
                                messages.push(barrier(index as u64 + 1));
                            }
                        }
                        messages.push(Message::End);
                        messages
                    })
                    .collect();
                let total: usize = streams.iter().map(Vec::len).sum();
                let order = proptest::collection::vec(0..inputs, total * 2);
                (Just(streams), order)
            })
        })
    }

    proptest! {
        #[test]
        fn alignment_keeps_order_and_separates_checkpoints((streams, order) in streams()) {
            let mut aligner = BarrierAligner::new(streams.len());
            let mut cursors = vec![0; streams.len()];
            // Interleave the inputs as `order` says, then drain what is left.
            let picks = order.into_iter().chain((0..streams.len()).flat_map(|i| std::iter::repeat_n(i, streams[i].len())));
            let mut delivered = Vec::new();
            for input in picks {
                if let Some(message) = streams[input].get(cursors[input]) {
                    cursors[input] += 1;
                    aligner.push(Envelope { input, message: message.clone() });
                }
                while let Some(delivery) = aligner.pop() {
                    delivered.push(delivery);
                }
            }
            prop_assert!(!aligner.is_aligning());
            // Epoch of each delivered message: the aligned barriers before it.
            let mut epoch = 0u64;
            let mut seen: Vec<Vec<(Message, u64)>> = vec![Vec::new(); streams.len()];
            for delivery in delivered {
                match delivery {
                    Delivery::Aligned(barrier) => {
                        epoch += 1;
                        prop_assert_eq!(barrier.checkpoint, epoch);
                    }
                    Delivery::Message(envelope) => seen[envelope.input].push((envelope.message, epoch)),
                }
            }
            for (input, stream) in streams.iter().enumerate() {
                // Expected: the stream without barriers, each with the number of
                // barriers before it.
                let mut expected = Vec::new();
                let mut epoch = 0;
                for message in stream {
                    match message {
                        Message::Barrier(_) => epoch += 1,
                        other => expected.push((other.clone(), epoch)),
                    }
                }
                // `End` may be delivered while a later alignment is still open.
                let got: Vec<(Message, u64)> = seen[input].clone();
                prop_assert_eq!(got.len(), expected.len());
                for ((got, got_epoch), (want, want_epoch)) in got.iter().zip(&expected) {
                    prop_assert_eq!(got, want);
                    if *got != Message::End {
                        prop_assert_eq!(got_epoch, want_epoch, "input {}", input);
                    }
                }
            }
        }
    }
}
