//! The pipeline file: TOML, read into the types below, checked, with errors that name
//! the file, the line and what was expected. An unknown key is an error: a typo must
//! not be silently ignored.
//!
//! ```toml
//! name = "big-spenders"
//!
//! [runtime]                # optional
//! batch_size = 1024        # events per batch, at most
//! channel_capacity = 16    # messages a channel holds before its producer waits
//! max_key_groups = 128     # 1..=32768; fixed for the life of keyed state
//!
//! [source]
//! type = "file"            # file | stdin | generator | kafka (see [`kafka`])
//! path = "transactions.jsonl"
//! format = "jsonl"         # jsonl | csv (default: by extension, else jsonl)
//!
//! [source.event_time]      # optional; default: ingestion time, no delay
//! field = "meta.ts"        # JSON path (for CSV: the column), or:
//! # header = "ts"          # a record header (sources with headers only)
//! unit = "ms"              # ms | s, for numeric times; strings are RFC 3339
//! watermark_delay_ms = 500 # bounded out-of-orderness (default 0)
//! idle_timeout_ms = 10000  # a silent split stops holding the watermark back
//!
//! [[operator]]
//! name = "big"
//! plugin = "plugins/json_filter.wasm"   # relative to this file
//! parallelism = 2
//! key_by = "user.id"       # optional: a JSON path of the value, "$key", or "$all"
//! memory_limit_mib = 64
//! deadline_ms = 1000
//! settings = { field = "amount", op = "ge", value = 100.0 }
//! models = { fraud = "models/fraud.onnx" }   # ONNX models the plugin may load, by name
//!
//! [[sink]]
//! type = "file"            # file | stdout | discard
//! path = "out/big.jsonl"
//! # from = "big.alerts"    # a named output; default: the last operator's main output
//!
//! [dead_letter]            # optional; default: stderr
//! type = "file"
//! path = "out/dead.jsonl"
//!
//! [state]                  # optional
//! backend = "memory"       # memory | rocksdb
//! dir = ".weir"            # data directory (default `.weir` in the current directory)
//!
//! [checkpoint]             # optional; without it nothing is checkpointed
//! interval_ms = 5000       # at least 10
//! retain = 3               # completed checkpoints kept
//! ```
//!
//! With `[checkpoint]`, a file sink's `path` is a directory of part files (see
//! [`crate::connector::parts`]) and the pipeline resumes from its latest checkpoint;
//! see [`durability`].
//!
//! A generator source (`type = "generator"`) takes `count` (absent: unbounded),
//! `rate` (events/s), `seed`, `keys`, `shape = "json" | "compact"`, `start_ms`,
//! `step_ms` and `disorder_ms` (each event moved back in time by a deterministic
//! pseudo-random `0..=disorder_ms`, for out-of-order input). Its events keep their
//! generated times: its `[source.event_time]` takes only `watermark_delay_ms` and
//! `idle_timeout_ms`.
//!
//! Event time: with `field`, a number is a time in `unit` (a fraction is rounded down
//! to the millisecond) and a string an RFC 3339 date-time (`2024-05-01T12:00:00Z`,
//! `...+02:00`); a record whose field is missing or not a time goes to the dead-letter
//! output with its line and the reason. With neither `field` nor `header`, events
//! carry the wall-clock time of their read. Watermarks are `newest time seen -
//! watermark_delay_ms - 1`; the end of a bounded source is a watermark of +∞.
//!
//! Keyed operators: `key_by = "user.id"` makes the field's text (a string as it is, a
//! number or boolean as its JSON text) the key of each event, and `key_by = "$key"`
//! keeps the event's own key (`key_by = "$all"` gives every event the key `all`: one
//! key for the whole stream, e.g. one global model); every event of one key then goes to the same subtask of
//! the operator (by key group, see [`crate::state::key_group`]), in order. An event
//! without the field (or null, an object, an array), or without a key for `$key`,
//! goes to the dead-letter output. A keyed operator always starts a new stage.

pub mod durability;
mod error;
mod event_time;
pub mod kafka;
mod load;
mod models;
mod spans;
#[cfg(test)]
mod tests;
pub mod window;

use std::path::PathBuf;

use serde::Deserialize;

use self::durability::{CheckpointSection, StateSection};
use self::kafka::{KafkaDeadLetterSection, KafkaSinkSection, KafkaSourceSection};
use self::window::WindowSection;

