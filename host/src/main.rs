//! `weir`: the command line of the Weir host.
//!
//! ```text
//! weir run PIPELINE.toml [--fresh | --from DIR]   run a pipeline; with `[checkpoint]`
//!                                                  it resumes from its latest checkpoint
//! weir savepoint PIPELINE.toml                     take a savepoint of the running
//!                                                  pipeline and stop it
//! weir check PIPELINE.toml    load and check the file and its plugins, run nothing
//! weir new --lang L --kind K NAME   a plugin project from a template
//! weir build [PROJECT]             build a plugin project, check its component
//! weir test [PROJECT]              run a plugin's test cases through the harness
//! weir deploy NAME FILE       deploy a new version of a plugin into the running host
//! weir deploy --model NAME FILE   deploy a new ONNX model for the operators granted NAME
//! weir plugins | weir status | weir rollback NAME [VERSION]
//! ```
//!
//! With `[checkpoint]`, SIGINT or SIGTERM takes a savepoint and stops cleanly; a second
//! signal stops at once.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use weir_host::config;
use weir_host::plugin::{ComponentCache, PluginLoader};

use weir_host::checkpoint::start::prepare_run;
use weir_host::checkpoint::{Layout, StartFrom};
use weir_host::runtime::assemble::{assemble, assemble_deployable};
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
        /// Start over: remove the pipeline's checkpoints and its sinks' part files.
        #[arg(long, conflicts_with = "from")]
        fresh: bool,
        /// Restore this checkpoint or savepoint directory (holding `_metadata`).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        #[command(flatten)]
        deploy: cli::deploy::DeployFlags,
    },
    /// Take a savepoint of the running pipeline (the host named by the pid file in its
    /// data directory) and stop it; `weir run` resumes from it.
    Savepoint {
        pipeline: PathBuf,
        /// Seconds to wait for the host to stop.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Check a pipeline file and load its plugins (calling their `init`), then stop.
    Check {
        pipeline: PathBuf,
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
    /// Make a plugin project from a template (then `weir build`, `weir test`).
    New(cli::plugin_new::NewArgs),
    /// Build a plugin project and check the component it produces.
    Build(cli::plugin_build::BuildArgs),
    /// Run a plugin's test cases (input and expected JSON lines) through the harness.
    Test(cli::plugin_test::TestArgs),
    /// Deploy FILE as a new version of plugin NAME into the running host (with
    /// `--model`: FILE is an ONNX model for the operators granted model NAME).
    Deploy {
        name: String,
        file: PathBuf,
        /// FILE is a model, NAME the name operators are granted it by.
        #[arg(long)]
        model: bool,
        #[command(flatten)]
        host: cli::deploy::HostFlags,
    },
    /// List the plugins in the running host's registry, with their versions.
    Plugins {
        #[command(flatten)]
        host: cli::deploy::HostFlags,
    },
    /// Swap plugin NAME back to VERSION (a content hash or prefix), or to the previous one.
    Rollback {
        name: String,
        version: Option<String>,
        #[command(flatten)]
        host: cli::deploy::HostFlags,
    },
    /// Show the plugin version each operator of the running host runs.
    Status {
        #[command(flatten)]
        host: cli::deploy::HostFlags,
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
        Command::New(args) => cli::plugin_new::run(args),
        Command::Build(args) => cli::plugin_build::run(args),
        Command::Test(args) => cli::plugin_test::run(args),
        Command::Run {
            pipeline,
            cache_dir,
            quiet,
            fresh,
            from,
            deploy,
        } => {
            let mut config = config::load_file(&pipeline)?;
            if weir_host::scale_out::is_scale_out(&config) {
                return run_scale_out(config, &pipeline, cache_dir, fresh || from.is_some()).await;
            }
            let start = match (fresh, from.clone()) {
                (true, _) => StartFrom::Fresh,
                (false, Some(dir)) => StartFrom::Path(dir),
                (false, None) => StartFrom::Latest,
            };
            let history = cli::deploy::restore_swapped_versions(&mut config, &start)?;
            let loader = loader_for(&config, cache_dir)?;
            let (assembled, plugins) = assemble_deployable(&config, &loader).await?;
            let plugin_names: Vec<Option<String>> = plugins
                .iter()
                .map(|plugin| plugin.as_ref().map(|p| p.identity().name.clone()))
                .collect();
            let services =
                cli::deploy::start(&deploy, &config, &assembled, &plugins, &loader).await?;
            if let Some(history) = history {
                services.deployer.record_swaps(history);
            }
            let swaps = services.deployer.board().clone();
            let options = RunOptions { progress: !quiet };
            if config.checkpoint.is_none() {
                if fresh || from.is_some() {
                    anyhow::bail!(
                        "--fresh and --from need checkpoints: {} has no `[checkpoint]` section",
                        pipeline.display()
                    );
                }
                eprintln!(
                    "running pipeline `{}` ({})",
                    config.name,
                    pipeline.display()
                );
                let report = assembled.run_swappable(options, None, swaps).await?;
                eprintln!("{}", report.summary());
                return Ok(());
            }
            let (savepoints, requests) = tokio::sync::mpsc::channel(1);
            let (checkpointing, _pid_file) =
                prepare_run(&config, &assembled, &plugin_names, &start, requests)?;
            match &checkpointing.restored {
                Some(restored) => eprintln!(
                    "running pipeline `{}` ({}) from checkpoint {} ({})",
                    config.name,
                    pipeline.display(),
                    restored.id,
                    restored.dir.display()
                ),
                None => eprintln!(
                    "running pipeline `{}` ({}) from the start, checkpointing into {}",
                    config.name,
                    pipeline.display(),
                    checkpointing.layout.checkpoints_dir().display()
                ),
            }
            let layout = checkpointing.layout.clone();
            let signals = tokio::spawn(savepoint_on_signal(savepoints));
            let report = assembled
                .run_swappable(options, Some(checkpointing), swaps)
                .await;
            signals.abort();
            let report = report?;
            eprintln!("{}", report.summary());
            if let Some(outcome) = report.checkpoints {
                if let Some(id) = outcome.savepoint {
                    eprintln!(
                        "savepoint {id} taken: {}; `weir run` resumes from it",
                        layout.checkpoint_dir(id).display()
                    );
                } else if let Some(id) = outcome.finished {
                    eprintln!("finished; final checkpoint {id} (the next run starts fresh)");
                }
            }
            Ok(())
        }
        Command::Savepoint { pipeline, timeout } => {
            let config = config::load_file(&pipeline)?;
            let layout = Layout::new(&config.state.dir, &config.name);
            request_savepoint(&layout, Duration::from_secs(timeout)).await
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
        Command::Deploy {
            name,
            file,
            model,
            host,
        } => cli::deploy::deploy(&host, &name, &file, model).await,
        Command::Plugins { host } => cli::deploy::plugins(&host).await,
        Command::Rollback {
            name,
            version,
            host,
        } => cli::deploy::rollback(&host, &name, version.as_deref()).await,
        Command::Status { host } => cli::deploy::status(&host).await,
    }
}

/// `weir run` of a pipeline with `scale_out = true`: one host of its group, until a
/// signal (see [`weir_host::scale_out`]).
async fn run_scale_out(
    config: config::PipelineConfig,
    pipeline: &std::path::Path,
    cache_dir: Option<PathBuf>,
    start_given: bool,
) -> anyhow::Result<()> {
    if start_given {
        anyhow::bail!(
            "--fresh and --from are not for a scale-out host: each partition's task resumes from its own checkpoints (under `{}`, one directory per task)",
            config.state.dir.display()
        );
    }
    let loader = loader_for(&config, cache_dir)?;
    eprintln!(
        "running pipeline `{}` ({}) as one host of its consumer group",
        config.name,
        pipeline.display()
    );
    let (savepoints, mut requests) = tokio::sync::mpsc::channel(1);
    let signals = tokio::spawn(savepoint_on_signal(savepoints));
    let result = weir_host::scale_out::run(config, loader, async move {
        let _ = requests.recv().await;
    })
    .await;
    signals.abort();
    result?;
    eprintln!("stopped: every task took a savepoint");
    Ok(())
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

/// Waits for SIGINT or SIGTERM, asks for a savepoint; a second signal stops at once.
async fn savepoint_on_signal(savepoints: tokio::sync::mpsc::Sender<()>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    eprintln!("taking a savepoint, then stopping (signal again to stop at once)");
    let _ = savepoints.send(()).await;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    eprintln!("stopping at once");
    std::process::exit(130);
}

/// Sends SIGTERM to the host named by the pipeline's pid file, then waits for it to
/// stop and names the savepoint it took.
async fn request_savepoint(layout: &Layout, timeout: Duration) -> anyhow::Result<()> {
    let pid_file = layout.pid_file();
    let pid = std::fs::read_to_string(&pid_file)
        .map_err(|error| {
            anyhow::anyhow!(
                "no running host for this pipeline ({}: {error})",
                pid_file.display()
            )
        })?
        .trim()
        .parse::<u32>()
        .map_err(|error| anyhow::anyhow!("{}: not a process id: {error}", pid_file.display()))?;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if !status.success() {
        anyhow::bail!(
            "cannot signal process {pid} (from {}): is the host still running?",
            pid_file.display()
        );
    }
    eprintln!("asked process {pid} for a savepoint");
    let deadline = std::time::Instant::now() + timeout;
    while pid_file.exists() {
        if std::time::Instant::now() > deadline {
            anyhow::bail!("process {pid} did not stop within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let latest = layout
        .list()?
        .into_iter()
        .rev()
        .find(|(_, complete)| *complete)
        .map(|(id, _)| id);
    match latest {
        Some(id) => {
            let dir = layout.checkpoint_dir(id);
            let metadata = weir_host::checkpoint::Metadata::read(&dir)?;
            let kind = if metadata.savepoint {
                "savepoint"
            } else {
                "checkpoint"
            };
            println!("{kind} {id}: {}", dir.display());
            Ok(())
        }
        None => anyhow::bail!("the host stopped without a savepoint"),
    }
}
