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
//! core), the window results per event and the CPU time per result; the Wasm/native
//! ratios use the CPU figures. At 1,000 keys and 1 ms per event a key's 1 s window
//! holds about one event, so the cost is per result (`WEIR_BENCH_KEYS=100` puts ten
//! events in a window).
//!
//! Run: `cargo bench --workspace --bench windows`
//! (`WEIR_BENCH_EVENTS=1000000` for a quicker run; `WEIR_BENCH_ONLY=tumbling-wasm,...`;
//! `WEIR_BENCH_KEYS=1000000` for other keys). The case runner is `window_case`,
//! shared with the checkpoint benchmark.

mod window_case;

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
        window_case::run(&case);
        return;
    }
    println!(
        "window benchmark: {} events per case, {} keys, disorder 500 ms, delay 1 s",
        window_case::events(),
        window_case::keys()
    );
    println!(
        "{:<18} {:>12} {:>10} {:>14} {:>12} {:>10} {:>11} {:>12}",
        "case",
        "events/s",
        "ns/event",
        "peak RSS MiB",
        "CPU ev/s",
        "CPU ns/ev",
        "results/ev",
        "CPU ns/result"
    );
    let mut results: Vec<(String, f64)> = Vec::new();
    for case in CASES {
        if window_case::skipped(case) {
            continue;
        }
        let Some(figures) = window_case::spawn(case) else {
            continue;
        };
        let (rate, rss, cpu_rate) = (figures["rate"], figures["rss"], figures["cpu_rate"]);
        // With ~1 event per key and window, a result costs more than an event does: the
        // per-result figure says what a window costs, whatever the density.
        let per_event = figures["results"] / window_case::events() as f64;
        println!(
            "{case:<18} {rate:>12.0} {:>10.1} {rss:>14.1} {cpu_rate:>12.0} {:>10.1} {per_event:>11.2} {:>12.1}",
            1e9 / rate,
            1e9 / cpu_rate,
            1e9 / cpu_rate / per_event.max(1e-9)
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
