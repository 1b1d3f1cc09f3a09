//! Test harness: scripted input (batches, watermarks, processing time, end), the output
//! read back into plain values, and two test window functions that expose exactly
//! which events each window saw.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use weir_batch::Batch;

use crate::connector::json_path::FieldPath;
use crate::runtime::operator::{Emitted, Operator, OperatorError};
use crate::window::builtin::number_at;
use crate::window::{
    AggregateFunction, LATE_OUTPUT, Packed, WindowFiring, WindowFnError, WindowOperator,
    WindowProcessFunction, WindowSpec, push_window_headers,
};

/// One input event; its value is `{"id": id, "amount": amount}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub key: Option<String>,
    pub ts: i64,
    pub id: u64,
    pub amount: f64,
}

pub fn ev(key: &str, ts: i64, id: u64) -> Ev {
    Ev {
        key: Some(key.to_owned()),
        ts,
        id,
        amount: id as f64,
    }
}

impl Ev {
    pub fn value(&self) -> String {
        format!("{{\"id\":{},\"amount\":{}}}", self.id, self.amount)
    }
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Events(Vec<Ev>),
    Watermark(i64),
    Clock(i64),
    End,
}

/// One window result, read back from the output event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Res {
    pub key: Option<String>,
    pub start: i64,
    pub end: i64,
    pub kind: String,
    pub index: u32,
    pub value: String,
}

/// Everything the operator emitted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Out {
    pub results: Vec<Res>,
    /// Ids of the events on the `late` output.
    pub late: Vec<u64>,
    /// (id or -1, reason) of dead letters.
    pub dead: Vec<(i64, String)>,
    /// How many results each step produced.
    pub per_step: Vec<usize>,
}

pub fn batch_of(events: &[Ev]) -> Batch {
    let mut batch = Batch::default();
    for e in events {
        batch.push(
            e.key.as_ref().map(String::as_bytes),
            e.value().as_bytes(),
            e.ts,
        );
    }
    batch
}

fn header(batch: &Batch, index: usize, name: &str) -> String {
    batch
        .event(index)
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .unwrap_or_default()
}

fn id_of(value: &[u8]) -> i64 {
    number_at(value, &FieldPath::parse("id")).map_or(-1, |id| id as i64)
}

/// Reads what the operator emitted into `out`, then clears `emitted`.
pub fn collect(emitted: &mut Emitted, out: &mut Out) {
    let main = std::mem::take(&mut emitted.main);
    for (i, event) in main.iter().enumerate() {
        let res = Res {
            key: event.key.map(|k| String::from_utf8_lossy(k).into_owned()),
            start: header(&main, i, "window_start")
                .parse()
                .expect("window_start"),
            end: header(&main, i, "window_end").parse().expect("window_end"),
            kind: header(&main, i, "firing"),
            index: header(&main, i, "firing_index")
                .parse()
                .expect("firing_index"),
            value: String::from_utf8_lossy(event.value).into_owned(),
        };
        assert_eq!(
            event.timestamp,
            res.end.saturating_sub(1),
            "result timestamp is end - 1"
        );
        out.results.push(res);
    }
    for (name, batch) in emitted.named.drain(..) {
        assert_eq!(name, LATE_OUTPUT);
        out.late.extend(batch.iter().map(|e| id_of(e.value) as u64));
    }
    for letter in emitted.dead_letters.drain(..) {
        out.dead.push((id_of(&letter.value), letter.reason));
    }
}

/// Runs `steps` through `op`, with each `Events` step cut into batches of the sizes
/// `cuts` gives in turn (cycled; empty = one batch per step).
pub fn drive_cut(
    op: &mut WindowOperator,
    steps: &[Step],
    cuts: &[usize],
) -> Result<Out, OperatorError> {
    let mut out = Out::default();
    let mut emitted = Emitted::default();
    let mut cut = cuts.iter().cycle();
    for step in steps {
        let before = out.results.len();
        match step {
            Step::Events(events) => {
                let mut rest = &events[..];
                while !rest.is_empty() {
                    let size = cut
                        .next()
                        .copied()
                        .unwrap_or(rest.len())
                        .clamp(1, rest.len());
                    op.process(batch_of(&rest[..size]), &mut emitted)?;
                    collect(&mut emitted, &mut out);
                    rest = &rest[size..];
                }
            }
            Step::Watermark(w) => op.on_watermark(*w, &mut emitted)?,
            Step::Clock(now) => op.on_processing_time(*now, &mut emitted)?,
            Step::End => op.on_end(&mut emitted)?,
        }
        collect(&mut emitted, &mut out);
        out.per_step.push(out.results.len() - before);
    }
    Ok(out)
}

pub fn drive(op: &mut WindowOperator, steps: &[Step]) -> Result<Out, OperatorError> {
    drive_cut(op, steps, &[])
}

/// Calls made to a test function.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Calls {
    pub add: usize,
    pub merge: usize,
    pub finish: usize,
    pub process: usize,
    /// Accumulators per `add` call, and firings per `finish` call.
    pub add_sizes: Vec<usize>,
    pub finish_sizes: Vec<usize>,
}

