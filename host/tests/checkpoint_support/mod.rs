//! What the checkpoint tests share: the real `weir` binary, a real keyed plugin
//! (`heartbeat-monitor`, built to a component the way `tests/build.rs` builds it),
//! input files, and the committed output of a part directory.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// The `heartbeat-monitor` component: keyed state (last heartbeat, count) and
/// event-time timers, alerts on its `alerts` output.
pub fn heartbeat_plugin() -> PathBuf {
    plugins().join("heartbeat_monitor.wasm")
}

/// The `json-filter` component (stateless).
pub fn filter_plugin() -> PathBuf {
    plugins().join("json_filter.wasm")
}

/// The folder of the components these tests use, built on first use.
fn plugins() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace.join("target"), PathBuf::from)
                .join("plugins");
            // A target directory of its own, as tests/build.rs: no wait on the outer
            // cargo's lock; a no-op when the component is up to date.
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(&workspace)
                .args([
                    "build",
                    "--quiet",
                    "--target",
                    "wasm32-wasip2",
                    "--profile",
                    "plugin",
                ])
                .arg("--target-dir")
                .arg(&target)
                .args(["-p", "heartbeat-monitor", "-p", "json-filter"])
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .env_remove("RUSTC_WRAPPER")
                .env_remove("RUSTC_WORKSPACE_WRAPPER")
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the test plugins failed");
            target.join("wasm32-wasip2/plugin")
        })
        .clone()
}

/// `weir ARGS...` in `dir`, with a shared compile cache.
pub fn weir(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
    command
        .current_dir(dir)
        .args(args)
        .env(
            "WEIR_CACHE_DIR",
            std::env::temp_dir().join("weir-cli-test-cache"),
        )
        .env("WEIR_LOG", "warn,weir=info");
    command
}

/// Runs `weir ARGS...` in `dir` to its end: exit code and stderr.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let Output { status, stderr, .. } = weir(dir, args).output().expect("weir runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Starts `weir ARGS...` in `dir` in the background; what it prints is appended to
/// [`HOST_LOG`] there.
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(HOST_LOG))
        .expect("the host's log file");
    weir(dir, args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("weir starts")
}

/// Where [`spawn`] appends what each host it started printed, in its directory.
pub const HOST_LOG: &str = "weir.log";

/// What the hosts [`spawn`]ed in `dir` printed, for a failure message: the last
/// 4 000 characters, without the routine "checkpoint N complete" lines.
pub fn host_log(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join(HOST_LOG)).unwrap_or_default();
    let routine =
        |line: &&str| line.contains("weir::checkpoint: checkpoint") && line.contains(" complete: ");
    let skipped = log.lines().filter(routine).count();
    let log: String = log
        .lines()
        .filter(|line| !routine(line))
        .flat_map(|line| [line, "\n"])
        .collect();
    let start = log
        .char_indices()
        .rev()
        .nth(4_000)
        .map_or(0, |(index, _)| index);
    format!(
        "--- {HOST_LOG} ({skipped} checkpoint-complete lines left out) ---\n{}",
        &log[start..]
    )
}

/// Writes `events` heartbeats, one millisecond apart, of devices `d0..d{devices}`
/// drawn from `seed` (an xorshift, so the file is the same on every machine).
pub fn write_heartbeats(path: &Path, events: u64, devices: u64, seed: u64) {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    let mut state = seed | 1;
    for n in 0..events {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        writeln!(
            out,
            r#"{{"device":"d{}","ts":{},"n":{n}}}"#,
            state % devices,
            1_700_000_000_000u64 + n
        )
        .expect("write input");
    }
    out.flush().expect("flush input");
}

/// A pipeline over `input` through `heartbeat-monitor` (keyed by device, with
/// `parallelism`) into `main` and `alerts`; `extra` is appended (e.g. `[checkpoint]`).
/// `first` is an operator put before it, if any.
pub fn heartbeat_pipeline(input: &str, parallelism: usize, extra: &str) -> String {
    format!(
        r#"name = "heartbeats"

[source]
type = "file"
path = "{input}"
[source.event_time]
field = "ts"

[[operator]]
name = "silent"
plugin = "{plugin}"
key_by = "device"
parallelism = {parallelism}
settings = {{ timeout_ms = 3000 }}

[[sink]]
type = "file"
path = "out/main"

[[sink]]
type = "file"
path = "out/alerts"
from = "silent.alerts"
{extra}
"#,
        plugin = heartbeat_plugin().display()
    )
}

/// A pipeline over `input` (heartbeats, as [`write_heartbeats`] writes them) through a
/// sliding event-time window per device (3 s every 1 s, so panes are shared) with
/// built-in aggregates, into `main`; `extra` is appended (e.g. `[checkpoint]`,
/// `[state]`).
pub fn window_pipeline(input: &str, parallelism: usize, extra: &str) -> String {
    format!(
        r#"name = "heartbeat-windows"

[source]
type = "file"
path = "{input}"
[source.event_time]
field = "ts"
watermark_delay_ms = 200

[[operator]]
name = "per-device"
key_by = "device"
parallelism = {parallelism}
aggregate = ["count", "sum(n) as n_sum", "max(n) as n_max"]
[operator.window]
type = "sliding"
size_ms = 3000
slide_ms = 1000

[[sink]]
type = "file"
path = "out/main"
{extra}
"#
    )
}

/// The committed parts of `dir`, concatenated in checkpoint order.
pub fn committed(dir: &Path) -> Vec<u8> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|entry| entry.expect("entry").path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with("part-"))
                })
                .collect()
        })
        .unwrap_or_default();
    // `part-<subtask>-<checkpoint:06>.jsonl`: by checkpoint, then subtask.
    names.sort_by_key(|path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let checkpoint = name.rsplit('-').next().unwrap_or_default().to_owned();
        (checkpoint, name)
    });
    names
        .iter()
        .flat_map(|path| std::fs::read(path).expect("read part"))
        .collect()
}

/// The lines of `bytes`, sorted: output compared as a multiset (several subtasks
/// interleave nondeterministically).
pub fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// The seed of a kill schedule: `WEIR_CRASH_SEED` when set (to replay a run), else
/// the clock.
pub fn crash_seed() -> u64 {
    std::env::var("WEIR_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |since| since.as_nanos() as u64)
        })
}
