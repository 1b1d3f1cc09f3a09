//! The byte layout of keyed state and timers in a [`StateBackend`](super::StateBackend).
//! Part of the on-disk format: changing it needs a migration.
//!
//! ```text
//! state entry: kg u16 BE | 0x00 | key_len u32 BE | key | ns_len u32 BE | namespace
//!              | name_len u16 BE | state name | user key
//! timer:       kg u16 BE | 0x01 | domain u8 | at i64 BE with the sign bit flipped
//!              | key_len u32 BE | key | ns_len u32 BE | namespace
//! window:      kg u16 BE | 0x02 | has_key u8 | key_len u32 BE | key | start | end
//!              (times as timers write them; see `window::operator::durable`)
//! operator:    0xFF 0xFF | area u8 | name       (reserved: operator-wide entries)
//! ```
//!
//! A window namespace (of per-window state, and of window entries) is the window's
//! start and end, 8 bytes each, written as timer times ([`window_namespace`]).
//!
//! Key group `0xFFFF` is never a key group (`max_key_groups` is a `u16`, so groups
//! stop at `0xFFFE`): keys that begin with [`OPERATOR_AREA`] hold what belongs to the
//! operator subtask as a whole rather than to a key — the window operator's watermark
//! and counters under area [`WINDOW_TAG`]. They sort after every key group.
//!
//! The user key is the map key of a map entry, the sequence number of a list element,
//! and empty for a value (see [`keyed`](super::keyed)). The key group comes first, so
//! that one key group is one contiguous range of keys: re-partitioning moves ranges,
//! and RocksDB can range-delete or range-scan a key group.
//!
//! Laws (property-tested below):
//! - encoding is injective, and decoding an encoded key gives back its parts;
//! - the fields before the user key are length-prefixed, so the *state prefix*
//!   `(kg, key, namespace, name)` is prefix-free: it never begins a key of another
//!   key, namespace or state (key `a` vs `ab`, namespace `` vs `w`), and likewise the
//!   key prefix and the namespace prefix;
//! - every key of key group `g` sorts after every key of `g - 1` and before every key
//!   of `g + 1`;
//! - the timers of one key group and domain sort by time (then key, then namespace),
//!   negative times before positive ones.
//!
//! Builders *append* to a caller's buffer, so that a hot path clears and refills one
//! `Vec<u8>` instead of allocating a key per access. They refuse parts over the
//! limits below, which also keeps every length inside its length field.

use weir_batch::Timestamp;

use super::reader::{ByteReader, put_field};
use super::{KeyGroup, StateError, TimeDomain};

/// Largest key, namespace or map key, in bytes (64 KiB).
pub const MAX_KEY_LEN: usize = 64 << 10;
/// Largest state name, in bytes.
pub const MAX_NAME_LEN: usize = 1024;

const STATE_TAG: u8 = 0x00;
const TIMER_TAG: u8 = 0x01;
/// The tag of a window operator's working-set entries (after the key group), and of
/// its area of operator-wide entries (after [`OPERATOR_AREA`]).
pub const WINDOW_TAG: u8 = 0x02;
/// The first bytes of every operator-wide (not keyed) entry: key group `0xFFFF`,
/// which no key has.
pub const OPERATOR_AREA: [u8; 2] = [0xFF, 0xFF];

/// Appends the prefix of every window entry of `key_group`.
pub fn window_group_prefix(out: &mut Vec<u8>, key_group: KeyGroup) {
    key_group_prefix(out, key_group);
    out.push(WINDOW_TAG);
}

/// The namespace bytes of window `[start, end)`: both times as [`encode_time`] writes
/// them, so a key's windows sort by start, then end.
pub fn window_namespace(start: Timestamp, end: Timestamp) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&encode_time(start));
    out[8..].copy_from_slice(&encode_time(end));
    out
}

/// Appends the prefix of every entry (state and timers) of `key_group`.
pub fn key_group_prefix(out: &mut Vec<u8>, key_group: KeyGroup) {
    out.extend_from_slice(&key_group.to_be_bytes());
}

/// Appends the prefix of every state entry of `key_group` (not its timers).
pub fn state_group_prefix(out: &mut Vec<u8>, key_group: KeyGroup) {
    key_group_prefix(out, key_group);
    out.push(STATE_TAG);
}

