//! [`SubtaskInfo`]: what an operator instance learns about its place in the pipeline
//! when it is made: which subtask it is, of how many, and which key groups it owns.

use std::ops::Range;

use crate::state::{KeyGroup, key_group_range};

/// One subtask of an operator, as its factory sees it.
///
/// ```
/// use weir_host::runtime::subtask::SubtaskInfo;
/// let keyed = SubtaskInfo::keyed(1, 2, 128);
/// assert_eq!(keyed.key_groups, 64..128);
/// assert!(SubtaskInfo::unkeyed(1, 2, 128).key_groups.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtaskInfo {
    /// This subtask's index, `0..parallelism`.
    pub index: usize,
    /// The operator's number of subtasks.
    pub parallelism: usize,
    /// The pipeline's number of key groups (`[runtime] max_key_groups`).
    pub max_key_groups: KeyGroup,
    /// The key groups of the events this subtask receives: its share of
    /// `0..max_key_groups` when its stage begins with a `key_by` exchange (for the
    /// keyed operator and the operators chained after it); empty otherwise, since
    /// its input is then spread round-robin and carries no key groups it owns.
    pub key_groups: Range<KeyGroup>,
}

impl SubtaskInfo {
    /// Subtask `index` of `parallelism` behind a `key_by` exchange.
    pub fn keyed(index: usize, parallelism: usize, max_key_groups: KeyGroup) -> Self {
        SubtaskInfo {
            index,
            parallelism,
            max_key_groups,
            key_groups: key_group_range(index, parallelism, max_key_groups),
        }
    }

    /// Subtask `index` of `parallelism` whose input is spread round-robin.
    pub fn unkeyed(index: usize, parallelism: usize, max_key_groups: KeyGroup) -> Self {
        SubtaskInfo {
            index,
            parallelism,
            max_key_groups,
            key_groups: 0..0,
        }
    }
}
