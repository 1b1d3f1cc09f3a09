//! [`WindowOperator`]: keyed event-time windows as an [`Operator`] — assign events to
//! windows, keep one accumulator (or the buffered events) per key and state slot, fire
//! windows when the watermark passes them, and clean up after the allowed lateness.
//!
//! # Laws
//!
//! With `wm` the operator's watermark and `L` the allowed lateness (`max_ts` of a
//! window is `end - 1`):
//!
//! 1. **Slots.** An event updates exactly one state slot: its window (tumbling,
//!    global), its pane (sliding: panes of `gcd(size, slide)`, combined with `merge`
//!    when a window fires), its session (sessions it bridges are merged first, their
//!    accumulators with `merge`) or its key's open count window.
//! 2. **One call per batch.** A batch costs one `add` (or none, for process
//!    functions); all windows due at one watermark cost one `merge` (for panes) and one
//!    `finish` (or one `process`). A batch is cut into more calls only when a window
//!    fires in the middle of it (count trigger, late event) and then receives more of
//!    its events, so that every firing sees exactly the events that came before it.
//! 3. **Firing.** A time window fires on time, once, when `max_ts <= wm`, if it holds
//!    data. Results of one watermark come in (end, key, start) order; results caused by
//!    events (late and count firings) in the order of the events that caused them.
//! 4. **Lateness.** An event goes to the `late` output, unchanged, iff every window it
//!    belongs to has `max_ts + L <= wm` (for sessions: its proto-window
//!    `[ts, ts + gap)`, when no live session takes it in). Otherwise it updates its
//!    windows, and each one that is already due re-fires at once, as `late`, with the
//!    next index. A window's state is purged when `wm >= max_ts + L`; a pane when its
//!    last window is.
//! 5. **Count and global windows** are never late: a count window fires on time when it
//!    holds `n` events and is purged; a global window fires at the end of the input.
//!    At the end of the input every window still holding data fires.
//! 6. **Early firings** (count trigger, processing-time interval) accumulate: they
//!    never reset a window, and the on-time firing still comes.
//! 7. **Failures.** A non-fatal error of `add` re-runs the batch's events one at a time
//!    from the state before the batch; the events that fail alone are dead-lettered
//!    and leave no trace in the state. A fatal error stops the pipeline.
//! 8. **Determinism.** The output depends on the sequence of events and watermarks
//!    only, not on how the events are cut into batches (for functions whose `add` and
//!    `merge` are associative and commutative, as the contract asks).

mod add;
mod apply;
mod checkpoint;
mod derived;
mod durable;
mod durable_codec;
mod fire;
mod firing_buffer;
mod place;
mod snapshot_thread;
mod sub_batch;
mod timers;
mod window_state;

use weir_batch::{Batch, Timestamp};

use super::Window;
use super::builtin::{BUILTIN_PLUGIN, Builtins};
use super::function::{AggregateFunction, WindowProcessFunction};
use super::spec::{WindowKind, WindowSpec};
use super::store::{EntryId, Handle, KeyId, Timer, WindowStore};
use crate::runtime::dead_letter::Origin;
use crate::runtime::operator::{Emitted, Operator, OperatorError};
pub use checkpoint::WindowDurability;
pub use durable::{Persisted, WindowStateError};
use firing_buffer::FiringBuffer;
pub use firing_buffer::push_window_headers;
pub use snapshot_thread::CheckpointWait;
use sub_batch::SubBatch;

/// The name of the side output that receives events later than the allowed lateness.
pub const LATE_OUTPUT: &str = "late";

/// What the windows compute.
pub(crate) enum WindowFunction {
    Aggregate(Box<dyn AggregateFunction>),
    Process(Box<dyn WindowProcessFunction>),
}

impl std::fmt::Debug for WindowFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WindowFunction::Aggregate(_) => "Aggregate",
            WindowFunction::Process(_) => "Process",
        })
    }
}

/// Counters of what the operator did, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCounters {
    /// Events sent to the `late` output.
    pub late: u64,
    /// Events of sliding windows with gaps (`size < slide`) that fall in a gap and so
    /// belong to no window; they are dropped, as in Flink.
    pub unassigned: u64,
    /// Events and windows sent to the dead-letter output.
    pub dead_lettered: u64,
    /// Window results produced.
    pub firings: u64,
    /// Calls to the window function (`add`, `merge`, `finish`, `process`).
    pub calls: u64,
}

/// A window operator subtask; see the module docs for what it guarantees.
#[derive(Debug)]
pub struct WindowOperator {
    name: String,
    spec: WindowSpec,
    kind: WindowKind,
    function: WindowFunction,
    origin: Origin,
    store: WindowStore,
    /// Sliding windows have no entries of their own (see [`derived`]).
    derives: bool,
    watermark: Timestamp,
    /// Arrival number of the next event (from 1).
    next_seq: u64,
    /// Arrival number of the last event placed.
    last_seq: u64,
    sub: SubBatch,
    firing: FiringBuffer,
    /// The (real) window of each firing in `firing`, for per-window state.
    firing_windows: Vec<Window>,
    /// Processing time of the next early firing.
    next_early: Option<i64>,
    /// Slots that received events since the last early firing.
    dirty: Vec<Handle>,
    // Reused buffers of watermark steps.
    timers: Vec<Timer>,
    /// Windows that completed at a watermark already past their cleanup time (no
    /// allowed lateness): purged after that watermark's firings, without a timer.
    purge_now: Vec<Timer>,
    due_ids: Vec<EntryId>,
    /// Key firing timers due at a watermark (windows derived from panes).
    key_timers: Vec<(i64, KeyId)>,
    /// Windows derived from panes fired at this watermark, for their purge.
    derived_purge: Vec<(KeyId, Window)>,
    order: Vec<timers::Order>,
    counters: WindowCounters,
    /// The state backend, which checkpoints see (see [`durable`]).
    durable: durable::Durable,
    /// Where the backend lives, for a restore (see [`checkpoint`]).
    durability: Option<WindowDurability>,
}

