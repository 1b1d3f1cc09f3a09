//! [`WindowInfo`]: which window a window function computes a result for.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use weir_batch::decimal;

use crate::Error;
use crate::convert::ranges;
use crate::event::Timestamp;
use crate::wit::windows::{FiringKind, WindowFirings};

/// Why a window fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Firing {
    /// Before the window is complete: an early-firing interval passed, or a count
    /// trigger reached its count while the window is still open.
    Early,
    /// The window is complete: the watermark passed its end, a count window holds its
    /// count, or the input ended.
    OnTime,
    /// A late event (within the allowed lateness) changed a window that had fired.
    Late,
}

impl Firing {
    /// `early`, `on-time` or `late`: the value of the `firing` header of window results.
    ///
    /// ```
    /// assert_eq!(weir_sdk::Firing::OnTime.as_str(), "on-time");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Firing::Early => "early",
            Firing::OnTime => "on-time",
            Firing::Late => "late",
        }
    }
}

impl std::fmt::Display for Firing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Firing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl From<FiringKind> for Firing {
    fn from(kind: FiringKind) -> Self {
        match kind {
            FiringKind::Early => Firing::Early,
            FiringKind::OnTime => Firing::OnTime,
            FiringKind::Late => Firing::Late,
        }
    }
}

/// One firing of one key's window.
///
/// It serialises (with serde) to the fields every window result of Weir carries, so a
/// result can embed it with `#[serde(flatten)]`:
///
/// ```
/// use weir_sdk::{Firing, WindowInfo};
///
/// let window = WindowInfo { key: Some(b"card-1"), start: 0, end: 60_000, kind: Firing::OnTime, index: 0 };
/// assert_eq!(
///     serde_json::to_string(&window).unwrap(),
///     r#"{"key":"card-1","window_start":0,"window_end":60000,"firing":"on-time","firing_index":0}"#,
/// );
/// assert_eq!(window.last_millisecond(), 59_999);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowInfo<'a> {
    /// The key of the window's events (`None` for a stream that is not keyed). Serialised
    /// as text (invalid UTF-8 replaced by `�`), or `null`.
    pub key: Option<&'a [u8]>,
    /// The window covers event times `[start, end)`. For count and global windows, the
    /// smallest and one past the largest timestamp of its events.
    pub start: Timestamp,
    /// One past the window's last millisecond.
    pub end: Timestamp,
    /// Why it fires.
    pub kind: Firing,
    /// How many times this window fired before: 0 for its first result.
    pub index: u32,
}

impl<'a> WindowInfo<'a> {
    /// The firings of a call, one by one, from their columns (`wit/windows.wit`).
    ///
    /// # Errors
    /// When the columns break the layout the host guarantees.
    pub(crate) fn all_from_wit(firings: &'a WindowFirings) -> Result<Vec<Self>, Error> {
        let count = firings.starts.len();
        let lengths = [
            firings.key_ends.len(),
            firings.ends.len(),
            firings.kinds.len(),
            firings.indexes.len(),
        ];
        if lengths.iter().any(|len| *len != count) {
            return Err(Error::internal(format!(
                "malformed window firings: {count} starts, but (key ends, ends, kinds, \
                 indexes) = {lengths:?}"
            )));
        }
        let mut keyless = firings.keyless.iter().peekable();
        let keys = ranges(&firings.key_ends, firings.keys.len(), "window firing keys");
        let mut infos = Vec::with_capacity(count);
        for (at, range) in keys.enumerate() {
            let range = range?;
            let key = match keyless.peek() {
                Some(&&index) if index as usize == at => {
                    keyless.next();
                    None
                }
                _ => Some(&firings.keys[range]),
            };
            infos.push(WindowInfo {
                key,
                start: firings.starts[at],
                end: firings.ends[at],
                kind: firings.kinds[at].into(),
                index: firings.indexes[at],
            });
        }
        if let Some(index) = keyless.next() {
            return Err(Error::internal(format!(
                "malformed window firings: keyless {index} is out of order or past {count}"
            )));
        }
        Ok(infos)
    }

    /// The window's last millisecond, `end - 1`: the timestamp of its results.
    pub fn last_millisecond(&self) -> Timestamp {
        self.end.saturating_sub(1)
    }

    /// The key as text, invalid UTF-8 replaced by `�`.
    pub fn key_lossy(&self) -> Option<std::borrow::Cow<'a, str>> {
        self.key.map(String::from_utf8_lossy)
    }
}

impl WindowInfo<'_> {
    /// The number of fields [`WindowInfo::serialize_fields`] writes.
    pub const FIELDS: usize = 5;

    /// Writes the window's fields into a struct being serialised: what
    /// `#[serde(flatten)]` does, without the detour through a map that flattening
    /// costs (a result type that is serialised often implements `Serialize` with
    /// `serialize_struct`, this, then its own fields).
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize_fields<S: SerializeStruct>(&self, fields: &mut S) -> Result<(), S::Error> {
        fields.serialize_field("key", &self.key_lossy())?;
        fields.serialize_field("window_start", &self.start)?;
        fields.serialize_field("window_end", &self.end)?;
        fields.serialize_field("firing", &self.kind)?;
        fields.serialize_field("firing_index", &self.index)
    }
}

