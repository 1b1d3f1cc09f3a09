//! [`AccBytes`]: an accumulator's bytes, kept inside its entry when small.

use std::ops::Deref;

/// Bytes kept inline, in the entry itself.
const INLINE: usize = 46;

/// An accumulator's bytes: up to 46 bytes inline (no allocation, and read with its
/// entry rather than from another cache line), larger ones on the heap. Built-in
/// aggregates of up to four fields, and most plugin accumulators, fit inline.
///
/// ```
/// use weir_host::window::store::AccBytes;
///
/// let mut acc = AccBytes::default();
/// assert!(acc.is_empty());
/// acc.set(b"small");
/// assert_eq!(&acc[..], b"small");
/// acc.set(&[7; 100]);
/// assert_eq!(acc.len(), 100);
/// ```
#[derive(Clone)]
pub enum AccBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl Default for AccBytes {
    fn default() -> Self {
        AccBytes::Inline {
            len: 0,
            bytes: [0; INLINE],
        }
    }
}

impl std::fmt::Debug for AccBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccBytes({} bytes)", self.len())
    }
}

impl AccBytes {
    /// Replaces the bytes with `value`.
    pub fn set(&mut self, value: &[u8]) {
        match self {
            AccBytes::Heap(heap) if value.len() > INLINE || heap.capacity() >= value.len() => {
                heap.clear();
                heap.extend_from_slice(value);
            }
            // In place: a new array copied in whole would be read back before the
            // stores that filled it complete (a store-forwarding stall, per update).
            AccBytes::Inline { len, bytes } if value.len() <= INLINE => {
                bytes[..value.len()].copy_from_slice(value);
                *len = value.len() as u8;
            }
            _ if value.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..value.len()].copy_from_slice(value);
                *self = AccBytes::Inline {
                    len: value.len() as u8,
                    bytes,
                };
            }
            _ => *self = AccBytes::Heap(value.to_vec()),
        }
    }

    /// Empties the bytes (a fresh accumulator), keeping a large buffer for reuse.
    pub fn clear(&mut self) {
        match self {
            AccBytes::Heap(heap) if heap.capacity() <= 4096 => heap.clear(),
            AccBytes::Inline { len, .. } => *len = 0,
            _ => *self = AccBytes::default(),
        }
    }
}

impl Deref for AccBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            AccBytes::Inline { len, bytes } => &bytes[..usize::from(*len).min(INLINE)],
            AccBytes::Heap(heap) => heap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_heap_and_back() {
        let mut acc = AccBytes::default();
        acc.set(&[1; INLINE]);
        assert!(matches!(acc, AccBytes::Inline { .. }));
        acc.set(&[2; INLINE + 1]);
        assert!(matches!(acc, AccBytes::Heap(_)));
        assert_eq!(&acc[..], &[2; INLINE + 1]);
        acc.set(b"ab");
        assert_eq!(&acc[..], b"ab");
        acc.clear();
        assert!(acc.is_empty());
        let mut acc = AccBytes::default();
        acc.set(b"longer");
        acc.set(b"ab");
        assert_eq!(
            &acc[..],
            b"ab",
            "a shorter value replaces a longer one in place"
        );
        acc.clear();
        assert!(acc.is_empty());
        assert_eq!(size_of::<AccBytes>(), 48);
    }
}
