//! Connectors: where events come from ([`Source`]) and where they go ([`Sink`]).
//!
//! - [`file`](mod@file): JSON lines and CSV files in; JSON lines files out;
//! - [`stdio`]: the same formats on stdin and stdout;
//! - [`generator`]: deterministic events from a seed, for demos and benchmarks;
//! - [`discard`]: a sink that only counts;
//! - [`kafka`]: Kafka topics in and out (partitions as splits, transactions);
//! - [`parts`]: the exactly-once file sink of checkpointed pipelines (part files,
//!   committed in two phases);
//! - [`decode`] and [`format`](mod@format): lines into events and events into lines;
//! - [`json_path`]: one field of a JSON value, for event times and keys.
//!
//! Sources decode at the edge and give each event its time ([`crate::time::extract`]):
//! a record that does not decode, or whose time field is missing or unreadable,
//! becomes a [`DeadLetter`] with its position (line number) and the reason, and the
//! rest flow on.

mod csv;
pub mod decode;
pub mod discard;
pub mod file;
pub mod format;
pub mod generator;
pub mod json_path;
pub(crate) mod json_text;
pub mod kafka;
pub mod parts;
pub mod stdio;

use async_trait::async_trait;
use weir_batch::Batch;

use crate::runtime::dead_letter::DeadLetter;

/// Where a source is: enough to read again from the next unread record after a
/// restore.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourcePosition {
    /// A file: the byte offset and the 1-based line number of the next unread line
    /// minus one (the lines read so far), so dead letters keep their line numbers.
    File { offset: u64, line: u64 },
    /// A generator: the sequence number of the next event.
    Generator { sequence: u64 },
    /// Kafka: the next offset of every partition read.
    Kafka {
        partitions: Vec<kafka::source::PartitionOffset>,
    },
}

/// Tells an external system where a source is once a checkpoint holding that
/// position has completed (Kafka: commits the offsets to the consumer group).
pub trait CommitPosition: Send {
    /// Records `position`; failures are logged, never fatal (the checkpoint is the
    /// truth on restore).
    fn commit(&self, position: &SourcePosition);
}

/// A failure of a connector itself (I/O), as opposed to a bad record.
#[derive(Debug, thiserror::Error)]
#[error("{connector}: {message}")]
pub struct ConnectorError {
    /// The connector's description, e.g. `file:out.jsonl`.
    pub connector: String,
    pub message: String,
}

impl ConnectorError {
    pub fn new(connector: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ConnectorError {
            connector: connector.into(),
            message: message.to_string(),
        }
    }
}

/// A source of events.
#[async_trait]
pub trait Source: Send {
    /// A short description for logs and dead letters, e.g. `file:data/tx.jsonl`.
    fn describe(&self) -> String;

    /// Reads the next batch of at most `max_events` events. Records that do not decode
    /// are pushed to `dead_letters` instead. `Ok(None)` means the source is exhausted
    /// (only bounded sources end). A returned batch may be empty when every record of
    /// a read was dead-lettered.
    ///
    /// # Errors
    /// When the source cannot be read at all (the pipeline then fails).
    async fn next_batch(
        &mut self,
        max_events: usize,
        dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError>;

    /// How many splits the source reads (each with its own watermark generator).
    fn splits(&self) -> usize {
        1
    }

    /// The split of the last batch returned (`0..splits()`).
    fn last_split(&self) -> usize {
        0
    }

    /// Something to tell where the source is after each completed checkpoint, if the
    /// source's system keeps progress of its own (Kafka's consumer groups).
    fn position_committer(&self) -> Option<Box<dyn CommitPosition>> {
        None
    }

    /// The position after the last batch returned, for a checkpoint; `None` for a
    /// source that cannot be read again from a position (stdin), which cannot be
    /// checkpointed.
    fn position(&self) -> Option<SourcePosition> {
        None
    }

    /// Continues from `position` (taken by [`Source::position`] of the same source),
    /// before the first read.
    ///
    /// # Errors
    /// When the source cannot seek, or `position` is not one of its own.
    async fn seek(&mut self, position: &SourcePosition) -> Result<(), ConnectorError> {
        Err(ConnectorError::new(
            self.describe(),
            format!("cannot continue from {position:?}: this source cannot seek"),
        ))
    }
}

/// A destination of events.
///
/// With checkpointing, a sink takes part in two phases: [`Sink::pre_commit`] on each
/// barrier (everything written so far is durable and belongs to that checkpoint), and
/// [`Sink::commit`] once the checkpoint exists (its output becomes visible). The
/// defaults suit sinks that cannot hold output back (stdout, discard): they are
/// at-least-once.
#[async_trait]
pub trait Sink: Send {
    fn describe(&self) -> String;

    /// Writes the events of `batch`.
    ///
    /// # Errors
    /// On an I/O failure (the pipeline then fails).
    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError>;

    /// Flushes what is buffered; called once at the end of the stream.
    ///
    /// # Errors
    /// On an I/O failure.
    async fn finish(&mut self) -> Result<(), ConnectorError>;

    /// Makes what was written since the last pre-commit durable, as the output of
    /// checkpoint `checkpoint` (not yet visible).
    ///
    /// # Errors
    /// On an I/O failure (the checkpoint then fails with the pipeline).
    async fn pre_commit(&mut self, _checkpoint: u64) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Makes the output of every checkpoint up to `checkpoint` visible; idempotent.
    ///
    /// # Errors
    /// On an I/O failure.
    async fn commit(&mut self, _checkpoint: u64) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Drops what was written since the last pre-commit (the pipeline stops after a
    /// savepoint, and a restore replays it).
    ///
    /// # Errors
    /// On an I/O failure.
    async fn discard_uncommitted(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A destination of dead letters.
#[async_trait]
pub trait DeadLetterSink: Send {
    fn describe(&self) -> String;

    /// # Errors
    /// On an I/O failure.
    async fn write(&mut self, letter: &DeadLetter) -> Result<(), ConnectorError>;

    /// # Errors
    /// On an I/O failure.
    async fn finish(&mut self) -> Result<(), ConnectorError>;
}
