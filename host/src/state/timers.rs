//! [`TimerService`]: the timers of one operator subtask, per time domain.
//!
//! Timers are state: each one is an entry in the backend (key laid out by
//! [`encoding::timer_key`], empty value), so a checkpoint holds them and
//! [`TimerService::restore`] brings them back. Firing needs them in time order across
//! all keys, so the service also keeps an in-memory index: one ordered set per domain,
//! ordered `(at, key group, key, namespace)`. The index always mirrors the timer
//! entries the service's backend shows.
//!
//! Transactions: the service writes its entries through whatever backend it is given —
//! during a plugin call, the call's [`Overlay`](super::Overlay) — and applies each
//! change to its index at once (so a call sees its own registrations), recording an
//! undo entry. [`TimerService::commit`] forgets the undo log;
//! [`TimerService::rollback`] replays it backwards. Call them together with the
//! overlay's (as [`SubtaskState`](super::SubtaskState) does), and a failed call leaves
//! neither entries nor index changes behind.
//!
//! Laws (property-tested): registration is idempotent — `(domain, at, key, namespace)`
//! fires once; `pop_due` returns exactly the timers with `at <= up_to`, in order, and
//! removes them; after a rollback the index is what it was at the last commit; the index
//! equals what `restore` rebuilds from the backend.
//!
//! ```
//! use weir_host::state::{MemoryBackend, TimeDomain, TimerService};
//!
//! let mut backend = MemoryBackend::new();
//! let mut timers = TimerService::new();
//! let event = TimeDomain::EventTime;
//! timers.register(&mut backend, event, 2_000, 5, b"card-1", b"")?;
//! timers.register(&mut backend, event, 1_000, 9, b"card-2", b"")?;
//! timers.register(&mut backend, event, 1_000, 9, b"card-2", b"")?; // once only
//! timers.commit();
//! assert_eq!(timers.next_due(event), Some(1_000));
//!
//! let mut due = Vec::new();
//! timers.pop_due(&mut backend, event, 1_500, &mut due)?;
//! assert_eq!(due.len(), 1);
//! assert_eq!((due[0].at, &due[0].key[..]), (1_000, &b"card-2"[..]));
//! timers.rollback(); // the call that handled it failed: it is due again
//! assert_eq!(timers.next_due(event), Some(1_000));
//! # Ok::<(), weir_host::state::StateError>(())
//! ```

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Range;

use weir_batch::Timestamp;

use super::{KeyGroup, ScanControl, StateBackend, StateError, encoding};

/// The clock a timer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeDomain {
    /// The operator's watermark: deterministic, replays give the same firings.
    EventTime,
    /// The host's wall clock, in ms since the Unix epoch. Not replayable.
    ProcessingTime,
}

impl TimeDomain {
    fn index(self) -> usize {
        match self {
            TimeDomain::EventTime => 0,
            TimeDomain::ProcessingTime => 1,
        }
    }
}

/// A timer of one domain. The order is the firing order: `(at, key_group, key,
/// namespace)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timer {
    /// When it is due.
    pub at: Timestamp,
    /// The key group of `key`.
    pub key_group: KeyGroup,
    /// The record key it is for.
    pub key: Vec<u8>,
    /// The window it is for, or empty.
    pub namespace: Vec<u8>,
}

/// The timers of one operator subtask (see the module docs).
#[derive(Debug, Default)]
pub struct TimerService {
    index: [BTreeSet<Timer>; 2],
    undo: Vec<Undo>,
    key: Vec<u8>,
}

/// How to undo one change to the index.
#[derive(Debug)]
enum Undo {
    /// The timer was added: remove it.
    Added(TimeDomain, Timer),
    /// The timer was removed: add it back.
    Removed(TimeDomain, Timer),
}

impl TimerService {
    /// A service without timers.
    pub fn new() -> Self {
        TimerService::default()
    }

    /// The service of a subtask that owns `key_groups`, with the timers `backend`
    /// holds for them.
    ///
    /// # Errors
    /// When the backend fails or holds a timer entry that does not decode.
    pub fn restore<B: StateBackend + ?Sized>(
        backend: &B,
        key_groups: Range<KeyGroup>,
    ) -> Result<Self, StateError> {
        let mut service = TimerService::new();
        let mut failed = None;
        for key_group in key_groups {
            service.key.clear();
            encoding::timer_group_prefix(&mut service.key, key_group);
            backend.scan_prefix(
                &service.key,
                &mut |key, _| match encoding::decode_timer_key(key) {
                    Ok(timer) => {
                        service.index[timer.domain.index()].insert(Timer {
                            at: timer.at,
                            key_group: timer.key_group,
                            key: timer.key.to_vec(),
                            namespace: timer.namespace.to_vec(),
                        });
                        ScanControl::Continue
                    }
                    Err(error) => {
                        failed = Some(error);
                        ScanControl::Stop
                    }
                },
            )?;
            if let Some(error) = failed {
                return Err(error);
            }
        }
        Ok(service)
    }

