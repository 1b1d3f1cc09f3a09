//! The case runner the window benchmarks share (`windows`, `checkpoints`): one case in a
//! process of its own — generator → one [`WindowOperator`] fed batch by batch on this
//! thread — and, in the parent, running a case's process and reading its figures.
//!
//! A case is named `kind-function` (`tumbling-wasm`: memory state, no checkpoints) or
//! `kind-function-backend` (`tumbling-wasm-rocksdb`, `tumbling-wasm-memory`): state on
//! that backend, a checkpoint begun on the processing thread
//! ([`WindowOperator::begin_checkpoint`]; written by the operator's snapshot thread,
//! as in the runtime) every `WEIR_BENCH_CHECKPOINT_MS` of wall clock (5,000 by default;
//! later if the previous one is still being written, as the runtime's coordinator
//! triggers one checkpoint at a time) and one more at the end of the input, before
//! the final watermark; then the last
//! checkpoint is restored into a fresh operator, timed, and that operator's windows
//! fired.
//!
//! Settings: `WEIR_BENCH_EVENTS` (10 M), `WEIR_BENCH_KEYS` (1,000),
//! `WEIR_BENCH_CHECKPOINT_MS` (5,000).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use weir_host::batch::{Batch, decimal};
use weir_host::connector::Source;
use weir_host::connector::generator::{GeneratorSource, GeneratorSpec, ValueShape};
use weir_host::plugin::{PluginLimits, PluginSpec};
use weir_host::runtime::operator::{Emitted, Operator};
use weir_host::runtime::stats::OperatorStats;
use weir_host::runtime::wasm_window::WasmAggregate;
use weir_host::state::{BackendKind, DEFAULT_MAX_KEY_GROUPS, open_backend};
use weir_host::time::generator::{WatermarkGenerator, WatermarkUpdate};
use weir_host::window::builtin::Builtins;
use weir_host::window::operator::{CheckpointWait, WindowOperator};
use weir_host::window::spec::{AssignerSpec, WindowSpec};
use weir_host::window::{AggregateFunction, FiringKind, Packed, WindowFiring, WindowFnError};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Events per case (`WEIR_BENCH_EVENTS`, 10 M by default).
pub fn events() -> u64 {
    setting("WEIR_BENCH_EVENTS", 10_000_000)
}

/// Distinct keys of the generator (`WEIR_BENCH_KEYS`, 1,000 by default).
pub fn keys() -> u64 {
    setting("WEIR_BENCH_KEYS", 1_000)
}

/// Wall-clock time between two checkpoints (`WEIR_BENCH_CHECKPOINT_MS`, 5 s by default).
pub fn checkpoint_every() -> Duration {
    Duration::from_millis(setting("WEIR_BENCH_CHECKPOINT_MS", 5_000))
}

/// Whether `WEIR_BENCH_ONLY` (a comma-separated list of cases) leaves `case` out.
pub fn skipped(case: &str) -> bool {
    std::env::var("WEIR_BENCH_ONLY")
        .ok()
        .is_some_and(|only| !only.split(',').any(|name| name.trim() == case))
}

