//! The window benchmark: 10 M generated events (1,000 keys, event time advancing 1 ms
//! per event, disorder up to 500 ms, watermark delay 1 s), memory state, one core,
//! through one window operator fed batch by batch on this thread (no channels, so the
//! figures are the operator's own work):
//!
//! - tumbling 1 s with a Wasm aggregate (`rolling-stats`: count/sum/min/max/mean),
//!   the same with a native Rust aggregate (the baseline), and with the built-in
//!   aggregates;
//! - sliding 10 s / 1 s (panes shared), Wasm and native;
//! - session, gap 1 s, Wasm and native.
//!
//! Values are the generator's 16-byte compact records (the Wasm and native aggregates
//! read `amount_cents`); the built-ins read JSON fields, so their case runs on the
//! generator's ~100-byte JSON records and reads `amount`. Each case runs in a process
//! of its own, so that its peak RSS (VmHWM) is its own.
//!
//! Each case prints events/s by the wall clock and by the thread's CPU time (the
//! machine is shared: the CPU figure leaves out the time other processes hold the
//! core); the Wasm/native ratios use the CPU figures.
//!
//! Run: `cargo bench -p weir-tests --bench windows`
//! (`WEIR_BENCH_EVENTS=1000000` for a quicker run; `WEIR_BENCH_ONLY=tumbling-wasm,...`).

use std::process::Command;
use std::time::Instant;

use weir_host::batch::Batch;
use weir_host::connector::Source;
use weir_host::connector::generator::{GeneratorSource, GeneratorSpec, ValueShape};
use weir_host::plugin::{PluginLimits, PluginSpec};
use weir_host::runtime::operator::{Emitted, Operator};
use weir_host::runtime::stats::OperatorStats;
use weir_host::runtime::wasm_window::WasmAggregate;
use weir_host::time::generator::WatermarkGenerator;
use weir_host::window::builtin::Builtins;
use weir_host::window::operator::WindowOperator;
use weir_host::window::spec::{AssignerSpec, WindowSpec};
use weir_host::window::{AggregateFunction, Packed, WindowFiring, WindowFnError};

const CASES: [&str; 7] = [
    "tumbling-wasm",
    "tumbling-native",
    "tumbling-builtin",
    "sliding-wasm",
    "sliding-native",
    "session-wasm",
    "session-native",
];

fn main() {
    if let Ok(case) = std::env::var("WEIR_BENCH_CASE") {
        run_case(&case);
        return;
    }
    let only = std::env::var("WEIR_BENCH_ONLY").ok();
    let events = events();
    println!("window benchmark: {events} events per case, 1000 keys, disorder 500 ms, delay 1 s");
    println!(
        "{:<18} {:>12} {:>10} {:>14} {:>12} {:>10}",
        "case", "events/s", "ns/event", "peak RSS MiB", "CPU ev/s", "CPU ns/ev"
    );
    let mut results: Vec<(String, f64)> = Vec::new();
    for case in CASES {
        if only
            .as_ref()
            .is_some_and(|only| !only.split(',').any(|name| name == case))
        {
            continue;
        }
        let output = Command::new(std::env::current_exe().expect("the bench binary"))
            .env("WEIR_BENCH_CASE", case)
            .output()
            .expect("the case runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let Some(line) = text.lines().find(|line| line.starts_with("result ")) else {
            eprintln!("{case} failed: {}", String::from_utf8_lossy(&output.stderr));
            continue;
        };
        let fields: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        let (rate, rss, cpu_rate) = (fields[0], fields[1], fields[2]);
        println!(
            "{case:<18} {rate:>12.0} {:>10.1} {rss:>14.1} {cpu_rate:>12.0} {:>10.1}",
            1e9 / rate,
            1e9 / cpu_rate
        );
        results.push((case.to_owned(), cpu_rate));
    }
    let rate = |name: &str| {
        results
            .iter()
            .find(|(case, _)| case == name)
            .map(|(_, rate)| *rate)
    };
    for kind in ["tumbling", "sliding", "session"] {
        if let (Some(wasm), Some(native)) = (
            rate(&format!("{kind}-wasm")),
            rate(&format!("{kind}-native")),
        ) {
            println!(
                "{kind}: Wasm aggregate takes {:.2}x the native one's CPU time per event",
                native / wasm
            );
        }
    }
}

