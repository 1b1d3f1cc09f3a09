//! Write [Weir](https://example.invalid/weir) stream operators in Rust.
//!
//! A Weir operator is a WebAssembly component the host calls once per *batch* of
//! events. This crate hides the generated bindings of the WIT contract (`wit/`) behind
//! a few traits: implement one, export it with its macro, and build with
//! `cargo build --target wasm32-wasip2 --release`.
//!
//! | kind | implement | export with | WIT world | remembers in the host |
//! |---|---|---|---|---|
//! | stateless | [`Filter`], [`Map`], [`FlatMap`], [`Processor`] | [`export_filter!`], [`export_map!`], [`export_flat_map!`], [`export_processor!`] | `stateless-processor` | nothing |
//! | keyed process function | [`KeyedProcessor`] | [`export_keyed_processor!`] | `keyed-process` | per-key [`ValueState`], [`ListState`], [`MapState`]; timers |
//! | window aggregate | [`Aggregate`] | [`export_aggregate!`] | `window-aggregate` | one accumulator per window |
//! | window process function | [`WindowProcessor`] | [`export_window_processor!`] | `window-process` | the window's events; per-window state |
//!
//! A plugin exports exactly one kind: its component then imports and exports exactly
//! what that kind's world names (a stateless plugin imports no state, an aggregate
//! exports no processor). Host services for every kind: [`log`] and [`metrics`]; models
//! granted by the pipeline for stateless, keyed and window process functions:
//! [`inference`].
//!
//! # What a plugin must not keep in its own memory
//!
//! The host may drop an instance and make a fresh one at any moment: after a trap or a
//! missed deadline, when a new version is deployed, when the job restarts from a
//! checkpoint or is rescaled. One instance also serves many keys and windows. So `self`
//! holds only settings, state handles and caches that can be rebuilt; everything that
//! must survive lives in the host: per-key and per-window state declared in `init`,
//! timers, and aggregate accumulators (which the SDK hands to [`Aggregate::add`] and
//! takes back, so they are never the plugin's to keep). Operators see event time, not
//! the wall clock: a replay from a checkpoint then gives the same output.
//!
//! # Stateless: a filter
//!
//! Keeps transactions of at least `min` (set in the pipeline file):
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
//! that one, goes to the dead-letter output with the message. The other shapes: [`Map`]
//! (rewrite the value), [`FlatMap`] (zero or more events per event, named outputs) and
//! the general [`Processor`] (a whole batch at a time).
//!
//! # Keyed process function: state and timers
//!
//! Emits `idle` for a key that sends nothing for a minute of event time. State handles
//! are declared in `init` and take the context, which stands for the key at hand:
//!
//! ```
//! use std::time::Duration;
//! use weir_sdk::{Error, Event, KeyedContext, KeyedProcessor, Output, Settings, StateRegistry, Timer, ValueState};
//!
//! struct Idle {
//!     last_seen: ValueState<i64>,
//! }
//!
//! impl KeyedProcessor for Idle {
//!     fn init(_settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
//!         // Forget keys silent for a day.
//!         let last_seen = states.value("last_seen").ttl(Duration::from_secs(86_400)).declare()?;
//!         Ok(Idle { last_seen })
//!     }
//!
//!     fn process(&mut self, event: &Event<'_>, ctx: &mut KeyedContext<'_>, out: &mut Output) -> Result<(), Error> {
//!         if let Some(previous) = self.last_seen.get(ctx)? {
//!             ctx.delete_event_timer(previous + 60_000)?;
//!         }
//!         self.last_seen.set(ctx, &event.timestamp)?;
//!         ctx.register_event_timer(event.timestamp + 60_000)?;
//!         out.emit(event);
//!         Ok(())
//!     }
//!
//!     fn on_timer(&mut self, timer: &Timer<'_>, _ctx: &mut KeyedContext<'_>, out: &mut Output) -> Result<(), Error> {
//!         out.emit_new(Some(timer.key), b"idle", timer.at);
//!         Ok(())
//!     }
//! }
//!
//! weir_sdk::export_keyed_processor!(Idle);
//! # fn main() {}
//! ```
//!
//! Typed states encode values with postcard ([`Postcard`]); `raw_value`, `raw_list` and
//! `raw_map` of [`StateRegistry`] store bytes as they are, and every handle has
//! `*_bytes` methods for the encoded form.
//!
//! # Window aggregate: an accumulator per window
//!
//! The mean of a field. The accumulator is any serde type; the host stores it between
//! calls, and the SDK decodes it once per call, however many events it absorbs:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use weir_sdk::{Aggregate, Error, Event, EventExt, JsonPath, Settings, WindowInfo};
//!
//! struct Mean {
//!     field: JsonPath,
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct Sum {
//!     n: u64,
//!     total: f64,
//! }
//!
//! #[derive(Deserialize)]
//! struct Config {
//!     field: JsonPath,
//! }
//!
//! impl Aggregate for Mean {
//!     type Acc = Sum;
//!
//!     fn new(settings: Settings) -> Result<Self, Error> {
//!         Ok(Mean { field: settings.parse::<Config>()?.field })
//!     }
//!
//!     fn init(&self) -> Sum {
//!         Sum { n: 0, total: 0.0 }
//!     }
//!
//!     fn add(&self, acc: &mut Sum, event: &Event<'_>) -> Result<(), Error> {
//!         let value: f64 = event.json_at(&self.field)?.ok_or_else(|| Error::invalid_input("no field"))?;
//!         acc.n += 1;
//!         acc.total += value;
//!         Ok(())
//!     }
//!
//!     fn merge(&self, acc: &mut Sum, other: Sum) {
//!         acc.n += other.n;
//!         acc.total += other.total;
//!     }
//!
//!     fn finish(&self, acc: Sum, window: &WindowInfo<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
//!         #[derive(Serialize)]
//!         struct Result<'a> {
//!             #[serde(flatten)]
//!             window: WindowInfo<'a>,
//!             mean: f64,
//!         }
//!         let mean = acc.total / acc.n.max(1) as f64;
//!         serde_json::to_writer(out, &Result { window: *window, mean }).map_err(Error::internal)
//!     }
//! }
//!
//! weir_sdk::export_aggregate!(Mean);
//! # fn main() {}
//! ```
//!
//! # Window process function: all events of a window
//!
//! The number of distinct values of `page` per window, emitted with the window's key
//! and last millisecond:
//!
//! ```
//! use std::collections::BTreeSet;
//! use weir_sdk::{Error, Event, EventExt, JsonPath, Output, Settings, StateRegistry, WindowContext, WindowInfo, WindowProcessor};
//!
//! struct DistinctPages {
//!     page: JsonPath,
//! }
//!
//! impl WindowProcessor for DistinctPages {
//!     fn init(_settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
//!         Ok(DistinctPages { page: "page".parse()? })
//!     }
//!
//!     fn process(&mut self, window: &WindowInfo<'_>, events: &[Event<'_>], _ctx: &mut WindowContext<'_>, out: &mut Output) -> Result<(), Error> {
//!         let mut pages = BTreeSet::new();
//!         for event in events {
//!             if let Ok(Some(page)) = event.json_at::<String>(&self.page) {
//!                 pages.insert(page);
//!             }
//!         }
//!         out.emit_window_json(window, &serde_json::json!({ "window": window, "pages": pages.len() }))
//!     }
//! }
//!
//! weir_sdk::export_window_processor!(DistinctPages);
//! # fn main() {}
//! ```

mod aggregate;
mod codec;
mod convert;
mod error;
mod event;
mod export;
pub mod inference;
mod json_path;
mod keyed;
pub mod learn;
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
/// Fast integer-to-text for results written by hand (the host writes with it too).
pub use weir_batch::decimal;
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
