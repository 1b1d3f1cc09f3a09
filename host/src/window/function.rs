//! What a window computes when it fires: the contract between the window operator
//! (which assigns windows, keeps accumulators and fires) and the code that aggregates,
//! whether native ([`super::builtin`]) or a Wasm plugin (`plugin::window_functions`).
//!
//! Both kinds work on many accumulators per call ([`Packed`]), so a batch costs one
//! call whatever the number of keys and windows it touches.

use weir_batch::{Batch, Timestamp};

use super::state_loan::WindowStateLoan;
use crate::plugin::Plugin;
use crate::runtime::dead_letter::Origin;
use crate::runtime::operator::Emitted;

/// Many byte strings in one buffer: string `i` is `bytes[ends[i-1]..ends[i]]`. The
/// host-side twin of the WIT `packed-bytes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    pub bytes: Vec<u8>,
    pub ends: Vec<u32>,
}

impl Packed {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `index`, or `None` past the end or when the ends are malformed.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        self.bytes.get(start..end)
    }

    /// Appends one string.
    ///
    /// # Panics
    /// When the buffer would pass 4 GiB (the offsets are `u32`, as in the WIT).
    pub fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        let end = u32::try_from(self.bytes.len()).expect("packed bytes stay below 4 GiB");
        self.ends.push(end);
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Checks the invariants of what a plugin returned: `expected` strings, ends
    /// non-decreasing and ending at the buffer's length.
    ///
    /// # Errors
    /// What is wrong, in words.
    pub fn validate(&self, expected: usize) -> Result<(), String> {
        if self.ends.len() != expected {
            return Err(format!(
                "expected {expected} values, got {}",
                self.ends.len()
            ));
        }
        if self.ends.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err("value ends are not in order".into());
        }
        if self.ends.last().map_or(0, |end| *end as usize) != self.bytes.len() {
            return Err("value ends do not end at the end of the bytes".into());
        }
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }
}

/// Why a window fires (WIT `firing-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FiringKind {
    /// Before the window is complete (early-firing interval, or a count trigger).
    Early,
    /// The window is complete (watermark passed its end, count reached, input ended).
    OnTime,
    /// A late event within the allowed lateness changed a window that had fired.
    Late,
}

impl FiringKind {
    /// The `firing` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            FiringKind::Early => "early",
            FiringKind::OnTime => "on-time",
            FiringKind::Late => "late",
        }
    }
}

/// One firing of one key's window (WIT `window-firing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFiring {
    pub key: Option<Vec<u8>>,
    /// `[start, end)`; for count and global windows, the smallest and one past the
    /// largest timestamp of the window's events.
    pub start: Timestamp,
    pub end: Timestamp,
    pub kind: FiringKind,
    /// Firings of this window before this one.
    pub index: u32,
}

/// A failure of a window function. For a Wasm function the batch's events are then
/// retried one by one and the ones at fault dead-lettered, as for stateless operators.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct WindowFnError {
    pub message: String,
    /// The function cannot go on at all (the pipeline stops); otherwise the failure is
    /// the input's.
    pub fatal: bool,
}

impl WindowFnError {
    pub fn input(message: impl Into<String>) -> Self {
        WindowFnError {
            message: message.into(),
            fatal: false,
        }
    }

    pub fn fatal(message: impl Into<String>) -> Self {
        WindowFnError {
            message: message.into(),
            fatal: true,
        }
    }
}

/// An incremental aggregate: `init / add / merge / finish` over accumulators the
/// window operator keeps. An empty accumulator is a fresh one (the function's `init`).
pub trait AggregateFunction: Send {
    /// Adds event `i` of `events` to accumulator `targets[i]`, in order, updating
    /// `accumulators` in place (same count, same order).
    ///
    /// # Errors
    /// When an event cannot be aggregated (or the plugin failed).
    fn add(
        &mut self,
        accumulators: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError>;

    /// Merges each group of `inputs` (group `g` = `inputs[group_ends[g-1]..group_ends[g]]`)
    /// into one accumulator; returns one per group.
    ///
    /// # Errors
    /// When the function fails.
    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError>;

    /// One result value per accumulator, for the firing at the same index.
    ///
    /// # Errors
    /// When the function fails.
    fn finish(
        &mut self,
        accumulators: &Packed,
        firings: &[WindowFiring],
    ) -> Result<Packed, WindowFnError>;

    /// Runs `plugin` from now on: a hot swap (see [`crate::runtime::swap`]). The
    /// accumulators stay in the window operator, so the new version must read the ones
    /// its predecessor wrote. Returns the origin its dead letters carry.
    ///
    /// # Errors
    /// When the function is not a plugin (the default), or the new instance does not
    /// start: the function then keeps running as it was.
    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<Origin, String> {
        Err(not_a_plugin(plugin))
    }
}

fn not_a_plugin(plugin: &Plugin) -> String {
    format!(
        "cannot swap in {}: the window function is not a plugin",
        plugin.identity()
    )
}

/// A window process function: all events of each firing window at once.
pub trait WindowProcessFunction: Send {
    /// Firing `i`'s events are `events[event_ends[i-1]..event_ends[i]]`, in timestamp
    /// order. Results (and rejections, dead letters) go to `out`.
    ///
    /// # Errors
    /// When the function fails as a whole.
    fn process(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError>;

    /// Whether the function keeps per-window state (a plugin that declared states):
    /// only then does the operator lend it its state and clear purged windows' state.
    fn uses_window_state(&self) -> bool {
        false
    }

    /// [`WindowProcessFunction::process`] with per-window state: scope `i` of `state`
    /// is firing `i`'s (key, window) (see [`WindowStateLoan`]). The function must
    /// leave the store in `state` when it returns.
    ///
    /// # Errors
    /// When the function fails as a whole.
    fn process_with_state(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
        state: &mut WindowStateLoan,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError> {
        let _ = state;
        self.process(firings, event_ends, events, out)
    }

    /// Runs `plugin` from now on (see [`AggregateFunction::swap_plugin`]; per-window
    /// state stays in the window operator). Returns the origin its dead letters carry.
    ///
    /// # Errors
    /// When the function is not a plugin (the default), or the new instance does not
    /// start.
    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<Origin, String> {
        Err(not_a_plugin(plugin))
    }
}