/// Appends the prefix of every state entry of `key` in `key_group`.
///
/// # Errors
/// [`StateError::TooLarge`] when the key is over [`MAX_KEY_LEN`].
pub fn key_prefix(out: &mut Vec<u8>, key_group: KeyGroup, key: &[u8]) -> Result<(), StateError> {
    StateError::check_len("key", key.len(), MAX_KEY_LEN)?;
    state_group_prefix(out, key_group);
    put_field(out, key);
    Ok(())
}

/// Appends the prefix of every state entry of `(key, namespace)` — what purging a
/// window deletes.
///
/// # Errors
/// [`StateError::TooLarge`] when the key or namespace is over [`MAX_KEY_LEN`].
pub fn namespace_prefix(
    out: &mut Vec<u8>,
    key_group: KeyGroup,
    key: &[u8],
    namespace: &[u8],
) -> Result<(), StateError> {
    StateError::check_len("namespace", namespace.len(), MAX_KEY_LEN)?;
    key_prefix(out, key_group, key)?;
    put_field(out, namespace);
    Ok(())
}

/// Appends the prefix of the entries of state `name` for `(key, namespace)`: the whole
/// key of a value, the prefix of the entries of a map or a list.
///
/// ```
/// use weir_host::state::encoding::state_prefix;
///
/// let (mut a, mut ab) = (Vec::new(), Vec::new());
/// state_prefix(&mut a, 3, b"a", b"", "count")?;
/// state_prefix(&mut ab, 3, b"ab", b"", "count")?;
/// assert!(!ab.starts_with(&a)); // lengths come first: key `a` is not a prefix of `ab`
/// assert_eq!(&a[..2], &[0, 3]); // the key group leads
/// # Ok::<(), weir_host::state::StateError>(())
/// ```
///
/// # Errors
/// [`StateError::TooLarge`] when a part is over its limit.
pub fn state_prefix(
    out: &mut Vec<u8>,
    key_group: KeyGroup,
    key: &[u8],
    namespace: &[u8],
    name: &str,
) -> Result<(), StateError> {
    StateError::check_len("state name", name.len(), MAX_NAME_LEN)?;
    namespace_prefix(out, key_group, key, namespace)?;
    // At most MAX_NAME_LEN, which fits in a u16.
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

/// Appends the key of one map entry: the state prefix, then `user_key`.
///
/// # Errors
/// [`StateError::TooLarge`] when a part is over its limit.
pub fn map_entry_key(
    out: &mut Vec<u8>,
    key_group: KeyGroup,
    key: &[u8],
    namespace: &[u8],
    name: &str,
    user_key: &[u8],
) -> Result<(), StateError> {
    StateError::check_len("map key", user_key.len(), MAX_KEY_LEN)?;
    state_prefix(out, key_group, key, namespace, name)?;
    out.extend_from_slice(user_key);
    Ok(())
}

/// Appends the prefix of every timer of `key_group` in `domain`.
pub fn timer_domain_prefix(out: &mut Vec<u8>, key_group: KeyGroup, domain: TimeDomain) {
    timer_group_prefix(out, key_group);
    out.push(domain_byte(domain));
}

/// Appends the prefix of every timer of `key_group`.
pub fn timer_group_prefix(out: &mut Vec<u8>, key_group: KeyGroup) {
    key_group_prefix(out, key_group);
    out.push(TIMER_TAG);
}

/// Appends the key of one timer.
///
/// # Errors
/// [`StateError::TooLarge`] when the key or namespace is over [`MAX_KEY_LEN`].
pub fn timer_key(
    out: &mut Vec<u8>,
    domain: TimeDomain,
    at: Timestamp,
    key_group: KeyGroup,
    key: &[u8],
    namespace: &[u8],
) -> Result<(), StateError> {
    StateError::check_len("key", key.len(), MAX_KEY_LEN)?;
    StateError::check_len("namespace", namespace.len(), MAX_KEY_LEN)?;
    timer_domain_prefix(out, key_group, domain);
    out.extend_from_slice(&encode_time(at));
    put_field(out, key);
    put_field(out, namespace);
    Ok(())
}

/// A time as 8 bytes whose byte order is the time order (the sign bit flipped).
///
/// ```
/// use weir_host::state::encoding::{decode_time, encode_time};
/// assert!(encode_time(-1) < encode_time(0));
/// assert!(encode_time(i64::MIN) < encode_time(i64::MAX));
/// assert_eq!(decode_time(encode_time(-42)), -42);
/// ```
pub fn encode_time(at: Timestamp) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

/// The inverse of [`encode_time`].
pub fn decode_time(bytes: [u8; 8]) -> Timestamp {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as Timestamp
}

/// The parts of a state entry's key, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateKey<'a> {
    /// The key group.
    pub key_group: KeyGroup,
    /// The record key.
    pub key: &'a [u8],
    /// The namespace (a window, or empty).
    pub namespace: &'a [u8],
    /// The state's name.
    pub name: &'a str,
    /// The map key or list sequence number; empty for a value.
    pub user_key: &'a [u8],
}

