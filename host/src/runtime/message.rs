//! [`Message`]: what flows on every channel between tasks.
//!
//! The set is the one the runtime needs for event time and checkpoints, not only for
//! what runs today: data ([`Message::Batch`]), progress of event time
//! ([`Message::Watermark`]), idleness ([`Message::Idle`]), checkpoint barriers
//! ([`Message::Barrier`]) and the end of a bounded stream ([`Message::End`]).
//!
//! Laws every channel keeps (checked by the receiving side, tested as properties):
//! - messages of one input arrive in the order they were sent;
//! - a watermark never goes backwards on one input;
//! - an input is idle from an `Idle` until its next `Batch` or `Watermark`; while idle
//!   it does not hold back the receiver's watermark;
//! - a barrier separates what belongs to checkpoint `n` from what comes after it: no
//!   batch sent after a barrier is delivered before it;
//! - `End` is the last message of an input; the end of a bounded source is also a
//!   watermark of +∞, so every window fires.

use weir_batch::{Batch, Timestamp};

/// A checkpoint barrier, injected at the sources and aligned by every operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Barrier {
    /// The checkpoint this barrier starts.
    pub checkpoint: u64,
    /// Whether the checkpoint is a savepoint (the pipeline stops after it).
    pub savepoint: bool,
}

/// One message on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Events, in arrival order.
    Batch(Batch),
    /// No event with a time `<=` this one will follow on this input.
    Watermark(Timestamp),
    /// This input is idle (its source has been silent for a while) until its next
    /// `Batch` or `Watermark`: the receiver's watermark may advance without it.
    Idle,
    /// Everything before belongs to the checkpoint; everything after, to the next.
    Barrier(Barrier),
    /// The input has ended.
    End,
}

/// A message with the input it arrived on: the index, among the receiving task's
/// inputs, of the upstream subtask that sent it. Watermark alignment (minimum over
/// inputs) and barrier alignment need to know which input a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The sender's index among the receiver's inputs.
    pub input: usize,
    /// What was sent.
    pub message: Message,
}
