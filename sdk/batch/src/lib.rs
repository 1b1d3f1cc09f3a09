//! [`Batch`]: the columnar event batch that Weir's host and its guest SDK both use.
//!
//! The layout is the one of the WIT record `weir:operator/types.batch`, so handing a
//! batch across the Wasm boundary is a move of a few vectors on each side and one copy
//! per column into the other memory — never a walk over the events. See
//! `wit/types.wit` for the invariants; [`Batch::validate`] checks them on a batch that
//! comes from the other side of the boundary.
//!
//! ```
//! use weir_batch::Batch;
//!
//! let mut batch = Batch::default();
//! batch.push(Some(b"card-1"), br#"{"amount":12.5}"#, 1_700_000_000_000);
//! batch.push(None, b"no key here", 1_700_000_000_001);
//! assert_eq!(batch.len(), 2);
//! let second = batch.event(1);
//! assert_eq!((second.index, second.key, second.value), (1, None, &b"no key here"[..]));
//! assert!(batch.validate().is_ok());
//! ```

pub mod decimal;
mod header;

use std::ops::Range;

pub use header::{Header, HeaderName, HeaderValue};

/// Event time in milliseconds since the Unix epoch.
pub type Timestamp = i64;

/// A batch of events, stored by column. Cheap to build, to split and to send to a
/// plugin; see the module docs for the layout. `clone_from` reuses the target's
/// allocations.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    parts: BatchParts,
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        Batch {
            parts: self.parts.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let (to, from) = (&mut self.parts, &source.parts);
        to.timestamps.clone_from(&from.timestamps);
        to.values.clone_from(&from.values);
        to.value_ends.clone_from(&from.value_ends);
        to.keys.clone_from(&from.keys);
        to.key_ends.clone_from(&from.key_ends);
        to.keyless.clone_from(&from.keyless);
        to.headers.clone_from(&from.headers);
    }
}

/// The columns of a [`Batch`], for moving them to and from the generated bindings of
/// each side of the Wasm boundary. See `wit/types.wit` for what each column holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct BatchParts {
    pub timestamps: Vec<Timestamp>,
    pub values: Vec<u8>,
    pub value_ends: Vec<u32>,
    pub keys: Vec<u8>,
    pub key_ends: Vec<u32>,
    pub keyless: Vec<u32>,
    pub headers: Vec<Header>,
}

/// A borrowed view of one event of a [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// Position of the event in its batch.
    pub index: u32,
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    pub timestamp: Timestamp,
    /// The headers of this event (a slice of the batch's header list).
    pub headers: &'a [Header],
}

/// A batch whose columns do not agree with each other (see `wit/types.wit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError(pub String);

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed batch: {}", self.0)
    }
}

impl std::error::Error for BatchError {}

impl Batch {
    /// An empty batch with room for `events` events of `value_bytes` value bytes in all.
    pub fn with_capacity(events: usize, value_bytes: usize) -> Self {
        Batch {
            parts: BatchParts {
                timestamps: Vec::with_capacity(events),
                values: Vec::with_capacity(value_bytes),
                value_ends: Vec::with_capacity(events),
                keys: Vec::new(),
                key_ends: Vec::with_capacity(events),
                keyless: Vec::new(),
                headers: Vec::new(),
            },
        }
    }

    /// An empty batch with room for the events of `other` (its event count and its
    /// key and value bytes): what a map or filter of `other` emits at most.
    pub fn with_capacity_like(other: &Batch) -> Self {
        let mut batch = Batch::with_capacity(other.len(), other.parts.values.len());
        batch.parts.keys.reserve(other.parts.keys.len());
        batch
    }

    /// A batch made of `parts` as they are. A batch built this way from untrusted
    /// columns must pass [`Batch::validate`] before any event is read.
    pub fn from_parts(parts: BatchParts) -> Self {
        Batch { parts }
    }

