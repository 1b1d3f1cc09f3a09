//! Hot deployment of ONNX models: a new file for a model name replaces the model in
//! every operator granted that name, the way a plugin version replaces a plugin.
//!
//! A deploy of version `v` of model `m`:
//! 1. `v` is stored in the model registry (`<data dir>/models/m/versions/<sha256>.onnx`)
//!    and recorded;
//! 2. off the hot path, `v` is read, checked and optimised as at start (an operation
//!    the host cannot run is refused by name); it must take the same inputs, by name
//!    and element type, as the version it replaces, since the plugins granted it build
//!    those tensors; then, for every operator granted `m`, its running component is
//!    loaded again with `v` in place of the old model and must start (`init`);
//! 3. every such operator is swapped at the next barrier, exactly as for a plugin
//!    version ([`crate::runtime::swap`]): events before the barrier are scored by the
//!    old model, events after it by the new one. Keyed state stays, and a checkpointed
//!    run records the model files in its swap history, so a restore uses them.
//!
//! Going back is deploying the previous file again (it is still in the registry).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::name::PluginName;
use super::registry::VersionStatus;
use super::service::{DeployError, DeployReport, Deployer, Target, lock};
use crate::model::grants::ModelGrants;
use crate::model::onnx::OnnxModel;
use crate::plugin::{Plugin, PluginSpec};

impl Deployer {
    /// Deploys `bytes` as a new version of model `name`, received from `origin`; see
    /// the module docs.
    ///
    /// # Errors
    /// A [`DeployError`]: rejected (with the reason), no operator is granted the model,
    /// or the swap failed.
    pub async fn deploy_model(
        self: &Arc<Self>,
        name: &PluginName,
        bytes: Vec<u8>,
        origin: &str,
    ) -> Result<DeployReport, DeployError> {
        let _serial = self.serial.lock().await;
        let (hash, path) = self.models.receive(name, &bytes, origin)?;
        let targets: Vec<Target> = lock(&self.targets)
            .iter()
            .filter(|target| target.current.models().get(name.as_str()).is_some())
            .cloned()
            .collect();
        if targets.is_empty() {
            self.reject_model(name, &hash, "no operator of this pipeline is granted it")?;
            return Err(DeployError::NotGranted(name.to_string()));
        }
        let plugins = match self.validate_model(name, &targets, path, bytes).await {
            Ok(plugins) => plugins,
            Err(message) => {
                self.reject_model(name, &hash, &message)?;
                return Err(DeployError::ModelRejected {
                    name: name.to_string(),
                    hash,
                    message,
                });
            }
        };
        let report = self.swap_all(name, &hash, targets, plugins).await?;
        self.models.update(name, |index| {
            index.mark(&hash, VersionStatus::Accepted, None);
            index.active = Some(hash.clone());
        })?;
        tracing::info!(
            target: "weir::deploy",
            model = %name,
            version = %&hash[..12],
            operators = report.operators.len(),
            "model swapped"
        );
        Ok(report)
    }

    fn reject_model(&self, name: &PluginName, hash: &str, message: &str) -> std::io::Result<()> {
        self.counters
            .rejected
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(target: "weir::deploy", model = %name, version = %&hash[..12], "model version rejected: {message}");
        self.models.update(name, |index| {
            index.mark(hash, VersionStatus::Rejected, Some(message.to_owned()));
        })
    }

    /// Loads the model at `path` and, with it, each target's running component.
    async fn validate_model(
        &self,
        name: &PluginName,
        targets: &[Target],
        path: PathBuf,
        bytes: Vec<u8>,
    ) -> Result<Vec<Plugin>, String> {
        let loader = self.loader.clone();
        let name = name.to_string();
        let currents: Vec<Plugin> = targets
            .iter()
            .map(|target| target.current.clone())
            .collect();
        tokio::task::spawn_blocking(move || {
            let model =
                Arc::new(OnnxModel::from_bytes(&path, &bytes).map_err(|error| error.to_string())?);
            let mut plugins = Vec::with_capacity(currents.len());
            for current in currents {
                let grants = current.models();
                if let Some(running) = grants.get(&name) {
                    same_inputs(running, &model)?;
                }
                let mut models: BTreeMap<String, Arc<OnnxModel>> = grants
                    .names()
                    .into_iter()
                    .filter_map(|granted| Some((granted.to_owned(), grants.get(granted)?.clone())))
                    .collect();
                models.insert(name.clone(), model.clone());
                let component = std::fs::read(current.path()).map_err(|error| {
                    format!(
                        "cannot read the running component {}: {error}",
                        current.path().display()
                    )
                })?;
                let spec: PluginSpec = current.spec().clone();
                let plugin = loader
                    .load_bytes_as(spec, &component, current.kind(), ModelGrants::new(models))
                    .map_err(|error| {
                        format!(
                            "operator `{}` does not start with it: {error}",
                            current.spec().operator
                        )
                    })?;
                plugins.push(plugin);
            }
            Ok(plugins)
        })
        .await
        .map_err(|error| format!("validation stopped: {error}"))?
    }
}

/// Whether `next` takes the inputs `running` takes (names and element types), which
/// the plugins granted the model build.
fn same_inputs(running: &OnnxModel, next: &OnnxModel) -> Result<(), String> {
    let describe = |model: &OnnxModel| {
        model
            .inputs()
            .iter()
            .map(|input| format!("{}: {:?}", input.name, input.datum))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if running.inputs() == next.inputs() {
        return Ok(());
    }
    Err(format!(
        "it takes inputs [{}] where the running version takes [{}]: the plugins granted it build those",
        describe(next),
        describe(running)
    ))
}
