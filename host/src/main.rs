//! `weir`: the command line of the Weir host.
//!
//! ```text
//! weir run PIPELINE.toml      run a pipeline; a bounded one ends with a summary
//! weir check PIPELINE.toml    load and check the file and its plugins, run nothing
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use weir_host::config;
use weir_host::plugin::{ComponentCache, PluginLoader};
use weir_host::runtime::assemble::assemble;
use weir_host::runtime::pipeline::RunOptions;

#[derive(Parser, Debug)]
#[command(
    name = "weir",
    version,
    about = "A stream processor whose operators are sandboxed WebAssembly components"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a pipeline until its source ends (or forever, for an unbounded one).
    Run {
        /// The pipeline file (TOML).
        pipeline: PathBuf,
        /// Where compiled plugins are cached (default: the pipeline's `cache_dir`,
        /// `$WEIR_CACHE_DIR`, or `~/.cache/weir/components`).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// No progress lines, only the summary.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check a pipeline file and load its plugins (calling their `init`), then stop.
    Check {
        pipeline: PathBuf,
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("WEIR_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,weir=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run {
            pipeline,
            cache_dir,
            quiet,
        } => {
            let config = config::load_file(&pipeline)?;
            let loader = loader_for(&config, cache_dir)?;
            let assembled = assemble(&config, &loader).await?;
            eprintln!(
                "running pipeline `{}` ({})",
                config.name,
                pipeline.display()
            );
            let report = assembled.run(RunOptions { progress: !quiet }).await?;
            eprintln!("{}", report.summary());
            Ok(())
        }
        Command::Check {
            pipeline,
            cache_dir,
        } => {
            let config = config::load_file(&pipeline)?;
            let loader = loader_for(&config, cache_dir)?;
            let assembled = assemble(&config, &loader).await?;
            for operator in &assembled.operators {
                let keyed = operator
                    .key_by
                    .as_ref()
                    .map(|key_by| format!(", keyed by {key_by}"))
                    .unwrap_or_default();
                println!(
                    "operator {}: {} (parallelism {}{keyed})",
                    operator.name, operator.plugin, operator.parallelism
                );
            }
            println!("{}: ok", pipeline.display());
            Ok(())
        }
    }
}

fn loader_for(
    config: &config::PipelineConfig,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<PluginLoader> {
    let cache = match cache_dir.or_else(|| config.runtime.cache_dir.clone()) {
        Some(dir) => ComponentCache::new(dir),
        None => ComponentCache::default_location(),
    };
    PluginLoader::new(cache)
        .map_err(|error| anyhow::anyhow!("cannot start the Wasm engine: {error:#}"))
}
