//! [`Entry`]: what the window operator keeps for one (key, namespace).

use weir_batch::{Batch, EventRef, Timestamp};

use super::acc::AccBytes;
use super::keys::KeyId;
use crate::window::Window;

/// The state of one (key, namespace): a state slot (a window, or a pane of sliding
/// windows) with its accumulator or buffered events and statistics, and — when the
/// namespace is a window — the window's firing state. For sliding windows, panes and
/// windows are separate entries (one entry when a pane is a whole window).
#[derive(Debug)]
pub struct Entry {
    /// The key (fixed while the entry is in the store).
    pub key: KeyId,
    /// The namespace (fixed while the entry is in the store): a window, a pane, or
    /// (count windows) `[seq, seq + 1)`.
    pub ns: Window,
    /// The aggregate's accumulator; empty means fresh.
    pub acc: AccBytes,
    /// The buffered events (process-function windows only).
    pub events: Option<Box<EventBuffer>>,
    /// What the slot has received.
    pub stats: SlotStats,
    /// Firing state, when the namespace is a window.
    pub window: Option<WindowState>,
}

impl Entry {
    /// An entry for (key, ns) with nothing in it.
    pub fn new(key: KeyId, ns: Window) -> Self {
        Entry {
            key,
            ns,
            acc: AccBytes::default(),
            events: None,
            stats: SlotStats::EMPTY,
            window: None,
        }
    }

    /// Empties the entry for reuse as (key, ns), keeping its accumulator's buffer.
    pub(super) fn reset(&mut self, key: KeyId, ns: Window) {
        self.key = key;
        self.ns = ns;
        self.acc.clear();
        self.events = None;
        self.stats = SlotStats::EMPTY;
        self.window = None;
    }
}

/// Events received by a state slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotStats {
    /// Events received.
    pub count: u64,
    /// Smallest and largest event time received (`i64::MAX` / `i64::MIN` when empty).
    pub min_ts: Timestamp,
    pub max_ts: Timestamp,
    /// Arrival sequence number of the last event received (0: none).
    pub last_seq: u64,
    /// Whether the slot is on the operator's list of slots to check at the next early
    /// firing.
    pub dirty_listed: bool,
}

impl SlotStats {
    /// No events.
    pub const EMPTY: SlotStats = SlotStats {
        count: 0,
        min_ts: Timestamp::MAX,
        max_ts: Timestamp::MIN,
        last_seq: 0,
        dirty_listed: false,
    };

    /// Counts one event.
    pub fn record(&mut self, timestamp: Timestamp, seq: u64) {
        self.count += 1;
        self.min_ts = self.min_ts.min(timestamp);
        self.max_ts = self.max_ts.max(timestamp);
        self.last_seq = self.last_seq.max(seq);
    }

    /// Counts the events of `other` too (sessions that merge).
    pub fn absorb(&mut self, other: &SlotStats) {
        self.count += other.count;
        self.min_ts = self.min_ts.min(other.min_ts);
        self.max_ts = self.max_ts.max(other.max_ts);
        self.last_seq = self.last_seq.max(other.last_seq);
    }
}

/// The firing state of one key's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowState {
    /// Firings so far: the next firing's `index`.
    pub firings: u32,
    /// The window has had its regular (on-time) firing, or a late one: from now on every
    /// event it receives re-fires it, until it is purged.
    pub complete: bool,
    /// The arrival sequence number of the last event before the last firing: slots
    /// with a later `last_seq` have changed since.
    pub fired_seq: u64,
    /// Events received since the last count-trigger firing.
    pub trigger_count: u64,
}

impl WindowState {
    /// The state of a window made of merging sessions: the most firings any had, not
    /// complete (the operator re-fires it if it is due), and changed if any part had.
    pub fn merged(parts: impl Iterator<Item = (WindowState, bool)>) -> WindowState {
        let mut merged = WindowState::default();
        let mut changed = false;
        for (part, part_changed) in parts {
            merged.firings = merged.firings.max(part.firings);
            merged.fired_seq = merged.fired_seq.max(part.fired_seq);
            merged.trigger_count += part.trigger_count;
            changed |= part_changed;
        }
        if changed {
            merged.fired_seq = 0;
        }
        merged
    }
}

/// The events a process-function window has buffered, with their arrival sequence
/// numbers (which order ties of timestamps).
#[derive(Debug, Default)]
pub struct EventBuffer {
    pub events: Batch,
    pub seqs: Vec<u64>,
}

impl EventBuffer {
    /// Buffers a copy of `event`.
    pub fn push(&mut self, event: &EventRef<'_>, seq: u64) {
        self.events.push_event(event);
        self.seqs.push(seq);
    }

    /// Moves the events of `other` to this buffer.
    pub fn append(&mut self, other: EventBuffer) {
        self.events.append(other.events);
        self.seqs.extend(other.seqs);
    }
}
