//! What happens without an event: the watermark advances (windows fire, state is
//! purged), processing time passes (early firings), the input ends (everything left
//! fires).

use std::cmp::Ordering;

use weir_batch::Timestamp;

use super::WindowOperator;
use crate::runtime::operator::{Emitted, OperatorError};
use crate::window::assigner::WindowAssigner;
use crate::window::function::FiringKind;
use crate::window::spec::WindowKind;
use crate::window::store::{Entry, EntryId, KeyId, Timer};

/// A window's place in the firing order: (end, key, start) of its reported bounds.
/// The first sixteen bytes of the key, big-endian, decide most comparisons (all of
/// them between different keys of up to sixteen bytes); ties read the key and the
/// start from the entry. 32 bytes, so that the sort moves little.
#[derive(Debug, Clone, Copy)]
pub(super) struct Order {
    pub(super) prefix: u128,
    pub(super) end: i64,
    /// The window's entry; for windows derived from panes, its key.
    pub(super) id: u32,
    pub(super) keyed: bool,
}

impl Order {
    fn new(end: i64, key: Option<&[u8]>, id: u32) -> Order {
        let mut prefix = [0u8; 16];
        if let Some(key) = key {
            let len = key.len().min(16);
            prefix[..len].copy_from_slice(&key[..len]);
        }
        Order {
            prefix: u128::from_be_bytes(prefix),
            end,
            id,
            keyed: key.is_some(),
        }
    }

    /// Sorts `orders` by (end, key): by what they hold, then, for different ids that
    /// agree on it, by `tie` (which reads the whole key).
    pub(super) fn sort(orders: &mut [Order], tie: impl Fn(&Order, &Order) -> Ordering) {
        orders.sort_unstable_by(|a, b| {
            (a.end, a.keyed, a.prefix)
                .cmp(&(b.end, b.keyed, b.prefix))
                .then_with(|| match a.id == b.id {
                    true => Ordering::Equal,
                    false => tie(a, b),
                })
        });
    }
}

impl WindowOperator {
    /// Fires every window with `max_ts <= watermark` that has not fired on time, in
    /// (end, key, start) order with one `finish`, then purges what the watermark
    /// leaves behind. A watermark that does not advance is ignored.
    pub(super) fn advance_watermark(
        &mut self,
        watermark: Timestamp,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        if watermark <= self.watermark {
            return Ok(());
        }
        self.watermark = watermark;
        let mut timers = std::mem::take(&mut self.timers);
        self.store.pop_fire(watermark, &mut timers);
        let mut due = std::mem::take(&mut self.due_ids);
        due.extend(timers.iter().filter_map(|timer| {
            let id = self.store.current(timer.handle)?;
            let state = self.store.entry(id).window?;
            (!state.complete).then_some(id)
        }));
        self.fire_in_order(&mut due, FiringKind::OnTime);
        if self.derives {
            self.fire_derived_windows();
        }
        let fired = self.flush_firings(out);
        let derived_purged = self.purge_derived();
        timers.clear();
        self.store.pop_purge(watermark, &mut timers);
        timers.append(&mut self.purge_now);
        let mut purged = Ok(());
        for timer in &timers {
            if let Err(error) = self.purge(*timer) {
                purged = purged.and(Err(error));
            }
        }
        timers.clear();
        self.timers = timers;
        self.due_ids = due;
        fired.and(derived_purged).and(purged)
    }

    /// Sorts windows `ids` by (end, key, start) of the bounds their firings report,
    /// drops duplicates and snapshots them as firings of `kind`; empties `ids`.
    fn fire_in_order(&mut self, ids: &mut Vec<EntryId>, kind: FiringKind) {
        let mut order = std::mem::take(&mut self.order);
        order.extend(ids.drain(..).map(|id| self.order_of(id)));
        let (store, window_kind) = (&self.store, self.kind);
        Order::sort(&mut order, |a, b| {
            let (a_entry, b_entry) = (store.entry(a.id), store.entry(b.id));
            store
                .key(a_entry.key)
                .cmp(&store.key(b_entry.key))
                .then_with(|| start_of(window_kind, a_entry).cmp(&start_of(window_kind, b_entry)))
                .then(a.id.cmp(&b.id))
        });
        order.dedup_by_key(|o| o.id);
        for place in &order {
            self.snapshot(place.id, kind);
        }
        order.clear();
        self.order = order;
    }

    fn order_of(&self, id: EntryId) -> Order {
        let entry = self.store.entry(id);
        let end = match self.kind {
            WindowKind::Count(_) | WindowKind::Time(WindowAssigner::Global) => {
                entry.stats.max_ts.saturating_add(1)
            }
            _ => entry.ns.end,
        };
        Order::new(end, self.store.key(entry.key), id)
    }

