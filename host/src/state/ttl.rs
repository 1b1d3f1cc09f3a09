//! Time to live in event time, for [`keyed`](super::keyed) state.
//!
//! An entry written with scope time `t` while the watermark is `w` expires at
//! `max(t, w) + ttl` (saturating), and reads as absent once `watermark >= expiry`; with
//! no watermark yet nothing has expired. Both times are event times, so a replay from a
//! checkpoint expires the same entries at the same points of the stream.
//!
//! Only states with a TTL pay for it: their stored values start with an 8-byte header,
//! the expiry as an `i64` BE; the values of other states are stored as they are.
//! Expired entries are deleted lazily, when a read comes across them ([`Sweep`] for
//! scans); a RocksDB compaction filter can later drop the ones never read again, from
//! the same header.

use weir_batch::Timestamp;

use super::keyed::{MAX_READ_LEN, StateSpec};
use super::{ScanControl, StateBackend, StateError};

/// Length of the header of a value with a TTL.
pub(super) const TTL_HEADER_LEN: usize = 8;

/// When an entry written at scope time `time` under `watermark` expires.
///
/// ```text
/// expiry(10, None, 5) = 15          expiry(10, Some(20), 5) = 30 (a late event)
/// ```
pub(super) fn expiry(ttl_ms: u64, watermark: Option<Timestamp>, time: Timestamp) -> Timestamp {
    let from = watermark.map_or(time, |w| w.max(time));
    from.saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX))
}

/// Whether an entry expiring at `expiry` is gone at `watermark`.
pub(super) fn is_expired(watermark: Option<Timestamp>, expiry: Timestamp) -> bool {
    watermark.is_some_and(|w| w >= expiry)
}

/// `value` as stored: behind a TTL header when there is an expiry. Copies into `buf`
/// only then.
pub(super) fn framed<'v>(
    buf: &'v mut Vec<u8>,
    expiry: Option<Timestamp>,
    value: &'v [u8],
) -> &'v [u8] {
    match expiry {
        None => value,
        Some(expiry) => {
            buf.clear();
            buf.extend_from_slice(&expiry.to_be_bytes());
            buf.extend_from_slice(value);
            buf
        }
    }
}

/// A stored value's expiry (for a state with a TTL) and payload.
pub(super) fn split_header<'s>(
    spec: &StateSpec,
    stored: &'s [u8],
) -> Result<(Option<Timestamp>, &'s [u8]), StateError> {
    if spec.ttl_ms.is_none() {
        return Ok((None, stored));
    }
    let Some((header, payload)) = stored.split_first_chunk::<TTL_HEADER_LEN>() else {
        return Err(StateError::Corrupt {
            reason: "value shorter than its TTL header",
        });
    };
    Ok((Some(Timestamp::from_be_bytes(*header)), payload))
}

/// The bookkeeping of a scan over a list or a map: TTL, expired entries to delete, the
/// answer size limit, and errors raised inside the visitor.
pub(super) struct Sweep {
    has_ttl: bool,
    watermark: Option<Timestamp>,
    /// For a list: the length of its meta entry's key (the bare state prefix).
    meta_len: Option<usize>,
    expired: Vec<Vec<u8>>,
    /// The list's meta entry has expired, hence every element.
    all_expired: bool,
    read: usize,
    error: Option<StateError>,
}

impl Sweep {
    pub(super) fn new(
        spec: &StateSpec,
        watermark: Option<Timestamp>,
        meta_len: Option<usize>,
    ) -> Self {
        Sweep {
            has_ttl: spec.ttl_ms.is_some(),
            watermark,
            meta_len,
            expired: Vec::new(),
            all_expired: false,
            read: 0,
            error: None,
        }
    }

    /// Checks one scanned entry; `take` gets the live ones (but a list's meta entry)
    /// and returns how many bytes it added to the answer.
    pub(super) fn visit(
        &mut self,
        key: &[u8],
        stored: &[u8],
        take: impl FnOnce(&[u8], &[u8]) -> usize,
    ) -> ScanControl {
        let is_meta = self.meta_len == Some(key.len());
        let payload = if self.has_ttl {
            let Some((header, payload)) = stored.split_first_chunk::<TTL_HEADER_LEN>() else {
                self.error = Some(StateError::Corrupt {
                    reason: "value shorter than its TTL header",
                });
                return ScanControl::Stop;
            };
            if is_expired(self.watermark, Timestamp::from_be_bytes(*header)) {
                if is_meta {
                    // The meta entry sorts first and expires last: all is gone.
                    self.all_expired = true;
                    return ScanControl::Stop;
                }
                self.expired.push(key.to_vec());
                return ScanControl::Continue;
            }
            payload
        } else {
            stored
        };
        if is_meta {
            return ScanControl::Continue;
        }
        self.read += take(key, payload);
        if self.read > MAX_READ_LEN {
            self.error = Some(StateError::too_large("answer", self.read, MAX_READ_LEN));
            return ScanControl::Stop;
        }
        ScanControl::Continue
    }

    /// Deletes what expired; returns whether the whole list had.
    pub(super) fn finish<B: StateBackend + ?Sized>(
        self,
        backend: &mut B,
        prefix: &[u8],
    ) -> Result<bool, StateError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.all_expired {
            backend.delete_prefix(prefix)?;
            return Ok(true);
        }
        for key in &self.expired {
            backend.delete(key)?;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_counts_from_the_later_of_event_time_and_watermark() {
        assert_eq!(expiry(10, None, 5), 15);
        assert_eq!(expiry(10, Some(3), 5), 15);
        assert_eq!(expiry(10, Some(20), 5), 30);
        assert_eq!(expiry(u64::MAX, None, 5), i64::MAX);
        assert_eq!(expiry(10, Some(i64::MAX - 3), 0), i64::MAX);
        assert!(!is_expired(None, i64::MIN));
        assert!(!is_expired(Some(14), 15));
        assert!(is_expired(Some(15), 15));
    }
}
