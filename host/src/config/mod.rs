//! The pipeline file: TOML, read into the types below, checked, with errors that name
//! the file, the line and what was expected. An unknown key is an error: a typo must
//! not be silently ignored.
//!
//! ```toml
//! name = "big-spenders"
//!
//! [runtime]                # optional
//! batch_size = 1024        # events per batch, at most
//!
//! [source]
//! type = "file"            # file | stdin | generator
//! path = "transactions.jsonl"
//! format = "jsonl"         # jsonl | csv
//!
//! [[operator]]
//! name = "big"
//! plugin = "plugins/json_filter.wasm"   # relative to this file
//! parallelism = 2
//! memory_limit_mib = 64
//! deadline_ms = 1000
//! settings = { field = "amount", op = "ge", value = 100.0 }
//!
//! [[sink]]
//! type = "file"            # file | stdout | discard
//! path = "out/big.jsonl"
//! # from = "big.alerts"    # a named output; default: the last operator's main output
//!
//! [dead_letter]            # optional; default: stderr
//! type = "file"
//! path = "out/dead.jsonl"
//! ```

mod error;
mod load;

use std::path::PathBuf;

use serde::Deserialize;

pub use error::ConfigError;
pub use load::{OperatorConfig, PipelineConfig, Route, SinkConfig, load_file, load_str};

/// The top level of a pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// The pipeline's name, for logs (default: the file's stem).
    pub name: Option<String>,
    #[serde(default)]
    pub runtime: RuntimeSection,
    pub source: SourceSection,
    #[serde(default, rename = "operator")]
    pub operators: Vec<OperatorSection>,
    #[serde(default, rename = "sink")]
    pub sinks: Vec<SinkSection>,
    pub dead_letter: Option<DeadLetterSection>,
}

/// `[runtime]`: how the pipeline runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Most events per batch (and per Wasm call).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Batches a channel holds before its producer waits.
    #[serde(default = "default_channel_capacity")]
    pub channel_capacity: usize,
    /// Where compiled components are cached (default: `$WEIR_CACHE_DIR` or
    /// `~/.cache/weir/components`).
    pub cache_dir: Option<PathBuf>,
}

fn default_batch_size() -> usize {
    1024
}

fn default_channel_capacity() -> usize {
    16
}

impl Default for RuntimeSection {
    fn default() -> Self {
        RuntimeSection {
            batch_size: default_batch_size(),
            channel_capacity: default_channel_capacity(),
            cache_dir: None,
        }
    }
}

/// Input record formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordFormatName {
    Jsonl,
    Csv,
}

/// Output record formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SinkFormatName {
    /// The event's value, one per line.
    #[default]
    Value,
    /// A JSON object per event with key, value, timestamp and headers.
    Envelope,
}

/// Generated value shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ShapeName {
    /// ~100-byte JSON transactions.
    #[default]
    Json,
    /// 16-byte binary records.
    Compact,
}

/// `[source]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceSection {
    /// A file of JSON lines or CSV (with a header row), read once to its end.
    File {
        path: PathBuf,
        #[serde(default)]
        format: Option<RecordFormatName>,
    },
    /// Standard input, to its end.
    Stdin {
        #[serde(default)]
        format: Option<RecordFormatName>,
    },
    /// Deterministic events from a seed.
    Generator {
        /// Events to produce; absent = unbounded.
        count: Option<u64>,
        /// Events per second; absent = as fast as possible.
        rate: Option<f64>,
        #[serde(default)]
        seed: u64,
        /// Number of distinct keys.
        #[serde(default = "default_keys")]
        keys: u64,
        #[serde(default)]
        shape: ShapeName,
        start_ms: Option<i64>,
        step_ms: Option<i64>,
    },
}

fn default_keys() -> u64 {
    100
}

/// `[[operator]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    /// Unique within the pipeline; used in logs, metrics, dead letters and `from`.
    pub name: String,
    /// Path of the plugin component, relative to the pipeline file.
    pub plugin: PathBuf,
    #[serde(default = "default_parallelism")]
    pub parallelism: usize,
    /// Memory limit per instance, in MiB (default 64).
    pub memory_limit_mib: Option<usize>,
    /// Deadline per batch call, in milliseconds (default 1000).
    pub deadline_ms: Option<u64>,
    /// Handed to the plugin's `init` as a JSON object.
    #[serde(default)]
    pub settings: toml::Table,
}

fn default_parallelism() -> usize {
    1
}

/// `[[sink]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkSection {
    File {
        path: PathBuf,
        #[serde(default)]
        format: SinkFormatName,
        /// `operator.output` for a named output; absent = the main output.
        from: Option<String>,
    },
    Stdout {
        #[serde(default)]
        format: SinkFormatName,
        from: Option<String>,
    },
    Discard {
        from: Option<String>,
    },
}

impl SinkSection {
    pub fn from(&self) -> Option<&str> {
        match self {
            SinkSection::File { from, .. }
            | SinkSection::Stdout { from, .. }
            | SinkSection::Discard { from } => from.as_deref(),
        }
    }
}

/// `[dead_letter]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum DeadLetterSection {
    File { path: PathBuf },
    Stderr,
}