/// The parts of a timer's key, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey<'a> {
    /// The key group.
    pub key_group: KeyGroup,
    /// The clock the timer follows.
    pub domain: TimeDomain,
    /// When it is due.
    pub at: Timestamp,
    /// The record key.
    pub key: &'a [u8],
    /// The namespace (a window, or empty).
    pub namespace: &'a [u8],
}

/// Decodes the key of a state entry.
///
/// # Errors
/// [`StateError::Corrupt`] when `bytes` is not a state entry key.
pub fn decode_state_key(bytes: &[u8]) -> Result<StateKey<'_>, StateError> {
    let mut reader = ByteReader::new(bytes, "truncated key", "trailing bytes after a timer key");
    let key_group = reader.u16()?;
    if reader.u8()? != STATE_TAG {
        return Err(corrupt("not a state entry key"));
    }
    let key = reader.field()?;
    let namespace = reader.field()?;
    let name_len = usize::from(reader.u16()?);
    let name = std::str::from_utf8(reader.take(name_len)?)
        .map_err(|_| corrupt("state name is not UTF-8"))?;
    Ok(StateKey {
        key_group,
        key,
        namespace,
        name,
        user_key: reader.rest(),
    })
}

/// Decodes the key of a timer.
///
/// # Errors
/// [`StateError::Corrupt`] when `bytes` is not a timer key.
pub fn decode_timer_key(bytes: &[u8]) -> Result<TimerKey<'_>, StateError> {
    let mut reader = ByteReader::new(bytes, "truncated key", "trailing bytes after a timer key");
    let key_group = reader.u16()?;
    if reader.u8()? != TIMER_TAG {
        return Err(corrupt("not a timer key"));
    }
    let domain = match reader.u8()? {
        0 => TimeDomain::EventTime,
        1 => TimeDomain::ProcessingTime,
        _ => return Err(corrupt("unknown time domain")),
    };
    let at = decode_time(reader.array()?);
    let key = reader.field()?;
    let namespace = reader.field()?;
    reader.end()?;
    Ok(TimerKey {
        key_group,
        domain,
        at,
        key,
        namespace,
    })
}

fn domain_byte(domain: TimeDomain) -> u8 {
    match domain {
        TimeDomain::EventTime => 0,
        TimeDomain::ProcessingTime => 1,
    }
}

