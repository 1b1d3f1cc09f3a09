//! Applying a placed event to the state: its slot's statistics (and buffered events),
//! its windows' firing state, session merges, and the firings it triggers.

use weir_batch::EventRef;

use super::sub_batch::Undo;
use super::{WindowFunction, WindowOperator};
use crate::window::Window;
use crate::window::function::FiringKind;
use crate::window::spec::{TriggerSpec, WindowKind};
use crate::window::store::{Entry, EntryId, EventBuffer, KeyId, SlotStats, WindowState};

impl WindowOperator {
    /// Applies `event` (arrival number `seq`) of `key` to `slot`, as planned.
    pub(super) fn apply(&mut self, key: KeyId, slot: Window, event: &EventRef<'_>, seq: u64) {
        self.last_seq = self.last_seq.max(seq);
        let counting = matches!(self.spec.trigger, TriggerSpec::Count(_));
        match self.kind {
            WindowKind::Time(assigner) if assigner.is_merging() => {
                let covered = matches!(self.sub.windows[..], [only] if only == slot);
                if !covered && !self.sub.windows.is_empty() {
                    self.merge_sessions(key, slot);
                }
                let (id, created) = self.record(key, slot, event, seq);
                if created || counting || self.due(slot) {
                    self.window_event(key, slot, Some(id));
                }
            }
            WindowKind::Time(_) => {
                let (id, created) = self.record(key, slot, event, seq);
                if created || counting || self.due(slot) {
                    self.window_event(key, slot, Some(id));
                }
            }
            WindowKind::Sliding { .. } if self.derives => {
                let (_, created) = self.record(key, slot, event, seq);
                if created {
                    self.schedule_derived_windows(key, slot);
                }
            }
            WindowKind::Sliding { pane_ms, .. } => {
                // Before the pane exists: the key's newest pane and window.
                let size = slot_size(self.sub.windows.first());
                let newest = self.newest_pane_and_window(key, pane_ms, size);
                let (_, created) = self.record(key, slot, event, seq);
                // A pane newer than all others: its live windows up to the newest one
                // exist (each contains the previous newest pane, made with it).
                let known = match newest {
                    (Some(pane), Some(window)) if created && pane < slot.start => window,
                    _ => i64::MIN,
                };
                for at in 0..self.sub.windows.len() {
                    let window = self.sub.windows[at];
                    let unknown = created && (known == i64::MIN || window.start > known);
                    if unknown || counting || self.due(window) {
                        self.window_event(key, window, None);
                    }
                }
            }
            WindowKind::Count(n) => {
                let (id, _) = self.record(key, slot, event, seq);
                self.count_event(id, n);
            }
        }
    }

    /// The starts of the newest pane and of the newest window of `key` (sliding windows
    /// of `size` made of panes of `pane_ms`).
    fn newest_pane_and_window(
        &self,
        key: KeyId,
        pane_ms: i64,
        size: i64,
    ) -> (Option<i64>, Option<i64>) {
        // Windows one pane long live in the pane lane (they are their own pane).
        let pane = self.store.last(key, true).map(|(ns, _)| ns.start);
        let window = match size == pane_ms {
            true => pane,
            false => self.store.last(key, false).map(|(ns, _)| ns.start),
        };
        (pane, window)
    }

    /// Counts `event` in slot (key, ns), creating the slot if needed; its id, and
    /// `true` if created.
    fn record(
        &mut self,
        key: KeyId,
        ns: Window,
        event: &EventRef<'_>,
        seq: u64,
    ) -> (EntryId, bool) {
        let (id, created) = self.store.get_or_insert(key, ns);
        let sub = &mut self.sub;
        let target = match sub.target_of(id) {
            Some(target) => target,
            None => {
                sub.undo.push(if created {
                    Undo::Created(id)
                } else {
                    Undo::Stats(id, self.store.entry(id).stats)
                });
                sub.target(id)
            }
        };
        sub.event_targets.push(target);
        let entry = self.store.entry_mut(id);
        entry.stats.record(event.timestamp, seq);
        if let WindowFunction::Process(_) = self.function {
            entry
                .events
                .get_or_insert_with(Box::default)
                .push(event, seq);
        }
        if self.spec.early_firing_ms.is_some() && !entry.stats.dirty_listed {
            entry.stats.dirty_listed = true;
            let handle = self.store.handle(id);
            self.dirty.push(handle);
            self.trim_dirty();
        }
        (id, created)
    }