    /// The batch's columns.
    pub fn into_parts(self) -> BatchParts {
        self.parts
    }

    /// Removes all events, keeping the allocated room.
    pub fn clear(&mut self) {
        let parts = &mut self.parts;
        parts.timestamps.clear();
        parts.values.clear();
        parts.value_ends.clear();
        parts.keys.clear();
        parts.key_ends.clear();
        parts.keyless.clear();
        parts.headers.clear();
    }

    /// Number of events.
    #[inline]
    pub fn len(&self) -> usize {
        self.parts.timestamps.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.parts.timestamps.is_empty()
    }

    /// Total bytes of keys and values, a measure of the batch's size.
    pub fn byte_len(&self) -> usize {
        self.parts.values.len() + self.parts.keys.len()
    }

    /// Appends an event without headers.
    ///
    /// # Panics
    /// If the batch's keys or values would pass 4 GiB (a batch is meant to be far
    /// smaller: the runtime cuts batches at a few thousand events).
    #[inline]
    pub fn push(&mut self, key: Option<&[u8]>, value: &[u8], timestamp: Timestamp) {
        let index = self.len() as u32;
        self.parts.timestamps.push(timestamp);
        self.parts.values.extend_from_slice(value);
        self.parts
            .value_ends
            .push(end_offset(self.parts.values.len()));
        match key {
            Some(key) => self.parts.keys.extend_from_slice(key),
            None => self.parts.keyless.push(index),
        }
        self.parts.key_ends.push(end_offset(self.parts.keys.len()));
    }

    /// Appends a copy of `event`, headers included.
    #[inline]
    pub fn push_event(&mut self, event: &EventRef<'_>) {
        self.push_event_with_value(event, event.value);
    }

    /// Appends a copy of `event` with its value replaced by `value`: what a map emits.
    #[inline]
    pub fn push_event_with_value(&mut self, event: &EventRef<'_>, value: &[u8]) {
        let index = self.len() as u32;
        self.push(event.key, value, event.timestamp);
        self.parts
            .headers
            .extend(event.headers.iter().map(|header| Header {
                event: index,
                name: header.name.clone(),
                value: header.value.clone(),
            }));
    }

    /// Adds a header to the last event pushed (so that headers stay ordered by event).
    /// A `&'static str` name and a value of up to [`HeaderValue::INLINE`] bytes cost no
    /// allocation.
    #[inline]
    pub fn push_header(&mut self, name: impl Into<HeaderName>, value: &[u8]) {
        self.push_header_value(name, HeaderValue::from(value));
    }

    /// Adds copies of `headers` to the last event pushed (their `event` fields are
    /// ignored): the cheap way to give many events the same headers, copied whole
    /// rather than built field by field for each event.
    #[inline]
    pub fn push_headers_from(&mut self, headers: &[Header]) {
        let event = self.len().saturating_sub(1) as u32;
        let at = self.parts.headers.len();
        self.parts.headers.extend_from_slice(headers);
        for header in &mut self.parts.headers[at..] {
            header.event = event;
        }
    }

    /// Adds a header, its value already made, to the last event (see
    /// [`Batch::push_header`]).
    #[inline]
    pub fn push_header_value(&mut self, name: impl Into<HeaderName>, value: HeaderValue) {
        let event = self.len().saturating_sub(1) as u32;
        self.parts.headers.push(Header {
            event,
            name: name.into(),
            value,
        });
    }

