//! The checkpoint benchmark (issue 4, "Speed"): the window benchmark's tumbling 1 s and
//! sliding 10 s / 1 s cases, Wasm and native aggregates, with the window state on the
//! RocksDB backend and, for comparison in the same run, on the memory backend, both
//! with the same checkpoint schedule: every 5 s of wall clock
//! (`WEIR_BENCH_CHECKPOINT_MS`), begun on the processing thread between two batches and
//! written by the operator's snapshot thread — as the runtime does — plus one at the
//! end of the input.
//!
//! Each case prints events/s (wall clock, and by the thread's CPU time; both include
//! the checkpoints), checkpoints taken, the longest and the median (lower middle)
//! stall (how long processing waits for a checkpoint: taking and encoding the
//! changes; a checkpoint is not begun before the previous one's files are complete,
//! as in the runtime), the longest by the thread's CPU time (the rest of a stall is
//! waiting for the core, on a shared machine), the last
//! checkpoint's size on disk (its files, each inode once), entries written by it and
//! by all of them, the time to restore the last checkpoint into a fresh operator (open
//! the backend from the snapshot, `with_backend`, `restore`), the results the restored
//! operator fires, peak RSS, and its events/s (CPU) over the memory variant's.
//!
//! Run: `cargo bench --workspace --bench checkpoints`
//! (`WEIR_BENCH_EVENTS=2000000`, `WEIR_BENCH_KEYS=1000000`,
//! `WEIR_BENCH_ONLY=tumbling-wasm-rocksdb,tumbling-wasm-memory`).

mod window_case;

const CASES: [&str; 8] = [
    "tumbling-wasm-rocksdb",
    "tumbling-wasm-memory",
    "tumbling-native-rocksdb",
    "tumbling-native-memory",
    "sliding-wasm-rocksdb",
    "sliding-wasm-memory",
    "sliding-native-rocksdb",
    "sliding-native-memory",
];

const COLUMNS: [&str; 13] = [
    "events/s",
    "CPU ev/s",
    "chk",
    "max stall ms",
    "med stall ms",
    "max CPU ms",
    "size KiB",
    "written",
    "all written",
    "restore ms",
    "restored",
    "RSS MiB",
    "vs memory",
];

fn main() {
    if let Ok(case) = std::env::var("WEIR_BENCH_CASE") {
        window_case::run(&case);
        return;
    }
    println!(
        "checkpoint benchmark: {} events per case, {} keys, disorder 500 ms, delay 1 s, \
         a checkpoint every {} ms and at the end",
        window_case::events(),
        window_case::keys(),
        window_case::checkpoint_every().as_millis()
    );
    print!("{:<24}", "case");
    for column in COLUMNS {
        print!(" {column:>12}");
    }
    println!();
    let mut results = Vec::new();
    for case in CASES {
        if !window_case::skipped(case) {
            results.extend(window_case::spawn(case).map(|figures| (case, figures)));
        }
    }
    let cpu_rate = |name: &str| {
        results
            .iter()
            .find(|(case, _)| *case == name)
            .map(|(_, figures)| figures["cpu_rate"])
    };
    for (case, figures) in &results {
        let versus = cpu_rate(&case.replace("-rocksdb", "-memory"))
            .map_or("-".to_owned(), |memory| {
                format!("{:.2}", figures["cpu_rate"] / memory)
            });
        let values = [
            format!("{:.0}", figures["rate"]),
            format!("{:.0}", figures["cpu_rate"]),
            format!("{}", figures["checkpoints"]),
            format!("{:.1}", figures["stall_max_ms"]),
            format!("{:.1}", figures["stall_median_ms"]),
            format!("{:.1}", figures["stall_max_cpu_ms"]),
            format!("{:.0}", figures["size_kib"]),
            format!("{}", figures["last_written"]),
            format!("{}", figures["written"]),
            format!("{:.1}", figures["restore_ms"]),
            format!("{}", figures["restored_results"]),
            format!("{:.1}", figures["rss"]),
            versus,
        ];
        print!("{case:<24}");
        for value in values {
            print!(" {value:>12}");
        }
        println!();
    }
}
