//! Weir's host: the runtime that runs pipelines of sandboxed WebAssembly operators.
//!
//! A pipeline is a source, a chain of operators and sinks, connected by bounded
//! channels that carry [`runtime::message::Message`]s. Operators are WebAssembly components
//! ([`plugin`]) called once per [`batch::Batch`]; a plugin that traps, loops or
//! exhausts its memory fails its own batch, whose events are retried one by one so
//! that only the events at fault go to the dead-letter output.
//!
//! Modules, by responsibility:
//! - [`batch`]: the columnar event batch;
//! - [`plugin`]: the Wasm engine, compile cache, limits and host interfaces;
//! - [`runtime`]: operators, chains, channels, the pipeline graph and its statistics;
//! - [`time`]: watermark generation at the sources (bounded out-of-orderness, idleness);
//! - [`state`]: keyed state (the `StateBackend` trait, memory backend, key encoding, TTL,
//!   timers, transactions);
//! - [`window`]: window assigners, triggers, lateness, the window operator and built-in
//!   aggregates;
//! - [`connector`]: sources and sinks (files, stdin/stdout, generator);
//! - [`config`]: the pipeline file;
//! - [`harness`]: the plugin test harness behind `weir test`, `weir new` and `weir build`.
//! - [`deploy`] and [`admin`]: hot deployment of plugin versions and the admin HTTP API.
//! - [`model`]: ONNX models run by tract for the plugins' `inference` interface.

pub use weir_batch as batch;
pub mod admin;
pub mod checkpoint;
pub mod config;
pub mod connector;
pub mod deploy;
pub mod fsutil;
pub mod harness;
pub mod model;
pub mod plugin;
pub mod runtime;
pub mod scale_out;
pub mod state;
pub mod time;
pub mod window;