fn events() -> u64 {
    std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|events| events.parse().ok())
        .unwrap_or(10_000_000)
}

fn spec(kind: &str) -> WindowSpec {
    WindowSpec::new(match kind {
        "tumbling" => AssignerSpec::Tumbling {
            size_ms: 1_000,
            offset_ms: 0,
        },
        "sliding" => AssignerSpec::Sliding {
            size_ms: 10_000,
            slide_ms: 1_000,
            offset_ms: 0,
        },
        _ => AssignerSpec::Session { gap_ms: 1_000 },
    })
}

fn run_case(case: &str) {
    let (kind, function) = case.split_once('-').expect("kind-function");
    let shape = if function == "builtin" {
        ValueShape::Json
    } else {
        ValueShape::Compact
    };
    let stats = std::sync::Arc::new(OperatorStats::new(case, "bench"));
    let mut operator: WindowOperator = match function {
        "wasm" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let plugin = weir_tests::loader(dir.path())
                .load(PluginSpec {
                    operator: case.to_owned(),
                    path: weir_tests::plugin("rolling-stats"),
                    settings_json: r#"{"format":"compact"}"#.into(),
                    limits: PluginLimits::default(),
                })
                .expect("rolling-stats loads");
            let function = WasmAggregate::new(plugin, 0, stats).expect("instance");
            WindowOperator::aggregate(case, spec(kind), Box::new(function), "rolling-stats")
                .expect("window operator")
        }
        "native" => WindowOperator::aggregate(case, spec(kind), Box::new(NativeStats), "native")
            .expect("window operator"),
        _ => WindowOperator::builtin(
            case,
            spec(kind),
            Builtins::parse("count, sum(amount), min(amount), max(amount)").expect("builtins"),
        )
        .expect("window operator"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut source = GeneratorSource::new(GeneratorSpec {
        count: Some(events()),
        keys: 1_000,
        shape,
        disorder_ms: 500,
        ..GeneratorSpec::default()
    });
    let mut watermarks = WatermarkGenerator::new(1_000, None).expect("generator");
    let mut out = Emitted::default();
    let mut dead = Vec::new();
    let mut results = 0_u64;
    let mut busy = std::time::Duration::ZERO;
    let mut cpu = std::time::Duration::ZERO;
    let clock = CpuClock::open();
    let mut processed = 0_u64;
    while let Some(batch) = runtime
        .block_on(source.next_batch(1024, &mut dead))
        .expect("generator")
    {
        let batch: Batch = batch;
        for event in batch.iter() {
            watermarks.on_event(event.timestamp, 0);
        }
        processed += batch.len() as u64;
        let (started, started_cpu) = (Instant::now(), clock.now());
        operator.process(batch, &mut out).expect("process");
        if let weir_host::time::generator::WatermarkUpdate::Advanced(watermark) = watermarks.poll(0)
        {
            operator
                .on_watermark(watermark, &mut out)
                .expect("watermark");
        }
        busy += started.elapsed();
        cpu += clock.now().saturating_sub(started_cpu);
        results += out.main.len() as u64;
        out.main.clear();
        assert!(
            out.dead_letters.is_empty(),
            "{:?}",
            out.dead_letters.first()
        );
        out.named.clear();
    }
    let (started, started_cpu) = (Instant::now(), clock.now());
    operator.on_watermark(i64::MAX, &mut out).expect("end");
    operator.on_end(&mut out).expect("end");
    busy += started.elapsed();
    cpu += clock.now().saturating_sub(started_cpu);
    results += out.main.len() as u64;
    assert!(results > 0, "windows fired");
    let rate = processed as f64 / busy.as_secs_f64();
    let cpu_rate = processed as f64 / cpu.as_secs_f64().max(1e-9);
    println!(
        "result {rate:.0} {:.1} {cpu_rate:.0} results={results}",
        peak_rss_mib()
    );
}

/// This thread's CPU time, from `/proc/thread-self/schedstat` (kept open: one `pread`
/// per reading). On a shared machine it counts the operator's work without the time
/// other processes take the core; where absent, it reads zero and the CPU figure is
/// meaningless (the wall-clock one still holds).
struct CpuClock(Option<std::fs::File>);

impl CpuClock {
    fn open() -> Self {
        CpuClock(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    fn now(&self) -> std::time::Duration {
        use std::os::unix::fs::FileExt as _;
        let mut text = [0u8; 96];
        let read = self
            .0
            .as_ref()
            .and_then(|file| file.read_at(&mut text, 0).ok())
            .unwrap_or(0);
        let nanos = std::str::from_utf8(&text[..read])
            .ok()
            .and_then(|text| text.split_whitespace().next())
            .and_then(|first| first.parse().ok())
            .unwrap_or(0);
        std::time::Duration::from_nanos(nanos)
    }
}

/// The process's peak resident set size, from `/proc/self/status` (0 where absent).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The native baseline: what `rolling-stats` computes over compact records, in Rust,
/// behind the same [`AggregateFunction`] contract (fixed 28-byte accumulators).
struct NativeStats;

#[derive(Clone, Copy)]
struct Acc {
    count: u64,
    sum: u64,
    min: u32,
    max: u32,
}

impl Acc {
    const LEN: usize = 24;
    fn decode(bytes: &[u8]) -> Acc {
        if bytes.len() < Self::LEN {
            return Acc {
                count: 0,
                sum: 0,
                min: u32::MAX,
                max: 0,
            };
        }
        let word = |range: std::ops::Range<usize>| {
            u64::from_le_bytes(bytes[range].try_into().expect("8 bytes"))
        };
        let half = |range: std::ops::Range<usize>| {
            u32::from_le_bytes(bytes[range].try_into().expect("4 bytes"))
        };
        Acc {
            count: word(0..8),
            sum: word(8..16),
            min: half(16..20),
            max: half(20..24),
        }
    }
    fn encode(self, out: &mut Packed) {
        let mut bytes = [0_u8; Self::LEN];
        bytes[0..8].copy_from_slice(&self.count.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.sum.to_le_bytes());
        bytes[16..20].copy_from_slice(&self.min.to_le_bytes());
        bytes[20..24].copy_from_slice(&self.max.to_le_bytes());
        out.push(&bytes);
    }
    fn merge(&mut self, other: Acc) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

impl AggregateFunction for NativeStats {
    fn add(
        &mut self,
        accumulators: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError> {
        let mut accs: Vec<Acc> = accumulators.iter().map(Acc::decode).collect();
        for (event, target) in events.iter().zip(targets) {
            let amount = u32::from_le_bytes(
                event
                    .value
                    .get(8..12)
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or_else(|| WindowFnError::input("short record"))?,
            );
            let acc = &mut accs[*target as usize];
            acc.merge(Acc {
                count: 1,
                sum: u64::from(amount),
                min: amount,
                max: amount,
            });
        }
        accumulators.clear();
        for acc in accs {
            acc.encode(accumulators);
        }
        Ok(())
    }

    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError> {
        let mut out = Packed::default();
        let mut start = 0;
        for end in group_ends {
            let mut acc = Acc::decode(&[]);
            for index in start..*end as usize {
                acc.merge(Acc::decode(inputs.get(index).unwrap_or_default()));
            }
            acc.encode(&mut out);
            start = *end as usize;
        }
        Ok(out)
    }

    fn finish(
        &mut self,
        accumulators: &Packed,
        firings: &[WindowFiring],
    ) -> Result<Packed, WindowFnError> {
        let mut out = Packed::default();
        let mut text = String::new();
        for (bytes, firing) in accumulators.iter().zip(firings) {
            let acc = Acc::decode(bytes);
            text.clear();
            use std::fmt::Write as _;
            let _ = write!(
                text,
                r#"{{"key":"{}","window_start":{},"window_end":{},"count":{},"sum":{},"min":{},"max":{},"mean":{}}}"#,
                String::from_utf8_lossy(firing.key.as_deref().unwrap_or_default()),
                firing.start,
                firing.end,
                acc.count,
                acc.sum,
                acc.min,
                acc.max,
                acc.sum as f64 / acc.count.max(1) as f64
            );
            out.push(text.as_bytes());
        }
        Ok(out)
    }
}
