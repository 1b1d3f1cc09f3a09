//! What one Wasm call costs, and what each engine `Config` choice adds to it: the
//! `bench-filter` plugin called with a batch of one 16-byte event, many times, on
//! engines that differ from Weir's own configuration in one setting each.
//!
//! Run: `cargo bench --workspace --bench call_overhead`
//!
//! Weir's choices (see `host/src/plugin/engine.rs`): epoch interruption on (deadlines),
//! Cranelift at `speed`, signal-based bounds checks, no component-model concurrency
//! (wasmtime is built without `component-model-async`, so that cost is not paid at all).

use std::time::Instant;

use wasmtime::{Config, OptLevel};
use weir_host::batch::Batch;
use weir_host::connector::generator::encode_compact;
use weir_host::plugin::engine::WasmEngine;
use weir_host::plugin::{ComponentCache, PluginLimits, PluginLoader, PluginSpec};

const CALLS: u32 = 200_000;

fn nanos_per_call(config: &Config, batch_len: usize) -> f64 {
    let engine = WasmEngine::with_config(config).expect("engine");
    let loader = PluginLoader::with_engine(engine, ComponentCache::disabled()).expect("loader");
    let plugin = loader
        .load(PluginSpec {
            operator: "filter".into(),
            path: weir_tests::plugin("bench-filter"),
            settings_json: r#"{"shape":"compact"}"#.into(),
            limits: PluginLimits::default(),
        })
        .expect("loads");
    let mut instance = plugin.instantiate(0).expect("instance");
    let mut batch = Batch::default();
    for id in 0..batch_len as u64 {
        batch.push(Some(b"card-0001"), &encode_compact(id, 20_000, 7), 0);
    }
    let calls = CALLS / batch_len as u32;
    // Warm up, then measure.
    for _ in 0..calls / 10 {
        let (returned, result) = instance.process(batch);
        result.expect("call succeeds");
        batch = returned;
    }
    let started = Instant::now();
    for _ in 0..calls {
        let (returned, result) = instance.process(batch);
        result.expect("call succeeds");
        batch = returned;
    }
    started.elapsed().as_nanos() as f64 / f64::from(calls)
}

fn main() {
    let variants: Vec<(&str, Config)> = vec![
        ("weir (epoch deadlines, speed)", WasmEngine::config()),
        ("without epoch interruption", {
            let mut config = WasmEngine::config();
            config.epoch_interruption(false);
            config
        }),
        ("explicit bounds checks", {
            let mut config = WasmEngine::config();
            config.signals_based_traps(false);
            config
        }),
        ("cranelift opt-level none", {
            let mut config = WasmEngine::config();
            config.cranelift_opt_level(OptLevel::None);
            config
        }),
    ];
    println!(
        "{:<32} {:>14} {:>14}",
        "engine configuration", "ns/call (1 ev)", "ns/event (1024)"
    );
    for (name, config) in &variants {
        let single = nanos_per_call(config, 1);
        let batched = nanos_per_call(config, 1024) / 1024.0;
        println!("{name:<32} {single:>14.0} {batched:>14.1}");
    }
}