    /// The event at `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`, or if the batch is malformed (batches from guests are
    /// validated before anything reads them).
    #[inline]
    pub fn event(&self, index: usize) -> EventRef<'_> {
        let value_start = if index == 0 {
            0
        } else {
            self.parts.value_ends[index - 1] as usize
        };
        let key_start = if index == 0 {
            0
        } else {
            self.parts.key_ends[index - 1] as usize
        };
        let key = if self.parts.keyless.binary_search(&(index as u32)).is_ok() {
            None
        } else {
            Some(&self.parts.keys[key_start..self.parts.key_ends[index] as usize])
        };
        EventRef {
            index: index as u32,
            key,
            value: &self.parts.values[value_start..self.parts.value_ends[index] as usize],
            timestamp: self.parts.timestamps[index],
            headers: self.headers_of(index),
        }
    }

    /// Iterates over the events in order. Walks the columns once (no per-event
    /// search), so prefer it to [`Batch::event`] in loops.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            batch: self,
            index: 0,
            value_start: 0,
            key_start: 0,
            keyless: 0,
            header: 0,
        }
    }

    /// The event times, in event order.
    #[inline]
    pub fn timestamps(&self) -> &[Timestamp] {
        &self.parts.timestamps
    }

    /// A new batch holding copies of the events in `range`.
    pub fn slice(&self, range: Range<usize>) -> Batch {
        let mut out = Batch::with_capacity(range.len(), 0);
        for index in range {
            out.push_event(&self.event(index));
        }
        out
    }

    /// The value column, if every value is exactly `width` bytes (records of one
    /// binary layout): event `i`'s value is `[i * width, (i + 1) * width)` of it. A
    /// batch-wide view, for code that handles the values as one block.
    pub fn fixed_width_values(&self, width: usize) -> Option<&[u8]> {
        let parts = &self.parts;
        let uniform = parts.values.len() == width * self.len()
            && (1..)
                .zip(&parts.value_ends)
                .all(|(events, end)| *end as usize == events * width);
        uniform.then_some(&parts.values[..])
    }

    /// Appends every event of `source`, key, time and headers kept, with its value
    /// replaced by the next `width` bytes of `values` (event `i`'s is
    /// `values[i * width..(i + 1) * width]`): a map of a whole batch in one step,
    /// without walking its events.
    ///
    /// # Panics
    /// If `values` does not hold `width` bytes for each event of `source`, or the
    /// batch would pass 4 GiB of keys or values.
    pub fn extend_with_values(&mut self, source: &Batch, values: &[u8], width: usize) {
        assert_eq!(
            values.len(),
            width * source.len(),
            "{width} bytes of value for each of {} events",
            source.len()
        );
        let base_events = self.len() as u32;
        let base_values = self.parts.values.len();
        let base_keys = end_offset(self.parts.keys.len());
        let from = &source.parts;
        self.parts.timestamps.extend_from_slice(&from.timestamps);
        self.parts.values.extend_from_slice(values);
        self.parts
            .value_ends
            .extend((1..=source.len()).map(|events| end_offset(base_values + events * width)));
        self.parts.keys.extend_from_slice(&from.keys);
        self.parts
            .key_ends
            .extend(from.key_ends.iter().map(|end| end + base_keys));
        self.parts
            .keyless
            .extend(from.keyless.iter().map(|index| index + base_events));
        self.parts
            .headers
            .extend(from.headers.iter().map(|header| Header {
                event: header.event + base_events,
                name: header.name.clone(),
                value: header.value.clone(),
            }));
    }

    /// Moves all events of `other` to the end of this batch.
    pub fn append(&mut self, other: Batch) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let base_events = self.len() as u32;
        let base_values = self.parts.values.len() as u32;
        let base_keys = self.parts.keys.len() as u32;
        self.parts
            .timestamps
            .extend_from_slice(&other.parts.timestamps);
        self.parts.values.extend_from_slice(&other.parts.values);
        self.parts
            .value_ends
            .extend(other.parts.value_ends.iter().map(|end| end + base_values));
        self.parts.keys.extend_from_slice(&other.parts.keys);
        self.parts
            .key_ends
            .extend(other.parts.key_ends.iter().map(|end| end + base_keys));
        self.parts
            .keyless
            .extend(other.parts.keyless.iter().map(|index| index + base_events));
        self.parts
            .headers
            .extend(other.parts.headers.into_iter().map(|header| Header {
                event: header.event + base_events,
                ..header
            }));
    }

    /// Checks the invariants listed in `wit/types.wit`. Batches that come from a guest
    /// are checked before the host reads them: a guest is not trusted to keep them.
    ///
    /// # Errors
    /// A [`BatchError`] saying which invariant fails.
    pub fn validate(&self) -> Result<(), BatchError> {
        let n = self.len();
        check_ends("value", &self.parts.value_ends, n, self.parts.values.len())?;
        check_ends("key", &self.parts.key_ends, n, self.parts.keys.len())?;
        check_ascending("keyless", self.parts.keyless.iter().copied(), n)?;
        check_ascending(
            "headers",
            self.parts.headers.iter().map(|header| header.event),
            n,
        )
    }

    /// The slice of headers that belongs to event `index`.
    fn headers_of(&self, index: usize) -> &[Header] {
        if self.parts.headers.is_empty() {
            return &[];
        }
        let index = index as u32;
        let start = self
            .parts
            .headers
            .partition_point(|header| header.event < index);
        let end = self
            .parts
            .headers
            .partition_point(|header| header.event <= index);
        &self.parts.headers[start..end]
    }
}

