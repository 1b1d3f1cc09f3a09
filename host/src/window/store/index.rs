//! [`TimerIndex`]: (key, namespace) pairs ordered by a time, popped in time order.

use std::collections::BTreeMap;

use super::keys::KeyId;
use crate::window::Window;

/// One due entry of a [`TimerIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub at: i64,
    pub key: KeyId,
    pub ns: Window,
}

/// (key, namespace) pairs by time. Entries are not removed when their window goes away
/// (a session merged into a larger one): whoever pops them checks that the window still
/// exists and still needs the timer. Windows of one grid share a time, so an entry
/// costs a push onto the time's list.
#[derive(Debug, Default)]
pub struct TimerIndex {
    by_time: BTreeMap<i64, Vec<(KeyId, Window)>>,
    spare: Vec<Vec<(KeyId, Window)>>,
    len: usize,
}

impl TimerIndex {
    pub fn schedule(&mut self, at: i64, key: KeyId, ns: Window) {
        self.len += 1;
        if let Some(list) = self.by_time.get_mut(&at) {
            list.push((key, ns));
            return;
        }
        let mut list = self.spare.pop().unwrap_or_default();
        list.push((key, ns));
        self.by_time.insert(at, list);
    }

    /// Appends to `out` every entry due at or before `upto`, in time order (entries of
    /// one time in the order they were scheduled).
    pub fn pop_due(&mut self, upto: i64, out: &mut Vec<Timer>) {
        while let Some(entry) = self.by_time.first_entry() {
            if *entry.key() > upto {
                break;
            }
            let (at, mut list) = entry.remove_entry();
            self.len -= list.len();
            out.extend(list.drain(..).map(|(key, ns)| Timer { at, key, ns }));
            self.spare.push(list);
        }
    }

    /// Entries scheduled and not popped (stale ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_up_to_the_bound() {
        let mut index = TimerIndex::default();
        let w = |s| Window::new(s, s + 10);
        index.schedule(19, 1, w(10));
        index.schedule(9, 2, w(0));
        index.schedule(9, 1, w(0));
        index.schedule(29, 1, w(20));
        let mut out = Vec::new();
        index.pop_due(19, &mut out);
        let got: Vec<_> = out.iter().map(|t| (t.at, t.key)).collect();
        assert_eq!(got, [(9, 2), (9, 1), (19, 1)]);
        assert_eq!(index.len(), 1);
        out.clear();
        index.pop_due(i64::MAX, &mut out);
        assert_eq!(out, [Timer { at: 29, key: 1, ns: w(20) }]);
        assert!(index.is_empty());
    }
}
