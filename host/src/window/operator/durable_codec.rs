//! The bytes of a window operator's state in its [`StateBackend`](crate::state::StateBackend):
//! one entry per (key, namespace) of the [`WindowStore`](crate::window::store::WindowStore),
//! and one record of operator-wide scalars. Part of the checkpoint format: changing it
//! needs a new version byte and a migration.
//!
//! ```text
//! entry key:    kg u16 BE | 0x02 | has_key u8 | key_len u32 BE | key | start | end
//! entry value:  version u8 (1) | count u64 | min_ts i64 | max_ts i64 | last_seq u64
//!               | dirty_listed u8 | has_window u8 [ firings u32 | complete u8 | fired_seq u64
//!                                 | trigger_count u64 ]
//!               | acc_len u32 | acc
//!               | has_events u8 [ n u32 | n × (seq u64 | ts i64 | has_key u8
//!                 | key_len u32 | key | value_len u32 | value | headers u32
//!                 | headers × (name_len u32 | name | value_len u32 | value)) ]
//! scalars key:  0xFF 0xFF | 0x02 | "scalars"
//! scalars:      version u8 (1) | watermark i64 | next_seq u64 | last_seq u64
//!               | has_next_early u8 | next_early i64 | late | unassigned | dead_lettered | firings | calls (u64 each)
//! ```
//!
//! Numbers are big-endian; `start` and `end` are written as timer times
//! ([`encode_time`]), so one key's entries sort by namespace as in the store. Law
//! (tested below): decoding an encoded entry gives it back, and a damaged value
//! (truncated, trailing bytes, unknown version or flag) is [`StateError::Corrupt`].

use weir_batch::Timestamp;

use super::WindowCounters;
use crate::state::encoding::{
    MAX_KEY_LEN, OPERATOR_AREA, WINDOW_TAG, decode_time, window_group_prefix, window_namespace,
};
use crate::state::reader::{ByteReader, put_field};
use crate::state::{KeyGroup, StateError};
use crate::window::Window;
use crate::window::store::{Entry, EventBuffer, KeyId, SlotStats, WindowState};

const VERSION: u8 = 1;

/// The key of the operator-wide scalars record.
pub(super) fn scalars_key() -> Vec<u8> {
    let mut key = OPERATOR_AREA.to_vec();
    key.push(WINDOW_TAG);
    key.extend_from_slice(b"scalars");
    key
}

/// Appends the key of the entry (key, ns) of `key_group`.
///
/// # Errors
/// [`StateError::TooLarge`] for a key over [`MAX_KEY_LEN`].
pub(super) fn entry_key(
    out: &mut Vec<u8>,
    key_group: KeyGroup,
    key: Option<&[u8]>,
    ns: Window,
) -> Result<(), StateError> {
    let bytes = key.unwrap_or_default();
    StateError::check_len("key", bytes.len(), MAX_KEY_LEN)?;
    window_group_prefix(out, key_group);
    out.push(u8::from(key.is_some()));
    put_field(out, bytes);
    out.extend_from_slice(&window_namespace(ns.start, ns.end));
    Ok(())
}

/// The (key, namespace) of an entry key (`entry_key`'s inverse).
///
/// # Errors
/// [`StateError::Corrupt`] when `bytes` is not a window entry key.
pub(super) fn decode_entry_key(bytes: &[u8]) -> Result<(Option<&[u8]>, Window), StateError> {
    let mut r = ByteReader::new(
        bytes,
        "truncated window entry",
        "trailing bytes after a window entry",
    );
    r.take(2)?;
    if r.u8()? != WINDOW_TAG {
        return Err(corrupt("not a window entry key"));
    }
    let has_key = r.flag()?;
    let key = r.field()?;
    let start = decode_time(r.array()?);
    let end = decode_time(r.array()?);
    r.end()?;
    Ok((has_key.then_some(key), Window { start, end }))
}

