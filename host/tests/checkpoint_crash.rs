//! The crash tests: a pipeline over a file of 1 M (or 5 M) events, checkpoints every 200 ms, the `weir`
//! process killed with SIGKILL at random moments (at least 20 times), restarted each
//! time, then run to its end. The committed part files, concatenated, must be
//! byte-identical to the output of a run without checkpoints or kills: no event lost,
//! none counted or written twice.
//!
//! Two pipelines, each on both state backends: a keyed Wasm plugin with state and
//! event-time timers (`heartbeat-monitor`, alerts on a side output), and a sliding
//! window with built-in aggregates (window accumulators, panes, firing state).
//!
//! The kill times come from a seed, printed; `WEIR_CRASH_SEED=<seed>` replays it.

mod checkpoint_support;

use std::path::Path;
use std::time::{Duration, Instant};

use checkpoint_support::{
    committed, crash_seed, heartbeat_pipeline, run, spawn, window_pipeline, write_heartbeats,
};

/// Events of the keyed plugin's input (a Wasm call per batch: the slower pipeline).
const KEYED_EVENTS: u64 = 1_000_000;
/// Events of the window's input: more, so that the run outlasts 20 kills (3 M did
/// not, on an idle machine, where the window pipeline runs at over 1 M events/s).
const WINDOW_EVENTS: u64 = 5_000_000;
const KILLS: usize = 20;
/// Killing stops after this long, whatever the count, to bound the test.
const KILLING_TIME: Duration = Duration::from_secs(75);

#[test]
fn keyed_state_and_timers_survive_sigkill_on_memory() {
    crash_test(
        heartbeat_pipeline,
        KEYED_EVENTS,
        &["main", "alerts"],
        "memory",
    );
}

#[test]
fn keyed_state_and_timers_survive_sigkill_on_rocksdb() {
    crash_test(
        heartbeat_pipeline,
        KEYED_EVENTS,
        &["main", "alerts"],
        "rocksdb",
    );
}

#[test]
fn window_aggregates_survive_sigkill_on_memory() {
    crash_test(window_pipeline, WINDOW_EVENTS, &["main"], "memory");
}

#[test]
fn window_aggregates_survive_sigkill_on_rocksdb() {
    crash_test(window_pipeline, WINDOW_EVENTS, &["main"], "rocksdb");
}

/// Runs `pipeline` over `events` heartbeats once without checkpoints (the reference), then with checkpoints on
/// `backend`, killed again and again, and compares each of `outputs` (sinks writing to
/// `out/<output>`) byte for byte.
fn crash_test(
    pipeline: fn(&str, usize, &str) -> String,
    events: u64,
    outputs: &[&str],
    backend: &str,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_heartbeats(&dir.path().join("in.jsonl"), events, 1000, 42);

    // The reference: no checkpoints, one file per sink.
    let reference = dir.path().join("reference");
    std::fs::create_dir_all(&reference).expect("dir");
    let mut plain = pipeline("../in.jsonl", 1, "");
    for output in outputs {
        plain = plain.replace(&format!("out/{output}\""), &format!("out/{output}.jsonl\""));
    }
    std::fs::write(reference.join("p.toml"), plain).expect("write pipeline");
    let (code, stderr) = run(&reference, &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    let want: Vec<Vec<u8>> = outputs
        .iter()
        .map(|output| {
            std::fs::read(reference.join(format!("out/{output}.jsonl"))).expect("reference")
        })
        .collect();
    assert!(
        want.iter().all(|bytes| bytes.len() > 10_000),
        "every output has data, so state is exercised"
    );

    // Killed again and again.
    let crashed = dir.path().join("crashed");
    std::fs::create_dir_all(&crashed).expect("dir");
    let durable = format!("[state]\nbackend = \"{backend}\"\n\n[checkpoint]\ninterval_ms = 200\n");
    std::fs::write(crashed.join("p.toml"), pipeline("../in.jsonl", 1, &durable))
        .expect("write pipeline");
    let seed = crash_seed();
    println!("crash test ({backend}) seed: {seed} (replay with WEIR_CRASH_SEED={seed})");
    let kills = kill_repeatedly(&crashed, seed);
    let started = Instant::now();
    let (code, stderr) = run(&crashed, &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    println!(
        "{kills} kills, then a last run of {:.1} s: {stderr}",
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

    for (output, want) in outputs.iter().zip(&want) {
        let got = committed(&crashed.join("out").join(output));
        assert!(
            got == *want,
            "{output} differs on {backend} (seed {seed}): {} bytes, want {}",
            got.len(),
            want.len()
        );
    }
}

/// Starts the pipeline in `dir` and kills it with SIGKILL, again and again, until
/// [`KILLS`] kills or [`KILLING_TIME`]; returns how many kills there were.
///
/// One run in three is killed at a random moment of its first 300 ms (start-up,
/// restore, the first batches); the others once a new checkpoint has completed, plus a
/// random 0–100 ms (at most half a checkpoint interval more), so that every such run
/// makes progress and the next one restores from a checkpoint, and the input outlasts
/// the kills, whatever the speed of the machine.
fn kill_repeatedly(dir: &Path, seed: u64) -> usize {
    let mut rng = seed | 1;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let started = Instant::now();
    let mut kills = 0;
    while kills < KILLS && started.elapsed() < KILLING_TIME {
        let before = latest_checkpoint(dir);
        let mut child = spawn(dir, &["run", "-q", "p.toml"]);
        if next(3) == 0 {
            std::thread::sleep(Duration::from_millis(next(300)));
        } else {
            let waiting = Instant::now();
            while latest_checkpoint(dir) <= before
                && waiting.elapsed() < Duration::from_secs(10)
                && child.try_wait().expect("wait").is_none()
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(next(100)));
        }
        if child.try_wait().expect("wait").is_some() {
            break; // it finished before the kill
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
    }
    kills
}

/// The id of the newest complete checkpoint (one with `_metadata`) under `dir`'s data
/// directory, 0 when there is none.
fn latest_checkpoint(dir: &Path) -> u64 {
    let Ok(pipelines) = std::fs::read_dir(dir.join(".weir")) else {
        return 0;
    };
    pipelines
        .flatten()
        .filter_map(|pipeline| std::fs::read_dir(pipeline.path().join("checkpoints")).ok())
        .flatten()
        .flatten()
        .filter(|checkpoint| checkpoint.path().join("_metadata").exists())
        .filter_map(|checkpoint| {
            let name = checkpoint.file_name();
            name.to_str()?.strip_prefix("chk-")?.parse().ok()
        })
        .max()
        .unwrap_or(0)
}
