//! What the CLI tests share: running the `weir` binary on a pipeline file.

use std::path::Path;
use std::process::Command;

/// Writes `pipeline` to `dir/pipeline.toml` and runs `weir SUBCOMMAND [flags] FILE` on
/// it; returns the exit code and stderr.
pub fn weir(dir: &Path, subcommand: &str, flags: &[&str], pipeline: &str) -> (i32, String) {
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, pipeline).expect("write the pipeline");
    let output = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg(subcommand)
        .args(flags)
        .arg(&path)
        .env(
            "WEIR_CACHE_DIR",
            std::env::temp_dir().join("weir-cli-test-cache"),
        )
        .output()
        .expect("weir runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
