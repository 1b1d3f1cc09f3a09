//! `weir run`'s hot deployment (the admin API and the watched directory), and the
//! commands that talk to a running host: `weir deploy`, `weir plugins`,
//! `weir rollback`, `weir status`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use weir_host::admin::auth::{TOKEN_FILE, load_or_create};
use weir_host::admin::client::AdminClient;
use weir_host::admin::routes::{AdminRoutes, DEFAULT_UPLOAD_LIMIT};
use weir_host::admin::server::{AdminServer, DEFAULT_ADDRESS, serve};
use weir_host::checkpoint::restore::find;
use weir_host::checkpoint::{Layout, StartFrom};
use weir_host::config::{OperatorFunction, PipelineConfig};
use weir_host::deploy::history::SwapHistory;
use weir_host::deploy::watcher::{DirectoryWatch, watch};
use weir_host::deploy::{Deployer, PluginName, Registry, RollbackPolicy};
use weir_host::plugin::{Plugin, PluginLoader};
use weir_host::runtime::pipeline::Pipeline;

/// How `weir run` takes new plugin versions.
#[derive(Args, Debug, Clone)]
pub struct DeployFlags {
    /// Address of the admin API (`GET /health`, `/metrics`; deploys need the token in
    /// `<data dir>/admin-token`).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_ADDRESS)]
    pub admin: String,
    /// No admin API.
    #[arg(long)]
    pub no_admin: bool,
    /// Directory watched for new plugin versions (`NAME.wasm`); default
    /// `<data dir>/incoming`.
    #[arg(long, value_name = "DIR")]
    pub watch: Option<PathBuf>,
    /// Traps and missed deadlines after a swap that trigger an automatic rollback.
    #[arg(long, default_value_t = RollbackPolicy::default().max_faults)]
    pub rollback_faults: u64,
    /// Seconds after a swap during which faults count towards a rollback.
    #[arg(long, default_value_t = RollbackPolicy::default().window.as_secs())]
    pub rollback_window: u64,
}

/// What keeps hot deployment running; dropped when the run ends.
#[derive(Debug)]
pub struct DeployServices {
    pub deployer: Arc<Deployer>,
    _server: Option<AdminServer>,
    _watch: Option<DirectoryWatch>,
}

/// Starts the deployer of `pipeline`, its admin API and its watched directory.
///
/// # Errors
/// When the token or the watched directory cannot be set up. An admin address that
/// is taken is only a warning: the pipeline runs without the API.
pub async fn start(
    flags: &DeployFlags,
    config: &PipelineConfig,
    pipeline: &Pipeline,
    plugins: &[Option<Plugin>],
    loader: &PluginLoader,
) -> anyhow::Result<DeployServices> {
    let data = &config.state.dir;
    let policy = RollbackPolicy {
        max_faults: flags.rollback_faults,
        window: std::time::Duration::from_secs(flags.rollback_window),
    };
    let deployer = Deployer::for_pipeline(
        pipeline,
        plugins,
        Registry::new(data.join("plugins")),
        loader.clone(),
        policy,
    );
    let mut server = None;
    if !flags.no_admin {
        let token = load_or_create(&data.join(TOKEN_FILE))?;
        let routes = AdminRoutes {
            deployer: deployer.clone(),
            token,
            upload_limit: DEFAULT_UPLOAD_LIMIT,
        };
        match serve(&flags.admin, routes).await {
            Ok(running) => {
                eprintln!(
                    "admin API on http://{} (token in {})",
                    running.address(),
                    data.join(TOKEN_FILE).display()
                );
                server = Some(running);
            }
            Err(error) => eprintln!("warning: admin API not started on {}: {error}", flags.admin),
        }
    }
    let dir = flags.watch.clone().unwrap_or_else(|| data.join("incoming"));
    let watching = watch(&dir, deployer.clone())?;
    eprintln!(
        "watching {} for new plugin versions (NAME.wasm)",
        dir.display()
    );
    Ok(DeployServices {
        deployer,
        _server: server,
        _watch: Some(watching),
    })
}

