//! The guest side of the WIT contract: one `generate!` per world, each in its own
//! module, and nothing else. Plugin authors never see these names; the rest of the SDK
//! converts them to its own types.
//!
//! The worlds share the generated `types`, `log`, `metrics`, `inference`, `state` and `windows`
//! modules (wit-bindgen's `with`), so one conversion of a batch, an error or a window
//! serves every world.
//!
//! # What ends up in a plugin's component
//!
//! Each `generate!` embeds two custom sections that `wasm-component-ld` reads to turn
//! the core module into a component:
//! - the world's *imports* (its `export` list removed), linked as soon as any of its
//!   import modules is; the component keeps only the imports the core module really
//!   calls, so a stateless plugin does not import `state` even though the keyed
//!   world's section is linked into it;
//! - the whole world, emitted by its export macro: only the world whose macro the
//!   plugin invokes (through `weir_sdk::export_*!`) is exported.
//!
//! The SDK keeps every call to an import behind the export glue of the worlds that
//! import it (timers only from the keyed glue, state only from the keyed and window
//! glue), so each plugin's component has exactly its world's imports and exports.
#![allow(missing_docs, missing_debug_implementations, unused_qualifications)]

pub mod aggregate;
pub mod keyed;
pub mod stateless;
pub mod window;

pub use aggregate::weir::operator::windows;
pub use keyed::weir::operator::{state, timers};
pub use stateless::weir::operator::{inference, log, metrics, types};
