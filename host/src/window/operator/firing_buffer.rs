//! [`FiringBuffer`]: firings waiting for one `merge` + `finish` call (or one
//! `process` call), and how their results become events.

use weir_batch::{Batch, Header, HeaderValue};

use crate::runtime::operator::Emitted;
use crate::window::function::{
    AggregateFunction, FiringKind, Packed, WindowFiring, WindowFnError, WindowProcessFunction,
};
use crate::window::store::EventBuffer;

/// Where a buffered firing's accumulator is.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `direct[i]`.
    Direct(u32),
    /// The merge of group `g` of `merge_inputs` (the panes of a sliding window).
    Group(u32),
}

/// Firings waiting for one `finish` (or `process`) call.
#[derive(Debug, Default)]
pub(super) struct FiringBuffer {
    /// `firings[..len]` are in use; the rest keep their key buffers for reuse.
    pub(super) firings: Vec<WindowFiring>,
    pub(super) len: usize,
    sources: Vec<Source>,
    direct: Packed,
    merge_inputs: Packed,
    group_ends: Vec<u32>,
    accs: Packed,
    pub(super) events: Batch,
    pub(super) event_ends: Vec<u32>,
    order: Vec<(i64, u64, u32, u32)>,
}

impl FiringBuffer {
    pub(super) fn push_firing(
        &mut self,
        key: Option<&[u8]>,
        (start, end): (i64, i64),
        kind: FiringKind,
        index: u32,
    ) {
        if let Some(firing) = self.firings.get_mut(self.len) {
            match (key, &mut firing.key) {
                (Some(key), Some(buffer)) => {
                    buffer.clear();
                    buffer.extend_from_slice(key);
                }
                (key, buffer) => *buffer = key.map(<[u8]>::to_vec),
            }
            (firing.start, firing.end, firing.kind, firing.index) = (start, end, kind, index);
        } else {
            self.firings.push(WindowFiring {
                key: key.map(<[u8]>::to_vec),
                start,
                end,
                kind,
                index,
            });
        }
        self.len += 1;
    }

    pub(super) fn push_direct(&mut self, acc: &[u8]) {
        self.sources.push(Source::Direct(self.direct.len() as u32));
        self.direct.push(acc);
    }

    pub(super) fn push_group<'a>(&mut self, accs: impl Iterator<Item = &'a [u8]>) {
        let first = self.merge_inputs.len();
        for acc in accs.filter(|acc| !acc.is_empty()) {
            self.merge_inputs.push(acc);
        }
        match self.merge_inputs.len() - first {
            0 => self.push_direct(&[]),
            1 => {
                let only = self.merge_inputs.get(first).unwrap_or_default().to_vec();
                self.merge_inputs.bytes.truncate(
                    self.merge_inputs
                        .ends
                        .get(first.wrapping_sub(1))
                        .map_or(0, |e| *e as usize),
                );
                self.merge_inputs.ends.truncate(first);
                self.push_direct(&only);
            }
            _ => {
                self.sources
                    .push(Source::Group(self.group_ends.len() as u32));
                self.group_ends.push(self.merge_inputs.len() as u32);
            }
        }
    }

    /// Buffers the events of `buffers` in timestamp order (ties in arrival order).
    pub(super) fn push_events(&mut self, buffers: &[&EventBuffer]) {
        self.order.clear();
        for (slot, buffer) in buffers.iter().enumerate() {
            let stamps = buffer.events.timestamps();
            for (at, (&ts, &seq)) in stamps.iter().zip(&buffer.seqs).enumerate() {
                self.order.push((ts, seq, slot as u32, at as u32));
            }
        }
        self.order.sort_unstable();
        for &(_, _, slot, at) in &self.order {
            if let Some(buffer) = buffers.get(slot as usize) {
                self.events.push_event(&buffer.events.event(at as usize));
            }
        }
        self.event_ends.push(self.events.len() as u32);
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.sources.clear();
        self.direct.clear();
        self.merge_inputs.clear();
        self.group_ends.clear();
        self.events.clear();
        self.event_ends.clear();
    }

    /// The accumulator of firing `i` alone (one `merge` call for a group).
    fn accumulator_of(
        &self,
        i: usize,
        function: &mut dyn AggregateFunction,
    ) -> Result<Vec<u8>, WindowFnError> {
        match self.sources.get(i) {
            Some(Source::Direct(d)) => {
                Ok(self.direct.get(*d as usize).unwrap_or_default().to_vec())
            }
            Some(Source::Group(g)) => {
                let g = *g as usize;
                let from = if g == 0 {
                    0
                } else {
                    self.group_ends[g - 1] as usize
                };
                let mut inputs = Packed::default();
                for at in from..self.group_ends[g] as usize {
                    inputs.push(self.merge_inputs.get(at).unwrap_or_default());
                }
                let merged = function.merge(&inputs, &[inputs.len() as u32])?;
                merged
                    .validate(1)
                    .map_err(|e| WindowFnError::input(format!("merge returned {e}")))?;
                Ok(merged.get(0).unwrap_or_default().to_vec())
            }
            None => Ok(Vec::new()),
        }
    }

    /// One `merge` for all pane groups, one `finish` for all firings.
    pub(super) fn finish_all(
        &mut self,
        function: &mut dyn AggregateFunction,
        out: &mut Emitted,
        calls: &mut u64,
    ) -> Result<(), WindowFnError> {
        let merged = if self.group_ends.is_empty() {
            Packed::default()
        } else {
            *calls += 1;
            let merged = function.merge(&self.merge_inputs, &self.group_ends)?;
            merged
                .validate(self.group_ends.len())
                .map_err(|e| WindowFnError::input(format!("merge returned {e}")))?;
            merged
        };
        self.accs.clear();
        for source in &self.sources {
            let acc = match *source {
                Source::Direct(d) => self.direct.get(d as usize),
                Source::Group(g) => merged.get(g as usize),
            };
            self.accs.push(acc.unwrap_or_default());
        }
        *calls += 1;
        let results = function.finish(&self.accs, &self.firings[..self.len])?;
        results
            .validate(self.len)
            .map_err(|e| WindowFnError::input(format!("finish returned {e}")))?;
        let mut headers = WindowHeaders::default();
        for (firing, value) in self.firings[..self.len].iter().zip(results.iter()) {
            out.main
                .push(firing.key.as_deref(), value, firing.end.saturating_sub(1));
            headers.push(&mut out.main, firing);
        }
        Ok(())
    }
}

