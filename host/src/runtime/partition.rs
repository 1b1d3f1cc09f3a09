//! [`KeyGroupSplitter`]: the exchange in front of a keyed operator. Each event goes
//! to the subtask that owns its key's key group ([`crate::state::key_group`]).
//!
//! Laws (tested below):
//! - every event goes to `subtask_of(key_group_of(key))`, so all events of one key
//!   reach one subtask;
//! - the sub-batches hold every event exactly once, each in the order of the input
//!   (so per-key order is kept);
//! - a batch whose events all go to one subtask (always, with one subtask) is passed
//!   on as it is, not copied.
//!
//! Events reach a keyed exchange with a key (the [`super::key_selector::KeySelector`]
//! sees to that); one without a key would count as the empty key.

use weir_batch::Batch;

use crate::state::{KeyGroup, key_group_of, subtask_of};

/// Splits batches by key group over `parallelism` subtasks; reuses its buffers.
#[derive(Debug, Clone)]
pub struct KeyGroupSplitter {
    max_key_groups: KeyGroup,
    parallelism: usize,
    /// The subtask of each event of the batch being split.
    targets: Vec<u32>,
    /// Events and value bytes per subtask.
    counts: Vec<(usize, usize)>,
    /// Where each subtask's sub-batch is in the output.
    slots: Vec<usize>,
}

impl KeyGroupSplitter {
    /// A splitter over `parallelism` subtasks (at least 1) and `max_key_groups` key
    /// groups.
    pub fn new(max_key_groups: KeyGroup, parallelism: usize) -> Self {
        let parallelism = parallelism.max(1);
        KeyGroupSplitter {
            max_key_groups,
            parallelism,
            targets: Vec::new(),
            counts: vec![(0, 0); parallelism],
            slots: vec![0; parallelism],
        }
    }

    /// Appends to `out` a `(subtask, events)` pair per subtask that gets events of
    /// `batch`, in subtask order.
    pub fn split(&mut self, batch: Batch, out: &mut Vec<(usize, Batch)>) {
        if batch.is_empty() {
            return;
        }
        if self.parallelism == 1 {
            out.push((0, batch));
            return;
        }
        self.targets.clear();
        self.counts.iter_mut().for_each(|count| *count = (0, 0));
        for event in batch.iter() {
            let group = key_group_of(event.key.unwrap_or_default(), self.max_key_groups);
            let subtask = subtask_of(group, self.max_key_groups, self.parallelism);
            // Subtasks are fewer than key groups, which fit in a u16.
            self.targets.push(subtask as u32);
            let count = &mut self.counts[subtask];
            count.0 += 1;
            count.1 += event.value.len();
        }
        if let Some(only) = self
            .counts
            .iter()
            .position(|&(events, _)| events == batch.len())
        {
            out.push((only, batch));
            return;
        }
        for (subtask, &(events, bytes)) in self.counts.iter().enumerate() {
            if events > 0 {
                self.slots[subtask] = out.len();
                out.push((subtask, Batch::with_capacity(events, bytes)));
            }
        }
        for (event, &subtask) in batch.iter().zip(&self.targets) {
            out[self.slots[subtask as usize]].1.push_event(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_event_goes_once_to_its_key_groups_subtask_in_order(
            keys in proptest::collection::vec(0u8..20, 0..200),
            parallelism in 1usize..6,
            max_key_groups in 1u16..300,
        ) {
            let mut batch = Batch::default();
            for (index, key) in keys.iter().enumerate() {
                batch.push(Some(format!("k{key}").as_bytes()), &index.to_le_bytes(), index as i64);
                if index % 3 == 0 {
                    batch.push_header("n", &[*key]);
                }
            }
            let mut splitter = KeyGroupSplitter::new(max_key_groups, parallelism);
            let mut out = Vec::new();
            splitter.split(batch.clone(), &mut out);
            let mut seen = 0;
            let mut previous = None;
            for (subtask, part) in &out {
                prop_assert!(previous.is_none_or(|previous| previous < *subtask), "subtask order");
                previous = Some(*subtask);
                prop_assert!(!part.is_empty());
                prop_assert!(part.validate().is_ok());
                let mut last = None;
                for event in part.iter() {
                    let key = event.key.expect("keyed");
                    prop_assert_eq!(subtask_of(key_group_of(key, max_key_groups), max_key_groups, parallelism), *subtask);
                    let original = batch.event(event.timestamp as usize);
                    let headers = |headers: &[weir_batch::Header]| {
                        headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect::<Vec<_>>()
                    };
                    prop_assert_eq!((original.key, original.value), (event.key, event.value));
                    prop_assert_eq!(headers(original.headers), headers(event.headers));
                    prop_assert!(last.is_none_or(|last| last < event.timestamp), "input order");
                    last = Some(event.timestamp);
                    seen += 1;
                }
            }
            prop_assert_eq!(seen, batch.len());
        }
    }

    #[test]
    fn one_target_passes_the_batch_through() {
        let mut batch = Batch::default();
        for index in 0..10 {
            batch.push(Some(b"same"), b"v", index);
        }
        let mut out = Vec::new();
        KeyGroupSplitter::new(128, 4).split(batch.clone(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, batch);
        let mut out = Vec::new();
        let mut mixed = batch.clone();
        mixed.push(Some(b"other"), b"v", 10);
        KeyGroupSplitter::new(128, 1).split(mixed.clone(), &mut out);
        assert_eq!(out, [(0, mixed)], "one subtask takes everything as it is");
    }
}