fn corrupt(reason: &'static str) -> StateError {
    StateError::Corrupt { reason }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A state entry key's parts, owned.
    type Parts = (KeyGroup, Vec<u8>, Vec<u8>, String, Vec<u8>);

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Small alphabet and lengths, so that prefixes and collisions are frequent.
        proptest::collection::vec(
            prop_oneof![Just(0u8), Just(1), Just(b'a'), Just(0xFF)],
            0..4,
        )
    }

    fn parts() -> impl Strategy<Value = Parts> {
        (0u16..4, bytes(), bytes(), "[ab]{0,2}", bytes())
    }

    fn encode((kg, key, ns, name, user): &Parts) -> Vec<u8> {
        let mut out = Vec::new();
        map_entry_key(&mut out, *kg, key, ns, name, user).unwrap();
        out
    }

    fn timer(domain: TimeDomain, at: Timestamp, kg: KeyGroup, key: &[u8], ns: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        timer_key(&mut out, domain, at, kg, key, ns).unwrap();
        out
    }

    fn domain() -> impl Strategy<Value = TimeDomain> {
        prop_oneof![
            Just(TimeDomain::EventTime),
            Just(TimeDomain::ProcessingTime)
        ]
    }

    proptest! {
        #[test]
        fn state_keys_round_trip_and_are_injective(a in parts(), b in parts()) {
            let (ea, eb) = (encode(&a), encode(&b));
            let d = decode_state_key(&ea).unwrap();
            prop_assert_eq!(
                (d.key_group, d.key, d.namespace, d.name, d.user_key),
                (a.0, &a.1[..], &a.2[..], &a.3[..], &a.4[..])
            );
            prop_assert_eq!(ea == eb, a == b);
        }

        #[test]
        fn a_state_prefix_covers_only_its_own_state(a in parts(), b in parts()) {
            let mut prefix = Vec::new();
            state_prefix(&mut prefix, a.0, &a.1, &a.2, &a.3).unwrap();
            let same_state = (a.0, &a.1, &a.2, &a.3) == (b.0, &b.1, &b.2, &b.3);
            prop_assert_eq!(encode(&b).starts_with(&prefix), same_state);

            let mut ns_prefix = Vec::new();
            namespace_prefix(&mut ns_prefix, a.0, &a.1, &a.2).unwrap();
            let same_scope = (a.0, &a.1, &a.2) == (b.0, &b.1, &b.2);
            prop_assert_eq!(encode(&b).starts_with(&ns_prefix), same_scope);

            let mut key_prefix_a = Vec::new();
            key_prefix(&mut key_prefix_a, a.0, &a.1).unwrap();
            prop_assert_eq!(encode(&b).starts_with(&key_prefix_a), (a.0, &a.1) == (b.0, &b.1));
        }

        #[test]
        fn key_groups_are_contiguous_ranges(
            a in parts(), b in parts(),
            (da, ta) in (domain(), any::<i64>()), (db, tb) in (domain(), any::<i64>()),
        ) {
            // Mix state entries and timers: the key group alone decides the order.
            let ka = if ta % 2 == 0 { encode(&a) } else { timer(da, ta, a.0, &a.1, &a.2) };
            let kb = if tb % 2 == 0 { encode(&b) } else { timer(db, tb, b.0, &b.1, &b.2) };
            if a.0 < b.0 {
                prop_assert!(ka < kb);
            }
            let mut group = Vec::new();
            key_group_prefix(&mut group, a.0);
            prop_assert!(ka.starts_with(&group));
        }

        #[test]
        fn timers_round_trip_and_sort_by_time(
            d in domain(), kg in 0u16..4,
            (ta, ka, na) in (any::<i64>(), bytes(), bytes()),
            (tb, kb, nb) in (any::<i64>(), bytes(), bytes()),
        ) {
            let (ea, eb) = (timer(d, ta, kg, &ka, &na), timer(d, tb, kg, &kb, &nb));
            let back = decode_timer_key(&ea).unwrap();
            prop_assert_eq!(back, TimerKey { key_group: kg, domain: d, at: ta, key: &ka, namespace: &na });
            if ta != tb {
                prop_assert_eq!(ea < eb, ta < tb);
            }
            prop_assert_eq!(ea == eb, (ta, &ka, &na) == (tb, &kb, &nb));
        }
    }

    #[test]
    fn parts_over_the_limits_are_refused() {
        let big = vec![0; MAX_KEY_LEN + 1];
        let mut out = Vec::new();
        assert!(matches!(
            state_prefix(&mut out, 0, &big, b"", "s"),
            Err(StateError::TooLarge { what: "key", .. })
        ));
        assert!(matches!(
            map_entry_key(&mut out, 0, b"k", b"", "s", &big),
            Err(StateError::TooLarge {
                what: "map key",
                ..
            })
        ));
        let long_name = "n".repeat(MAX_NAME_LEN + 1);
        assert!(state_prefix(&mut out, 0, b"k", b"", &long_name).is_err());
        assert!(timer_key(&mut out, TimeDomain::EventTime, 0, 0, b"", &big).is_err());
    }

    #[test]
    fn damaged_keys_do_not_decode() {
        let mut key = Vec::new();
        state_prefix(&mut key, 1, b"key", b"ns", "name").unwrap();
        for len in 0..key.len() - "name".len() {
            assert!(
                decode_state_key(&key[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        assert!(decode_timer_key(&key).is_err());
        let t = timer(TimeDomain::EventTime, 5, 1, b"k", b"");
        assert!(decode_state_key(&t).is_err());
        assert!(decode_timer_key(&[&t[..], &[0]].concat()).is_err());
    }
}