impl WindowOperator {
    /// A window operator that aggregates with `function`. `plugin` names the function
    /// in dead letters (a plugin's `name@version+hash`, or `builtin`).
    ///
    /// # Errors
    /// When the spec is invalid (see [`WindowSpec::validate`]).
    pub fn aggregate(
        name: impl Into<String>,
        spec: WindowSpec,
        function: Box<dyn AggregateFunction>,
        plugin: impl Into<String>,
    ) -> Result<Self, String> {
        Self::new(
            name.into(),
            spec,
            WindowFunction::Aggregate(function),
            plugin.into(),
        )
    }

    /// A window operator computing built-in aggregates (see [`Builtins`]); their dead
    /// letters name the plugin [`BUILTIN_PLUGIN`].
    ///
    /// # Errors
    /// When the spec is invalid (see [`WindowSpec::validate`]).
    pub fn builtin(
        name: impl Into<String>,
        spec: WindowSpec,
        aggregates: Builtins,
    ) -> Result<Self, String> {
        Self::aggregate(name, spec, Box::new(aggregates), BUILTIN_PLUGIN)
    }

    /// A window operator that hands each firing window's events to `function`.
    ///
    /// # Errors
    /// When the spec is invalid (see [`WindowSpec::validate`]).
    pub fn process(
        name: impl Into<String>,
        spec: WindowSpec,
        function: Box<dyn WindowProcessFunction>,
        plugin: impl Into<String>,
    ) -> Result<Self, String> {
        Self::new(
            name.into(),
            spec,
            WindowFunction::Process(function),
            plugin.into(),
        )
    }

    fn new(
        name: String,
        spec: WindowSpec,
        function: WindowFunction,
        plugin: String,
    ) -> Result<Self, String> {
        let kind = spec.validate()?;
        let pane_len = match kind {
            WindowKind::Sliding { pane_ms, .. } => pane_ms,
            _ => 0,
        };
        Ok(WindowOperator {
            origin: Origin::Operator {
                operator: name.clone(),
                plugin,
            },
            name,
            spec,
            kind,
            function,
            store: WindowStore::with_panes(pane_len),
            derives: derived::derives_windows(&spec, kind),
            watermark: Timestamp::MIN,
            next_seq: 1,
            last_seq: 0,
            sub: SubBatch::default(),
            firing: FiringBuffer::default(),
            firing_windows: Vec::new(),
            next_early: None,
            dirty: Vec::new(),
            timers: Vec::new(),
            purge_now: Vec::new(),
            due_ids: Vec::new(),
            key_timers: Vec::new(),
            derived_purge: Vec::new(),
            order: Vec::new(),
            counters: WindowCounters::default(),
            durable: durable::Durable::new(),
            durability: None,
        })
    }

    /// The last watermark received (`i64::MIN` before the first).
    pub fn watermark(&self) -> Timestamp {
        self.watermark
    }

    /// What the operator holds.
    pub fn store(&self) -> &WindowStore {
        &self.store
    }

    pub fn counters(&self) -> WindowCounters {
        self.counters
    }

    pub fn spec(&self) -> &WindowSpec {
        &self.spec
    }

    fn error(&self, message: impl std::fmt::Display) -> OperatorError {
        OperatorError {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// `max_ts <= wm`: the window has reached its regular firing time.
    fn due(&self, window: Window) -> bool {
        window.max_timestamp() <= self.watermark
    }

    /// `max_ts + L <= wm`: the window takes no more events and its state goes.
    fn expired(&self, window: Window) -> bool {
        self.cleanup_time(window) <= self.watermark
    }

    fn cleanup_time(&self, window: Window) -> Timestamp {
        window
            .max_timestamp()
            .saturating_add(self.spec.allowed_lateness_ms)
    }
}

impl Operator for WindowOperator {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        self.process_batch(&batch, out)
    }

    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        self.advance_watermark(watermark, out)
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut Emitted) -> Result<(), OperatorError> {
        self.early_firing(now_ms, out)
    }

    fn on_end(&mut self, out: &mut Emitted) -> Result<(), OperatorError> {
        self.end_of_input(out)
    }

    fn snapshot(
        &mut self,
        dir: &std::path::Path,
    ) -> Result<Option<crate::runtime::operator::OperatorSnapshot>, OperatorError> {
        self.snapshot_hook(dir)
    }

    fn snapshot_async(
        &mut self,
        dir: &std::path::Path,
    ) -> Result<
        (
            Option<crate::runtime::operator::OperatorSnapshot>,
            Option<crate::runtime::operator::SnapshotWait>,
        ),
        OperatorError,
    > {
        self.snapshot_async_hook(dir)
    }

    fn restore(&mut self, dir: &std::path::Path) -> Result<(), OperatorError> {
        self.restore_hook(dir)
    }

    /// Swaps the window function's plugin; accumulators, buffered events, per-window
    /// state and timers stay where they are.
    fn swap_plugin(&mut self, plugin: &crate::plugin::Plugin) -> Result<(), OperatorError> {
        let swapped = match &mut self.function {
            WindowFunction::Aggregate(function) => function.swap_plugin(plugin),
            WindowFunction::Process(function) => function.swap_plugin(plugin),
        };
        self.origin = swapped.map_err(|message| OperatorError {
            operator: self.name.clone(),
            message,
        })?;
        Ok(())
    }
}
