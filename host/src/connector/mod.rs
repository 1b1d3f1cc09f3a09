//! Connectors: where events come from ([`Source`]) and where they go ([`Sink`]).
//!
//! - [`file`](mod@file): JSON lines and CSV files in; JSON lines files out;
//! - [`stdio`]: the same formats on stdin and stdout;
//! - [`generator`]: deterministic events from a seed, for demos and benchmarks;
//! - [`discard`]: a sink that only counts;
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
pub mod stdio;

use async_trait::async_trait;
use weir_batch::Batch;

use crate::runtime::dead_letter::DeadLetter;

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
}

/// A destination of events.
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