impl WindowInfo<'_> {
    /// Appends the window's fields as the members of a JSON object, without braces:
    /// the same text serde_json writes for them (see [`WindowInfo`]'s example), without
    /// escaping names that need none — a result type written once per window per key
    /// starts with `{`, this, then its own members.
    ///
    /// ```
    /// use weir_sdk::{Firing, WindowInfo};
    ///
    /// let window = WindowInfo { key: Some(b"card-1"), start: 0, end: 60_000, kind: Firing::OnTime, index: 0 };
    /// let mut out = b"{".to_vec();
    /// window.write_json_fields(&mut out);
    /// out.push(b'}');
    /// assert_eq!(out, serde_json::to_vec(&window).unwrap());
    /// ```
    pub fn write_json_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\"key\":");
        match self.key {
            None => out.extend_from_slice(b"null"),
            Some(key)
                if key
                    .iter()
                    .all(|b| (0x20..0x7f).contains(b) && *b != b'"' && *b != b'\\') =>
            {
                out.push(b'"');
                out.extend_from_slice(key);
                out.push(b'"');
            }
            Some(_) => {
                // Escapes and invalid UTF-8: serde_json's own rules.
                let _ = serde_json::to_writer(&mut *out, &self.key_lossy());
            }
        }
        out.extend_from_slice(b",\"window_start\":");
        decimal::write_i64(out, self.start);
        out.extend_from_slice(b",\"window_end\":");
        decimal::write_i64(out, self.end);
        out.extend_from_slice(b",\"firing\":\"");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"firing_index\":");
        decimal::write_u64(out, u64::from(self.index));
    }
}

impl Serialize for WindowInfo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = serializer.serialize_struct("WindowInfo", Self::FIELDS)?;
        self.serialize_fields(&mut fields)?;
        fields.end()
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    fn columns(keys: &[Option<&[u8]>]) -> WindowFirings {
        let mut firings = WindowFirings {
            keys: Vec::new(),
            key_ends: Vec::new(),
            keyless: Vec::new(),
            starts: Vec::new(),
            ends: Vec::new(),
            kinds: Vec::new(),
            indexes: Vec::new(),
        };
        for (at, key) in (0u32..).zip(keys) {
            match key {
                Some(key) => firings.keys.extend_from_slice(key),
                None => firings.keyless.push(at),
            }
            firings.key_ends.push(firings.keys.len() as u32);
            firings.starts.push(-10 * i64::from(at));
            firings.ends.push(i64::MIN);
            firings.kinds.push(FiringKind::Late);
            firings.indexes.push(at + 3);
        }
        firings
    }

    #[test]
    fn converts_from_wit_and_serialises_without_key() {
        let firings = columns(&[None]);
        let windows = WindowInfo::all_from_wit(&firings).expect("well formed");
        let [window] = windows[..] else {
            panic!("one firing, got {windows:?}");
        };
        assert_eq!(window.kind, Firing::Late);
        assert_eq!(window.last_millisecond(), i64::MIN, "saturates");
        let json = serde_json::to_value(window).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"key": null, "window_start": 0, "window_end": i64::MIN,
                               "firing": "late", "firing_index": 3})
        );
    }

    #[test]
    fn columns_give_each_firing_its_key_window_and_index() {
        let firings = columns(&[Some(b"a"), None, Some(b""), Some(b"bc")]);
        let windows = WindowInfo::all_from_wit(&firings).expect("well formed");
        let keys: Vec<_> = windows.iter().map(|w| w.key).collect();
        assert_eq!(
            keys,
            [Some(&b"a"[..]), None, Some(&b""[..]), Some(&b"bc"[..])]
        );
        let starts: Vec<_> = windows.iter().map(|w| (w.start, w.index)).collect();
        assert_eq!(starts, [(0, 3), (-10, 4), (-20, 5), (-30, 6)]);
    }

    #[test]
    fn malformed_columns_are_refused() {
        let mut short = columns(&[Some(b"a"), Some(b"b")]);
        short.kinds.pop();
        let mut past_the_end = columns(&[Some(b"a")]);
        past_the_end.key_ends[0] = 5;
        let mut stray_keyless = columns(&[Some(b"a")]);
        stray_keyless.keyless.push(7);
        for (what, firings) in [
            ("a short column", short),
            ("a key past the bytes", past_the_end),
            ("a keyless index past the firings", stray_keyless),
        ] {
            let error = WindowInfo::all_from_wit(&firings).expect_err(what);
            assert!(error.to_string().contains("malformed"), "{what}: {error}");
        }
    }

    proptest::proptest! {
        #[test]
        fn json_fields_are_what_serde_json_writes(
            key in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12)),
            start in proptest::prelude::any::<i64>(),
            end in proptest::prelude::any::<i64>(),
            index in proptest::prelude::any::<u32>(),
        ) {
            let window = WindowInfo { key: key.as_deref(), start, end, kind: Firing::Late, index };
            let mut out = b"{".to_vec();
            window.write_json_fields(&mut out);
            out.push(b'}');
            proptest::prop_assert_eq!(out, serde_json::to_vec(&window).expect("serialises"));
        }
    }

    #[test]
    fn non_utf8_keys_serialise_lossily() {
        let window = WindowInfo {
            key: Some(b"a\xFFb"),
            start: 0,
            end: 1,
            kind: Firing::Early,
            index: 0,
        };
        assert_eq!(window.key_lossy().as_deref(), Some("a\u{FFFD}b"));
        assert_eq!(Firing::Early.to_string(), "early");
    }

    #[test]
    fn flattens_into_a_result() {
        #[derive(Serialize)]
        struct Result<'a> {
            #[serde(flatten)]
            window: WindowInfo<'a>,
            count: u64,
        }
        let window = WindowInfo {
            key: Some(b"k"),
            start: 0,
            end: 10,
            kind: Firing::OnTime,
            index: 1,
        };
        let text = serde_json::to_string(&Result { window, count: 2 }).expect("serialises");
        assert_eq!(
            text,
            r#"{"key":"k","window_start":0,"window_end":10,"firing":"on-time","firing_index":1,"count":2}"#
        );
    }
}
