//! `[state]` and `[checkpoint]`: where keyed state lives and how often it is made
//! durable.
//!
//! ```toml
//! [state]                  # optional
//! backend = "memory"       # memory | rocksdb
//! dir = ".weir"            # data directory; default `.weir` in the current directory
//!
//! [checkpoint]             # optional: without it, nothing is checkpointed (as in Flink)
//! interval_ms = 5000       # required, at least 10
//! retain = 3               # completed checkpoints kept (default 3, at least 1)
//! ```
//!
//! A pipeline's data lives under `<dir>/<pipeline name>/` (see
//! [`crate::checkpoint::layout`]). A relative `dir` is taken from the current directory
//! of `weir run`, not from the pipeline file's folder, like Flink's and Kafka Streams'
//! state directories.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::state::BackendKind;

/// The shortest checkpoint interval accepted: below it, barriers would crowd out data.
pub const MIN_CHECKPOINT_INTERVAL_MS: u64 = 10;

/// `[state]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// Which backend keeps keyed state.
    #[serde(default)]
    pub backend: BackendKind,
    /// The data directory (default `.weir`, relative to the current directory).
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
}

fn default_dir() -> PathBuf {
    PathBuf::from(".weir")
}

impl Default for StateSection {
    fn default() -> Self {
        StateSection {
            backend: BackendKind::default(),
            dir: default_dir(),
        }
    }
}

/// `[checkpoint]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    /// Time between checkpoints, in milliseconds (required).
    pub interval_ms: u64,
    /// Completed checkpoints to keep.
    #[serde(default = "default_retain")]
    pub retain: usize,
}

fn default_retain() -> usize {
    3
}

/// Checkpointing, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// Time between the start of one checkpoint and the next.
    pub interval: Duration,
    /// Completed checkpoints kept (at least 1).
    pub retain: usize,
}

impl CheckpointSection {
    /// Checks the section; a problem comes with the key it is about.
    pub(super) fn check(&self) -> Result<CheckpointConfig, (&'static str, String)> {
        if self.interval_ms < MIN_CHECKPOINT_INTERVAL_MS {
            return Err((
                "interval_ms",
                format!(
                    "[checkpoint] `interval_ms` must be at least {MIN_CHECKPOINT_INTERVAL_MS}, not {}",
                    self.interval_ms
                ),
            ));
        }
        if self.retain == 0 {
            return Err((
                "retain",
                "[checkpoint] `retain` must be at least 1 (the checkpoint to restore from)".into(),
            ));
        }
        Ok(CheckpointConfig {
            interval: Duration::from_millis(self.interval_ms),
            retain: self.retain,
        })
    }
}