/// Runs `case` in a process of its own (this binary, `WEIR_BENCH_CASE` set) and returns
/// its figures by name, or `None` (with its stderr printed) when it failed.
pub fn spawn(case: &str) -> Option<HashMap<String, f64>> {
    let output = Command::new(std::env::current_exe().expect("the bench binary"))
        .env("WEIR_BENCH_CASE", case)
        .output()
        .expect("the case runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(line) = text.lines().find(|line| line.starts_with("result ")) else {
        eprintln!("{case} failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    };
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|field| field.split_once('='))
            .filter_map(|(name, value)| Some((name.to_owned(), value.parse().ok()?)))
            .collect(),
    )
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

fn operator(case: &str, kind: &str, function: &str) -> WindowOperator {
    match function {
        "wasm" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let stats = std::sync::Arc::new(OperatorStats::new(case, "bench"));
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
    }
}

/// The checkpoints of a durable case.
struct Checkpoints {
    kind: BackendKind,
    every: Duration,
    root: tempfile::TempDir,
    taken: u32,
    stalls: Vec<Duration>,
    /// The longest checkpoint by this thread's CPU time (the rest of a stall is waiting:
    /// for the disk — fsync — or for the core, on a shared machine).
    max_cpu: Duration,
    written: usize,
    last_written: usize,
    last_size: u64,
    /// The last checkpoint, while its snapshot thread writes it.
    in_flight: Option<CheckpointWait>,
}

impl Checkpoints {
    fn dir(&self, number: u32) -> std::path::PathBuf {
        self.root.path().join(format!("chk-{number}"))
    }

    /// One checkpoint, begun on this thread between two batches and written on the
    /// operator's snapshot thread (as the runtime does): the stall is the time this
    /// thread spends taking and encoding the changes. The previous checkpoint is
    /// complete (see [`Checkpoints::due`]).
    fn take(&mut self, operator: &mut WindowOperator, clock: &CpuClock) -> Duration {
        self.settle();
        let dir = self.dir(self.taken + 1);
        let (started, started_cpu) = (Instant::now(), clock.now());
        let (persisted, wait) = operator.begin_checkpoint(&dir).expect("checkpoint");
        let stall = started.elapsed();
        self.max_cpu = self.max_cpu.max(clock.now().saturating_sub(started_cpu));
        self.taken += 1;
        self.stalls.push(stall);
        self.written += persisted.written;
        self.last_written = persisted.written;
        self.in_flight = Some(wait);
        stall
    }

    /// Whether the next checkpoint is due: its interval has passed since the last one
    /// began and the last one is complete. As the runtime's coordinator, which
    /// triggers checkpoint `n + 1` only once `n` completed, the next one waits for the
    /// previous one's files, never the processing.
    fn due(&mut self, since_last: Duration) -> bool {
        if since_last < self.every {
            return false;
        }
        match &self.in_flight {
            None => true,
            Some(wait) => match wait.try_wait() {
                None => false,
                Some(outcome) => {
                    outcome.expect("the checkpoint is written");
                    self.in_flight = None;
                    self.measure_last();
                    true
                }
            },
        }
    }

    /// Waits for the checkpoint being written, if any, and measures it.
    fn settle(&mut self) {
        let Some(wait) = self.in_flight.take() else {
            return;
        };
        wait.wait().expect("the checkpoint is written");
        self.measure_last();
    }

    /// Measures the last checkpoint, complete, and removes the one before it.
    fn measure_last(&mut self) {
        self.last_size = size_on_disk(&self.dir(self.taken));
        if self.taken > 1 {
            // Only the last one is restored; a RocksDB checkpoint's files are hard links,
            // so removing an older one leaves the others whole.
            std::fs::remove_dir_all(self.dir(self.taken - 1)).expect("old checkpoint removed");
        }
    }
}

/// Bytes of the files under `dir`, each inode once (a RocksDB checkpoint hard-links the
/// live database's SST files: this is the snapshot's own size, not new bytes on disk).
fn size_on_disk(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("snapshot dir") {
            let entry = entry.expect("snapshot entry");
            let meta = entry.metadata().expect("snapshot file");
            if meta.is_dir() {
                pending.push(entry.path());
            } else if seen.insert((meta.dev(), meta.ino())) {
                total += meta.len();
            }
        }
    }
    total
}

