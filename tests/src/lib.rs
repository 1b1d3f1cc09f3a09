//! Shared helpers of Weir's integration tests and benchmarks: where the plugins built
//! by `build.rs` are, running a pipeline file, reading what it wrote, the shipped
//! models run natively, and the native-Rust operators the benchmarks compare plugins
//! with.

pub mod broker;
pub mod models;
pub mod native;

use std::path::{Path, PathBuf};

use weir_host::config;
use weir_host::plugin::{ComponentCache, PluginLoader};
use weir_host::runtime::assemble::assemble;
use weir_host::runtime::pipeline::{RunOptions, RunReport};

/// The component built from `plugins/<name>` (`name` as in the crate, `-` or `_`).
pub fn plugin(name: &str) -> PathBuf {
    Path::new(env!("WEIR_TEST_PLUGINS")).join(format!("{}.wasm", name.replace('-', "_")))
}

/// The component `scripts/build-lang-plugins` built from a Python, JavaScript or C
/// plugin (`name` as the script names it, e.g. `xlang_map_py`), in
/// `$WEIR_LANG_PLUGINS` or else `target/lang-plugins`.
///
/// # Panics
/// If it is not there, saying how to build it.
pub fn lang_plugin(name: &str) -> PathBuf {
    let dir = std::env::var_os("WEIR_LANG_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lang-plugins"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-lang-plugins (scripts/test does)",
        path.display()
    );
    path
}

/// A plugin loader with its compile cache in `cache_dir`.
///
/// # Panics
/// If the engine does not start.
pub fn loader(cache_dir: &Path) -> PluginLoader {
    PluginLoader::new(ComponentCache::new(cache_dir)).expect("the Wasm engine starts")
}

/// Writes `pipeline` (TOML; `{plugins}` is replaced by the plugin folder) to
/// `dir/pipeline.toml`, then loads, assembles and runs it.
///
/// # Errors
/// Whatever stopped the pipeline, as text.
pub async fn run_pipeline(dir: &Path, pipeline: &str) -> anyhow::Result<RunReport> {
    let text = pipeline.replace("{plugins}", env!("WEIR_TEST_PLUGINS"));
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text)?;
    let config = config::load_file(&path)?;
    let loader = loader(&dir.join("cache"));
    let pipeline = assemble(&config, &loader).await?;
    Ok(pipeline.run(RunOptions::default()).await?)
}

/// The lines of a JSON lines file, parsed.
///
/// # Panics
/// If the file is missing or a line is not JSON.
pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{}: {line:?}: {error}", path.display()))
        })
        .collect()
}

/// The process's peak resident set size in MiB, from `/proc/self/status` (0 where
/// absent): what the benchmarks report, each case in a process of its own.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// A file of the repository, by its path from the repository's root (the shipped
/// examples, models and their reference outputs).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .join(relative)
}