pub use error::ConfigError;
pub use event_time::{EventTimeSection, SourceTime, TimeUnitName};
pub use load::{
    OperatorConfig, OperatorFunction, PipelineConfig, Route, SinkConfig, load_file, load_str,
};

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
    /// Where keyed state lives (`[state]`).
    pub state: Option<StateSection>,
    /// Checkpointing, off without the section (`[checkpoint]`).
    pub checkpoint: Option<CheckpointSection>,
}

/// `[runtime]`: how the pipeline runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Most events per batch (and per Wasm call).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Messages (batches, watermarks...) a channel holds before its producer waits.
    #[serde(default = "default_channel_capacity")]
    pub channel_capacity: usize,
    /// Where compiled components are cached (default: `$WEIR_CACHE_DIR` or
    /// `~/.cache/weir/components`).
    pub cache_dir: Option<PathBuf>,
    /// Key groups of keyed operators (1..=32768): the most subtasks a keyed operator
    /// can ever have, and the unit in which keyed state moves.
    #[serde(default = "default_max_key_groups")]
    pub max_key_groups: u16,
}

fn default_max_key_groups() -> u16 {
    crate::state::DEFAULT_MAX_KEY_GROUPS
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
            max_key_groups: default_max_key_groups(),
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
        event_time: Option<EventTimeSection>,
    },
    /// Standard input, to its end.
    Stdin {
        #[serde(default)]
        format: Option<RecordFormatName>,
        event_time: Option<EventTimeSection>,
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
        /// Each event's time moved back by a pseudo-random `0..=disorder_ms`.
        disorder_ms: Option<u64>,
        event_time: Option<EventTimeSection>,
    },
    /// The partitions of Kafka topics (see [`kafka`]).
    Kafka(KafkaSourceSection),
}

impl SourceSection {
    /// The source's `[source.event_time]`, if written.
    pub fn event_time(&self) -> Option<&EventTimeSection> {
        match self {
            SourceSection::File { event_time, .. }
            | SourceSection::Stdin { event_time, .. }
            | SourceSection::Generator { event_time, .. } => event_time.as_ref(),
            SourceSection::Kafka(kafka) => kafka.event_time.as_ref(),
        }
    }
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
    /// Path of the plugin component, relative to the pipeline file. A windowed
    /// operator may use built-in aggregates (`aggregate`) instead.
    pub plugin: Option<PathBuf>,
    /// Built-in window aggregates, e.g. `["count", "sum(amount)", "mean(temp) as avg"]`;
    /// needs `[operator.window]` and no `plugin`.
    pub aggregate: Option<Vec<String>>,
    /// The operator's windows (see [`window`]): its plugin is then a window function
    /// (world `window-aggregate` or `window-process`), or it uses `aggregate`.
    pub window: Option<WindowSection>,
    #[serde(default = "default_parallelism")]
    pub parallelism: usize,
    /// Partition the operator's input by key: a dotted JSON path of the value, or
    /// `$key` for the event's own key.
    pub key_by: Option<String>,
    /// Memory limit per instance, in MiB (default 64).
    pub memory_limit_mib: Option<usize>,
    /// Deadline per batch call, in milliseconds (default 1000).
    pub deadline_ms: Option<u64>,
    /// Handed to the plugin's `init` as a JSON object.
    #[serde(default)]
    pub settings: toml::Table,
    /// ONNX models the plugin may load through the `inference` interface, by name
    /// (`models = { fraud = "models/fraud.onnx" }`, paths relative to this file). A
    /// plugin can load these and no others.
    #[serde(default)]
    pub models: std::collections::BTreeMap<String, PathBuf>,
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
    /// A Kafka topic (see [`kafka`]).
    Kafka(KafkaSinkSection),
}

impl SinkSection {
    pub fn from(&self) -> Option<&str> {
        match self {
            SinkSection::File { from, .. }
            | SinkSection::Stdout { from, .. }
            | SinkSection::Discard { from } => from.as_deref(),
            SinkSection::Kafka(kafka) => kafka.from.as_deref(),
        }
    }
}

/// `[dead_letter]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum DeadLetterSection {
    File {
        path: PathBuf,
    },
    Stderr,
    /// A Kafka topic (see [`kafka`]).
    Kafka(KafkaDeadLetterSection),
}
