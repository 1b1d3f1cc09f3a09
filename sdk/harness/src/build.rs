//! Building the plugin crate under test into a component, from its own tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a plugin crate did not build.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Builds the plugin crate at `crate_dir` (usually `env!("CARGO_MANIFEST_DIR")`) with
/// `cargo build --release --target wasm32-wasip2`, into `target/weir-harness` under
/// it (a directory of its own, so it never waits on the lock of the `cargo test`
/// that runs it), and returns the component's path.
///
/// # Errors
/// When the manifest has no package name, or cargo fails (is the `wasm32-wasip2`
/// target installed? `rustup target add wasm32-wasip2`).
pub fn build_component(crate_dir: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    let dir = crate_dir.as_ref();
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|error| BuildError(format!("{}: {error}", manifest.display())))?;
    let name = package_name(&text)
        .ok_or_else(|| BuildError(format!("{}: no [package] name", manifest.display())))?;
    let target_dir = dir.join("target/weir-harness");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    // The flags of the test build are for the host target, not for the plugin's.
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(variable);
    }
    let status = command
        .status()
        .map_err(|error| BuildError(format!("running cargo: {error}")))?;
    if !status.success() {
        return Err(BuildError(format!(
            "building {} for wasm32-wasip2 failed ({status}); is the target installed? (`rustup target add wasm32-wasip2`)",
            dir.display()
        )));
    }
    Ok(target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_"))))
}

/// The `name` of the `[package]` table of a Cargo manifest.
fn package_name(manifest: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(manifest).ok()?;
    table
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_package_name_is_read_from_the_manifest() {
        let manifest =
            "[package]\nname = \"fraud-score\"\nversion = \"0.1.0\"\n\n[lib]\nname = \"x\"\n";
        assert_eq!(
            super::package_name(manifest).as_deref(),
            Some("fraud-score")
        );
        assert_eq!(super::package_name("[workspace]\n"), None);
    }
}
