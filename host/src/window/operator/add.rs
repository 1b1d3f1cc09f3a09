//! The `add` call of a sub-batch: gather the accumulators of its targets (merging the
//! accumulators of sessions merged in the sub-batch, with one `merge` call), make one
//! `add` call over the sub-batch's events, and store the accumulators it returns.

use weir_batch::Batch;

use super::sub_batch::SubBatch;
use crate::window::AggregateFunction;
use crate::window::function::{Packed, WindowFnError};
use crate::window::store::{EntryId, WindowStore};

/// Where a root target's accumulator comes from before `add`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Initial {
    Stored,
    Detached(EntryId),
    Merged(u32),
}

impl SubBatch {
    /// The accumulators for `add`: sessions merged in this sub-batch get the merge of
    /// their parts (one `merge` call for all), other slots their stored accumulator.
    /// Leaves them in `self.accs` and each event's accumulator in `self.add_targets`.
    fn gather(
        &mut self,
        store: &WindowStore,
        function: &mut dyn AggregateFunction,
        calls: &mut u64,
    ) -> Result<(), WindowFnError> {
        let count = self.targets.len();
        self.roots.clear();
        self.roots.resize(count, u32::MAX);
        let mut roots = 0u32;
        for t in 0..count as u32 {
            if self.find(t) == t {
                self.roots[t as usize] = roots;
                roots += 1;
            }
        }
        self.initial.clear();
        self.initial.resize(roots as usize, Initial::Stored);
        if !self.sources.is_empty() {
            let mut sources = std::mem::take(&mut self.sources);
            for source in &mut sources {
                let root = self.find(source.0);
                source.0 = self.roots[root as usize];
            }
            sources.sort_unstable();
            self.merge_inputs.clear();
            self.group_ends.clear();
            for group in sources.chunk_by(|a, b| a.0 == b.0) {
                let root = group[0].0 as usize;
                if let [(_, only)] = group {
                    self.initial[root] = Initial::Detached(*only);
                    continue;
                }
                for (_, detached) in group {
                    self.merge_inputs.push(&store.entry(*detached).acc);
                }
                self.initial[root] = Initial::Merged(self.group_ends.len() as u32);
                self.group_ends.push(self.merge_inputs.len() as u32);
            }
            self.sources = sources;
        }
        let merged = if self.group_ends.is_empty() {
            Packed::default()
        } else {
            *calls += 1;
            let merged = function.merge(&self.merge_inputs, &self.group_ends)?;
            merged
                .validate(self.group_ends.len())
                .map_err(|e| WindowFnError::input(format!("merge returned {e}")))?;
            self.group_ends.clear();
            merged
        };
        self.accs.clear();
        for (t, target) in self.targets.iter().enumerate() {
            let Some(&root) = self.roots.get(t).filter(|r| **r != u32::MAX) else {
                continue;
            };
            let acc: &[u8] = match self.initial[root as usize] {
                Initial::Stored => &store.entry(target.id).acc,
                Initial::Detached(id) => &store.entry(id).acc,
                Initial::Merged(group) => merged.get(group as usize).unwrap_or_default(),
            };
            self.accs.push(acc);
        }
        self.add_targets.clear();
        for i in 0..self.event_targets.len() {
            let root = self.find(self.event_targets[i]);
            self.add_targets.push(self.roots[root as usize]);
        }
        Ok(())
    }

    /// Stores the accumulators `add` returned.
    fn scatter(&mut self, store: &mut WindowStore) {
        for (t, target) in self.targets.iter().enumerate() {
            let root = self.roots[t];
            if root == u32::MAX {
                continue;
            }
            if let Some(acc) = self.accs.get(root as usize) {
                store.entry_mut(target.id).acc.set(acc);
            }
        }
    }
}

/// Merges, adds and stores the accumulators of the sub-batch.
pub(super) fn add_sub_batch(
    sub: &mut SubBatch,
    store: &mut WindowStore,
    function: &mut dyn AggregateFunction,
    batch: &Batch,
    calls: &mut u64,
) -> Result<(), WindowFnError> {
    if sub.events.is_empty() {
        return Ok(());
    }
    sub.gather(store, function, calls)?;
    let events = if sub.events.len() == batch.len() {
        batch
    } else {
        sub.events_batch.clear();
        if sub.events.len() * 8 < batch.len() {
            for &index in &sub.events {
                sub.events_batch.push_event(&batch.event(index as usize));
            }
        } else {
            let mut wanted = sub.events.iter().peekable();
            for event in batch.iter().skip(sub.start) {
                if wanted.peek().is_some_and(|index| **index == event.index) {
                    wanted.next();
                    sub.events_batch.push_event(&event);
                }
            }
        }
        &sub.events_batch
    };
    let expected = sub.accs.len();
    *calls += 1;
    function.add(&mut sub.accs, events, &sub.add_targets)?;
    sub.accs
        .validate(expected)
        .map_err(|e| WindowFnError::input(format!("add returned {e}")))?;
    sub.scatter(store);
    Ok(())
}
