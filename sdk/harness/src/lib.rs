//! Test [Weir](https://example.invalid/weir) plugins in `cargo test`: load a component
//! exactly as the host does — the same engine, limits, host interfaces and operators,
//! not a mock — feed it events, watermarks and processing time, and check what it
//! emits on each output, the keyed state it keeps, and that a snapshot and restore
//! (or a new version of the plugin) changes nothing. Flink's operator test harnesses
//! and Kafka Streams' `TopologyTestDriver` are the model; `weir test` runs the same
//! machinery on JSON-lines files.
//!
//! ```no_run
//! use serde_json::json;
//! use weir_harness::{Harness, HarnessConfig, InputEvent, assert_output, build_component};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Build this crate to a component (cargo build --target wasm32-wasip2 --release).
//! let component = build_component(env!("CARGO_MANIFEST_DIR"))?;
//! let mut config = HarnessConfig::new(component);
//! config.settings_json = json!({ "timeout_ms": 1000 }).to_string();
//! config.key_by = Some("device".into());
//! let mut harness = Harness::new(config)?;
//!
//! harness.process(&[InputEvent::new(r#"{"device":"a"}"#, 100)])?;
//! harness.advance_watermark(2_000)?; // the device's timer fires
//! assert_output(&harness, "alerts", &[json!({
//!     "device": "a", "last_seen": 100, "silent_since": 1100, "heartbeats": 1
//! })]);
//!
//! // State lives in the host: a restart from a snapshot keeps it.
//! harness.restart()?;
//! assert!(harness.value_state("heartbeats", b"a")?.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! What a step does is what a pipeline does with the same message (see
//! [`weir_host::harness::driver`]); the outputs are recorded in order, per output:
//! `main`, the plugin's named outputs, `late` (window operators) and `dead-letter`
//! (with the reason). Plugin faults are contained as in a pipeline: a trap or an error
//! dead-letters the events at fault, it does not fail the test step.
//!
//! **Dependencies.** This crate depends on `weir-host`, so a plugin crate that uses it
//! in tests builds the host (wasmtime, and RocksDB's bindings: Debian's
//! `librocksdb-dev`, or `ROCKSDB_COMPILE=1`). The plugin itself still depends only on
//! `weir-sdk`; keep `weir-harness` a `[dev-dependencies]` entry of a separate test
//! crate, or use `weir test` with files, which needs nothing but the `weir` binary.

mod build;
mod expect;

pub use build::{BuildError, build_component};
pub use expect::{assert_output, diff_output, window_from_toml};
pub use weir_host::harness::script::{RunMode, run_case};
pub use weir_host::harness::{
    DEAD_LETTER, Harness, HarnessConfig, HarnessError, InputEvent, MAIN, Output, PendingTimer,
    Snapshot, StateEditor,
};
pub use weir_host::plugin::{PluginKind, PluginLimits};
pub use weir_host::state::{BackendKind, TimeDomain};
pub use weir_host::window::spec::WindowSpec;
