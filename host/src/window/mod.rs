//! Window assigners: which event-time windows an event belongs to.
//!
//! A window in Weir is a half-open interval `[start, end)` of event time in
//! milliseconds ([`Window`]). A [`WindowAssigner`] maps an event's timestamp to the
//! windows that contain it: tumbling (fixed, non-overlapping), sliding (fixed,
//! overlapping), session (grown by activity, closed by a gap of inactivity) or global
//! (one window for all time). Count windows are not time windows and are not here.
//!
//! This module is pure logic: no state, no clock, no I/O. The runtime wiring (keeping
//! one accumulator per key and window in host state, firing windows when the watermark
//! passes their [`Window::max_timestamp`]) comes with the event-time work.
//!
//! # Laws
//!
//! For every assigner built by a constructor and every timestamp `ts` in the valid
//! range (below; `|ts| <= 10^15` is always valid):
//!
//! 1. **Containment.** Every window assigned to `ts` contains `ts`
//!    (`start <= ts < end`).
//! 2. **Completeness.** For tumbling and sliding assigners, every window of the
//!    assigner's grid that contains `ts` is assigned: the grid is the windows
//!    `[offset + k * period, offset + k * period + size)` for every integer `k`,
//!    where the period is the size (tumbling) or the slide (sliding).
//! 3. **Alignment.** Tumbling and sliding window starts are congruent to `offset`
//!    modulo the period, for negative timestamps too (Euclidean remainder).
//! 4. **Order.** Windows are produced in ascending `start` order.
//! 5. **Count.** Tumbling: exactly one window. Sliding: `size / slide` windows when
//!    `slide` divides `size`, otherwise `floor(size / slide)` or `ceil(size / slide)`
//!    depending on where `ts` falls (zero or one when `size < slide`). Session and
//!    global: exactly one.
//! 6. **Sessions merge whatever the order.** [`merge_sessions`] over the proto-windows
//!    `[ts, ts + gap)` of a set of timestamps gives the same windows whatever order the
//!    timestamps arrived in: the timestamps, sorted and split wherever two consecutive
//!    ones are more than `gap` apart, each run `t1..=tn` becoming `[t1, tn + gap)`.
//!
//! # Valid timestamp range
//!
//! Window bounds are computed in `i128` and then saturated to `i64`, so no timestamp
//! ever makes assignment panic or overflow. The results are exact (and the laws of
//! this module hold) when every bound of the windows of `ts` fits in an `i64`,
//! i.e. when `ts - size - slide` and `ts + size + gap` do not overflow. Timestamps
//! within `±10^15` ms (about ±31,700 years around the Unix epoch) are always valid
//! for sizes, slides and gaps up to `10^18` ms. Outside that range bounds are clamped
//! to `i64::MIN` / `i64::MAX`.
//!
//! # Example
//!
//! ```
//! use weir_host::window::{Window, WindowAssigner, merge_sessions};
//!
//! let sliding = WindowAssigner::sliding(10, 5, 0)?;
//! let mut windows = Vec::new();
//! sliding.assign(-3, &mut windows);
//! assert_eq!(
//!     windows,
//!     [Window { start: -10, end: 0 }, Window { start: -5, end: 5 }]
//! );
//!
//! let session = WindowAssigner::session(5)?;
//! let mut protos = Vec::new();
//! for ts in [12, 0, 3, 30] {
//!     session.assign(ts, &mut protos);
//! }
//! merge_sessions(&mut protos);
//! assert_eq!(
//!     protos,
//!     [Window { start: 0, end: 8 }, Window { start: 12, end: 17 }, Window { start: 30, end: 35 }]
//! );
//! # Ok::<(), String>(())
//! ```

pub mod assigner;
pub mod function;
mod hash;
pub mod spec;
pub mod store;

pub use assigner::{MAX_SLIDING_WINDOWS, Window, WindowAssigner, merge_sessions};
pub use function::{
    AggregateFunction, FiringKind, Packed, WindowFiring, WindowFnError, WindowProcessFunction,
};
pub use spec::{AssignerSpec, MAX_PANES_PER_WINDOW, TriggerSpec, WindowKind, WindowSpec};