pub(super) fn finish_one(
    buffer: &FiringBuffer,
    i: usize,
    function: &mut dyn AggregateFunction,
    out: &mut Emitted,
) -> Result<(), WindowFnError> {
    let acc = buffer.accumulator_of(i, function)?;
    let mut single = Packed::default();
    single.push(&acc);
    let firing = &buffer.firings[i..=i];
    let result = function.finish(&single, firing)?;
    result
        .validate(1)
        .map_err(|e| WindowFnError::input(format!("finish returned {e}")))?;
    emit(out, &firing[0], result.get(0).unwrap_or_default());
    Ok(())
}

/// One `process` call for every buffered firing. The events are kept for a one-by-one
/// retry when there is more than one firing.
pub(super) fn process_all(
    buffer: &mut FiringBuffer,
    function: &mut dyn WindowProcessFunction,
    out: &mut Emitted,
    calls: &mut u64,
) -> Result<(), WindowFnError> {
    let events = if buffer.len > 1 {
        buffer.events.clone()
    } else {
        std::mem::take(&mut buffer.events)
    };
    *calls += 1;
    function.process(
        &buffer.firings[..buffer.len],
        &buffer.event_ends,
        events,
        out,
    )
}

/// Emits one window result.
fn emit(out: &mut Emitted, firing: &WindowFiring, value: &[u8]) {
    out.main
        .push(firing.key.as_deref(), value, firing.end.saturating_sub(1));
    push_window_headers(&mut out.main, firing);
}

/// Adds the headers of a window result to the last event of `batch`.
pub fn push_window_headers(batch: &mut Batch, firing: &WindowFiring) {
    batch.push_headers_from(&window_headers(firing));
}

/// The four headers of `firing`'s result (`push_headers_from` sets their event).
fn window_headers(firing: &WindowFiring) -> [Header; 4] {
    let header = |name: &'static str, value| Header {
        event: 0,
        name: name.into(),
        value,
    };
    [
        header("window_start", HeaderValue::decimal(firing.start)),
        header("window_end", HeaderValue::decimal(firing.end)),
        header("firing", firing.kind.as_str().as_bytes().into()),
        header(
            "firing_index",
            HeaderValue::decimal(i64::from(firing.index)),
        ),
    ]
}

/// Writes the headers of window results. The four headers of the last firing are kept
/// as a template and copied whole while firings share them (all the results of one
/// watermark, for tumbling windows). Built field by field for each result they took
/// about 11% of the native tumbling benchmark, much of it stores stalled on
/// forwarding; copied whole, about 6% (most of it the 256 bytes they occupy).
#[derive(Default)]
struct WindowHeaders {
    /// The last firing's headers, and what they say.
    last: Option<(HeadersOf, [Header; 4])>,
}

/// (start, end, kind, index): what a firing's headers say.
type HeadersOf = (i64, i64, FiringKind, u32);

impl WindowHeaders {
    /// Adds the headers of `firing`'s result to the last event of `batch`.
    fn push(&mut self, batch: &mut Batch, firing: &WindowFiring) {
        let of = (firing.start, firing.end, firing.kind, firing.index);
        if self.last.as_ref().is_none_or(|(seen, _)| *seen != of) {
            self.last = Some((of, window_headers(firing)));
        }
        if let Some((_, headers)) = &self.last {
            batch.push_headers_from(headers);
        }
    }
}
