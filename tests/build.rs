//! Builds every plugin in `plugins/` to a Wasm component and copies the components
//! into `$OUT_DIR/plugins/`, so that one `cargo test` builds and runs everything.
//!
//! The plugins build with a nested `cargo build --target wasm32-wasip2 --profile
//! plugin` into `target/plugins` (a target directory of their own, so the nested
//! cargo never waits on the lock the outer one holds).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir
        .parent()
        .context("tests/ has a parent")?
        .to_path_buf();
    for watched in ["plugins", "sdk", "wit", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let target_root = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let plugin_target = target_root.join("plugins");
    let plugins = plugin_crates(&workspace.join("plugins"))?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(&plugin_target);
    for plugin in &plugins {
        command.args(["-p", plugin]);
    }
    // The outer build's flags and wrappers (e.g. clippy's) are for the host target.
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
        .context("running cargo to build the plugins")?;
    if !status.success() {
        bail!(
            "building the plugins failed ({status}); is the wasm32-wasip2 target installed? (`rustup target add wasm32-wasip2`)"
        );
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?).join("plugins");
    std::fs::create_dir_all(&out_dir)?;
    let built = plugin_target.join("wasm32-wasip2/plugin");
    for plugin in &plugins {
        let file = format!("{}.wasm", plugin.replace('-', "_"));
        std::fs::copy(built.join(&file), out_dir.join(&file))
            .with_context(|| format!("copying {file}"))?;
    }
    build_second_version_tag(&command, &built, &out_dir)?;
    println!("cargo:rustc-env=WEIR_TEST_PLUGINS={}", out_dir.display());
    Ok(())
}

/// Builds `version-tag` again with its `tag-b` feature, as `version_tag_b.wasm`: the
/// second version of one plugin that the hot-swap tests alternate with the first.
fn build_second_version_tag(first: &Command, built: &Path, out_dir: &Path) -> anyhow::Result<()> {
    let mut command = Command::new(first.get_program());
    command.current_dir(first.get_current_dir().unwrap_or(Path::new(".")));
    let args: Vec<_> = first.get_args().take_while(|arg| *arg != "-p").collect();
    command
        .args(args)
        .args(["-p", "version-tag", "--features", "tag-b"]);
    for (variable, value) in first.get_envs() {
        match value {
            Some(value) => command.env(variable, value),
            None => command.env_remove(variable),
        };
    }
    let status = command
        .status()
        .context("building version-tag with tag-b")?;
    if !status.success() {
        bail!("building version-tag with its tag-b feature failed ({status})");
    }
    std::fs::copy(
        built.join("version_tag.wasm"),
        out_dir.join("version_tag_b.wasm"),
    )
    .context("copying version_tag_b.wasm")?;
    Ok(())
}

/// The package names of the plugin crates (those built as `cdylib`).
fn plugin_crates(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let manifest = entry?.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if !text.contains("cdylib") {
            continue;
        }
        let name = text
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .with_context(|| format!("no package name in {}", manifest.display()))?;
        names.push(name.to_owned());
    }
    names.sort();
    Ok(names)
}
