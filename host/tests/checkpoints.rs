//! Checkpoints and restore through the real `weir` binary: barrier alignment with two
//! inputs, savepoints by signal (`weir savepoint`), resuming after a compatible change,
//! refusing an incompatible one with what differs, damaged checkpoints reported
//! against their file, `--fresh`, and a source that cannot be checkpointed.

mod checkpoint_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkpoint_support::{
    committed, heartbeat_pipeline, run, sorted_lines, spawn, weir, write_heartbeats,
};

const CHECKPOINT: &str = "[checkpoint]\ninterval_ms = 50\n";

/// A directory with `in.jsonl` of `events` heartbeats.
fn workspace(events: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_heartbeats(&dir.path().join("in.jsonl"), events, 100, 7);
    dir
}

fn write(dir: &Path, pipeline: &str) {
    std::fs::write(dir.join("p.toml"), pipeline).expect("write pipeline");
}

/// The complete checkpoints of the `heartbeats` pipeline in `dir`.
fn checkpoints(dir: &Path) -> Vec<PathBuf> {
    let root = dir.join(".weir/heartbeats/checkpoints");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .map(|entry| entry.expect("entry").path())
                .filter(|path| path.join("_metadata").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Waits until `dir` has a complete checkpoint (or panics after a while).
fn wait_for_a_checkpoint(dir: &Path) {
    let started = Instant::now();
    while checkpoints(dir).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pipeline paced by a generator (2,000 events/s, 20,000 events), so that a test
/// can act while it runs.
fn paced_pipeline(extra: &str) -> String {
    heartbeat_pipeline("unused", 1, extra).replace(
        "type = \"file\"\npath = \"unused\"\n[source.event_time]\nfield = \"ts\"\n",
        "type = \"generator\"\ncount = 20000\nrate = 4000.0\nseed = 3\nkeys = 50\nstep_ms = 1\n",
    ).replace("key_by = \"device\"", "key_by = \"$key\"")
}

#[test]
fn a_savepoint_stops_the_run_and_a_compatible_change_resumes_from_it() {
    let dir = workspace(0);
    // The reference, without checkpoints.
    write(
        dir.path(),
        &paced_pipeline("")
            .replace("rate = 4000.0\n", "")
            .replace("out/main", "ref/main.jsonl")
            .replace("out/alerts", "ref/alerts.jsonl"),
    );
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");

    write(dir.path(), &paced_pipeline(CHECKPOINT));
    let host = weir(dir.path(), &["run", "-q", "p.toml"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weir starts");
    wait_for_a_checkpoint(dir.path());
    let (code, stderr) = run(dir.path(), &["savepoint", "p.toml"]);
    assert_eq!(code, 0, "weir savepoint: {stderr}");
    let output = host.wait_with_output().expect("the host stops");
    let host_stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{host_stderr}");
    assert!(host_stderr.contains("taking a savepoint"), "{host_stderr}");
    let savepoint = checkpoints(dir.path()).pop().expect("a savepoint");
    let metadata = std::fs::read_to_string(savepoint.join("_metadata")).expect("metadata");
    assert!(metadata.contains("\"savepoint\": true"), "{metadata}");
    assert!(metadata.contains("\"kind\": \"generator\""), "{metadata}");
    let id = savepoint
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")[4..]
        .parse::<u64>()
        .expect("id");
    assert!(
        !host_stderr.contains("finished"),
        "stopped before the end: {host_stderr}"
    );

    // A compatible change (batch size, no pacing) resumes from the savepoint.
    let changed = paced_pipeline(CHECKPOINT)
        .replace("rate = 4000.0\n", "")
        .replace(
            "[[operator]]",
            "[runtime]\nbatch_size = 100\n\n[[operator]]",
        );
    write(dir.path(), &changed);
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("from checkpoint {id}")),
        "{stderr}"
    );
    // The source went on from where the savepoint left it: every event once.
    let want = std::fs::read(dir.path().join("ref/main.jsonl")).expect("reference");
    assert_eq!(
        sorted_lines(&committed(&dir.path().join("out/main"))),
        sorted_lines(&want)
    );
}

#[test]
fn an_incompatible_change_is_refused_with_what_differs_and_fresh_starts_over() {
    let dir = workspace(50_000);
    write(dir.path(), &heartbeat_pipeline("in.jsonl", 1, CHECKPOINT));
    let mut host = spawn(dir.path(), &["run", "-q", "p.toml"]);
    wait_for_a_checkpoint(dir.path());
    host.kill().expect("SIGKILL");
    host.wait().expect("reaped");

    let incompatible = heartbeat_pipeline("in.jsonl", 2, CHECKPOINT)
        .replace("key_by = \"device\"", "key_by = \"n\"");
    write(dir.path(), &incompatible);
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("the pipeline changed in a way its state cannot follow"),
        "{stderr}"
    );
    assert!(
        stderr.contains("operator `silent`: `key_by` was `device`, is now `n`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("operator `silent`: `parallelism` was 1, is now 2"),
        "{stderr}"
    );
    assert!(
        !checkpoints(dir.path()).is_empty(),
        "a refused restore changes nothing"
    );

    // `--fresh` starts over: every event once, in the input's order.
    let (code, stderr) = run(dir.path(), &["run", "-q", "--fresh", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("from the start"), "{stderr}");
    let input = std::fs::read(dir.path().join("in.jsonl")).expect("input");
    assert_eq!(
        sorted_lines(&committed(&dir.path().join("out/main"))),
        sorted_lines(&input)
    );
    let last = checkpoints(dir.path()).pop().expect("checkpoint");
    let metadata = std::fs::read_to_string(last.join("_metadata")).expect("metadata");
    assert!(metadata.contains("\"finished\": true"), "{metadata}");
}

#[test]
fn two_inputs_are_aligned_and_output_is_exactly_once_across_kills() {
    let dir = workspace(300_000);
    // A stateless stage with parallelism 2 feeds the keyed operator: two inputs.
    let pipeline = heartbeat_pipeline("in.jsonl", 2, CHECKPOINT).replace(
        "[[operator]]\nname = \"silent\"",
        &format!(
            "[[operator]]\nname = \"all\"\nplugin = \"{}\"\nparallelism = 2\nsettings = {{ field = \"n\", op = \"ge\", value = 0.0 }}\n\n[[operator]]\nname = \"silent\"",
            checkpoint_support::filter_plugin().display()
        ),
    );
    write(dir.path(), &pipeline);
    // Killed once a checkpoint exists, then again once one more does.
    for kill in 1..=2 {
        let mut host = spawn(dir.path(), &["run", "-q", "p.toml"]);
        let started = Instant::now();
        while checkpoints(dir.path()).len() < kill + 1 && host.try_wait().expect("wait").is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = host.kill();
        host.wait().expect("reaped");
    }
    let last = checkpoints(dir.path())
        .pop()
        .expect("a checkpoint before the kills");
    let metadata = std::fs::read_to_string(last.join("_metadata")).expect("metadata");
    for subtask in ["\"subtask\": 0", "\"subtask\": 1"] {
        assert!(
            metadata.contains(subtask),
            "both keyed subtasks snapshot: {metadata}"
        );
    }
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("from checkpoint"), "{stderr}");
    let input = std::fs::read(dir.path().join("in.jsonl")).expect("input");
    assert_eq!(
        sorted_lines(&committed(&dir.path().join("out/main"))),
        sorted_lines(&input),
        "every event exactly once"
    );
}

#[test]
fn damaged_checkpoints_are_errors_naming_the_file_never_a_fresh_start() {
    // Paced, so that the host is killed mid-run, with state in its checkpoint (a file
    // source can end before the kill, and the final checkpoint of a finished run holds
    // no keyed state).
    let dir = workspace(0);
    write(dir.path(), &paced_pipeline(CHECKPOINT));
    let mut host = spawn(dir.path(), &["run", "-q", "p.toml"]);
    wait_for_a_checkpoint(dir.path());
    host.kill().expect("SIGKILL");
    host.wait().expect("reaped");
    let good = checkpoints(dir.path()).pop().expect("checkpoint");

    let copy = |name: &str| {
        let target = dir.path().join(name);
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(&good)
            .arg(&target)
            .status()
            .expect("cp");
        assert!(status.success());
        target
    };
    let metadata = std::fs::read_to_string(good.join("_metadata")).expect("metadata");
    let truncated = copy("truncated");
    std::fs::write(truncated.join("_metadata"), &metadata[..metadata.len() / 2]).expect("write");
    let version = copy("version");
    std::fs::write(
        version.join("_metadata"),
        metadata.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .expect("write");
    let missing = copy("missing");
    if let Err(error) = std::fs::remove_dir_all(missing.join("silent/0")) {
        panic!(
            "removing the snapshot of {}: {error}\n{}",
            good.display(),
            checkpoint_support::host_log(dir.path())
        );
    }
    for (checkpoint, wanted) in [
        (&truncated, "truncated or damaged"),
        (&version, "format version 99, but this weir reads version 1"),
        (&missing, "of operator `silent` subtask 0 is missing"),
    ] {
        let from = checkpoint.to_string_lossy().into_owned();
        let (code, stderr) = run(dir.path(), &["run", "-q", "--from", &from, "p.toml"]);
        assert_ne!(code, 0, "{stderr}");
        assert!(stderr.contains(wanted), "{wanted}: {stderr}");
        assert!(stderr.contains(&from), "names the file: {stderr}");
    }
    // The latest checkpoint itself, truncated: an error too.
    std::fs::write(good.join("_metadata"), &metadata[..10]).expect("write");
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("_metadata") && stderr.contains("truncated"),
        "{stderr}"
    );
}

#[test]
fn stdin_cannot_be_checkpointed() {
    let dir = workspace(0);
    let pipeline = heartbeat_pipeline("x", 1, CHECKPOINT)
        .replace("type = \"file\"\npath = \"x\"\n", "type = \"stdin\"\n");
    write(dir.path(), &pipeline);
    let (code, stderr) = run(dir.path(), &["run", "-q", "p.toml"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("cannot be read again from a position"),
        "{stderr}"
    );
}