/// Appends the value of `entry`.
pub(super) fn encode_entry(out: &mut Vec<u8>, entry: &Entry) {
    out.push(VERSION);
    let stats = &entry.stats;
    out.extend_from_slice(&stats.count.to_be_bytes());
    out.extend_from_slice(&stats.min_ts.to_be_bytes());
    out.extend_from_slice(&stats.max_ts.to_be_bytes());
    out.extend_from_slice(&stats.last_seq.to_be_bytes());
    out.push(u8::from(stats.dirty_listed));
    match entry.window {
        None => out.push(0),
        Some(state) => {
            out.push(1);
            out.extend_from_slice(&state.firings.to_be_bytes());
            out.push(u8::from(state.complete));
            out.extend_from_slice(&state.fired_seq.to_be_bytes());
            out.extend_from_slice(&state.trigger_count.to_be_bytes());
        }
    }
    put_field(out, &entry.acc);
    match entry.events.as_deref() {
        None => out.push(0),
        Some(buffer) => {
            out.push(1);
            out.extend_from_slice(&(buffer.seqs.len() as u32).to_be_bytes());
            for (event, seq) in buffer.events.iter().zip(&buffer.seqs) {
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(&event.timestamp.to_be_bytes());
                out.push(u8::from(event.key.is_some()));
                put_field(out, event.key.unwrap_or_default());
                put_field(out, event.value);
                out.extend_from_slice(&(event.headers.len() as u32).to_be_bytes());
                for header in event.headers {
                    put_field(out, header.name.as_bytes());
                    put_field(out, &header.value);
                }
            }
        }
    }
}

/// The entry of (key, ns) whose value is `bytes` (`encode_entry`'s inverse).
///
/// # Errors
/// [`StateError::Corrupt`] when `bytes` is not an entry value of this version.
pub(super) fn decode_entry(key: KeyId, ns: Window, bytes: &[u8]) -> Result<Entry, StateError> {
    let mut r = ByteReader::new(
        bytes,
        "truncated window entry",
        "trailing bytes after a window entry",
    );
    if r.u8()? != VERSION {
        return Err(corrupt("unknown window entry version"));
    }
    let mut entry = Entry::new(key, ns);
    entry.stats = SlotStats {
        count: r.u64()?,
        min_ts: r.i64()?,
        max_ts: r.i64()?,
        last_seq: r.u64()?,
        dirty_listed: r.flag()?,
    };
    if r.flag()? {
        entry.window = Some(WindowState {
            firings: u32::from_be_bytes(r.array()?),
            complete: r.flag()?,
            fired_seq: r.u64()?,
            trigger_count: r.u64()?,
        });
    }
    entry.acc.set(r.field()?);
    if r.flag()? {
        let n = u32::from_be_bytes(r.array()?);
        let mut buffer = EventBuffer::default();
        for _ in 0..n {
            let seq = r.u64()?;
            let timestamp = r.i64()?;
            let has_key = r.flag()?;
            let key = r.field()?;
            let value = r.field()?;
            buffer.events.push(has_key.then_some(key), value, timestamp);
            for _ in 0..u32::from_be_bytes(r.array()?) {
                let name = std::str::from_utf8(r.field()?)
                    .map_err(|_| corrupt("header name is not UTF-8"))?;
                let value = r.field()?;
                buffer.events.push_header(name.to_owned(), value);
            }
            buffer.seqs.push(seq);
        }
        entry.events = Some(Box::new(buffer));
    }
    r.end()?;
    Ok(entry)
}

/// What a window operator keeps besides its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scalars {
    pub watermark: Timestamp,
    pub next_seq: u64,
    pub last_seq: u64,
    /// Processing time of the next early firing.
    pub next_early: Option<i64>,
    pub counters: WindowCounters,
}

