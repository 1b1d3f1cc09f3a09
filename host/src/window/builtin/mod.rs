//! [`Builtins`]: the native [`AggregateFunction`] for the common case — count, sum,
//! min, max and mean over numeric JSON fields — configured as a list such as
//! `[count, sum(amount), max(amount) as biggest]` (see [`parse_list`]).
//!
//! - **Accumulator**: fixed size, `8 + 8 * k` bytes for `k` field aggregates: the event
//!   count (`u64`), then one `f64` per field aggregate (sum; min, from +∞; max, from −∞;
//!   mean as a sum), little-endian. Empty is fresh, as the contract says.
//! - **Result**: a JSON object `{"key": <key as text, or null>, "window_start": ..,
//!   "window_end": .., "firing": "on-time", "firing_index": 0, "count": 3,
//!   "sum_amount": 12.5, ...}` with the aggregates in list order. Integral values
//!   print as integers; min, max and mean of no values, and non-finite sums, print
//!   as `null`.
//! - **Bad events**: an event whose value is not JSON, or lacks a field, or whose field
//!   is not a number is rejected as a whole (counted by none of the aggregates): `add`
//!   fails for the input, the window operator re-runs the batch one event at a time and
//!   dead-letters the event with the reason, e.g. ``field `amount` is a string, not a
//!   number``, from plugin `builtin`.
//!
//! ```
//! use weir_host::window::builtin::Builtins;
//! use weir_host::window::{AggregateFunction, FiringKind, Packed, WindowFiring};
//! use weir_host::batch::Batch;
//!
//! let mut builtins = Builtins::parse("[count, sum(amount), max(amount) as top]")?;
//! let mut events = Batch::default();
//! events.push(Some(b"k"), br#"{"amount": 2}"#, 1);
//! events.push(Some(b"k"), br#"{"amount": 10.5}"#, 2);
//! let mut accs = Packed::default();
//! accs.push(&[]);
//! builtins.add(&mut accs, &events, &[0, 0]).map_err(|e| e.message)?;
//! let firing = WindowFiring {
//!     key: Some(b"k".to_vec()), start: 0, end: 10, kind: FiringKind::OnTime, index: 0,
//! };
//! let out = builtins.finish(&accs, &[firing]).map_err(|e| e.message)?;
//! assert_eq!(
//!     std::str::from_utf8(out.get(0).unwrap_or_default()).map_err(|e| e.to_string())?,
//!     r#"{"key":"k","window_start":0,"window_end":10,"firing":"on-time","firing_index":0,"count":2,"sum_amount":12.5,"top":10.5}"#
//! );
//! # Ok::<(), String>(())
//! ```

mod json;
mod parse;

use std::io::Write as _;

use weir_batch::Batch;

pub use json::{FieldError, number_at};

use crate::connector::json_path::FieldPath;
pub use parse::{BuiltinAggregate, BuiltinKind, parse_items, parse_list};

use super::function::{AggregateFunction, Packed, WindowFiring, WindowFnError};

/// The plugin identity of built-in aggregates in dead letters.
pub const BUILTIN_PLUGIN: &str = "builtin";

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Builtins {
    aggregates: Vec<BuiltinAggregate>,
    /// The distinct field paths, each read once per event.
    paths: Vec<FieldPath>,
    /// Per aggregate: for field aggregates, (path index, byte offset in the accumulator).
    slots: Vec<Option<(usize, usize)>>,
    acc_len: usize,
    values: Vec<f64>,
}

