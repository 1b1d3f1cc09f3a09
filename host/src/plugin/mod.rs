//! The Wasm operator engine: wasmtime with the component model, the compile cache,
//! limits, the host side of every WIT interface, and plugin instances.
//!
//! - [`engine`]: the shared [`wasmtime::Engine`] and the deadline clock;
//! - [`cache`]: compiled components on disk, by content hash;
//! - [`clock`]: the processing time plugins see (wall clock, or the harness's);
//! - [`loader`]: loading and checking a component ([`Plugin`], [`PluginLoader`]);
//! - [`instance`]: one live instance and the per-batch call ([`PluginInstance`]);
//! - [`kind`]: which operator world a component implements;
//! - one file per host interface: `wasi`, `log`, `metrics`, [`state`] (with timers),
//!   [`inference`] (models granted by the pipeline, see [`crate::model`]); `store` composes
//!   them into the data of a `Store`;
//! - `bindings`: the generated code, seen by nothing outside this module.

mod bindings;
pub mod cache;
pub mod clock;
pub mod engine;
mod error;
mod exports;
pub mod inference;
pub mod instance;
pub mod keyed_calls;
pub mod kind;
pub mod limits;
pub mod loader;
mod log;
mod metrics;
pub mod state;
mod store;
mod wasi;
mod window_calls;

pub use cache::{CacheOutcome, ComponentCache};
pub use error::PluginError;
pub use instance::{CallFailure, CallOutputs, PluginInstance};
pub use keyed_calls::FiredTimer;
pub use kind::PluginKind;
pub use loader::{
    DEFAULT_DEADLINE, Plugin, PluginIdentity, PluginLimits, PluginLoader, PluginSpec,
};
pub use window_calls::AggregateBuffers;
