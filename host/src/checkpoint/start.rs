//! Starting a checkpointed run: which checkpoint it restores (checked against the
//! pipeline's shape before anything changes on disk), the sinks' part directories
//! brought in line with it, old state cleared, and the pid file that `weir
//! savepoint` reads.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::coordinator::MetadataBase;
use super::metadata::PluginEntry;
use super::restore::{find, prepare};
use super::{CheckpointError, Fingerprint, Layout, StartFrom};
use crate::config::{OperatorFunction, PipelineConfig, SinkSection};
use crate::connector::parts;
use crate::runtime::pipeline::{Checkpointing, Pipeline};

/// The pid file of a running host; removed when dropped.
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Prepares `pipeline` (assembled from `config`, whose operators run the plugins
/// `plugin_names`) to run with checkpoints from `start`; returns how to run it and the
/// pid file.
///
/// # Errors
/// A damaged or incompatible checkpoint, a source that cannot be checkpointed, a
/// directory that cannot be prepared.
pub fn prepare_run(
    config: &PipelineConfig,
    pipeline: &Pipeline,
    plugin_names: &[Option<String>],
    start: &StartFrom,
    savepoints: mpsc::Receiver<()>,
) -> Result<(Checkpointing, PidFile), CheckpointError> {
    let Some(settings) = config.checkpoint else {
        return Err(CheckpointError::Unsupported(
            "the pipeline has no `[checkpoint]` section".into(),
        ));
    };
    if pipeline.source.position().is_none() {
        return Err(CheckpointError::Unsupported(format!(
            "the source {} cannot be read again from a position; checkpoints need a file, generator or Kafka source (or remove `[checkpoint]`)",
            pipeline.source.describe()
        )));
    }
    let layout = Layout::new(&config.state.dir, &config.name);
    let fingerprint = Fingerprint::of(config, plugin_names);
    let restored =
        super::transactional::committed_restore_point(config, &layout, find(&layout, start)?)?;
    if let Some(restored) = &restored {
        restored.check_compatible(&fingerprint)?;
    }
    for sink in &config.sinks {
        if let SinkSection::File { path, .. } = &sink.section {
            let (committed, removed) = parts::recover(path, restored.as_ref().map(|r| r.id))
                .map_err(|error| CheckpointError::Unsupported(error.to_string()))?;
            if committed + removed > 0 {
                tracing::info!(
                    target: "weir::checkpoint",
                    "{}: {committed} pending part(s) committed, {removed} removed",
                    path.display()
                );
            }
        }
    }
    prepare(&layout, restored.as_ref())?;
    std::fs::create_dir_all(layout.root()).map_err(|error| CheckpointError::Io {
        path: layout.root().to_path_buf(),
        what: "creating the data directory",
        error,
    })?;
    let pid_path = layout.pid_file();
    crate::fsutil::write_atomically(&pid_path, std::process::id().to_string().as_bytes()).map_err(
        |error| CheckpointError::Io {
            path: pid_path.clone(),
            what: "writing the pid file",
            error,
        },
    )?;
    let plugins = config
        .operators
        .iter()
        .zip(&pipeline.operators)
        .filter_map(|(operator, spec)| match &operator.function {
            OperatorFunction::Plugin(file) => Some(PluginEntry {
                operator: operator.name.clone(),
                identity: spec.plugin.clone(),
                file: file.clone(),
                models: super::model_versions::model_versions(&operator.models),
            }),
            OperatorFunction::Builtins(_) => None,
        })
        .collect::<Vec<_>>();
    if let Some(restored) = &restored {
        super::model_versions::log_changed_models(&restored.metadata.plugins, &plugins);
    }
    let base = MetadataBase {
        pipeline: config.name.clone(),
        fingerprint,
        plugins,
        sinks: pipeline
            .sinks
            .iter()
            .map(|(_, sink)| sink.describe())
            .collect(),
    };
    Ok((
        Checkpointing {
            layout,
            interval: settings.interval,
            retain: settings.retain,
            restored,
            base,
            savepoints,
        },
        PidFile(pid_path),
    ))
}
