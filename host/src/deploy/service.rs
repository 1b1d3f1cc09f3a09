//! [`Deployer`]: what happens to a new plugin version, from its bytes to the swap,
//! and rollbacks and pins. The admin API, the watched directory and tests all go
//! through it.
//!
//! A deploy of version `v` of plugin `p`:
//! 1. `v` is stored in the [`Registry`] (content-addressed, immutable) and recorded;
//! 2. for every operator running `p`, `v` is loaded *off the hot path* (a blocking
//!    thread) with that operator's settings and limits: it must be a component, compile
//!    (the cache keeps the artifact), have every import satisfied, be of the operator's
//!    world, and start (`describe` and `init`). The first failure rejects `v` with the
//!    reason, recorded in the registry; the running version keeps serving;
//! 3. unless `p` is pinned, every such operator is swapped to `v` at the next barrier
//!    ([`SwapBoard`]), and the deploy answers once every subtask has switched;
//! 4. a rollback guard watches the operator's traps and missed deadlines for
//!    [`RollbackPolicy::window`]; more than [`RollbackPolicy::max_faults`] and the
//!    previous version is swapped back in at the next barrier, with a log record, a
//!    `rolled-back` status in the registry and `weir status`, and a metric.
//!
//! One deploy, rollback or pin runs at a time.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::history::{SwapHistory, SwapRecord};
use super::name::PluginName;
use super::registry::{Registry, VersionStatus};
use super::rollback::RollbackPolicy;
use crate::plugin::{Plugin, PluginLoader, PluginSpec};
use crate::runtime::pipeline::Pipeline;
use crate::runtime::swap::SwapBoard;

/// How long a deploy waits for the swap (the next barrier) before it answers anyway.
pub const SWAP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a deploy, rollback or pin did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The version was refused by validation (recorded in the registry).
    #[error("plugin `{name}` version {hash}: rejected: {message}")]
    Rejected {
        name: String,
        hash: String,
        message: String,
    },
    /// No operator runs the plugin.
    #[error("no operator of this pipeline runs plugin `{0}`")]
    NotRunning(String),
    /// A model version was refused by validation (recorded in the model registry).
    #[error("model `{name}` version {hash}: rejected: {message}")]
    ModelRejected {
        name: String,
        hash: String,
        message: String,
    },
    /// No operator is granted the model.
    #[error("no operator of this pipeline is granted model `{0}`")]
    NotGranted(String),
    /// A version that is not in the registry, or cannot be used.
    #[error("{0}")]
    BadVersion(String),
    /// The swap did not take effect.
    #[error("plugin `{name}`: the swap did not take effect: {message}")]
    Swap { name: String, message: String },
    /// The registry could not be read or written.
    #[error("plugin registry: {0}")]
    Registry(#[from] std::io::Error),
}

/// An operator that runs a plugin, as the deployer tracks it.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) operator: String,
    /// The plugin's name in the registry: the name its first version gives itself
    /// (a later version may call itself otherwise; the operator keeps this name).
    plugin: String,
    subtasks: usize,
    pub(super) current: Plugin,
    /// The version before the current one: what a rollback goes back to.
    pub(super) previous: Option<Plugin>,
    pub(super) last_event: Option<String>,
    last_swap: Option<OperatorSwap>,
}

/// What a successful deploy or rollback did, operator by operator.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub plugin: String,
    pub hash: String,
    pub identity: String,
    /// `swapped`, `unchanged` (it was running already) or `held` (pinned).
    pub outcome: &'static str,
    pub operators: Vec<OperatorSwap>,
}

/// One operator's swap.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorSwap {
    pub operator: String,
    pub barrier: u64,
    pub events_before: u64,
    pub pause_us: u64,
}

/// One operator in `weir status`.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorStatus {
    pub operator: String,
    pub plugin: String,
    pub identity: String,
    pub hash: String,
    pub subtasks: usize,
    pub previous: Option<String>,
    pub pinned: Option<String>,
    /// The last swap, rejection or rollback, in words.
    pub last_event: Option<String>,
    /// Where the last swap happened.
    pub last_swap: Option<OperatorSwap>,
    /// The models it is granted: `(name, content hash)`, by name.
    pub models: Vec<(String, String)>,
}

