//! Checkpoints: aligned barriers (Chandy–Lamport for DAGs), durable metadata and
//! restore.
//!
//! - [`layout`]: where a pipeline's checkpoints, working directories and pid file live;
//! - [`metadata`]: the `_metadata` JSON that makes a checkpoint exist;
//! - [`fingerprint`]: the pipeline's shape, to refuse a checkpoint it cannot follow;
//! - [`coordinator`]: the task that triggers barriers at the sources, collects every
//!   task's acknowledgement, writes `_metadata` and tells the sinks to commit;
//! - [`restore`]: which checkpoint a run starts from, checked before anything runs;
//! - [`transactional`]: the restore point of exactly-once Kafka sinks.
//!
//! Laws:
//! - a checkpoint exists only once its `_metadata` exists, and `_metadata` is written
//!   only after every task (source, every chain subtask, every sink) acknowledged;
//! - a sink commits output of checkpoint `n` only after `_metadata` of `n` exists, so
//!   a reader never sees output that a restore would replay;
//! - damaged or missing checkpoint data is an error naming the file, never a silent
//!   fresh start.

pub mod coordinator;
pub mod fingerprint;
pub mod layout;
pub mod metadata;
pub mod model_versions;
pub mod restore;
pub mod start;
pub mod transactional;

use std::path::PathBuf;

pub use coordinator::{Ack, AckAt, AckPayload, CheckpointChannels, Coordinator};
pub use fingerprint::Fingerprint;
pub use layout::Layout;
pub use metadata::Metadata;
pub use restore::{Restored, StartFrom};

/// A checkpoint that cannot be written or restored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file or directory operation failed.
    #[error("{what}: {}: {error}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        error: std::io::Error,
    },
    /// A `_metadata` file that cannot be used.
    #[error("checkpoint metadata {}: {message}", path.display())]
    Metadata { path: PathBuf, message: String },
    /// A snapshot directory named by the metadata is gone.
    #[error("checkpoint snapshot {} of operator `{operator}` subtask {subtask} is missing", path.display())]
    MissingSnapshot {
        path: PathBuf,
        operator: String,
        subtask: usize,
    },
    /// The checkpoint was taken by a pipeline of another shape.
    #[error(
        "cannot restore {}: the pipeline changed in a way its state cannot follow:\n  - {}\n(use --fresh to start over)",
        checkpoint.display(),
        differences.join("\n  - ")
    )]
    Incompatible {
        checkpoint: PathBuf,
        differences: Vec<String>,
    },
    /// The pipeline cannot be checkpointed as written.
    #[error("cannot checkpoint: {0}")]
    Unsupported(String),
}
