//! The `weir` binary's behaviour on bad input: a wrong pipeline file is reported with
//! the file, the line and what was expected, and the exit code says it failed.

use std::path::Path;

mod common;

/// Runs `weir run [flags] FILE` on `pipeline`; returns the exit code and stderr.
fn weir_run(dir: &Path, pipeline: &str, flags: &[&str]) -> (i32, String) {
    common::weir(dir, "run", flags, pipeline)
}

#[test]
fn a_misspelt_key_names_the_line_and_the_expected_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_run(
        dir.path(),
        "[source]\ntype = \"generator\"\ncount = 5\n\n[[operator]]\nname = \"f\"\nplugin = \"f.wasm\"\nparalellism = 2\n\n[[sink]]\ntype = \"stdout\"\n",
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("pipeline.toml:8:1: unknown field `paralellism`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`parallelism`"),
        "says what was expected: {stderr}"
    );
}

#[test]
fn a_missing_plugin_file_names_the_operator_and_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_run(
        dir.path(),
        "[source]\ntype = \"generator\"\ncount = 5\n\n[[operator]]\nname = \"scorer\"\nplugin = \"nowhere/scorer.wasm\"\n\n[[sink]]\ntype = \"discard\"\n",
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("operator `scorer`: cannot read plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("nowhere/scorer.wasm"), "{stderr}");
}

#[test]
fn a_pipeline_without_operators_copies_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = weir_run(
        dir.path(),
        "[source]\ntype = \"generator\"\ncount = 25\nshape = \"json\"\n\n[[sink]]\ntype = \"file\"\npath = \"out.jsonl\"\n",
        &["--quiet"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("25 events read"),
        "the summary counts: {stderr}"
    );
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("output");
    assert_eq!(written.lines().count(), 25);
}
