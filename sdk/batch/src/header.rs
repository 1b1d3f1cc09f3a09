//! [`Header`]: one header of one event, with a name and a value that cost no
//! allocation in the common case — a name known at compile time (`window_start`,
//! `trace`) is borrowed, and a value of up to [`HeaderValue::INLINE`] bytes is kept in
//! the header itself. A window operator adds four headers to every result, so this is
//! the difference between eight allocations per result and none.
//!
//! ```
//! use weir_batch::{HeaderName, HeaderValue};
//!
//! let name = HeaderName::from("window_start");
//! assert_eq!(name, "window_start");
//! let value = HeaderValue::from(&b"1700000000000"[..]);
//! assert_eq!(value.as_slice(), b"1700000000000");
//! assert_eq!(HeaderValue::from(vec![7; 100]).len(), 100);
//! ```

use std::borrow::Cow;
use std::ops::Deref;

/// One header of one event in a [`crate::Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Index of the event in its batch.
    pub event: u32,
    pub name: HeaderName,
    pub value: HeaderValue,
}

/// A header's name: borrowed when it is a `&'static str`, owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderName(Cow<'static, str>);

impl HeaderName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned `String` (allocates when the name was borrowed).
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl From<&'static str> for HeaderName {
    fn from(name: &'static str) -> Self {
        HeaderName(Cow::Borrowed(name))
    }
}

impl From<String> for HeaderName {
    fn from(name: String) -> Self {
        HeaderName(Cow::Owned(name))
    }
}

impl Deref for HeaderName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for HeaderName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for HeaderName {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for HeaderName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl std::fmt::Display for HeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// Every decimal integer fits inline (see `HeaderValue::decimal`).
const _: () = assert!(HeaderValue::INLINE >= crate::decimal::MAX_LEN);

/// A header's value: inline up to [`HeaderValue::INLINE`] bytes (decimal numbers,
/// short ids), on the heap beyond.
#[derive(Clone)]
pub struct HeaderValue(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; HeaderValue::INLINE],
    },
    Heap(Vec<u8>),
}

impl HeaderValue {
    /// The longest value kept inline.
    pub const INLINE: usize = 22;

    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len).min(Self::INLINE)],
            Repr::Heap(heap) => heap,
        }
    }

    /// `value` in decimal text, written straight into the inline bytes (the window
    /// bounds and firing index of every window result).
    pub fn decimal(value: i64) -> Self {
        let mut bytes = [0; Self::INLINE];
        let len = crate::decimal::put_i64(value, &mut bytes);
        HeaderValue(Repr::Inline {
            len: len as u8,
            bytes,
        })
    }

    /// The value as an owned `Vec` (allocates when it was inline).
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Heap(heap) => heap,
            Repr::Inline { .. } => self.as_slice().to_vec(),
        }
    }
}

impl From<&[u8]> for HeaderValue {
    fn from(value: &[u8]) -> Self {
        if value.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..value.len()].copy_from_slice(value);
            HeaderValue(Repr::Inline {
                len: value.len() as u8,
                bytes,
            })
        } else {
            HeaderValue(Repr::Heap(value.to_vec()))
        }
    }
}

impl From<Vec<u8>> for HeaderValue {
    /// Keeps the vector (no copy) unless the value is short enough to go inline.
    fn from(value: Vec<u8>) -> Self {
        if value.len() <= Self::INLINE {
            HeaderValue::from(value.as_slice())
        } else {
            HeaderValue(Repr::Heap(value))
        }
    }
}

impl Deref for HeaderValue {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for HeaderValue {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for HeaderValue {}

impl PartialEq<[u8]> for HeaderValue {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for HeaderValue {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for HeaderValue {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

impl std::fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn values_read_back_whatever_their_length(
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let from_slice = HeaderValue::from(value.as_slice());
            let from_vec = HeaderValue::from(value.clone());
            proptest::prop_assert_eq!(from_slice.as_slice(), value.as_slice());
            proptest::prop_assert_eq!(&from_slice, &from_vec);
            proptest::prop_assert_eq!(
                matches!(from_slice.0, Repr::Inline { .. }),
                value.len() <= HeaderValue::INLINE
            );
            proptest::prop_assert_eq!(from_vec.into_vec(), value);
        }

        #[test]
        fn decimal_values_read_as_rust_prints_them(value in proptest::prelude::any::<i64>()) {
            let (header, text) = (HeaderValue::decimal(value), value.to_string());
            proptest::prop_assert_eq!(header.as_slice(), text.as_bytes());
        }
    }

    #[test]
    fn names_compare_with_text_and_cost_nothing_when_static() {
        let name = HeaderName::from("firing");
        assert!(matches!(name.0, Cow::Borrowed(_)));
        assert_eq!(name, "firing");
        assert_eq!(name, String::from("firing"));
        assert_eq!(name, HeaderName::from(String::from("firing")));
        assert_eq!(name.clone().into_string(), "firing");
        assert!(size_of::<HeaderValue>() <= 32);
    }
}