impl Scalars {
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.counters;
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.watermark.to_be_bytes());
        out.extend_from_slice(&self.next_seq.to_be_bytes());
        out.extend_from_slice(&self.last_seq.to_be_bytes());
        out.push(u8::from(self.next_early.is_some()));
        out.extend_from_slice(&self.next_early.unwrap_or_default().to_be_bytes());
        for n in [c.late, c.unassigned, c.dead_lettered, c.firings, c.calls] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    }

    /// # Errors
    /// [`StateError::Corrupt`] when `bytes` is not a scalars record of this version.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let mut r = ByteReader::new(
            bytes,
            "truncated window entry",
            "trailing bytes after a window entry",
        );
        if r.u8()? != VERSION {
            return Err(corrupt("unknown window scalars version"));
        }
        let scalars = Scalars {
            watermark: r.i64()?,
            next_seq: r.u64()?,
            last_seq: r.u64()?,
            next_early: {
                let some = r.flag()?;
                let at = r.i64()?;
                some.then_some(at)
            },
            counters: WindowCounters {
                late: r.u64()?,
                unassigned: r.u64()?,
                dead_lettered: r.u64()?,
                firings: r.u64()?,
                calls: r.u64()?,
            },
        };
        r.end()?;
        Ok(scalars)
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

    fn entry_strategy() -> impl Strategy<Value = Entry> {
        (
            any::<(u64, i64, i64, u64)>(),
            prop::option::of(any::<(u32, bool, u64, u64)>()),
            prop::collection::vec(any::<u8>(), 0..12),
            prop::option::of(prop::collection::vec(
                (
                    any::<u64>(),
                    any::<i64>(),
                    prop::option::of(prop::collection::vec(any::<u8>(), 0..4)),
                    prop::collection::vec(any::<u8>(), 0..6),
                    prop::collection::vec(
                        ("[a-z]{0,3}", prop::collection::vec(any::<u8>(), 0..3)),
                        0..3,
                    ),
                ),
                0..4,
            )),
        )
            .prop_map(|(stats, window, acc, events)| {
                let mut entry = Entry::new(3, Window::new(-5, 10));
                entry.stats = SlotStats {
                    count: stats.0,
                    min_ts: stats.1,
                    max_ts: stats.2,
                    last_seq: stats.3,
                    dirty_listed: stats.0 % 2 == 0,
                };
                entry.window = window.map(|w| WindowState {
                    firings: w.0,
                    complete: w.1,
                    fired_seq: w.2,
                    trigger_count: w.3,
                });
                entry.acc.set(&acc);
                entry.events = events.map(|events| {
                    let mut buffer = EventBuffer::default();
                    for (seq, ts, key, value, headers) in events {
                        buffer.events.push(key.as_deref(), &value, ts);
                        for (name, value) in headers {
                            buffer.events.push_header(name.clone(), &value);
                        }
                        buffer.seqs.push(seq);
                    }
                    Box::new(buffer)
                });
                entry
            })
    }

    fn same(a: &Entry, b: &Entry) -> bool {
        let events = |e: &Entry| {
            e.events
                .as_ref()
                .map(|b| (b.events.clone(), b.seqs.clone()))
        };
        a.key == b.key
            && a.ns == b.ns
            && a.stats == b.stats
            && a.window == b.window
            && a.acc[..] == b.acc[..]
            && events(a) == events(b)
    }

    proptest! {
        #[test]
        fn entries_round_trip_and_damage_is_corrupt(entry in entry_strategy(), cut in any::<prop::sample::Index>()) {
            let mut bytes = Vec::new();
            encode_entry(&mut bytes, &entry);
            let back = decode_entry(entry.key, entry.ns, &bytes).unwrap();
            prop_assert!(same(&entry, &back));
            let cut = cut.index(bytes.len());
            let damaged = matches!(decode_entry(3, entry.ns, &bytes[..cut]), Err(StateError::Corrupt { .. }));
            prop_assert!(damaged);
            bytes.push(0);
            let trailing = matches!(decode_entry(3, entry.ns, &bytes), Err(StateError::Corrupt { .. }));
            prop_assert!(trailing);
        }

        #[test]
        fn entry_keys_round_trip_and_stay_in_their_key_group(
            kg in 0..u16::MAX, key in prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
            start in any::<i64>(), len in 0..1000i64,
        ) {
            let ns = Window { start, end: start.saturating_add(len) };
            let mut bytes = Vec::new();
            entry_key(&mut bytes, kg, key.as_deref(), ns).unwrap();
            prop_assert_eq!(decode_entry_key(&bytes).unwrap(), (key.as_deref(), ns));
            prop_assert_eq!(&bytes[..2], &kg.to_be_bytes());
            prop_assert!(bytes < scalars_key(), "operator-wide entries sort after every key group");
        }
    }

    #[test]
    fn scalars_round_trip() {
        let scalars = Scalars {
            watermark: -7,
            next_seq: 9,
            last_seq: 8,
            next_early: Some(-3),
            counters: WindowCounters {
                late: 1,
                unassigned: 2,
                dead_lettered: 3,
                firings: 4,
                calls: 5,
            },
        };
        assert_eq!(Scalars::decode(&scalars.encode()).unwrap(), scalars);
        assert!(Scalars::decode(&scalars.encode()[..5]).is_err());
    }
}
