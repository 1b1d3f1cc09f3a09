//! [`FxBuildHasher`]: a small, fast, non-cryptographic hasher for the window operator's
//! maps (the key table's keys, the sub-batch's pending firings).
//!
//! The same multiply scheme as rustc's `FxHasher`, with MurmurHash3's finaliser so that
//! the low bits (which pick a bucket) depend on every input byte. It is not resistant
//! to inputs crafted to collide: a stream whose keys are chosen by an adversary can make
//! the operator's maps slow (never wrong). Std's SipHash costs about 3× more per event on
//! the hot path, which the window benchmark cannot afford.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = HashSet<K, FxBuildHasher>;
/// Builds [`FxHasher`]s.
pub type FxBuildHasher = BuildHasherDefault<FxHasher>;

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

/// See the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Multiplying only carries differences upwards: keys that differ in the high
        // byte of a word (`card-0123` vs `card-0133`) would share their low bits, which
        // pick the bucket. MurmurHash3's finaliser mixes the high bits down.
        let mut hash = self.hash;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^ (hash >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
        FxBuildHasher::default().hash_one(value)
    }

    #[test]
    fn distinguishes_lengths_and_spreads_low_bits() {
        assert_ne!(hash(&b"a"[..]), hash(&b"a\0"[..]));
        assert_ne!(hash(&(1u32, 2i64)), hash(&(2u32, 1i64)));
        // Sequential keys must not all land in few buckets of a small table.
        let buckets: HashSet<u64> = (0..1000u32).map(|i| hash(&i) & 63).collect();
        assert!(buckets.len() > 48, "{}", buckets.len());
        // Keys that differ only in the last byte of an 8-byte word, as the
        // generator's `card-0123`, must spread too.
        let cards: HashSet<u64> = (0..1000u32)
            .map(|i| hash(format!("card-{i:04}").as_bytes()) & 1023)
            .collect();
        assert!(cards.len() > 500, "{}", cards.len());
    }
}