impl Builtins {
    /// Built-ins computing `aggregates`, in that order.
    ///
    /// # Errors
    /// If the list is empty or names two results alike.
    pub fn new(aggregates: Vec<BuiltinAggregate>) -> Result<Self, String> {
        let names: Vec<&str> = aggregates.iter().map(|a| a.name.as_str()).collect();
        if aggregates.is_empty() {
            return Err("the aggregate list is empty".into());
        }
        if let Some(at) = (1..names.len()).find(|&at| names[..at].contains(&names[at])) {
            return Err(format!("two aggregates are named `{}`", names[at]));
        }
        let mut paths: Vec<FieldPath> = Vec::new();
        let mut slots = Vec::with_capacity(aggregates.len());
        let mut acc_len = 8;
        for aggregate in &aggregates {
            if aggregate.kind == BuiltinKind::Count {
                slots.push(None);
                continue;
            }
            let text = aggregate.path.join(".");
            let path = match paths.iter().position(|p| p.as_str() == text) {
                Some(path) => path,
                None => {
                    paths.push(FieldPath::parse(&text));
                    paths.len() - 1
                }
            };
            slots.push(Some((path, acc_len)));
            acc_len += 8;
        }
        Ok(Builtins {
            values: vec![0.0; paths.len()],
            aggregates,
            paths,
            slots,
            acc_len,
        })
    }

