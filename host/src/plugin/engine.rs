//! The shared wasmtime [`Engine`] and the clock that enforces per-call deadlines.
//!
//! One engine serves every plugin of a host. Its configuration is chosen for a stream
//! processor that calls a guest once per batch, millions of times:
//! - Cranelift at `speed`; no component-model concurrency (it costs ~0.5 µs per call and
//!   plugins are synchronous), no GC proposal, no threads; the wide-arithmetic proposal
//!   on, so plugins built with `+wide-arithmetic` get 128-bit multiplies (float parsing
//!   and printing) as one instruction instead of a call;
//! - epoch interruption for deadlines: a background thread advances the epoch every
//!   [`EPOCH_TICK`], and each call gets `ceil(deadline / tick)` ticks before it traps;
//!   this costs one load and compare per loop back-edge, far less than fuel;
//! - the on-demand instance allocator: instances are long-lived (one per operator
//!   subtask, re-created only after a fault), so pooling buys nothing on the hot path.
//!
//! To profile plugins with `perf`, set `WEIR_WASM_PERF_MAP=1`: the engine then writes
//! `/tmp/perf-<pid>.map`, so `perf report` names the plugins' functions.

use std::sync::{Arc, Weak};
use std::time::Duration;

use wasmtime::{Config, Engine, OptLevel, ProfilingStrategy};

/// Interval between two epoch increments: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The host's Wasm engine plus the thread that advances its epoch.
#[derive(Clone)]
pub struct WasmEngine {
    engine: Engine,
    _ticker: Arc<EpochTicker>,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine").finish_non_exhaustive()
    }
}

impl WasmEngine {
    /// Creates the engine and starts its epoch thread (stopped when the last clone of
    /// this engine is dropped).
    ///
    /// # Errors
    /// If wasmtime refuses the configuration (it does not on supported platforms).
    pub fn new() -> wasmtime::Result<Self> {
        Self::with_config(&Self::config())
    }

    /// An engine with another configuration, for measuring `Config` choices against
    /// [`WasmEngine::config`] (see `tests/benches/call_overhead.rs`). It must keep the
    /// component model on; without epoch interruption, deadlines are not enforced.
    ///
    /// # Errors
    /// If wasmtime refuses the configuration.
    pub fn with_config(config: &Config) -> wasmtime::Result<Self> {
        let engine = Engine::new(config)?;
        let ticker = Arc::new(EpochTicker);
        spawn_epoch_thread(engine.weak(), Arc::downgrade(&ticker));
        Ok(WasmEngine {
            engine,
            _ticker: ticker,
        })
    }

    /// The configuration every Weir engine uses; see the module docs for the choices.
    pub fn config() -> Config {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed)
            .concurrency_support(false)
            .wasm_wide_arithmetic(true)
            .parallel_compilation(true);
        if std::env::var_os("WEIR_WASM_PERF_MAP").is_some_and(|value| value == "1") {
            config.profiler(ProfilingStrategy::PerfMap);
        }
        config
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Number of epoch ticks that make up `deadline` (at least one).
    pub fn deadline_ticks(deadline: Duration) -> u64 {
        let tick = EPOCH_TICK.as_nanos();
        (deadline.as_nanos().div_ceil(tick)).max(1) as u64
    }
}

/// Lives as long as some [`WasmEngine`] clone does; the epoch thread stops after it.
struct EpochTicker;

fn spawn_epoch_thread(engine: wasmtime::EngineWeak, alive: Weak<EpochTicker>) {
    let spawned = std::thread::Builder::new()
        .name("weir-epoch".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the epoch thread: plugin deadlines are not enforced");
    }
}
