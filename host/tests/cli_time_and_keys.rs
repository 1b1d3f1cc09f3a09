//! The `weir` binary on pipeline files with event time and keys: a wrong key or value
//! is reported at its line, and nothing runs.

use std::path::Path;

mod common;

/// Runs `weir check FILE` on `pipeline`; returns the exit code and stderr.
fn weir_check(dir: &Path, pipeline: &str) -> (i32, String) {
    common::weir(dir, "check", &[], pipeline)
}

#[test]
fn a_misspelt_event_time_key_names_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_check(
        dir.path(),
        "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[source.event_time]\nfield = \"ts\"\nwatermark_delay = 100\n\n[[sink]]\ntype = \"stdout\"\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("pipeline.toml:7:1: unknown field `watermark_delay`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`watermark_delay_ms`"),
        "says what was expected: {stderr}"
    );
    assert!(stderr.contains("7 | watermark_delay = 100"), "{stderr}");
}

#[test]
fn max_key_groups_out_of_range_names_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_check(
        dir.path(),
        "[runtime]\nbatch_size = 64\nmax_key_groups = 0\n\n[source]\ntype = \"generator\"\n\n[[sink]]\ntype = \"stdout\"\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("pipeline.toml:3:18: `max_key_groups` must be between 1 and 32768, not 0"),
        "{stderr}"
    );
}

#[test]
fn a_header_on_a_file_source_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_check(
        dir.path(),
        "[source]\ntype = \"stdin\"\n[source.event_time]\nheader = \"ts\"\n\n[[sink]]\ntype = \"stdout\"\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "pipeline.toml:4:10: [source.event_time] records of a `stdin` source carry no headers"
        ),
        "{stderr}"
    );
}