    /// Keeps the early-firing list in proportion to the state when processing time
    /// does not come (entries purged since they were listed leave it).
    fn trim_dirty(&mut self) {
        if self.dirty.len() > 4096 && self.dirty.len() > 2 * self.store.len() {
            let store = &self.store;
            self.dirty.retain(|handle| store.current(*handle).is_some());
        }
    }

    /// Updates the firing state of time window (key, window) for one event: makes it
    /// (and its firing timer) if new, re-fires it if it is due (a late event), and
    /// runs the count trigger. `known`: the window's entry, when the caller has it.
    fn window_event(&mut self, key: KeyId, window: Window, known: Option<EntryId>) {
        let due = self.due(window);
        // A known entry was made (and logged) by the caller: its firing state is new.
        let (id, created) = match known {
            Some(id) => (id, false),
            None => self.store.get_or_insert(key, window),
        };
        let entry = self.store.entry_mut(id);
        self.sub.undo.push(if created {
            Undo::Created(id)
        } else {
            Undo::Window(id, entry.window)
        });
        let fresh = entry.window.is_none();
        let state = entry.window.get_or_insert_with(WindowState::default);
        if due {
            self.sub.push_pending(id, key, window, FiringKind::Late);
        } else if let TriggerSpec::Count(n) = self.spec.trigger {
            state.trigger_count += 1;
            if state.trigger_count >= n {
                state.trigger_count = 0;
                self.sub.push_pending(id, key, window, FiringKind::Early);
            }
        }
        if fresh && !due {
            self.store.schedule_fire(window.max_timestamp(), id);
        }
    }

    /// The count window `id` received an event: it fires on time (and goes) when it
    /// holds `n`, early by the count trigger before.
    fn count_event(&mut self, id: EntryId, n: u64) {
        let entry = self.store.entry_mut(id);
        self.sub.undo.push(Undo::Window(id, entry.window));
        let (key, ns) = (entry.key, entry.ns);
        let state = entry.window.get_or_insert_with(WindowState::default);
        if entry.stats.count >= n {
            self.sub.push_pending(id, key, ns, FiringKind::OnTime);
        } else if let TriggerSpec::Count(every) = self.spec.trigger {
            state.trigger_count += 1;
            if state.trigger_count >= every {
                state.trigger_count = 0;
                self.sub.push_pending(id, key, ns, FiringKind::Early);
            }
        }
    }

    /// Replaces the sessions in `sub.windows` by one session `merged` holding all
    /// their events: statistics add up, buffered events concatenate, accumulators are
    /// merged before the sub-batch's `add` (the detached sessions keep them until the
    /// sub-batch is committed).
    fn merge_sessions(&mut self, key: KeyId, merged: Window) {
        let mut stats = SlotStats::EMPTY;
        let mut events: Option<Box<EventBuffer>> = None;
        let mut parts = Vec::with_capacity(self.sub.windows.len());
        let first = self.sub.undo.len();
        for at in 0..self.sub.windows.len() {
            let Some(id) = self.store.find(key, self.sub.windows[at]) else {
                continue;
            };
            self.store.detach(id);
            self.sub.undo.push(Undo::Detached(id));
            let old = self.store.entry_mut(id);
            stats.absorb(&old.stats);
            if let Some(state) = old.window {
                parts.push((state, old.stats.last_seq > state.fired_seq));
            }
            if let Some(buffer) = old.events.take() {
                match events.as_mut() {
                    Some(events) => events.append(*buffer),
                    None => events = Some(buffer),
                }
            }
        }
        stats.dirty_listed = self.spec.early_firing_ms.is_some();
        let mut entry = Entry::new(key, merged);
        entry.stats = stats;
        entry.events = events;
        entry.window = Some(WindowState::merged(parts.into_iter()));
        let id = self.store.insert(entry);
        let root = self.sub.target(id);
        for at in first..self.sub.undo.len() {
            let Undo::Detached(part) = self.sub.undo[at] else {
                continue;
            };
            if let Some(target) = self.sub.target_of(part) {
                self.sub.targets[target as usize].parent = root;
                self.sub.forget_target(part);
            }
            if !self.store.entry(part).acc.is_empty() {
                self.sub.sources.push((root, part));
            }
        }
        self.sub.undo.push(Undo::Created(id));
        if !self.due(merged) {
            self.store.schedule_fire(merged.max_timestamp(), id);
        }
        if self.spec.early_firing_ms.is_some() {
            let handle = self.store.handle(id);
            self.dirty.push(handle);
        }
    }
}

fn slot_size(window: Option<&Window>) -> i64 {
    window.map_or(0, |w| w.end.saturating_sub(w.start))
}
