//! Firing: snapshot what a firing window holds into a [`FiringBuffer`], then compute
//! every buffered firing with one `merge` and one `finish` call (or one `process`
//! call) and emit the results.
//!
//! A result of an aggregate is an event: key = the window's key, timestamp = `end - 1`,
//! value = `finish`'s output, headers `window_start`, `window_end`, `firing`
//! (`early` / `on-time` / `late`) and `firing_index` (decimal text). If the batched
//! call fails for an input reason, each firing is computed alone and the ones that
//! still fail are dead-lettered (a window without an event: key, `end - 1`, the window
//! headers and the reason).

use weir_batch::Batch;

use super::firing_buffer::{finish_one, push_window_headers};
use super::{WindowFunction, WindowOperator};
use crate::runtime::dead_letter::DeadLetter;
use crate::runtime::operator::{Emitted, OperatorError};
use crate::window::assigner::WindowAssigner;
use crate::window::function::FiringKind;
use crate::window::spec::WindowKind;
use crate::window::store::{EntryId, EventBuffer, Timer};

impl WindowOperator {
    /// Snapshots window `id` into the firing buffer as a firing of `kind`, and updates
    /// its firing state; purges a count window that completes, schedules the purge of
    /// a time window that completes (or, when its cleanup time has come already, lists
    /// it for the purge that follows this watermark's firings).
    pub(super) fn snapshot(&mut self, id: EntryId, kind: FiringKind) {
        let by_events = matches!(
            self.kind,
            WindowKind::Count(_) | WindowKind::Time(WindowAssigner::Global)
        );
        let entry = self.store.entry_mut(id);
        let (key, ns) = (entry.key, entry.ns);
        let Some(state) = entry.window.as_mut() else {
            return;
        };
        let index = state.firings;
        state.firings = state.firings.saturating_add(1);
        state.fired_seq = self.last_seq;
        let completes = kind != FiringKind::Early && !state.complete;
        if kind != FiringKind::Early {
            state.complete = true;
        }
        let bounds = if by_events {
            (entry.stats.min_ts, entry.stats.max_ts.saturating_add(1))
        } else {
            (ns.start, ns.end)
        };
        let panes = match self.kind {
            WindowKind::Sliding { pane_ms, .. } if ns.end.saturating_sub(ns.start) != pane_ms => {
                Some(pane_ms)
            }
            _ => None,
        };
        let store = &self.store;
        // Panes are aligned with the windows: those that start in a window end in it.
        let pane_ids = move || store.panes(key, ns.start..ns.end).map(|(_, id)| id);
        match (&self.function, panes) {
            (WindowFunction::Aggregate(_), Some(_)) => {
                let accs = pane_ids().map(|id| &store.entry(id).acc[..]);
                self.firing.push_group(accs);
            }
            (WindowFunction::Aggregate(_), None) => {
                self.firing.push_direct(&store.entry(id).acc);
            }
            (WindowFunction::Process(_), _) => {
                let buffers: Vec<&EventBuffer> = match panes {
                    Some(_) => pane_ids()
                        .filter_map(|id| store.entry(id).events.as_deref())
                        .collect(),
                    None => store.entry(id).events.as_deref().into_iter().collect(),
                };
                self.firing.push_events(&buffers);
            }
        }
        self.firing.push_firing(store.key(key), bounds, kind, index);
        self.firing_windows.push(ns);
        self.counters.firings += 1;
        match self.kind {
            WindowKind::Count(_) if kind != FiringKind::Early => {
                self.store.remove(id);
                self.store.release(key);
            }
            _ if completes => {
                let at = self.cleanup_time(ns);
                if at <= self.watermark {
                    let handle = self.store.handle(id);
                    self.purge_now.push(Timer { at, handle });
                } else {
                    self.store.schedule_purge(at, id);
                }
            }
            _ => {}
        }
    }

    /// Computes and emits every buffered firing.
    pub(super) fn flush_firings(&mut self, out: &mut Emitted) -> Result<(), OperatorError> {
        if self.firing.len == 0 {
            return Ok(());
        }
        let result = match &mut self.function {
            WindowFunction::Aggregate(function) => {
                let calls = &mut self.counters.calls;
                self.firing.finish_all(function.as_mut(), out, calls)
            }
            WindowFunction::Process(_) => self.process_firings(0..self.firing.len, out),
        };
        let outcome = match result {
            Ok(()) => Ok(()),
            Err(error) if error.fatal => Err(self.error(format!("window function: {error}"))),
            Err(error) => {
                tracing::warn!(
                    operator = %self.name,
                    windows = self.firing.len,
                    error = %error,
                    "window firing failed; computing the windows one by one"
                );
                self.fire_one_by_one(out)
            }
        };
        self.firing.clear();
        self.firing_windows.clear();
        outcome
    }

    fn fire_one_by_one(&mut self, out: &mut Emitted) -> Result<(), OperatorError> {
        for i in 0..self.firing.len {
            let result = match &mut self.function {
                WindowFunction::Aggregate(function) => {
                    finish_one(&self.firing, i, function.as_mut(), out)
                }
                WindowFunction::Process(_) => self.process_firings(i..i + 1, out),
            };
            self.counters.calls += 1;
            match result {
                Ok(()) => {}
                Err(error) if error.fatal => {
                    return Err(self.error(format!("window function: {error}")));
                }
                Err(error) => self.dead_letter_firing(i, &error.message, out),
            }
        }
        Ok(())
    }

    /// Dead-letters firing `i` of the buffer: its events (process functions), or the
    /// window itself (aggregates).
    fn dead_letter_firing(&mut self, i: usize, reason: &str, out: &mut Emitted) {
        let firing = &self.firing.firings[i];
        if let WindowFunction::Process(_) = self.function {
            let from = if i == 0 {
                0
            } else {
                self.firing.event_ends[i - 1] as usize
            };
            let to = self.firing.event_ends[i] as usize;
            for event in self.firing.events.iter().skip(from).take(to - from) {
                self.counters.dead_lettered += 1;
                out.dead_letters
                    .push(DeadLetter::for_event(self.origin.clone(), reason, &event));
            }
            return;
        }
        let mut headers = Batch::default();
        headers.push(None, &[], 0);
        push_window_headers(&mut headers, firing);
        let event = headers.event(0);
        let mut letter = DeadLetter::for_event(self.origin.clone(), reason, &event);
        letter.key.clone_from(&firing.key);
        letter.timestamp = Some(firing.end.saturating_sub(1));
        self.counters.dead_lettered += 1;
        out.dead_letters.push(letter);
    }
}
