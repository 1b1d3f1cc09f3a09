//! Key groups: the unit in which keyed state is partitioned, moved and re-scaled.
//!
//! Every key hashes to one of `max_key_groups` key groups (a number fixed per pipeline,
//! 128 by default); each subtask of a keyed operator owns a contiguous range of key
//! groups. The hash is part of the on-disk format of state and must never change:
//! FNV-1a over the key bytes, then the MurmurHash3 64-bit finaliser to spread the bits.
//!
//! Laws (tested below): the key group of a key depends on the key bytes and
//! `max_key_groups` only; the ranges of the subtasks of one operator are disjoint,
//! contiguous and cover `0..max_key_groups`; `subtask_of` agrees with the ranges.

use std::ops::Range;

/// The index of a key group, below the pipeline's `max_key_groups`.
pub type KeyGroup = u16;

/// Key groups of a pipeline whose file does not say (`[runtime] max_key_groups`).
pub const DEFAULT_MAX_KEY_GROUPS: u16 = 128;

/// The stable 64-bit hash of a key (see the module docs).
pub fn key_hash(key: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // MurmurHash3 fmix64.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The key group of `key` among `max_key_groups` (at least 1).
///
/// ```
/// use weir_host::state::key_group_of;
/// assert_eq!(key_group_of(b"card-17", 128), key_group_of(b"card-17", 128));
/// assert!(key_group_of(b"card-17", 128) < 128);
/// ```
pub fn key_group_of(key: &[u8], max_key_groups: u16) -> KeyGroup {
    let groups = u64::from(max_key_groups.max(1));
    // The remainder is below `max_key_groups`, which fits in a u16.
    (key_hash(key) % groups) as KeyGroup
}

/// The subtask (of `parallelism`) that owns `key_group`: Flink's
/// `key_group * parallelism / max_key_groups`, so that each subtask owns a contiguous
/// range.
pub fn subtask_of(key_group: KeyGroup, max_key_groups: u16, parallelism: usize) -> usize {
    let groups = usize::from(max_key_groups.max(1));
    usize::from(key_group) * parallelism.max(1) / groups
}

/// The key groups owned by `subtask` of `parallelism`.
pub fn key_group_range(subtask: usize, parallelism: usize, max_key_groups: u16) -> Range<KeyGroup> {
    let groups = usize::from(max_key_groups.max(1));
    let parallelism = parallelism.max(1);
    // First key group k with k * parallelism / groups >= subtask, i.e. ceil(subtask * groups / parallelism).
    let first = |subtask: usize| (subtask * groups).div_ceil(parallelism).min(groups);
    // Both bounds are at most `groups`, which fits in a u16.
    first(subtask) as KeyGroup..first(subtask + 1) as KeyGroup
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_hash_is_frozen() {
        // Part of the state format: these values must never change.
        assert_eq!(key_hash(b""), 0xefd0_1f60_ba99_2926);
        assert_eq!(key_hash(b"card-17"), 0x8774_c623_7491_5fd4);
        assert_eq!(key_group_of(b"card-17", 128), 84);
        let spread: std::collections::HashSet<_> = (0..1000)
            .map(|i| key_group_of(format!("k{i}").as_bytes(), 128))
            .collect();
        assert_eq!(spread.len(), 128, "1000 keys reach every key group");
    }

    proptest! {
        #[test]
        fn ranges_partition_the_key_groups(max in 1u16..=1024, parallelism in 1usize..=64) {
            let mut next = 0;
            for subtask in 0..parallelism {
                let range = key_group_range(subtask, parallelism, max);
                prop_assert_eq!(range.start, next);
                for group in range.clone() {
                    prop_assert_eq!(subtask_of(group, max, parallelism), subtask);
                }
                next = range.end;
            }
            prop_assert_eq!(next, max);
        }

        #[test]
        fn every_key_has_a_group_in_range(key in proptest::collection::vec(any::<u8>(), 0..40), max in 1u16..=1024) {
            prop_assert!(key_group_of(&key, max) < max);
        }
    }
}
