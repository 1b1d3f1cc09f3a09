//! Sliding windows derived from their panes: in the default configuration (no allowed
//! lateness, as in Flink; the event-time trigger; no early firings) a sliding window
//! is nothing but the panes it spans and the time it fires, so it gets no entry of its
//! own — only a key firing timer ([`WindowStore::schedule_key_fire`]).
//!
//! Such a window fires once, on time (index 0), when the watermark passes its last
//! timestamp, if one of its panes holds data; it cannot re-fire, since without allowed
//! lateness an event for a window that has fired is late for it. After the firings of
//! a watermark, the panes that start in a fired window's first slide go: it was their
//! last window. With lateness, a count trigger or early firings, windows need their
//! firing state, and each keeps an entry (see [`super::apply`]).
//!
//! Timers: each pane, when made, schedules its live windows that hold no other pane of
//! its key (the others got their timer from the first pane made in them). A timer can
//! outlive its panes (a failed batch is undone, its panes removed) or repeat (the batch
//! is then replayed): a window without panes does not fire, and a repeated one fires
//! once. Timers are not part of the state: a restore schedules them again from the
//! panes.
//!
//! [`WindowStore::schedule_key_fire`]: crate::window::store::WindowStore::schedule_key_fire

use super::timers::Order;
use super::{WindowFunction, WindowOperator};
use crate::runtime::operator::OperatorError;
use crate::window::Window;
use crate::window::assigner::WindowAssigner;
use crate::window::function::FiringKind;
use crate::window::spec::{TriggerSpec, WindowKind, WindowSpec};
use crate::window::store::{EntryId, EventBuffer, KeyId, WindowState};

/// Whether windows of `kind` under `spec` are derived from their panes (see the module
/// docs): sliding windows longer than a pane, without allowed lateness, fired by the
/// event-time trigger only.
pub(super) fn derives_windows(spec: &WindowSpec, kind: WindowKind) -> bool {
    let WindowKind::Sliding {
        assigner: WindowAssigner::Sliding { size, .. },
        pane_ms,
    } = kind
    else {
        return false;
    };
    size != pane_ms
        && spec.allowed_lateness_ms == 0
        && spec.trigger == TriggerSpec::EventTime
        && spec.early_firing_ms.is_none()
}

impl WindowOperator {
    /// The new pane `pane` of `key` (its live windows in `sub.windows`): schedules the
    /// firing of each of those windows that holds no other pane of the key.
    pub(super) fn schedule_derived_windows(&mut self, key: KeyId, pane: Window) {
        let (before, after) = self.store.pane_neighbours(key, pane);
        for at in 0..self.sub.windows.len() {
            let window = self.sub.windows[at];
            let alone = before.is_none_or(|other| other.start < window.start)
                && after.is_none_or(|other| other.start >= window.end);
            if alone {
                self.store.schedule_key_fire(window.max_timestamp(), key);
            }
        }
    }

    /// After a restore, makes sliding windows' entries agree with how this operator
    /// keeps them, for state written by an operator that kept them the other way (its
    /// allowed lateness or triggers were different, or it predates derived windows),
    /// and schedules the firings that are not part of the state: windows derived from
    /// panes drop the windows' entries (a window that has not fired is its panes; one
    /// that has is gone) and get their key firing timers again; others give each live
    /// window of a pane an entry that waits for its firing.
    pub(super) fn adopt_restored_sliding_windows(&mut self) {
        let WindowKind::Sliding {
            assigner: assigner @ WindowAssigner::Sliding { size, .. },
            pane_ms,
        } = self.kind
        else {
            return;
        };
        if size == pane_ms {
            return;
        }
        let keys: Vec<KeyId> = self.store.keys_with_entries().collect();
        let mut windows = Vec::new();
        for key in keys {
            if self.derives {
                let entries: Vec<EntryId> = self
                    .store
                    .range(key, i64::MIN..i64::MAX)
                    .map(|(_, id)| id)
                    .collect();
                for id in entries {
                    self.store.remove(id);
                }
            }
            let panes: Vec<Window> = self
                .store
                .panes(key, i64::MIN..i64::MAX)
                .map(|(ns, _)| ns)
                .collect();
            let mut before: Option<i64> = None;
            for pane in panes {
                windows.clear();
                assigner.assign(pane.start, &mut windows);
                windows.retain(|window| window.max_timestamp() > self.watermark);
                for &window in &windows {
                    if self.derives {
                        // Scheduled by the first pane in it.
                        if before.is_none_or(|start| start < window.start) {
                            self.store.schedule_key_fire(window.max_timestamp(), key);
                        }
                        continue;
                    }
                    let (id, _) = self.store.get_or_insert(key, window);
                    let entry = self.store.entry_mut(id);
                    if entry.window.is_none() {
                        entry.window = Some(WindowState::default());
                        self.store.schedule_fire(window.max_timestamp(), id);
                    }
                }
                before = Some(pane.start);
            }
        }
    }

