//! [`SwapHistory`]: which plugin version each operator of a checkpointed pipeline ran
//! from which checkpoint on, so that a restore runs the version that was active after
//! the checkpoint's barrier (a swap at checkpoint `n` happens right after its
//! snapshot: the state of `n` is the old version's, what follows the new one's).
//!
//! One JSON line per swap (plugin or model) in `<data dir>/deployments/<pipeline>.jsonl`. A restore
//! from checkpoint `n` keeps the lines up to `n` (later ones belong to a run that
//! crashed after them) and points each operator at its last version; a fresh start
//! empties the file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One swap of a checkpointed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapRecord {
    pub operator: String,
    /// The checkpoint at whose barrier the version took over.
    pub checkpoint: u64,
    /// `name@version+hash`.
    pub identity: String,
    /// The component in the registry.
    pub path: PathBuf,
    /// The model files the version ran with, by granted name (a model deploy swaps
    /// the same component with another model).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, PathBuf>,
}

/// The swap history of one pipeline (see the module docs).
#[derive(Debug, Clone)]
pub struct SwapHistory {
    path: PathBuf,
}

impl SwapHistory {
    /// The history of pipeline `pipeline` in data directory `data_dir`.
    pub fn new(data_dir: &Path, pipeline: &str) -> Self {
        SwapHistory {
            path: data_dir
                .join("deployments")
                .join(format!("{pipeline}.jsonl")),
        }
    }

    /// Appends `record` (and syncs it).
    ///
    /// # Errors
    /// On an I/O failure.
    pub fn append(&self, record: &SwapRecord) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
        file.sync_data()
    }

    /// The records of the file (unreadable lines skipped: a torn last line).
    fn records(&self) -> Vec<SwapRecord> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Prepares a run that restores `checkpoint` (`None`: a fresh start) and returns
    /// the last swap of each operator (its component and models), by operator name.
    ///
    /// # Errors
    /// When the history cannot be rewritten.
    pub fn restore(
        &self,
        checkpoint: Option<u64>,
    ) -> std::io::Result<BTreeMap<String, SwapRecord>> {
        let kept: Vec<SwapRecord> = match checkpoint {
            Some(id) => self
                .records()
                .into_iter()
                .filter(|record| record.checkpoint <= id)
                .collect(),
            None => Vec::new(),
        };
        let mut text = String::new();
        for record in &kept {
            text.push_str(&serde_json::to_string(record).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        if self.path.exists() || !kept.is_empty() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            crate::fsutil::write_atomically(&self.path, text.as_bytes())?;
        }
        Ok(kept
            .into_iter()
            .map(|record| (record.operator.clone(), record))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_runs_the_versions_active_after_its_checkpoint() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let history = SwapHistory::new(dir.path(), "p");
        for (checkpoint, version) in [(2, "b"), (5, "a"), (9, "b")] {
            history.append(&SwapRecord {
                operator: "tag".into(),
                checkpoint,
                identity: format!("tag@{version}"),
                path: PathBuf::from(format!("{version}.wasm")),
                models: BTreeMap::new(),
            })?;
        }
        assert_eq!(history.restore(Some(1))?.get("tag"), None);
        // The restore of 1 dropped the later swaps: they belonged to a crashed run.
        assert!(history.records().is_empty());
        history.append(&SwapRecord {
            operator: "tag".into(),
            checkpoint: 3,
            identity: "tag@b".into(),
            path: PathBuf::from("b.wasm"),
            models: BTreeMap::from([("fraud".into(), PathBuf::from("v2.onnx"))]),
        })?;
        let restored = history.restore(Some(7))?;
        assert_eq!(restored["tag"].path, PathBuf::from("b.wasm"));
        assert_eq!(restored["tag"].models["fraud"], PathBuf::from("v2.onnx"));
        assert_eq!(history.restore(None)?.len(), 0);
        Ok(())
    }
}
