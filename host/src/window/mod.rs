//! Windows: which event-time windows an event belongs to, and the operator that keeps,
//! fires and cleans them up.
//!
//! - [`assigner`]: a window is a half-open interval `[start, end)` of event time in
//!   milliseconds ([`Window`]); a [`WindowAssigner`] maps an event's timestamp to the
//!   windows that contain it — tumbling, sliding, session or global (count windows
//!   depend on arrival order, not on timestamps, and live in the operator). Pure logic,
//!   with the laws below.
//! - [`spec`]: [`WindowSpec`], the windows and triggers of a window operator as a
//!   pipeline file says them, validated with readable messages.
//! - [`function`]: the contract with what windows compute — [`AggregateFunction`]
//!   (`add / merge / finish` over accumulators the host keeps) and
//!   [`WindowProcessFunction`] (all events of a firing window).
//! - [`operator`]: [`WindowOperator`], the runtime operator: panes for sliding windows,
//!   session merging, event-time / count / early triggers, allowed lateness and the
//!   `late` output, one function call per batch and per watermark. Its laws are in
//!   its module docs.
//! - [`store`]: [`store::WindowStore`], the operator's state by (key, namespace) and
//!   its firing and purge indexes — in memory, shaped for the host's state backend.
//! - [`builtin`]: native count / sum / min / max / mean over JSON fields.
//!
//! # Laws of the assigners
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
pub mod builtin;
pub mod function;
mod hash;
pub mod operator;
pub mod spec;
pub mod state_loan;
pub mod store;

#[cfg(test)]
mod tests;

pub use assigner::{MAX_SLIDING_WINDOWS, Window, WindowAssigner, merge_sessions};
pub use function::{
    AggregateFunction, FiringKind, Packed, WindowFiring, WindowFnError, WindowProcessFunction,
};
pub use operator::{
    LATE_OUTPUT, Persisted, WindowCounters, WindowOperator, WindowStateError, push_window_headers,
};
pub use spec::{AssignerSpec, MAX_PANES_PER_WINDOW, TriggerSpec, WindowKind, WindowSpec};
pub use state_loan::{MERGING_REFUSED, WindowStateLoan};
