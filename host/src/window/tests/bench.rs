//! Throughput of the window operator alone (no Wasm): the benchmark shape — 1,000 keys,
//! one event per millisecond, up to 500 ms of disorder, watermark 1 s behind the
//! largest timestamp after every batch of 1,024 — through tumbling 1 s and sliding
//! 10 s / 1 s windows, with a minimal native count/sum/min/max over an 8-byte value
//! (what the operator costs around the function) and with the JSON built-ins.
//!
//! Run: `cargo test --release -p weir-host --lib window::tests::bench -- --ignored --nocapture`
//! (`WEIR_WINDOW_BENCH_EVENTS` to change the default of 10 M events,
//! `WEIR_WINDOW_BENCH_ONLY=sliding` to run the cases whose name contains a word).

use std::time::{Duration, Instant};

use weir_batch::Batch;

use crate::runtime::operator::{Emitted, Operator};
use crate::window::builtin::Builtins;
use crate::window::spec::{AssignerSpec, WindowSpec};
use crate::window::{AggregateFunction, Packed, WindowFiring, WindowFnError, WindowOperator};

/// count, sum, min, max over a little-endian `f64` value; 32-byte accumulators.
#[derive(Debug, Default)]
struct CompactAgg;

const FRESH: [f64; 3] = [0.0, f64::INFINITY, f64::NEG_INFINITY];

fn read(acc: &[u8]) -> (u64, [f64; 3]) {
    if acc.len() < 32 {
        return (0, FRESH);
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&acc[at..at + 8]);
        w
    };
    (
        u64::from_le_bytes(word(0)),
        [
            f64::from_le_bytes(word(8)),
            f64::from_le_bytes(word(16)),
            f64::from_le_bytes(word(24)),
        ],
    )
}

fn write(out: &mut Vec<u8>, (count, [sum, min, max]): (u64, [f64; 3])) {
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(&min.to_le_bytes());
    out.extend_from_slice(&max.to_le_bytes());
}

impl AggregateFunction for CompactAgg {
    fn add(
        &mut self,
        accs: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError> {
        let mut state: Vec<(u64, [f64; 3])> = accs.iter().map(read).collect();
        for (event, &target) in events.iter().zip(targets) {
            let mut v = [0u8; 8];
            v.copy_from_slice(&event.value[..8]);
            let v = f64::from_le_bytes(v);
            let s = &mut state[target as usize];
            s.0 += 1;
            s.1[0] += v;
            s.1[1] = s.1[1].min(v);
            s.1[2] = s.1[2].max(v);
        }
        accs.clear();
        let mut buf = Vec::with_capacity(32);
        for s in state {
            buf.clear();
            write(&mut buf, s);
            accs.push(&buf);
        }
        Ok(())
    }

    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError> {
        let mut out = Packed::default();
        let mut from = 0;
        let mut buf = Vec::with_capacity(32);
        for &end in group_ends {
            let mut acc = (0, FRESH);
            for i in from..end as usize {
                let (c, [s, lo, hi]) = read(inputs.get(i).unwrap_or_default());
                acc.0 += c;
                acc.1[0] += s;
                acc.1[1] = acc.1[1].min(lo);
                acc.1[2] = acc.1[2].max(hi);
            }
            buf.clear();
            write(&mut buf, acc);
            out.push(&buf);
            from = end as usize;
        }
        Ok(out)
    }

    fn finish(&mut self, accs: &Packed, firings: &[WindowFiring]) -> Result<Packed, WindowFnError> {
        let mut out = Packed::default();
        for (acc, _) in accs.iter().zip(firings) {
            out.push(&acc[..acc.len().min(16)]);
        }
        Ok(out)
    }
}

fn run(name: &str, mut op: WindowOperator, events: u64, json: bool) {
    if std::env::var("WEIR_WINDOW_BENCH_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut out = Emitted::default();
    let (mut busy, mut results, mut max_seen) = (Duration::ZERO, 0usize, i64::MIN);
    let mut value = Vec::new();
    let keys: Vec<Vec<u8>> = (0..1000).map(|k| format!("k{k}").into_bytes()).collect();
    let mut watermarking = Duration::ZERO;
    let mut at = 0u64;
    while at < events {
        let size = 1024.min(events - at);
        let mut batch = Batch::with_capacity(size as usize, size as usize * 24);
        for i in at..at + size {
            let ts = i as i64 - (next() % 500) as i64;
            max_seen = max_seen.max(ts);
            let key = &keys[(next() % 1000) as usize];
            value.clear();
            let amount = (next() % 10_000) as f64 / 100.0;
            if json {
                value.extend_from_slice(format!("{{\"amount\":{amount}}}").as_bytes());
            } else {
                value.extend_from_slice(&amount.to_le_bytes());
            }
            batch.push(Some(key), &value, ts);
        }
        at += size;
        let started = Instant::now();
        op.process(batch, &mut out).expect("process");
        let processed = Instant::now();
        op.on_watermark(max_seen - 1_000, &mut out)
            .expect("watermark");
        busy += started.elapsed();
        watermarking += processed.elapsed();
        results += out.main.len();
        out.main.clear();
    }
    let started = Instant::now();
    op.on_end(&mut out).expect("end");
    busy += started.elapsed();
    results += out.main.len();
    println!(
        "{name:<40} {:>6.2} M events/s  {:>6.1} ns/event ({:>6.1} in watermarks)  \
         {results} results ({:.2}/event), late {}",
        events as f64 / busy.as_secs_f64() / 1e6,
        busy.as_nanos() as f64 / events as f64,
        watermarking.as_nanos() as f64 / events as f64,
        results as f64 / events as f64,
        op.counters().late,
    );
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn throughput() {
    let events: u64 = std::env::var("WEIR_WINDOW_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let tumbling = WindowSpec::new(AssignerSpec::Tumbling {
        size_ms: 1_000,
        offset_ms: 0,
    });
    let sliding = WindowSpec::new(AssignerSpec::Sliding {
        size_ms: 10_000,
        slide_ms: 1_000,
        offset_ms: 0,
    });
    let compact =
        |spec| WindowOperator::aggregate("w", spec, Box::new(CompactAgg), "native").expect("spec");
    let builtins = |spec| {
        let list = Builtins::parse("[count, sum(amount), min(amount), max(amount)]").expect("list");
        WindowOperator::builtin("w", spec, list).expect("spec")
    };
    run(
        "tumbling 1 s, native compact agg",
        compact(tumbling),
        events,
        false,
    );
    run(
        "sliding 10 s / 1 s, native compact agg",
        compact(sliding),
        events,
        false,
    );
    run(
        "tumbling 1 s, JSON built-ins",
        builtins(tumbling),
        events,
        true,
    );
    run(
        "sliding 10 s / 1 s, JSON built-ins",
        builtins(sliding),
        events,
        true,
    );
}
