//! One map operator in four languages: `xlang-map` written in Rust, Python, JavaScript
//! and C (see `tests/tests/languages.rs`, which checks that they agree), each called
//! with batches of 1024 JSON payments through the host's engine.
//!
//! Run: `scripts/build-lang-plugins && cargo bench --workspace --bench languages`
//! (`WEIR_BENCH_EVENTS=100000` for a quicker run; default 300,000 events per language).
//!
//! Printed per language: component size; the first load (compile with Cranelift, cache
//! empty) and the cached load (the host's on-disk compile cache, `cache.rs`), each
//! including instantiation and `init`; events per second through `process` and the
//! ratio to Rust (>1: slower than Rust).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use weir_host::batch::Batch;
use weir_host::plugin::{CacheOutcome, PluginLimits, PluginLoader, PluginSpec};

const BATCH: usize = 1024;

struct Measured {
    language: &'static str,
    size_mib: f64,
    first_load: Duration,
    cached_load: Duration,
    events_per_second: f64,
}

fn payments() -> Batch {
    let mut batch = Batch::with_capacity(BATCH, BATCH * 48);
    for index in 0..BATCH {
        let value = format!(
            r#"{{"user":"user-{}","amount":{},"ts":{index}}}"#,
            index % 97,
            (index * 7919) % 100_000
        );
        batch.push(None, value.as_bytes(), index as i64);
    }
    batch
}

/// Loads the component `path` with `loader`, instantiated and initialised: the time
/// and where the compiled code came from.
fn timed_load(
    loader: &PluginLoader,
    path: &Path,
) -> (Duration, CacheOutcome, weir_host::plugin::Plugin) {
    let started = Instant::now();
    let plugin = loader
        .load(PluginSpec {
            operator: "fee".into(),
            path: path.to_path_buf(),
            settings_json: r#"{"fee_percent":3}"#.into(),
            limits: PluginLimits::default(),
        })
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let outcome = plugin.cache_outcome();
    drop(plugin.instantiate(0).expect("instantiates"));
    (started.elapsed(), outcome, plugin)
}

fn measure(language: &'static str, path: PathBuf, events: usize) -> Measured {
    let size_mib = std::fs::metadata(&path).map_or(0.0, |meta| meta.len() as f64 / 1048576.0);
    let cache = tempfile::tempdir().expect("temp dir");
    let (first_load, outcome, _) = timed_load(&weir_tests::loader(cache.path()), &path);
    assert_eq!(
        outcome,
        CacheOutcome::Compiled,
        "{language}: the cache starts empty"
    );
    let (cached_load, outcome, plugin) = timed_load(&weir_tests::loader(cache.path()), &path);
    assert_eq!(
        outcome,
        CacheOutcome::Hit,
        "{language}: the second load is cached"
    );

    let mut instance = plugin.instantiate(0).expect("instantiates");
    let mut batch = payments();
    let mut call = |batch: Batch| -> Batch {
        let (returned, result) = instance.process(batch);
        let outputs = result.unwrap_or_else(|error| panic!("{language}: {error}"));
        assert_eq!(outputs.main.len(), BATCH, "{language}: every event mapped");
        returned
    };
    for _ in 0..3 {
        batch = call(batch);
    }
    let calls = events.div_ceil(BATCH);
    let started = Instant::now();
    for _ in 0..calls {
        batch = call(batch);
    }
    let events_per_second = (calls * BATCH) as f64 / started.elapsed().as_secs_f64();
    Measured {
        language,
        size_mib,
        first_load,
        cached_load,
        events_per_second,
    }
}

fn main() {
    let events: usize = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300_000);
    let ports = [
        ("rust", weir_tests::plugin("xlang-map")),
        ("c", weir_tests::lang_plugin("xlang_map_c")),
        ("js", weir_tests::lang_plugin("xlang_map_js")),
        ("python", weir_tests::lang_plugin("xlang_map_py")),
    ];
    println!(
        "{:<8} {:>9} {:>12} {:>12} {:>12} {:>10}",
        "language", "size MiB", "first load", "cached load", "events/s", "vs Rust"
    );
    let mut rust_rate = None;
    for (language, path) in ports {
        // The interpreters are far slower: fewer events keep the run short.
        let events = if language == "rust" || language == "c" {
            events
        } else {
            events / 10
        };
        let measured = measure(language, path, events);
        let rust = *rust_rate.get_or_insert(measured.events_per_second);
        println!(
            "{:<8} {:>9.2} {:>10.0}ms {:>10.1}ms {:>12.0} {:>9.1}x",
            measured.language,
            measured.size_mib,
            measured.first_load.as_secs_f64() * 1000.0,
            measured.cached_load.as_secs_f64() * 1000.0,
            measured.events_per_second,
            rust / measured.events_per_second,
        );
    }
    println!("peak RSS: {:.0} MiB", weir_tests::peak_rss_mib());
}
