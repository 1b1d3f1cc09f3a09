//! Hot deployment: new plugin versions into a running pipeline, with no event lost or
//! processed twice, state kept, and automatic rollback.
//!
//! - [`name`]: plugin names that cannot escape the registry ([`PluginName`]);
//! - [`registry`]: immutable, content-addressed versions on disk ([`Registry`]);
//! - [`service`]: validation off the hot path, the swap, rollback and pins
//!   ([`Deployer`]);
//! - [`models`]: the same for ONNX model files ([`Deployer::deploy_model`]);
//! - [`watcher`]: the watched directory (debounced; a file is deployed only once it is
//!   complete);
//! - [`history`]: which version ran from which checkpoint on, for restores;
//! - [`metrics`]: the Prometheus text of `GET /metrics`.
//!
//! The swap itself is a runtime capability: [`crate::runtime::swap`].

pub mod history;
pub mod metrics;
pub mod models;
pub mod name;
pub mod registry;
pub mod rollback;
pub mod service;
pub mod watcher;

pub use name::PluginName;
pub use registry::{Registry, VersionStatus};
pub use rollback::RollbackPolicy;
pub use service::{DeployError, DeployReport, Deployer};