/// The events of a [`Batch`] in order; see [`Batch::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    batch: &'a Batch,
    index: usize,
    value_start: usize,
    key_start: usize,
    /// Position in `keyless` of the next keyless event at or after `index`.
    keyless: usize,
    /// Position in `headers` of the first header of event `index` or later.
    header: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = EventRef<'a>;

    // Always: returned through memory, an event is read back before its stores
    // complete (a store-forwarding stall per event in the operators' loops).
    #[inline(always)]
    fn next(&mut self) -> Option<EventRef<'a>> {
        let parts = &self.batch.parts;
        let index = self.index;
        let timestamp = *parts.timestamps.get(index)?;
        let value_end = parts.value_ends[index] as usize;
        let key_end = parts.key_ends[index] as usize;
        let key = if parts.keyless.get(self.keyless) == Some(&(index as u32)) {
            self.keyless += 1;
            None
        } else {
            Some(&parts.keys[self.key_start..key_end])
        };
        let header_start = self.header;
        while parts
            .headers
            .get(self.header)
            .is_some_and(|header| header.event as usize == index)
        {
            self.header += 1;
        }
        let event = EventRef {
            index: index as u32,
            key,
            value: &parts.values[self.value_start..value_end],
            timestamp,
            headers: &parts.headers[header_start..self.header],
        };
        self.index += 1;
        self.value_start = value_end;
        self.key_start = key_end;
        Some(event)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.batch.len() - self.index;
        (remaining, Some(remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Batch {
    type Item = EventRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

fn end_offset(len: usize) -> u32 {
    u32::try_from(len).expect("a batch holds less than 4 GiB of keys and of values")
}

fn check_ends(column: &str, ends: &[u32], events: usize, bytes: usize) -> Result<(), BatchError> {
    if ends.len() != events {
        return Err(BatchError(format!(
            "{} {column} ends for {events} events",
            ends.len()
        )));
    }
    if ends.windows(2).any(|pair| pair[0] > pair[1]) {
        return Err(BatchError(format!("{column} ends go backwards")));
    }
    let last = ends.last().map_or(0, |end| *end as usize);
    if last != bytes {
        return Err(BatchError(format!(
            "{column} ends stop at {last} but there are {bytes} {column} bytes"
        )));
    }
    Ok(())
}

fn check_ascending(
    what: &str,
    indices: impl Iterator<Item = u32>,
    events: usize,
) -> Result<(), BatchError> {
    let mut previous: Option<u32> = None;
    for index in indices {
        if index as usize >= events {
            return Err(BatchError(format!(
                "{what} names event {index} of a batch of {events}"
            )));
        }
        if previous.is_some_and(|previous| previous > index) {
            return Err(BatchError(format!("{what} is not ordered by event")));
        }
        previous = Some(index);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
