//! Event time at the sources: where each event's time comes from, and the watermarks
//! that say how far event time has progressed.
//!
//! - [`extract`]: timestamps from a field, a CSV column, a header, or ingestion time;
//! - [`rfc3339`]: the date-time strings a timestamp field may hold;
//! - [`generator`]: the watermark of one split (bounded out-of-orderness, idleness);
//! - [`source`]: the watermark of a source, over its splits.
//!
//! The generators are pure logic, driven by the events a source reads and by a
//! processing-time clock passed in, so they are tested without sleeping. The source
//! task ([`crate::runtime::source_task`]) drives them; chains combine watermarks across
//! their inputs ([`crate::runtime::watermarks`]).

pub mod extract;
pub mod generator;
pub mod rfc3339;
pub mod source;

pub use extract::{TimeUnit, TimestampSpec};
pub use generator::{WatermarkGenerator, WatermarkUpdate};
pub use source::{SourceProgress, SourceWatermarks, WatermarkSpec};
