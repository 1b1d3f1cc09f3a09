//! The state backend benchmark: 1 M keys of value state (32-byte values) through
//! [`SubtaskState`] — the path a keyed operator's state calls take — on the memory
//! backend and on RocksDB, in the same run:
//!
//! - writes/s: one `value_set` per key, committed every 1,024 writes (one batch);
//! - reads/s: one `value_get` per key, in another order than written;
//! - snapshot: duration and size on disk (memory: one file; RocksDB: a checkpoint);
//! - restore: from that snapshot to a `SubtaskState` ready to serve (timer index
//!   rebuilt), then one read checked;
//! - peak RSS (VmHWM): each backend runs in a process of its own.
//!
//! Run: `cargo bench --workspace --bench state_backends`
//! (`WEIR_BENCH_KEYS=100000` for a quicker run).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use weir_host::state::{
    BackendKind, DEFAULT_MAX_KEY_GROUPS, Scope, StateBackend, StateKind, StateSpec, SubtaskState,
    key_group_of, open_backend,
};

const CASES: [&str; 2] = ["memory", "rocksdb"];
const BATCH: u64 = 1_024;
const FIELDS: [&str; 6] = [
    "writes/s",
    "reads/s",
    "snapshot ms",
    "snapshot MiB",
    "restore ms",
    "peak RSS MiB",
];

fn main() {
    if let Ok(case) = std::env::var("WEIR_BENCH_CASE") {
        run_case(&case);
        return;
    }
    println!(
        "state backend benchmark: {} keys of value state, 32-byte values",
        keys()
    );
    print!("{:<10}", "backend");
    for field in FIELDS {
        print!(" {field:>13}");
    }
    println!();
    let mut results = Vec::new();
    for case in CASES {
        let output = Command::new(std::env::current_exe().expect("the bench binary"))
            .env("WEIR_BENCH_CASE", case)
            .output()
            .expect("the case runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let Some(line) = text.lines().find(|line| line.starts_with("result ")) else {
            eprintln!("{case} failed: {}", String::from_utf8_lossy(&output.stderr));
            continue;
        };
        let figures: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        print!("{case:<10}");
        for figure in &figures {
            print!(" {figure:>13.1}");
        }
        println!();
        results.push(figures);
    }
    if let [memory, rocksdb] = results.as_slice() {
        print!("{:<10}", "rocks/mem");
        for (rocks, mem) in rocksdb.iter().zip(memory) {
            print!(" {:>12.2}x", rocks / mem);
        }
        println!();
    }
}

fn keys() -> u64 {
    std::env::var("WEIR_BENCH_KEYS")
        .ok()
        .and_then(|keys| keys.parse().ok())
        .unwrap_or(1_000_000)
}

fn value_of(i: u64) -> [u8; 32] {
    let mut value = [0u8; 32];
    for (chunk, word) in value.chunks_mut(8).zip(0u64..) {
        chunk.copy_from_slice(
            &i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(word)
                .to_le_bytes(),
        );
    }
    value
}

fn run_case(case: &str) {
    let kind = match case {
        "memory" => BackendKind::Memory,
        _ => BackendKind::RocksDb,
    };
    let keys = keys();
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = StateSpec::new("value", StateKind::Value);
    let backend = open_backend(kind, &dir.path().join("work"), None).expect("backend opens");
    let mut state = SubtaskState::restore(backend, 0..DEFAULT_MAX_KEY_GROUPS).expect("state");

    let started = Instant::now();
    for i in 0..keys {
        let key = i.to_be_bytes();
        state
            .keyed
            .value_set(&mut state.backend, &spec, &scope(&key), &value_of(i))
            .expect("write");
        if (i + 1) % BATCH == 0 {
            state.commit().expect("commit");
        }
    }
    state.commit().expect("commit");
    let writes = keys as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let stride = 7_919; // a prime: every key once, in another order than written
    for n in 0..keys {
        let i = (n * stride) % keys;
        let key = i.to_be_bytes();
        let value = state
            .keyed
            .value_get(&mut state.backend, &spec, &scope(&key))
            .expect("read");
        assert_eq!(value.as_deref(), Some(&value_of(i)[..]), "key {i}");
        if (n + 1) % BATCH == 0 {
            state.commit().expect("commit");
        }
    }
    let reads = keys as f64 / started.elapsed().as_secs_f64();

    let snapshot = dir.path().join("chk-1");
    let started = Instant::now();
    state.backend.snapshot_to(&snapshot).expect("snapshot");
    let snapshot_ms = started.elapsed().as_secs_f64() * 1e3;
    let snapshot_mib = dir_bytes(&snapshot) as f64 / (1 << 20) as f64;
    drop(state);

    let started = Instant::now();
    let restored =
        open_backend(kind, &dir.path().join("restored"), Some(&snapshot)).expect("restore");
    let mut state = SubtaskState::restore(restored, 0..DEFAULT_MAX_KEY_GROUPS).expect("state");
    let key = (keys / 2).to_be_bytes();
    let value = state
        .keyed
        .value_get(&mut state.backend, &spec, &scope(&key))
        .expect("read");
    let restore_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(value.as_deref(), Some(&value_of(keys / 2)[..]));

    println!(
        "result {writes:.0} {reads:.0} {snapshot_ms:.1} {snapshot_mib:.1} {restore_ms:.1} {:.1}",
        weir_tests::peak_rss_mib()
    );
}

fn scope(key: &[u8; 8]) -> Scope<'_> {
    Scope {
        key_group: key_group_of(key, DEFAULT_MAX_KEY_GROUPS),
        key,
        namespace: b"",
        time: 0,
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("snapshot dir")
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}
