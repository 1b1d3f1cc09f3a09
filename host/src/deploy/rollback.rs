//! Going back: [`Deployer::rollback`] and [`Deployer::pin`] on request, and the
//! automatic rollback of a freshly swapped version that faults more than its
//! [`RollbackPolicy`] allows (a guard watches the operators' traps and missed deadlines
//! for [`RollbackPolicy::window`] after the swap).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::name::PluginName;
use super::registry::VersionStatus;
use super::service::{DeployError, DeployReport, Deployer, lock};
use crate::plugin::Plugin;

/// When a freshly swapped version is rolled back on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollbackPolicy {
    /// Traps and missed deadlines tolerated after a swap...
    pub max_faults: u64,
    /// ...within this long after it.
    pub window: Duration,
}

impl Default for RollbackPolicy {
    fn default() -> Self {
        RollbackPolicy {
            max_faults: 3,
            window: Duration::from_secs(30),
        }
    }
}

impl Deployer {
    /// Swaps `name` back to `version` (a hash or prefix of an accepted version), or to
    /// the version before the current one.
    ///
    /// # Errors
    /// When there is nothing to go back to, the version is unknown or was rejected,
    /// or the swap failed.
    pub async fn rollback(
        &self,
        name: &PluginName,
        version: Option<&str>,
    ) -> Result<DeployReport, DeployError> {
        let _serial = self.serial.lock().await;
        self.rollback_locked(name, version).await
    }

    async fn rollback_locked(
        &self,
        name: &PluginName,
        version: Option<&str>,
    ) -> Result<DeployReport, DeployError> {
        let targets = self.targets_of(name);
        let first = targets
            .first()
            .ok_or_else(|| DeployError::NotRunning(name.to_string()))?;
        let plugins: Vec<Plugin> = match version {
            None => targets
                .iter()
                .map(|target| {
                    target.previous.clone().ok_or_else(|| {
                        DeployError::BadVersion(format!(
                            "plugin `{name}` has no previous version on operator `{}`",
                            target.operator
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(prefix) => {
                let index = self.registry.index(name)?;
                let hash = index.resolve(prefix).map_err(DeployError::BadVersion)?;
                if index.version(&hash).map(|record| record.status) == Some(VersionStatus::Rejected)
                {
                    return Err(DeployError::BadVersion(format!(
                        "version {prefix} of `{name}` was rejected; it cannot run"
                    )));
                }
                let path = self.registry.version_path(name, &hash);
                let bytes = std::fs::read(&path)?;
                self.validate(&targets, path, bytes)
                    .await
                    .map_err(|message| DeployError::Rejected {
                        name: name.to_string(),
                        hash,
                        message,
                    })?
            }
        };
        let hash = plugins
            .first()
            .map(|plugin| plugin.identity().content_hash.clone())
            .unwrap_or_else(|| first.current.identity().content_hash.clone());
        let report = self.swap_all(name, &hash, targets, plugins).await?;
        self.registry
            .update(name, |index| index.active = Some(hash))?;
        Ok(report)
    }

    /// Pins `name` to `version` (swapping to it) or, with `None`, unpins it.
    ///
    /// # Errors
    /// As [`Deployer::rollback`].
    pub async fn pin(
        &self,
        name: &PluginName,
        version: Option<&str>,
    ) -> Result<Option<DeployReport>, DeployError> {
        let _serial = self.serial.lock().await;
        let Some(version) = version else {
            self.registry.update(name, |index| index.pinned = None)?;
            return Ok(None);
        };
        let report = self.rollback_locked(name, Some(version)).await?;
        let hash = report.hash.clone();
        self.registry
            .update(name, |index| index.pinned = Some(hash))?;
        Ok(Some(report))
    }

    /// Watches the operators that just got version `hash` of `name`, and rolls back
    /// when it faults more than the policy allows.
    pub(super) fn guard(self: &Arc<Self>, name: PluginName, hash: String) {
        let Some(stats) = self.board.stats().cloned() else {
            return;
        };
        let operators: Vec<String> = self
            .targets_of(&name)
            .into_iter()
            .map(|target| target.operator)
            .collect();
        let faults = move || -> u64 {
            stats
                .operators
                .iter()
                .filter(|operator| operators.contains(&operator.name))
                .map(|operator| operator.traps.load(Relaxed) + operator.deadline_hits.load(Relaxed))
                .sum()
        };
        let baseline = faults();
        let deployer = Arc::clone(self);
        let policy = self.policy;
        tokio::spawn(async move {
            let started = Instant::now();
            while started.elapsed() < policy.window {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let seen = faults().saturating_sub(baseline);
                if seen > policy.max_faults {
                    deployer
                        .roll_back_faulty(&name, &hash, seen, started.elapsed())
                        .await;
                    return;
                }
            }
        });
    }

    async fn roll_back_faulty(&self, name: &PluginName, hash: &str, faults: u64, after: Duration) {
        let _serial = self.serial.lock().await;
        let still_running = self
            .targets_of(name)
            .iter()
            .any(|target| target.current.identity().content_hash == hash);
        if !still_running {
            return;
        }
        let message = format!(
            "{faults} traps or missed deadlines within {:.1} s after the swap (more than {} allowed within {} s): rolled back",
            after.as_secs_f64(),
            self.policy.max_faults,
            self.policy.window.as_secs()
        );
        tracing::error!(target: "weir::deploy", plugin = %name, version = %&hash[..12], "{message}");
        match self.rollback_locked(name, None).await {
            Ok(report) => {
                self.counters.rollbacks.fetch_add(1, Relaxed);
                let _ = self.registry.update(name, |index| {
                    index.mark(hash, VersionStatus::RolledBack, Some(message.clone()));
                });
                let mut targets = lock(&self.targets);
                for target in targets
                    .iter_mut()
                    .filter(|t| report.operators.iter().any(|o| o.operator == t.operator))
                {
                    target.last_event =
                        Some(format!("automatic rollback of {}: {message}", &hash[..12]));
                }
            }
            Err(error) => {
                tracing::error!(target: "weir::deploy", plugin = %name, "automatic rollback failed: {error}");
            }
        }
    }
}