/// For a checkpointed pipeline, points each operator that a swap changed at the
/// version it ran after the checkpoint `start` restores (from the swap history), and
/// returns the history to record this run's swaps in. `None` without `[checkpoint]`.
///
/// # Errors
/// When the checkpoint to restore cannot be read, or the history rewritten.
pub fn restore_swapped_versions(
    config: &mut PipelineConfig,
    start: &StartFrom,
) -> anyhow::Result<Option<SwapHistory>> {
    if config.checkpoint.is_none() {
        return Ok(None);
    }
    let layout = Layout::new(&config.state.dir, &config.name);
    let restoring = find(&layout, start)?.map(|restored| restored.id);
    let history = SwapHistory::new(&config.state.dir, &config.name);
    let versions = history.restore(restoring)?;
    for operator in &mut config.operators {
        if let Some(swap) = versions.get(&operator.name) {
            eprintln!(
                "operator `{}` runs {} (deployed before the checkpoint restored)",
                operator.name,
                swap.path.display()
            );
            operator.function = OperatorFunction::Plugin(swap.path.clone());
            for (name, path) in &swap.models {
                if operator.models.get(name) != Some(path) {
                    eprintln!(
                        "operator `{}` is granted model `{name}` from {} (deployed before the checkpoint restored)",
                        operator.name,
                        path.display()
                    );
                    operator.models.insert(name.clone(), path.clone());
                }
            }
        }
    }
    Ok(Some(history))
}

/// Where a CLI command finds the host: the admin address and the token file.
#[derive(Args, Debug, Clone)]
pub struct HostFlags {
    /// The host's admin API.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_ADDRESS)]
    pub admin: String,
    /// The host's data directory (for its token).
    #[arg(long, value_name = "DIR", default_value = ".weir")]
    pub data_dir: PathBuf,
}

impl HostFlags {
    fn client(&self) -> anyhow::Result<AdminClient> {
        let path = self.data_dir.join(TOKEN_FILE);
        let token = std::fs::read_to_string(&path)
            .map_err(|error| anyhow::anyhow!("cannot read the admin token {}: {error} (run from the host's directory or pass --data-dir)", path.display()))?;
        Ok(AdminClient {
            address: self.admin.clone(),
            token: token.trim().to_owned(),
        })
    }
}

async fn call(host: &HostFlags, method: &str, path: &str, body: Vec<u8>) -> anyhow::Result<()> {
    let (status, text) = host.client()?.send(method, path, body).await?;
    if status == 200 {
        println!("{}", pretty(&text));
        Ok(())
    } else {
        anyhow::bail!("{} (HTTP {status})", error_text(&text))
    }
}

fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| text.trim().to_owned())
}

fn error_text(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.trim().to_owned())
}

fn checked(name: &str) -> anyhow::Result<PluginName> {
    PluginName::parse(name).map_err(anyhow::Error::msg)
}

/// `weir deploy [--model] NAME FILE`.
///
/// # Errors
/// When the file cannot be read or the host refuses the version (with its reason).
pub async fn deploy(host: &HostFlags, name: &str, file: &Path, model: bool) -> anyhow::Result<()> {
    let name = checked(name)?;
    let bytes = std::fs::read(file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let kind = if model { "models" } else { "plugins" };
    call(host, "POST", &format!("/{kind}/{name}"), bytes).await
}

/// `weir plugins`.
///
/// # Errors
/// When the host cannot be reached.
pub async fn plugins(host: &HostFlags) -> anyhow::Result<()> {
    call(host, "GET", "/plugins", Vec::new()).await
}

/// `weir status`.
///
/// # Errors
/// When the host cannot be reached.
pub async fn status(host: &HostFlags) -> anyhow::Result<()> {
    call(host, "GET", "/status", Vec::new()).await
}

/// `weir rollback NAME [VERSION]`.
///
/// # Errors
/// When the host refuses (no previous version, unknown version).
pub async fn rollback(host: &HostFlags, name: &str, version: Option<&str>) -> anyhow::Result<()> {
    let name = checked(name)?;
    let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
    call(
        host,
        "POST",
        &format!("/plugins/{name}/rollback{query}"),
        Vec::new(),
    )
    .await
}