    /// The place of the window of `key` that ends at `end` and has no entry (windows
    /// derived from panes): its `id` is the key's.
    pub(super) fn order_of_key(&self, end: i64, key: KeyId) -> Order {
        Order::new(end, self.store.key(key), key)
    }

    /// Removes the state of the window a purge timer names; for sliding windows also
    /// the panes whose last window it is (the panes that start in its first slide);
    /// and the window's per-window state.
    ///
    /// # Errors
    /// When the per-window state cannot be deleted (the backend failed).
    fn purge(&mut self, timer: Timer) -> Result<(), OperatorError> {
        let Some(id) = self.store.current(timer.handle) else {
            return Ok(());
        };
        let (key, ns) = (self.store.entry(id).key, self.store.entry(id).ns);
        let cleared = self.clear_window_state(key, ns);
        self.store.remove(id);
        if let WindowKind::Sliding {
            assigner: WindowAssigner::Sliding { slide, .. },
            pane_ms,
        } = self.kind
            && ns.end.saturating_sub(ns.start) != pane_ms
        {
            let first_slide = ns.start..ns.start.saturating_add(slide).min(ns.end);
            let mut panes = std::mem::take(&mut self.due_ids);
            panes.extend(self.store.panes(key, first_slide).map(|(_, id)| id));
            for pane in panes.drain(..) {
                self.store.remove(pane);
            }
            self.due_ids = panes;
        }
        self.store.release(key);
        cleared
    }

    /// Fires, as early firings, the windows that received events since they last
    /// fired, once every `early_firing_ms` of processing time. The first call only
    /// starts the clock.
    pub(super) fn early_firing(
        &mut self,
        now_ms: i64,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        let Some(interval) = self.spec.early_firing_ms else {
            return Ok(());
        };
        let interval = i64::try_from(interval).unwrap_or(i64::MAX);
        match self.next_early {
            Some(next) if now_ms < next => return Ok(()),
            None => {
                self.next_early = Some(now_ms.saturating_add(interval));
                return Ok(());
            }
            Some(_) => self.next_early = Some(now_ms.saturating_add(interval)),
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        let mut candidates = Vec::new();
        let mut windows = Vec::new();
        for handle in dirty.drain(..) {
            let Some(slot) = self.store.current(handle) else {
                continue;
            };
            let entry = self.store.entry_mut(slot);
            entry.stats.dirty_listed = false;
            let (key, ns) = (entry.key, entry.ns);
            windows.clear();
            match self.kind {
                WindowKind::Sliding { assigner, .. } => assigner.assign(ns.start, &mut windows),
                _ => windows.push(ns),
            }
            for window in &windows {
                if let Some(id) = self.store.find(key, *window)
                    && self.changed_since_firing(id)
                {
                    candidates.push(id);
                }
            }
        }
        self.dirty = dirty;
        self.fire_in_order(&mut candidates, FiringKind::Early);
        self.flush_firings(out)
    }

    /// Whether window `id` has not completed and has a slot that received events after
    /// its last firing.
    fn changed_since_firing(&self, id: EntryId) -> bool {
        let entry = self.store.entry(id);
        let Some(state) = entry.window else {
            return false;
        };
        if state.complete {
            return false;
        }
        match self.kind {
            WindowKind::Sliding { .. } => self
                .store
                .panes(entry.key, entry.ns.start..entry.ns.end)
                .any(|(_, pane)| self.store.entry(pane).stats.last_seq > state.fired_seq),
            _ => entry.stats.last_seq > state.fired_seq,
        }
    }

    /// At the end of the input: the watermark goes to the end of time (every time
    /// window fires), then every window still holding data (count windows) fires.
    pub(super) fn end_of_input(&mut self, out: &mut Emitted) -> Result<(), OperatorError> {
        if self.watermark < Timestamp::MAX {
            self.advance_watermark(Timestamp::MAX, out)?;
        }
        let mut left = Vec::new();
        for key in self.store.keys_with_entries() {
            for (_, id) in self.store.entries(key) {
                let entry = self.store.entry(id);
                if entry.stats.count > 0 && entry.window.is_some_and(|state| !state.complete) {
                    left.push(id);
                }
            }
        }
        self.fire_in_order(&mut left, FiringKind::OnTime);
        let fired = self.flush_firings(out);
        self.store.sweep_keys();
        fired
    }
}

/// The start a firing of `entry` reports: its window's, or (count and global windows)
/// its first event's time.
fn start_of(kind: WindowKind, entry: &Entry) -> i64 {
    match kind {
        WindowKind::Count(_) | WindowKind::Time(WindowAssigner::Global) => entry.stats.min_ts,
        _ => entry.ns.start,
    }
}
