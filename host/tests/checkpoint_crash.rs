//! The crash test: a keyed pipeline with state and timers over 1 M events, checkpoints
//! every 200 ms, the `weir` process killed with SIGKILL at random moments (at least 20
//! times), restarted each time, then run to its end. The committed part files,
//! concatenated, must be byte-identical to the output of a run without checkpoints or
//! kills: no event lost, none written twice, every alert (state and timers) the same.
//!
//! The kill times come from a seed, printed; `WEIR_CRASH_SEED=<seed>` replays it. To
//! move the test to a window, change `heartbeat_pipeline`'s operator.

mod checkpoint_support;

use std::time::{Duration, Instant};

use checkpoint_support::{committed, heartbeat_pipeline, run, spawn, write_heartbeats};

const EVENTS: u64 = 1_000_000;
const KILLS: usize = 20;
/// Killing stops after this long, whatever the count, to bound the test.
const KILLING_TIME: Duration = Duration::from_secs(75);

#[test]
fn output_survives_sigkill_at_random_moments_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_heartbeats(&dir.path().join("in.jsonl"), EVENTS, 1000, 42);

    // The reference: no checkpoints, one file per sink.
    let reference = dir.path().join("reference");
    std::fs::create_dir_all(&reference).expect("dir");
    std::fs::write(
        reference.join("p.toml"),
        heartbeat_pipeline("../in.jsonl", 1, "")
            .replace("out/main", "out/main.jsonl")
            .replace("out/alerts", "out/alerts.jsonl"),
    )
    .expect("write pipeline");
    let (code, stderr) = run(&reference, &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    let want_main = std::fs::read(reference.join("out/main.jsonl")).expect("main");
    let want_alerts = std::fs::read(reference.join("out/alerts.jsonl")).expect("alerts");
    assert_eq!(
        want_main.iter().filter(|b| **b == b'\n').count() as u64,
        EVENTS
    );
    assert!(
        want_alerts.len() > 1000,
        "the plugin alerts: state and timers are exercised"
    );

    // Killed again and again.
    let crashed = dir.path().join("crashed");
    std::fs::create_dir_all(&crashed).expect("dir");
    std::fs::write(
        crashed.join("p.toml"),
        heartbeat_pipeline("../in.jsonl", 1, "[checkpoint]\ninterval_ms = 200\n"),
    )
    .expect("write pipeline");
    let seed: u64 = std::env::var("WEIR_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |since| since.as_nanos() as u64)
        });
    println!("crash test seed: {seed} (replay with WEIR_CRASH_SEED={seed})");
    let mut rng = seed | 1;
    let mut next_delay = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // 0.1 to 1.5 s: some kills land in start-up or restore, most mid-stream.
        Duration::from_millis(100 + rng % 1400)
    };
    let started = Instant::now();
    let mut kills = 0;
    while kills < KILLS && started.elapsed() < KILLING_TIME {
        let mut child = spawn(&crashed, &["run", "-q", "p.toml"]);
        std::thread::sleep(next_delay());
        if child.try_wait().expect("wait").is_some() {
            break; // it finished before the kill
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
    }
    let (code, stderr) = run(&crashed, &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    println!(
        "{kills} kills in {:.1} s, then: {stderr}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills >= KILLS,
        "only {kills} kills before the end (seed {seed})"
    );
    assert!(
        stderr.contains("from checkpoint"),
        "the last run restored: {stderr}"
    );
    assert!(stderr.contains("finished; final checkpoint"), "{stderr}");

    let got_main = committed(&crashed.join("out/main"));
    let got_alerts = committed(&crashed.join("out/alerts"));
    assert!(
        got_main == want_main,
        "main output differs (seed {seed}): {} bytes, want {}",
        got_main.len(),
        want_main.len()
    );
    assert!(
        got_alerts == want_alerts,
        "alerts differ (seed {seed}): {} bytes, want {}",
        got_alerts.len(),
        want_alerts.len()
    );
}