pub type SharedCalls = Arc<Mutex<Calls>>;

/// An aggregate whose accumulator is the list of the ids it saw (u64 LE each), and whose
/// result is those ids sorted, comma-separated. Ids in `poison` fail `add` for the
/// input; id `fatal_on` fails it fatally; a window holding id `unfinishable` fails
/// `finish` for the input.
#[derive(Debug, Default)]
pub struct IdsAgg {
    pub calls: SharedCalls,
    pub poison: HashSet<u64>,
    pub fatal_on: Option<u64>,
    pub unfinishable: Option<u64>,
}

impl IdsAgg {
    pub fn new() -> (Self, SharedCalls) {
        let agg = IdsAgg::default();
        let calls = agg.calls.clone();
        (agg, calls)
    }
}

fn ids(acc: &[u8]) -> Vec<u64> {
    acc.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

impl AggregateFunction for IdsAgg {
    fn add(
        &mut self,
        accs: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError> {
        {
            let mut calls = self.calls.lock().expect("calls");
            calls.add += 1;
            calls.add_sizes.push(accs.len());
        }
        assert_eq!(events.len(), targets.len());
        let mut lists: Vec<Vec<u8>> = accs.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(lists.len(), accs.len(), "well-formed accumulators");
        for (event, &target) in events.iter().zip(targets) {
            let id = id_of(event.value) as u64;
            if self.fatal_on == Some(id) {
                return Err(WindowFnError::fatal(format!("fatal {id}")));
            }
            if self.poison.contains(&id) {
                return Err(WindowFnError::input(format!("poison {id}")));
            }
            lists[target as usize].extend_from_slice(&id.to_le_bytes());
        }
        accs.clear();
        for list in &lists {
            accs.push(list);
        }
        Ok(())
    }

    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError> {
        self.calls.lock().expect("calls").merge += 1;
        let mut out = Packed::default();
        let mut from = 0;
        for &end in group_ends {
            assert!(end as usize > from, "a merge group has at least one input");
            let mut acc = Vec::new();
            for i in from..end as usize {
                acc.extend_from_slice(inputs.get(i).expect("input"));
            }
            out.push(&acc);
            from = end as usize;
        }
        Ok(out)
    }

    fn finish(&mut self, accs: &Packed, firings: &[WindowFiring]) -> Result<Packed, WindowFnError> {
        {
            let mut calls = self.calls.lock().expect("calls");
            calls.finish += 1;
            calls.finish_sizes.push(firings.len());
        }
        assert_eq!(accs.len(), firings.len());
        let mut out = Packed::default();
        for acc in accs.iter() {
            let mut list = ids(acc);
            if let Some(bad) = self.unfinishable.filter(|bad| list.contains(bad)) {
                return Err(WindowFnError::input(format!("cannot finish {bad}")));
            }
            list.sort_unstable();
            out.push(join(list.iter()).as_bytes());
        }
        Ok(out)
    }
}

pub fn join<T: ToString>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// A process function whose result per window is its events as `ts:id`, in the order
/// it received them. A call with a window holding id `unprocessable` fails.
#[derive(Debug, Default)]
pub struct TimestampsFn {
    pub calls: SharedCalls,
    pub unprocessable: Option<u64>,
}

impl WindowProcessFunction for TimestampsFn {
    fn process(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError> {
        {
            let mut calls = self.calls.lock().expect("calls");
            calls.process += 1;
            calls.finish_sizes.push(firings.len());
        }
        assert_eq!(firings.len(), event_ends.len());
        if let Some(bad) = self.unprocessable
            && events.iter().any(|e| id_of(e.value) == bad as i64)
        {
            return Err(WindowFnError::input(format!("cannot process {bad}")));
        }
        let mut from = 0;
        for (firing, &end) in firings.iter().zip(event_ends) {
            let text = join(
                events
                    .iter()
                    .skip(from)
                    .take(end as usize - from)
                    .map(|e| format!("{}:{}", e.timestamp, id_of(e.value))),
            );
            out.main
                .push(firing.key.as_deref(), text.as_bytes(), firing.end - 1);
            push_window_headers(&mut out.main, firing);
            from = end as usize;
        }
        Ok(())
    }
}

/// An aggregate operator over [`IdsAgg`].
pub fn ids_operator(spec: WindowSpec) -> (WindowOperator, SharedCalls) {
    let (agg, calls) = IdsAgg::new();
    let op = WindowOperator::aggregate("w", spec, Box::new(agg), "ids@test").expect("valid spec");
    (op, calls)
}

/// A process operator over [`TimestampsFn`].
pub fn process_operator(spec: WindowSpec) -> (WindowOperator, SharedCalls) {
    let function = TimestampsFn::default();
    let calls = function.calls.clone();
    let op = WindowOperator::process("w", spec, Box::new(function), "ts@test").expect("valid spec");
    (op, calls)
}
