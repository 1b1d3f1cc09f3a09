//! Placing a batch's events: for each event, its state slot and windows (or the `late`
//! output), cutting the sub-batch when the event meets a window whose firing waits
//! for the `add` of earlier events.

use weir_batch::{Batch, EventRef, Timestamp};

use super::{LATE_OUTPUT, WindowOperator};
use crate::runtime::operator::{Emitted, OperatorError};
use crate::window::Window;
use crate::window::assigner::WindowAssigner;
use crate::window::spec::WindowKind;
use crate::window::store::KeyId;

/// Where an event goes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Plan {
    /// To the `late` output.
    Late,
    /// Nowhere: it falls in a gap between sliding windows.
    Unassigned,
    /// To this state slot (and the windows left in `sub.windows`).
    Slot(Window),
}

impl WindowOperator {
    pub(super) fn process_batch(
        &mut self,
        batch: &Batch,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        let base_seq = self.next_seq;
        self.next_seq += batch.len() as u64;
        self.sub.begin_batch();
        for (index, event) in batch.iter().enumerate() {
            self.place(batch, index, &event, base_seq, out)?;
        }
        self.flush_sub_batch(batch, batch.len(), base_seq, out)?;
        self.flush_firings(out)?;
        self.emit_late(batch, out);
        Ok(())
    }

    /// Places event `index` of `batch` into the current sub-batch.
    pub(super) fn place(
        &mut self,
        batch: &Batch,
        index: usize,
        event: &EventRef<'_>,
        base_seq: u64,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        let key = self.store.intern(event.key);
        match self.plan(key, event.timestamp) {
            Plan::Late => {
                self.sub.late.push(index as u32);
                self.store.release(key);
            }
            Plan::Unassigned => {
                self.sub.unassigned += 1;
                self.store.release(key);
            }
            Plan::Slot(slot) => {
                if !self.sub.pending_set.is_empty() && self.conflicts(key, slot) {
                    // A window of this event waits to fire with what came before it.
                    self.flush_sub_batch(batch, index, base_seq, out)?;
                    return self.place(batch, index, event, base_seq, out);
                }
                self.sub.events.push(index as u32);
                self.apply(key, slot, event, base_seq + index as u64);
            }
        }
        Ok(())
    }

    /// Where an event of `key` at `timestamp` goes; leaves its windows in `sub.windows`.
    fn plan(&mut self, key: KeyId, timestamp: Timestamp) -> Plan {
        self.sub.windows.clear();
        match self.kind {
            WindowKind::Time(WindowAssigner::Session { gap }) => {
                let proto = Window::new(timestamp, timestamp.saturating_add(gap));
                let mut merged = proto;
                // Sessions are disjoint and sorted: the ones that meet the proto-window
                // are the last ones starting at or before its end.
                for (ns, _) in self
                    .store
                    .range(key, i64::MIN..proto.end.saturating_add(1))
                    .rev()
                    .take_while(|(ns, _)| ns.intersects(&proto))
                {
                    merged = merged.cover(&ns);
                    self.sub.windows.push(ns);
                }
                if self.sub.windows.is_empty() && self.expired(proto) {
                    Plan::Late
                } else {
                    Plan::Slot(merged)
                }
            }
            WindowKind::Time(assigner) => {
                assigner.assign(timestamp, &mut self.sub.windows);
                match self.sub.windows.first() {
                    Some(&window) if self.expired(window) => Plan::Late,
                    Some(&window) => Plan::Slot(window),
                    None => Plan::Unassigned,
                }
            }
            WindowKind::Sliding { assigner, pane_ms } => {
                assigner.assign(timestamp, &mut self.sub.windows);
                if self.sub.windows.is_empty() {
                    return Plan::Unassigned;
                }
                let (watermark, lateness) = (self.watermark, self.spec.allowed_lateness_ms);
                self.sub
                    .windows
                    .retain(|window| window.max_timestamp().saturating_add(lateness) > watermark);
                if self.sub.windows.is_empty() {
                    return Plan::Late;
                }
                Plan::Slot(pane_of(assigner, pane_ms, timestamp))
            }
            WindowKind::Count(n) => {
                let last = self.store.entries(key).next_back();
                let slot = match last {
                    Some((ns, id)) if self.store.entry(id).stats.count < n => ns,
                    Some((ns, _)) => {
                        let next = ns.start.saturating_add(1);
                        Window::new(next, next.saturating_add(1))
                    }
                    None => Window::new(0, 1),
                };
                Plan::Slot(slot)
            }
        }
    }

    /// Whether the event's slot or windows have a firing waiting in this sub-batch.
    fn conflicts(&self, key: KeyId, slot: Window) -> bool {
        self.sub.pending_set.contains(&(key, slot))
            || self
                .sub
                .windows
                .iter()
                .any(|window| self.sub.pending_set.contains(&(key, *window)))
    }

    /// Sends the batch's late events to the `late` output, unchanged and in order.
    fn emit_late(&mut self, batch: &Batch, out: &mut Emitted) {
        if self.sub.late.is_empty() {
            return;
        }
        self.counters.late += self.sub.late.len() as u64;
        let position = match out.named.iter().position(|(name, _)| name == LATE_OUTPUT) {
            Some(position) => position,
            None => {
                out.named.push((LATE_OUTPUT.to_owned(), Batch::default()));
                out.named.len() - 1
            }
        };
        let late_batch = &mut out.named[position].1;
        if self.sub.late.len() * 8 < batch.len() {
            for &index in &self.sub.late {
                late_batch.push_event(&batch.event(index as usize));
            }
        } else {
            let mut wanted = self.sub.late.iter().peekable();
            for event in batch.iter() {
                if wanted.peek().is_some_and(|index| **index == event.index) {
                    wanted.next();
                    late_batch.push_event(&event);
                }
            }
        }
        self.sub.late.clear();
    }
}

/// The pane of `timestamp`: panes of `pane_ms` aligned with the windows' offset.
pub(super) fn pane_of(assigner: WindowAssigner, pane_ms: i64, timestamp: Timestamp) -> Window {
    let offset = match assigner {
        WindowAssigner::Sliding { offset, .. } => offset,
        _ => 0,
    };
    let (ts, pane) = (i128::from(timestamp), i128::from(pane_ms.max(1)));
    let start = ts - (ts - i128::from(offset)).rem_euclid(pane);
    let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    Window::new(clamp(start), clamp(start + pane))
}
