//! Write [Weir](https://example.invalid/weir) stream operators in Rust.
//!
//! A Weir operator is a WebAssembly component the host calls once per *batch* of
//! events. This crate hides the generated bindings of the WIT contract (`wit/`) behind
//! a few traits: implement one, export it with its macro, and build with
//! `cargo build --target wasm32-wasip2 --release`.
//!
//! A filter that keeps transactions of at least `min` (set in the pipeline file):
//!
//! ```
//! use serde::Deserialize;
//! use weir_sdk::{Error, Event, EventExt, Filter};
//!
//! #[derive(Deserialize)]
//! struct MinAmount {
//!     min: f64,
//! }
//!
//! #[derive(Deserialize)]
//! struct Transaction {
//!     amount: f64,
//! }
//!
//! impl Filter for MinAmount {
//!     fn keep(&mut self, event: &Event<'_>) -> Result<bool, Error> {
//!         Ok(event.json::<Transaction>()?.amount >= self.min)
//!     }
//! }
//!
//! weir_sdk::export_filter!(MinAmount);
//! # fn main() {}
//! ```
//!
//! An event that is not valid JSON makes `keep` return an error: that event, and only
//! that one, goes to the dead-letter output with the message.
//!
//! The shapes: [`Filter`] (keep or drop), [`Map`] (rewrite the value), [`FlatMap`]
//! (zero or more events per event, named outputs) and the general [`Processor`] (a
//! whole batch at a time). Host services: [`log`] and [`metrics`].

mod aggregate;
mod codec;
mod convert;
mod error;
mod event;
mod export;
mod json_path;
mod keyed;
mod output;
mod processor;
mod state;
mod window;

#[doc(hidden)]
pub mod wit;

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{describe, init, process};

    pub mod keyed {
        pub use crate::keyed::export::{describe, init, on_timer, process};
    }

    pub mod aggregate {
        pub use crate::aggregate::Adapter;
        pub use crate::aggregate::export::{add, describe, finish, init, merge};
    }

    pub mod window {
        pub use crate::window::export::{describe, init, process};
    }
}

pub use aggregate::Aggregate;
pub use codec::{Codec, Postcard, Raw};
pub use error::Error;
pub use event::{Batch, Event, EventExt, Timestamp};
pub use json_path::JsonPath;
pub use keyed::{KeyedContext, KeyedProcessor, TimeDomain, Timer};
pub use output::Output;
pub use processor::{
    Filter, FilterProcessor, FlatMap, FlatMapProcessor, Map, MapProcessor, Processor, Settings,
};
pub use state::{Declare, ListState, MapState, StateHandle, StateRegistry, StateScope, ValueState};
pub use window::{Firing, WindowContext, WindowInfo, WindowProcessor};

/// Logging into the host's log (tagged with the operator's name).
pub mod log {
    use crate::wit::log::{Level, log};

    /// Logs `message` at info level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs `message` at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Logs `message` at error level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }

    /// Logs `message` at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }
}

/// Plugin metrics, reported by the host with the operator's own.
pub mod metrics {
    /// Adds `delta` to the counter `name` (`[a-z0-9_]`, at most 128 bytes). Call it
    /// once per batch with a sum, not once per event.
    pub fn counter_add(name: &str, delta: u64) {
        crate::wit::metrics::counter_add(name, delta);
    }
}