    /// Snapshots, in (end, key) order, every derived window due at the watermark that
    /// holds data, and lists it for [`Self::purge_derived`].
    pub(super) fn fire_derived_windows(&mut self) {
        let WindowKind::Sliding {
            assigner: WindowAssigner::Sliding { size, .. },
            ..
        } = self.kind
        else {
            return;
        };
        let mut due = std::mem::take(&mut self.key_timers);
        self.store.pop_key_fire(self.watermark, &mut due);
        if due.is_empty() {
            self.key_timers = due;
            return;
        }
        let mut order = std::mem::take(&mut self.order);
        order.extend(
            due.drain(..)
                .map(|(at, key)| self.order_of_key(at.saturating_add(1), key)),
        );
        let store = &self.store;
        Order::sort(&mut order, |a, b| store.key(a.id).cmp(&store.key(b.id)));
        order.dedup_by_key(|o| (o.end, o.id));
        for place in &order {
            let window = Window::new(place.end.saturating_sub(size), place.end);
            self.snapshot_derived(place.id, window);
        }
        order.clear();
        self.order = order;
        self.key_timers = due;
    }

    /// Snapshots derived window `window` of `key` as its on-time firing, if one of its
    /// panes holds data.
    fn snapshot_derived(&mut self, key: KeyId, window: Window) {
        let store = &self.store;
        let mut panes = store.panes(key, window.start..window.end).peekable();
        if panes.peek().is_none() {
            return;
        }
        match &self.function {
            WindowFunction::Aggregate(_) => {
                self.firing
                    .push_group(panes.map(|(_, id)| &store.entry(id).acc[..]));
            }
            WindowFunction::Process(_) => {
                let buffers: Vec<&EventBuffer> = panes
                    .filter_map(|(_, id)| store.entry(id).events.as_deref())
                    .collect();
                self.firing.push_events(&buffers);
            }
        }
        self.firing.push_firing(
            store.key(key),
            (window.start, window.end),
            FiringKind::OnTime,
            0,
        );
        self.firing_windows.push(window);
        self.counters.firings += 1;
        self.derived_purge.push((key, window));
    }

    /// Removes the panes whose last window fired at this watermark (those that start
    /// in its first slide), and the windows' per-window state.
    ///
    /// # Errors
    /// When per-window state cannot be deleted (the backend failed).
    pub(super) fn purge_derived(&mut self) -> Result<(), OperatorError> {
        let WindowKind::Sliding {
            assigner: WindowAssigner::Sliding { slide, .. },
            ..
        } = self.kind
        else {
            return Ok(());
        };
        let mut fired = std::mem::take(&mut self.derived_purge);
        let mut cleared = Ok(());
        for (key, window) in fired.drain(..) {
            if let Err(error) = self.clear_window_state(key, window) {
                cleared = cleared.and(Err(error));
            }
            // The key's panes before this window went with earlier windows (firings
            // come in end order): its first slide's are the key's oldest.
            let first_slide_end = window.start.saturating_add(slide).min(window.end);
            self.store.remove_panes_before(key, first_slide_end);
            self.store.release(key);
        }
        self.derived_purge = fired;
        cleared
    }
}