/// Deploy counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeployCounters {
    pub swaps: AtomicU64,
    pub rollbacks: AtomicU64,
    pub rejected: AtomicU64,
    /// The pause of the last swap, microseconds.
    pub last_pause_us: AtomicU64,
}

/// Deploys new plugin versions into one running pipeline (see the module docs).
#[derive(Debug)]
pub struct Deployer {
    pub(super) registry: Registry,
    /// Model versions, as `registry` holds plugin versions.
    pub(super) models: Registry,
    pub(super) loader: PluginLoader,
    pub(super) board: Arc<SwapBoard>,
    pub(super) policy: RollbackPolicy,
    pub(super) targets: Mutex<Vec<Target>>,
    /// One deploy, rollback or pin at a time.
    pub(super) serial: tokio::sync::Mutex<()>,
    /// Where swaps are recorded for restores, in a checkpointed run.
    history: std::sync::OnceLock<SwapHistory>,
    pub counters: DeployCounters,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Deployer {
    /// A deployer for the operators `running` (name, subtasks, the plugin it runs;
    /// built-ins left out), swapping through `board`.
    pub fn new(
        registry: Registry,
        loader: PluginLoader,
        board: Arc<SwapBoard>,
        running: Vec<(String, usize, Plugin)>,
        policy: RollbackPolicy,
    ) -> Arc<Self> {
        let targets = running
            .into_iter()
            .map(|(operator, subtasks, current)| Target {
                operator,
                plugin: current.identity().name.clone(),
                subtasks,
                current,
                previous: None,
                last_event: None,
                last_swap: None,
            })
            .collect();
        let models = Registry::for_models(registry.root().with_file_name("models"));
        Arc::new(Deployer {
            registry,
            models,
            loader,
            board,
            policy,
            targets: Mutex::new(targets),
            serial: tokio::sync::Mutex::new(()),
            history: std::sync::OnceLock::new(),
            counters: DeployCounters::default(),
        })
    }

    /// A deployer for `pipeline`, whose operators run `plugins` (as
    /// [`crate::runtime::assemble::assemble_deployable`] returns them), with a swap
    /// board of its own: run the pipeline with [`Deployer::board`].
    pub fn for_pipeline(
        pipeline: &Pipeline,
        plugins: &[Option<Plugin>],
        registry: Registry,
        loader: PluginLoader,
        policy: RollbackPolicy,
    ) -> Arc<Self> {
        let running = pipeline
            .operators
            .iter()
            .zip(plugins)
            .filter_map(|(operator, plugin)| {
                let plugin = plugin.clone()?;
                Some((operator.name.clone(), operator.parallelism, plugin))
            })
            .collect();
        Self::new(
            registry,
            loader,
            Arc::new(SwapBoard::new()),
            running,
            policy,
        )
    }

    /// Records every swap in `history` (a checkpointed run: swaps happen at checkpoint
    /// barriers, and a restore runs the versions active after its checkpoint).
    pub fn record_swaps(&self, history: SwapHistory) {
        let _ = self.history.set(history);
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The model versions received.
    pub fn model_registry(&self) -> &Registry {
        &self.models
    }

    pub fn board(&self) -> &Arc<SwapBoard> {
        &self.board
    }

    /// The operators running plugin `name`.
    pub(super) fn targets_of(&self, name: &PluginName) -> Vec<Target> {
        lock(&self.targets)
            .iter()
            .filter(|target| target.plugin == name.as_str())
            .cloned()
            .collect()
    }

    /// Deploys `bytes` as a new version of `name`, received from `origin`; see the
    /// module docs.
    ///
    /// # Errors
    /// A [`DeployError`]: rejected (with the reason), nothing runs it, or the swap failed.
    pub async fn deploy(
        self: &Arc<Self>,
        name: &PluginName,
        bytes: Vec<u8>,
        origin: &str,
    ) -> Result<DeployReport, DeployError> {
        let _serial = self.serial.lock().await;
        let (hash, path) = self.registry.receive(name, &bytes, origin)?;
        let targets = self.targets_of(name);
        if targets.is_empty() {
            let message = format!("no operator of this pipeline runs plugin `{name}`");
            self.reject(name, &hash, message.clone())?;
            return Err(DeployError::NotRunning(name.to_string()));
        }
        let plugins = match self.validate(&targets, path, bytes).await {
            Ok(plugins) => plugins,
            Err(message) => {
                self.reject(name, &hash, message.clone())?;
                return Err(DeployError::Rejected {
                    name: name.to_string(),
                    hash,
                    message,
                });
            }
        };
        let identity = plugins
            .first()
            .map(|plugin| plugin.identity().to_string())
            .unwrap_or_default();
        let pinned = self.registry.index(name)?.pinned;
        if let Some(pinned) = pinned.filter(|pinned| *pinned != hash) {
            let message = format!("held: plugin `{name}` is pinned to {}", &pinned[..12]);
            self.registry.update(name, |index| {
                index.mark(&hash, VersionStatus::Held, Some(message));
                set_identity(index, &hash, &identity);
            })?;
            return Ok(DeployReport {
                plugin: name.to_string(),
                hash,
                identity,
                outcome: "held",
                operators: Vec::new(),
            });
        }
        let report = self.swap_all(name, &hash, targets, plugins).await?;
        self.registry.update(name, |index| {
            index.mark(&hash, VersionStatus::Accepted, None);
            set_identity(index, &hash, &identity);
            index.active = Some(hash.clone());
        })?;
        if report.outcome == "swapped" {
            self.guard(name.clone(), hash.clone());
        }
        Ok(report)
    }

    /// Loads the version at `path` for every target, off the hot path.
    pub(super) async fn validate(
        &self,
        targets: &[Target],
        path: std::path::PathBuf,
        bytes: Vec<u8>,
    ) -> Result<Vec<Plugin>, String> {
        let loader = self.loader.clone();
        let specs: Vec<(PluginSpec, Plugin)> = targets
            .iter()
            .map(|target| {
                let current = target.current.spec();
                let spec = PluginSpec {
                    operator: current.operator.clone(),
                    path: path.clone(),
                    settings_json: current.settings_json.clone(),
                    limits: current.limits,
                };
                (spec, target.current.clone())
            })
            .collect();
        tokio::task::spawn_blocking(move || {
            let mut plugins = Vec::with_capacity(specs.len());
            for (spec, current) in specs {
                let plugin = loader
                    .load_bytes_as(spec, &bytes, current.kind(), current.models().clone())
                    .map_err(|error| error.to_string())?;
                plugins.push(plugin);
            }
            Ok(plugins)
        })
        .await
        .map_err(|error| format!("validation stopped: {error}"))?
    }

    fn reject(&self, name: &PluginName, hash: &str, message: String) -> std::io::Result<()> {
        self.counters.rejected.fetch_add(1, Relaxed);
        tracing::warn!(target: "weir::deploy", plugin = %name, version = %&hash[..12], "version rejected: {message}");
        self.registry.update(name, |index| {
            index.mark(hash, VersionStatus::Rejected, Some(message));
        })
    }

    /// Swaps every target to its plugin in `plugins` and waits until they all run it.
    pub(super) async fn swap_all(
        &self,
        name: &PluginName,
        hash: &str,
        targets: Vec<Target>,
        plugins: Vec<Plugin>,
    ) -> Result<DeployReport, DeployError> {
        let identity = plugins
            .first()
            .map(|plugin| plugin.identity().to_string())
            .unwrap_or_default();
        let mut tickets = Vec::new();
        for (target, plugin) in targets.iter().zip(&plugins) {
            if target.current.identity().content_hash == hash {
                continue;
            }
            let ticket = self
                .board
                .request(&target.operator, target.subtasks, plugin.clone());
            tickets.push((target.operator.clone(), plugin.clone(), ticket));
        }
        let mut operators = Vec::new();
        for (operator, plugin, mut ticket) in tickets {
            let applied = match ticket.wait(SWAP_TIMEOUT).await {
                Some(Ok(applied)) => applied,
                Some(Err(message)) => {
                    return Err(DeployError::Swap {
                        name: name.to_string(),
                        message,
                    });
                }
                None => {
                    return Err(DeployError::Swap {
                        name: name.to_string(),
                        message: format!(
                            "no barrier within {} s (has the pipeline ended?)",
                            SWAP_TIMEOUT.as_secs()
                        ),
                    });
                }
            };
            let swap = OperatorSwap {
                operator,
                barrier: applied.barrier,
                events_before: applied.events_before,
                pause_us: applied.pause.as_micros() as u64,
            };
            self.switched(plugin, &swap);
            operators.push(swap);
        }
        Ok(DeployReport {
            plugin: name.to_string(),
            hash: hash.to_owned(),
            identity,
            outcome: if operators.is_empty() {
                "unchanged"
            } else {
                "swapped"
            },
            operators,
        })
    }

    /// Records that `swap.operator` runs `plugin` since `swap`.
    fn switched(&self, plugin: Plugin, swap: &OperatorSwap) {
        self.counters.swaps.fetch_add(1, Relaxed);
        self.counters.last_pause_us.store(swap.pause_us, Relaxed);
        tracing::info!(
            target: "weir::deploy",
            operator = %swap.operator,
            plugin = %plugin.identity(),
            barrier = swap.barrier,
            pause_us = swap.pause_us,
            "plugin swapped"
        );
        if let Some(history) = self.history.get() {
            let grants = plugin.models();
            let record = SwapRecord {
                operator: swap.operator.clone(),
                checkpoint: swap.barrier,
                identity: plugin.identity().to_string(),
                path: plugin.path().to_path_buf(),
                models: grants
                    .names()
                    .into_iter()
                    .filter_map(|name| {
                        let model = grants.get(name)?;
                        Some((name.to_owned(), model.path().to_path_buf()))
                    })
                    .collect(),
            };
            if let Err(error) = history.append(&record) {
                tracing::error!(target: "weir::deploy", "cannot record the swap for restores: {error}");
            }
        }
        let mut targets = lock(&self.targets);
        if let Some(target) = targets.iter_mut().find(|t| t.operator == swap.operator) {
            let previous = std::mem::replace(&mut target.current, plugin);
            target.last_event = Some(format!(
                "swapped from {} to {} at barrier {}",
                previous.identity(),
                target.current.identity(),
                swap.barrier
            ));
            target.last_swap = Some(swap.clone());
            target.previous = Some(previous);
        }
    }

    /// Every operator that runs a plugin, with its version.
    pub fn status(&self) -> Vec<OperatorStatus> {
        let targets = lock(&self.targets).clone();
        targets
            .into_iter()
            .map(|target| {
                let identity = target.current.identity();
                let pinned = PluginName::parse(&target.plugin)
                    .ok()
                    .and_then(|name| self.registry.index(&name).ok())
                    .and_then(|index| index.pinned);
                OperatorStatus {
                    operator: target.operator,
                    plugin: target.plugin.clone(),
                    identity: identity.to_string(),
                    hash: identity.content_hash.clone(),
                    subtasks: target.subtasks,
                    previous: target.previous.map(|p| p.identity().to_string()),
                    pinned,
                    last_event: target.last_event,
                    last_swap: target.last_swap,
                    models: target.current.models().versions(),
                }
            })
            .collect()
    }
}

fn set_identity(index: &mut super::registry::PluginIndex, hash: &str, identity: &str) {
    if let Some(record) = index.versions.iter_mut().find(|record| record.hash == hash) {
        record.identity = Some(identity.to_owned());
    }
}
