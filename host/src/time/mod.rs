//! Event time at the sources: watermark generation per partition or split.
//!
//! Groundwork for the event-time runtime: the generators are pure logic, driven by
//! the events a source reads and by a processing-time clock it passes in, so they are
//! tested without sleeping. Chains already combine watermarks across inputs
//! ([`crate::runtime::watermarks`]).

pub mod generator;

pub use generator::{WatermarkGenerator, WatermarkUpdate};