    /// Parses a list such as `[count, sum(amount)]` (see [`parse_list`]).
    ///
    /// # Errors
    /// What is wrong with the list.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::new(parse_list(text)?)
    }

    pub fn aggregates(&self) -> &[BuiltinAggregate] {
        &self.aggregates
    }

    /// The size of every (non-fresh) accumulator, in bytes.
    pub fn accumulator_len(&self) -> usize {
        self.acc_len
    }

    /// A fresh accumulator, appended to `out`.
    fn push_fresh(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&0u64.to_le_bytes());
        for aggregate in &self.aggregates {
            let initial = match aggregate.kind {
                BuiltinKind::Count => continue,
                BuiltinKind::Sum | BuiltinKind::Mean => 0.0,
                BuiltinKind::Min => f64::INFINITY,
                BuiltinKind::Max => f64::NEG_INFINITY,
            };
            out.extend_from_slice(&initial.to_le_bytes());
        }
    }

    /// Makes every accumulator of `accs` `acc_len` bytes (fresh ones for empty ones).
    fn normalise(&self, accs: &mut Packed) -> Result<(), WindowFnError> {
        let len = self.acc_len;
        let regular = accs.bytes.len() == accs.len() * len
            && accs
                .ends
                .iter()
                .enumerate()
                .all(|(i, end)| *end as usize == (i + 1) * len);
        if regular {
            return Ok(());
        }
        let mut rebuilt = Packed::default();
        rebuilt.bytes.reserve(accs.len() * len);
        for acc in accs.iter() {
            match acc.len() {
                0 => self.push_fresh(&mut rebuilt.bytes),
                n if n == len => rebuilt.bytes.extend_from_slice(acc),
                n => return Err(corrupt(n, len)),
            }
            rebuilt.ends.push(rebuilt.bytes.len() as u32);
        }
        *accs = rebuilt;
        Ok(())
    }

    /// Adds `other` (an accumulator of `acc_len` bytes) into `acc`.
    fn combine(&self, acc: &mut [u8], other: &[u8]) {
        let count = read_u64(acc, 0).wrapping_add(read_u64(other, 0));
        acc[..8].copy_from_slice(&count.to_le_bytes());
        for (aggregate, slot) in self.aggregates.iter().zip(&self.slots) {
            let Some((_, at)) = *slot else { continue };
            let (a, b) = (read_f64(acc, at), read_f64(other, at));
            let value = match aggregate.kind {
                BuiltinKind::Min => a.min(b),
                BuiltinKind::Max => a.max(b),
                _ => a + b,
            };
            acc[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
    }

    fn write_result(
        &self,
        acc: &[u8],
        firing: &WindowFiring,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        out.extend_from_slice(b"{\"key\":");
        match &firing.key {
            Some(key) => serde_json::to_writer(&mut *out, &String::from_utf8_lossy(key))?,
            None => out.extend_from_slice(b"null"),
        }
        write!(
            out,
            ",\"window_start\":{},\"window_end\":{},\"firing\":\"{}\",\"firing_index\":{}",
            firing.start,
            firing.end,
            firing.kind.as_str(),
            firing.index
        )?;
        let count = read_u64(acc, 0);
        for (aggregate, slot) in self.aggregates.iter().zip(&self.slots) {
            out.push(b',');
            serde_json::to_writer(&mut *out, &aggregate.name)?;
            out.push(b':');
            let Some((_, at)) = *slot else {
                write!(out, "{count}")?;
                continue;
            };
            let value = read_f64(acc, at);
            let value = match aggregate.kind {
                BuiltinKind::Mean if count == 0 => f64::NAN,
                BuiltinKind::Mean => value / count as f64,
                _ => value,
            };
            write_number(out, value)?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl AggregateFunction for Builtins {
    fn add(
        &mut self,
        accumulators: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError> {
        self.normalise(accumulators)?;
        let (len, count) = (self.acc_len, accumulators.len());
        for (event, &target) in events.iter().zip(targets) {
            let target = target as usize;
            if target >= count {
                return Err(WindowFnError::fatal(format!(
                    "event {} targets accumulator {target} of {count}",
                    event.index
                )));
            }
            for (value, path) in self.values.iter_mut().zip(&self.paths) {
                *value = number_at(event.value, path).map_err(|error| match error {
                    FieldError::NotJson(_) => WindowFnError::input(error.to_string()),
                    _ => WindowFnError::input(format!("field `{path}` {error}")),
                })?;
            }
            let acc = &mut accumulators.bytes[target * len..(target + 1) * len];
            let events_seen = read_u64(acc, 0).wrapping_add(1);
            acc[..8].copy_from_slice(&events_seen.to_le_bytes());
            for (aggregate, slot) in self.aggregates.iter().zip(&self.slots) {
                let Some((path, at)) = *slot else { continue };
                let (old, new) = (read_f64(acc, at), self.values[path]);
                let value = match aggregate.kind {
                    BuiltinKind::Min => old.min(new),
                    BuiltinKind::Max => old.max(new),
                    _ => old + new,
                };
                acc[at..at + 8].copy_from_slice(&value.to_le_bytes());
            }
        }
        Ok(())
    }

    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError> {
        let len = self.acc_len;
        let mut out = Packed::default();
        out.bytes.reserve(group_ends.len() * len);
        let mut from = 0usize;
        for &end in group_ends {
            let at = out.bytes.len();
            self.push_fresh(&mut out.bytes);
            for index in from..end as usize {
                let input = inputs.get(index).ok_or_else(|| {
                    WindowFnError::fatal(format!(
                        "merge group ends past the {} inputs",
                        inputs.len()
                    ))
                })?;
                match input.len() {
                    0 => {}
                    n if n == len => self.combine(&mut out.bytes[at..at + len], input),
                    n => return Err(corrupt(n, len)),
                }
            }
            out.ends.push(out.bytes.len() as u32);
            from = end as usize;
        }
        Ok(out)
    }

    fn finish(
        &mut self,
        accumulators: &Packed,
        firings: &[WindowFiring],
    ) -> Result<Packed, WindowFnError> {
        let mut out = Packed::default();
        out.bytes
            .reserve(firings.len() * (96 + 24 * self.aggregates.len()));
        let mut fresh = Vec::new();
        self.push_fresh(&mut fresh);
        for (index, firing) in firings.iter().enumerate() {
            let acc = match accumulators.get(index) {
                Some([]) | None => &fresh[..],
                Some(acc) if acc.len() == self.acc_len => acc,
                Some(acc) => return Err(corrupt(acc.len(), self.acc_len)),
            };
            self.write_result(acc, firing, &mut out.bytes)
                .map_err(|error| WindowFnError::fatal(error.to_string()))?;
            out.ends.push(out.bytes.len() as u32);
        }
        Ok(out)
    }
}

fn corrupt(got: usize, expected: usize) -> WindowFnError {
    WindowFnError::fatal(format!(
        "built-in accumulator of {got} bytes, expected {expected}: the state does not belong \
         to these aggregates"
    ))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn read_f64(bytes: &[u8], at: usize) -> f64 {
    f64::from_bits(read_u64(bytes, at))
}

/// A JSON number: integral values as integers, non-finite ones as `null`.
fn write_number(out: &mut Vec<u8>, value: f64) -> std::io::Result<()> {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        Ok(())
    } else if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        write!(out, "{}", value as i64)
    } else {
        serde_json::to_writer(out, &value).map_err(std::io::Error::other)
    }
}
