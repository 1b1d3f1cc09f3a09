//! Per-window state of process functions (see [`crate::window::state_loan`]): lending
//! the operator's state for a `process` call with one scope per firing, committing or
//! rolling back after it, and clearing a window's state when the window goes.
//!
//! Laws: scope `i` is firing `i`'s (key group, key, window) with the window encoded by
//! [`window_namespace`] — the real window, not the bounds a count or global window's
//! firing reports, so every firing of one window sees the same state; a failed call
//! writes nothing; a purged window's state is deleted in the same watermark step
//! (count windows: right after their on-time firing). A keyless window shares the
//! scope of the empty key.

use std::any::Any;
use std::ops::Range;

use weir_batch::Timestamp;

use super::durable::Durable;
use super::firing_buffer::process_all;
use super::{WindowFunction, WindowOperator};
use crate::plugin::state::{CallScope, KeyedStore};
use crate::runtime::keyed_store::OperatorState;
use crate::runtime::operator::{Emitted, OperatorError};
use crate::state::encoding::window_namespace;
use crate::window::Window;
use crate::window::function::{FiringKind, WindowFiring, WindowFnError};
use crate::window::spec::WindowKind;
use crate::window::state_loan::{MergingWindowsStore, WindowStateLoan};
use crate::window::store::KeyId;

impl WindowOperator {
    /// Calls the process function on firings `range` of the firing buffer (all of
    /// them, or one when they are retried one by one), lending per-window state if the
    /// function keeps any.
    pub(super) fn process_firings(
        &mut self,
        range: Range<usize>,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError> {
        let WindowFunction::Process(function) = &mut self.function else {
            return Err(WindowFnError::fatal("not a window process function"));
        };
        let buffer = &mut self.firing;
        let whole = range == (0..buffer.len);
        // `process_all` moves the events of a lone firing out of the buffer, and a
        // retry one by one would then find none to dead-letter: a lone firing's events
        // are copied below instead.
        if whole && buffer.len > 1 && !function.uses_window_state() {
            return process_all(buffer, function.as_mut(), out, &mut self.counters.calls);
        }
        let event_range = |i: usize| {
            let from = if i == 0 {
                0
            } else {
                buffer.event_ends[i - 1] as usize
            };
            from..buffer.event_ends[i] as usize
        };
        let (events, single);
        let ends: &[u32] = if whole {
            self.counters.calls += 1;
            events = buffer.events.clone();
            &buffer.event_ends
        } else {
            let events_of = event_range(range.start);
            events = buffer.events.slice(events_of);
            single = [events.len() as u32];
            &single
        };
        let firings = &buffer.firings[range.clone()];
        if !function.uses_window_state() {
            return function.process(firings, ends, events, out);
        }
        let merging = merging(self.kind);
        let windows = &self.firing_windows[range];
        let watermark = (self.watermark > Timestamp::MIN).then_some(self.watermark);
        // A checkpoint being written holds the state: wait for it.
        self.durable
            .finish_snapshot()
            .map_err(|error| WindowFnError::fatal(format!("window state: {error}")))?;
        let mut loan = self.durable.lend(firings, windows, merging, watermark)?;
        let result = function.process_with_state(firings, ends, events, &mut loan, out);
        self.durable.settle(loan, merging, result.is_ok())?;
        let settled = result.is_ok() || !whole;
        if settled && matches!(self.kind, WindowKind::Count(_)) {
            // A count window is gone after its on-time firing: so is its state.
            let gone: Vec<(Option<Vec<u8>>, Window)> = firings
                .iter()
                .zip(windows)
                .filter(|(firing, _)| firing.kind != FiringKind::Early)
                .map(|(firing, window)| (firing.key.clone(), *window))
                .collect();
            for (key, window) in gone {
                self.durable
                    .clear_window(key.as_deref(), window)
                    .map_err(WindowFnError::fatal)?;
            }
        }
        result
    }

    /// Deletes the per-window state of (key, window), which is being purged.
    ///
    /// # Errors
    /// When the backend fails.
    pub(super) fn clear_window_state(
        &mut self,
        key: KeyId,
        window: Window,
    ) -> Result<(), OperatorError> {
        let keeps = match &self.function {
            WindowFunction::Process(function) => function.uses_window_state(),
            WindowFunction::Aggregate(_) => false,
        };
        if !keeps || merging(self.kind) {
            return Ok(());
        }
        let key = self.store.key(key).map(<[u8]>::to_vec);
        self.durable
            .clear_window(key.as_deref(), window)
            .map_err(|message| self.error(message))
    }
}

impl Durable {
    /// The loan of one call: the operator's state (or, for merging windows, a store
    /// that refuses every call) with one scope per firing.
    fn lend(
        &mut self,
        firings: &[WindowFiring],
        windows: &[Window],
        merging: bool,
        watermark: Option<Timestamp>,
    ) -> Result<WindowStateLoan, WindowFnError> {
        let store: Box<dyn KeyedStore> = match merging {
            true => Box::new(MergingWindowsStore),
            false => {
                let mut state = self.state.take().ok_or_else(|| {
                    WindowFnError::fatal("window state was not given back by an earlier call")
                })?;
                state.set_watermark(watermark);
                state
            }
        };
        let scopes = firings
            .iter()
            .zip(windows)
            .map(|(firing, window)| CallScope {
                key_group: self.key_group(firing.key.as_deref()),
                key: firing.key.clone().unwrap_or_default(),
                namespace: window_namespace(window.start, window.end).to_vec(),
                time: firing.end.saturating_sub(1),
            })
            .collect();
        Ok(WindowStateLoan {
            store: Some(store),
            scopes,
            watermark,
        })
    }

    /// Takes the state back after a call: its writes are kept if `keep`, dropped if not.
    fn settle(
        &mut self,
        loan: WindowStateLoan,
        merging: bool,
        keep: bool,
    ) -> Result<(), WindowFnError> {
        let store = loan
            .store
            .ok_or_else(|| WindowFnError::fatal("the window function kept its state"))?;
        if merging {
            return Ok(());
        }
        let store: Box<dyn Any> = store;
        let mut state = store
            .downcast::<OperatorState>()
            .map_err(|_| WindowFnError::fatal("the window function gave back another state"))?;
        let committed = match keep {
            true => state.commit(),
            false => {
                state.rollback();
                Ok(())
            }
        };
        self.state = Some(state);
        committed.map_err(|error| WindowFnError::fatal(format!("window state commit: {error}")))
    }

    /// Deletes every per-window state of (key, window).
    fn clear_window(&mut self, key: Option<&[u8]>, window: Window) -> Result<(), String> {
        let key_group = self.key_group(key);
        let state = self
            .state
            .as_mut()
            .ok_or("window state was not given back by a call")?;
        let namespace = window_namespace(window.start, window.end);
        state
            .clear_namespace(key_group, key.unwrap_or_default(), &namespace)
            .map_err(|error| format!("clearing a purged window's state: {error}"))
    }
}

/// Whether windows of `kind` merge (sessions).
fn merging(kind: WindowKind) -> bool {
    matches!(kind, WindowKind::Time(assigner) if assigner.is_merging())
}