/// Runs one case on this thread and prints its `result name=value …` line.
pub fn run(case: &str) {
    let mut parts = case.split('-');
    let (kind, function) = (
        parts.next().expect("kind"),
        parts.next().expect("kind-function"),
    );
    let backend = parts.next().map(|backend| match backend {
        "rocksdb" => BackendKind::RocksDb,
        "memory" => BackendKind::Memory,
        other => panic!("unknown backend {other}"),
    });
    let shape = if function == "builtin" {
        ValueShape::Json
    } else {
        ValueShape::Compact
    };
    let mut operator = operator(case, kind, function);
    let mut checkpoints = backend.map(|kind| Checkpoints {
        kind,
        every: checkpoint_every(),
        root: tempfile::tempdir().expect("temp dir"),
        taken: 0,
        stalls: Vec::new(),
        max_cpu: Duration::ZERO,
        written: 0,
        last_written: 0,
        last_size: 0,
        in_flight: None,
    });
    if let Some(checkpoints) = &checkpoints {
        let work = checkpoints.root.path().join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        let backend = open_backend(checkpoints.kind, &work, None).expect("backend");
        operator = operator.with_backend(backend).expect("with backend");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut source = GeneratorSource::new(GeneratorSpec {
        count: Some(events()),
        keys: keys(),
        shape,
        disorder_ms: 500,
        ..GeneratorSpec::default()
    });
    let mut watermarks = WatermarkGenerator::new(1_000, None).expect("generator");
    let mut out = Emitted::default();
    let mut dead = Vec::new();
    let mut results = 0_u64;
    let mut busy = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    let clock = CpuClock::open();
    let mut processed = 0_u64;
    let mut last_checkpoint = Instant::now();
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
        if let WatermarkUpdate::Advanced(watermark) = watermarks.poll(0) {
            operator
                .on_watermark(watermark, &mut out)
                .expect("watermark");
        }
        if let Some(checkpoints) = &mut checkpoints
            && checkpoints.due(last_checkpoint.elapsed())
        {
            checkpoints.take(&mut operator, &clock);
            last_checkpoint = Instant::now();
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
    if let Some(checkpoints) = &mut checkpoints {
        // The input is over: the last checkpoint waits for the one before it (not
        // counted: nothing is left to process), as the coordinator would.
        checkpoints.settle();
    }
    let (started, started_cpu) = (Instant::now(), clock.now());
    if let Some(checkpoints) = &mut checkpoints {
        checkpoints.take(&mut operator, &clock);
    }
    operator.on_watermark(i64::MAX, &mut out).expect("end");
    operator.on_end(&mut out).expect("end");
    busy += started.elapsed();
    cpu += clock.now().saturating_sub(started_cpu);
    results += out.main.len() as u64;
    assert!(results > 0, "windows fired");
    let rate = processed as f64 / busy.as_secs_f64();
    let cpu_rate = processed as f64 / cpu.as_secs_f64().max(1e-9);
    print!(
        "result rate={rate:.0} rss={:.1} cpu_rate={cpu_rate:.0} results={results}",
        weir_tests::peak_rss_mib()
    );
    if let Some(mut checkpoints) = checkpoints {
        checkpoints.settle();
        drop(operator);
        // The restore: the last checkpoint into a fresh operator of the same spec and
        // function (built, Wasm component loaded, before the clock starts).
        let fresh = self::operator(case, kind, function);
        let work = checkpoints.root.path().join("restored");
        std::fs::create_dir_all(&work).expect("restore dir");
        let snapshot = checkpoints.dir(checkpoints.taken);
        let started = Instant::now();
        let backend = open_backend(checkpoints.kind, &work, Some(&snapshot)).expect("open");
        let mut restored = fresh.with_backend(backend).expect("with backend");
        restored
            .restore(0..DEFAULT_MAX_KEY_GROUPS)
            .expect("restore");
        let restore = started.elapsed();
        // What the restored operator holds: the windows open at the end of the input.
        let mut out = Emitted::default();
        restored.on_watermark(i64::MAX, &mut out).expect("end");
        restored.on_end(&mut out).expect("end");
        checkpoints.stalls.sort_unstable();
        let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
        print!(
            " checkpoints={} stall_max_ms={:.2} stall_median_ms={:.2} stall_max_cpu_ms={:.2} size_kib={:.1} \
             last_written={} written={} restore_ms={:.2} restored_results={}",
            checkpoints.taken,
            ms(*checkpoints.stalls.last().expect("a checkpoint")),
            ms(checkpoints.stalls[(checkpoints.stalls.len() - 1) / 2]),
            ms(checkpoints.max_cpu),
            checkpoints.last_size as f64 / 1024.0,
            checkpoints.last_written,
            checkpoints.written,
            ms(restore),
            out.main.len(),
        );
    }
    println!();
}

/// This thread's CPU time, from `/proc/thread-self/schedstat` (kept open: one `pread`
/// per reading). On a shared machine it counts the operator's work without the time
/// other processes take the core; where absent, it reads zero and the CPU figure is
/// meaningless (the wall-clock one still holds).
pub struct CpuClock(Option<std::fs::File>);

impl CpuClock {
    pub fn open() -> Self {
        CpuClock(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    pub fn now(&self) -> Duration {
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
        Duration::from_nanos(nanos)
    }
}

/// The native baseline: what `rolling-stats` computes over compact records, in Rust,
/// behind the same [`AggregateFunction`] contract (fixed 24-byte accumulators), with
/// the same result text (see [`write_summary`]).
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
        let mut text = Vec::new();
        for (bytes, firing) in accumulators.iter().zip(firings) {
            text.clear();
            write_summary(&mut text, Acc::decode(bytes), firing);
            out.push(&text);
        }
        Ok(out)
    }
}

/// What `rolling-stats` writes for a window (the same bytes, by the same means: the
/// SDK's `WindowInfo::write_json_fields`, integers with [`decimal`], the mean with
/// serde_json), so that the baseline's `finish` costs what the plugin's does minus the
/// sandbox.
fn write_summary(out: &mut Vec<u8>, acc: Acc, firing: &WindowFiring) {
    let window = weir_sdk::WindowInfo {
        key: firing.key.as_deref(),
        start: firing.start,
        end: firing.end,
        kind: match firing.kind {
            FiringKind::Early => weir_sdk::Firing::Early,
            FiringKind::OnTime => weir_sdk::Firing::OnTime,
            FiringKind::Late => weir_sdk::Firing::Late,
        },
        index: firing.index,
    };
    out.push(b'{');
    window.write_json_fields(out);
    out.extend_from_slice(b",\"count\":");
    decimal::write_u64(out, acc.count);
    out.extend_from_slice(b",\"sum\":");
    decimal::write_u64(out, acc.sum);
    if acc.count == 0 {
        out.extend_from_slice(b",\"min\":null,\"max\":null,\"mean\":null}");
        return;
    }
    out.extend_from_slice(b",\"min\":");
    decimal::write_u64(out, u64::from(acc.min));
    out.extend_from_slice(b",\"max\":");
    decimal::write_u64(out, u64::from(acc.max));
    out.extend_from_slice(b",\"mean\":");
    let mean = acc.sum as f64 / acc.count as f64;
    if mean.fract() == 0.0 {
        decimal::write_u64(out, mean as u64);
    } else {
        serde_json::to_writer(&mut *out, &mean).expect("a finite mean serialises");
    }
    out.push(b'}');
}
