//! [`TimerIndex`]: entries (or keys) ordered by a time, popped in time order.

use std::collections::BTreeMap;

use super::EntryId;

/// An entry as it was when a timer was set: the timer is stale once the entry is gone
/// (its slot then has another generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle {
    pub id: EntryId,
    pub generation: u32,
}

/// One due entry of a [`TimerIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub at: i64,
    pub handle: Handle,
}

/// Items by time: entry [`Handle`]s, or the keys of windows derived from panes.
/// Timers are not removed when what they name goes away (a session merged into a
/// larger one): whoever pops them checks that the handle is still current and that
/// the entry still needs the timer. Windows of one grid share a time, so a timer costs
/// a push onto the time's list.
#[derive(Debug)]
pub struct TimerIndex<T = Handle> {
    by_time: BTreeMap<i64, Vec<T>>,
    spare: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for TimerIndex<T> {
    fn default() -> Self {
        TimerIndex {
            by_time: BTreeMap::new(),
            spare: Vec::new(),
            len: 0,
        }
    }
}

impl<T> TimerIndex<T> {
    pub fn schedule(&mut self, at: i64, item: T) {
        self.len += 1;
        if let Some(list) = self.by_time.get_mut(&at) {
            list.push(item);
            return;
        }
        let mut list = self.spare.pop().unwrap_or_default();
        list.push(item);
        self.by_time.insert(at, list);
    }

    /// Calls `each` with every item due at or before `upto` and its time, in time
    /// order (items of one time in the order they were scheduled), and forgets them.
    pub fn pop_due_each(&mut self, upto: i64, mut each: impl FnMut(i64, T)) {
        while let Some(entry) = self.by_time.first_entry() {
            if *entry.key() > upto {
                break;
            }
            let (at, mut list) = entry.remove_entry();
            self.len -= list.len();
            for item in list.drain(..) {
                each(at, item);
            }
            self.spare.push(list);
        }
    }

    /// Items scheduled and not popped (stale ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl TimerIndex<Handle> {
    /// Appends to `out` every entry due at or before `upto`, in time order (entries of
    /// one time in the order they were scheduled).
    pub fn pop_due(&mut self, upto: i64, out: &mut Vec<Timer>) {
        self.pop_due_each(upto, |at, handle| out.push(Timer { at, handle }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_up_to_the_bound() {
        let mut index = TimerIndex::default();
        let h = |id| Handle { id, generation: 0 };
        index.schedule(19, h(1));
        index.schedule(9, h(2));
        index.schedule(9, h(3));
        index.schedule(29, h(4));
        let mut out = Vec::new();
        index.pop_due(19, &mut out);
        let got: Vec<_> = out.iter().map(|t| (t.at, t.handle.id)).collect();
        assert_eq!(got, [(9, 2), (9, 3), (19, 1)]);
        assert_eq!(index.len(), 1);
        out.clear();
        index.pop_due(i64::MAX, &mut out);
        assert_eq!(
            out,
            [Timer {
                at: 29,
                handle: h(4)
            }]
        );
        assert!(index.is_empty());
    }
}