    /// Registers a timer; returns whether it is new (a timer registered twice fires
    /// once). Registering an existing timer writes nothing and allocates nothing.
    ///
    /// # Errors
    /// A key or namespace over its limit, or a backend failure.
    pub fn register<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        domain: TimeDomain,
        at: Timestamp,
        key_group: KeyGroup,
        key: &[u8],
        namespace: &[u8],
    ) -> Result<bool, StateError> {
        let probe = Probe(at, key_group, key, namespace);
        if self.index[domain.index()].contains(&probe as &dyn TimerOrd) {
            return Ok(false);
        }
        self.key.clear();
        encoding::timer_key(&mut self.key, domain, at, key_group, key, namespace)?;
        backend.put(&self.key, &[])?;
        let timer = Timer {
            at,
            key_group,
            key: key.to_vec(),
            namespace: namespace.to_vec(),
        };
        self.index[domain.index()].insert(timer.clone());
        self.undo.push(Undo::Added(domain, timer));
        Ok(true)
    }

    /// Deletes a timer; returns whether there was one.
    ///
    /// # Errors
    /// A key or namespace over its limit, or a backend failure.
    pub fn delete<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        domain: TimeDomain,
        at: Timestamp,
        key_group: KeyGroup,
        key: &[u8],
        namespace: &[u8],
    ) -> Result<bool, StateError> {
        let probe = Probe(at, key_group, key, namespace);
        if !self.index[domain.index()].contains(&probe as &dyn TimerOrd) {
            return Ok(false);
        }
        self.key.clear();
        encoding::timer_key(&mut self.key, domain, at, key_group, key, namespace)?;
        backend.delete(&self.key)?;
        if let Some(timer) = self.index[domain.index()].take(&probe as &dyn TimerOrd) {
            self.undo.push(Undo::Removed(domain, timer));
        }
        Ok(true)
    }

    /// Removes the timers of `domain` due at `up_to` (`at <= up_to`) and appends them
    /// to `out` in firing order.
    ///
    /// # Errors
    /// A backend failure; timers popped before it are in `out` and the index, so roll
    /// back.
    pub fn pop_due<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        domain: TimeDomain,
        up_to: Timestamp,
        out: &mut Vec<Timer>,
    ) -> Result<(), StateError> {
        let index = &mut self.index[domain.index()];
        while index.first().is_some_and(|first| first.at <= up_to) {
            let Some(timer) = index.pop_first() else {
                break;
            };
            self.key.clear();
            let encoded = encoding::timer_key(
                &mut self.key,
                domain,
                timer.at,
                timer.key_group,
                &timer.key,
                &timer.namespace,
            );
            out.push(timer.clone());
            self.undo.push(Undo::Removed(domain, timer));
            encoded?;
            backend.delete(&self.key)?;
        }
        Ok(())
    }

    /// When the next timer of `domain` is due, if there is one.
    pub fn next_due(&self, domain: TimeDomain) -> Option<Timestamp> {
        self.index[domain.index()].first().map(|timer| timer.at)
    }

    /// Number of timers of `domain`.
    pub fn len(&self, domain: TimeDomain) -> usize {
        self.index[domain.index()].len()
    }

    /// Whether there is no timer in any domain.
    pub fn is_empty(&self) -> bool {
        self.index.iter().all(BTreeSet::is_empty)
    }

    /// The timers of `domain`, in firing order.
    pub fn iter(&self, domain: TimeDomain) -> impl Iterator<Item = &Timer> {
        self.index[domain.index()].iter()
    }

    /// Whether changes were made since the last commit or rollback.
    pub fn has_uncommitted(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Keeps the changes made since the last commit or rollback. Call it when the
    /// backend those changes went through has committed.
    pub fn commit(&mut self) {
        self.undo.clear();
    }

    /// Undoes the changes made since the last commit or rollback. Call it when the
    /// backend those changes went through has rolled back.
    pub fn rollback(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Added(domain, timer) => {
                    self.index[domain.index()].remove(&timer);
                }
                Undo::Removed(domain, timer) => {
                    self.index[domain.index()].insert(timer);
                }
            }
        }
    }
}

/// A timer seen as its ordered parts, so that the index can be searched with borrowed
/// keys (no allocation to find out that a timer is already registered).
trait TimerOrd {
    fn parts(&self) -> (Timestamp, KeyGroup, &[u8], &[u8]);
}

impl TimerOrd for Timer {
    fn parts(&self) -> (Timestamp, KeyGroup, &[u8], &[u8]) {
        (self.at, self.key_group, &self.key, &self.namespace)
    }
}

/// A borrowed timer: `(at, key_group, key, namespace)`.
struct Probe<'a>(Timestamp, KeyGroup, &'a [u8], &'a [u8]);

impl TimerOrd for Probe<'_> {
    fn parts(&self) -> (Timestamp, KeyGroup, &[u8], &[u8]) {
        (self.0, self.1, self.2, self.3)
    }
}

// `Timer`'s derived order is the order of its parts, so borrowing agrees with it.
impl<'a> Borrow<dyn TimerOrd + 'a> for Timer {
    fn borrow(&self) -> &(dyn TimerOrd + 'a) {
        self
    }
}

impl PartialEq for dyn TimerOrd + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn TimerOrd + '_ {}

impl PartialOrd for dyn TimerOrd + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn TimerOrd + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::state::MemoryBackend;

    #[test]
    fn a_timer_outside_the_restored_key_groups_is_not_restored() {
        let mut backend = MemoryBackend::new();
        let mut timers = TimerService::new();
        for key_group in 0..4 {
            timers
                .register(&mut backend, TimeDomain::EventTime, 1, key_group, b"k", b"")
                .unwrap();
        }
        let restored = TimerService::restore(&backend, 1..3).unwrap();
        let groups: Vec<_> = restored
            .iter(TimeDomain::EventTime)
            .map(|t| t.key_group)
            .collect();
        assert_eq!(groups, [1, 2]);
    }
}
