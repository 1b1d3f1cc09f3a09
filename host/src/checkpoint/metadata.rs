//! [`Metadata`]: what a checkpoint's `_metadata` file says — the JSON that makes a
//! checkpoint exist.
//!
//! Written last, with [`crate::fsutil::write_atomically`], once every task has
//! acknowledged; read back with every damage reported against the file: unreadable,
//! truncated or not JSON, of another format version, or naming a snapshot directory
//! that is gone. Never a silent fresh start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CheckpointError;
use super::fingerprint::Fingerprint;
use super::layout::METADATA_FILE;
use crate::connector::SourcePosition;

/// The version of the metadata format this host writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where one source split was when the barrier left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The source's description, e.g. `file:in.jsonl`.
    pub source: String,
    pub split: usize,
    /// The next record to read.
    pub position: SourcePosition,
    /// The last watermark the source had sent, if any.
    pub watermark: Option<i64>,
}

/// One operator subtask's state snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    pub operator: String,
    pub subtask: usize,
    /// Relative to the checkpoint's directory.
    pub path: PathBuf,
}

/// What a sink commits when the checkpoint completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkEntry {
    pub sink: String,
    /// Its output up to this checkpoint is committed once `_metadata` exists.
    pub committed_through: u64,
}

/// A plugin in use when the checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginEntry {
    pub operator: String,
    /// `name@version+content hash`.
    pub identity: String,
    pub file: PathBuf,
    /// The models granted to the operator: name → SHA-256 of the file (absent in
    /// checkpoints of operators without models).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub models: std::collections::BTreeMap<String, String>,
}

/// The content of `_metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub format_version: u32,
    pub checkpoint: u64,
    pub pipeline: String,
    /// Taken to stop the pipeline (a signal or `weir savepoint`).
    pub savepoint: bool,
    /// The bounded run completed: the next run starts fresh.
    pub finished: bool,
    /// Wall-clock time of completion, ms since the Unix epoch.
    pub completed_ms: i64,
    pub fingerprint: Fingerprint,
    pub sources: Vec<SourceEntry>,
    pub snapshots: Vec<SnapshotEntry>,
    pub sinks: Vec<SinkEntry>,
    pub plugins: Vec<PluginEntry>,
}

impl Metadata {
    /// Writes `dir/_metadata` atomically: from now on the checkpoint exists.
    ///
    /// # Errors
    /// On an I/O failure (the checkpoint then does not exist).
    pub fn write(&self, dir: &Path) -> Result<(), CheckpointError> {
        let path = dir.join(METADATA_FILE);
        let bytes = serde_json::to_vec_pretty(self).map_err(|error| CheckpointError::Metadata {
            path: path.clone(),
            message: error.to_string(),
        })?;
        crate::fsutil::write_atomically(&path, &bytes).map_err(|error| CheckpointError::Io {
            path,
            what: "writing checkpoint metadata",
            error,
        })
    }

    /// Reads `dir/_metadata` and checks that every snapshot it names is there.
    ///
    /// # Errors
    /// [`CheckpointError::Metadata`] naming the file when it is missing, truncated,
    /// not JSON or of another format version; [`CheckpointError::MissingSnapshot`]
    /// when a snapshot directory is gone.
    pub fn read(dir: &Path) -> Result<Metadata, CheckpointError> {
        let path = dir.join(METADATA_FILE);
        let damaged = |message: String| CheckpointError::Metadata {
            path: path.clone(),
            message,
        };
        let bytes =
            std::fs::read(&path).map_err(|error| damaged(format!("cannot read: {error}")))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|error| damaged(format!("not valid JSON (truncated or damaged?): {error}")))?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(version) if version == u64::from(FORMAT_VERSION) => {}
            Some(version) => {
                return Err(damaged(format!(
                    "format version {version}, but this weir reads version {FORMAT_VERSION}"
                )));
            }
            None => return Err(damaged("no `format_version`".into())),
        }
        let metadata: Metadata = serde_json::from_value(value)
            .map_err(|error| damaged(format!("unexpected content: {error}")))?;
        for snapshot in &metadata.snapshots {
            let location = dir.join(&snapshot.path);
            if !location.is_dir() {
                return Err(CheckpointError::MissingSnapshot {
                    path: location,
                    operator: snapshot.operator.clone(),
                    subtask: snapshot.subtask,
                });
            }
        }
        Ok(metadata)
    }

    /// The snapshot directory of `operator`'s subtask `subtask`, if it has one.
    pub fn snapshot_of(&self, dir: &Path, operator: &str, subtask: usize) -> Option<PathBuf> {
        self.snapshots
            .iter()
            .find(|entry| entry.operator == operator && entry.subtask == subtask)
            .map(|entry| dir.join(&entry.path))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> Metadata {
        Metadata {
            format_version: FORMAT_VERSION,
            checkpoint: 7,
            pipeline: "p".into(),
            savepoint: false,
            finished: false,
            completed_ms: 0,
            fingerprint: Fingerprint {
                max_key_groups: 128,
                operators: Vec::new(),
            },
            sources: vec![SourceEntry {
                source: "file:x".into(),
                split: 0,
                position: SourcePosition::File {
                    offset: 10,
                    line: 2,
                },
                watermark: Some(5),
            }],
            snapshots: vec![SnapshotEntry {
                operator: "count".into(),
                subtask: 0,
                path: "count/0".into(),
            }],
            sinks: Vec::new(),
            plugins: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_reports_each_damage_against_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("count/0")).unwrap();
        sample().write(dir.path()).unwrap();
        assert_eq!(Metadata::read(dir.path()).unwrap(), sample());

        let path = dir.path().join(METADATA_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let error = Metadata::read(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("_metadata") && error.contains("truncated"),
            "{error}"
        );

        std::fs::write(
            &path,
            text.replace("\"format_version\": 1", "\"format_version\": 9"),
        )
        .unwrap();
        let error = Metadata::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("format version 9"), "{error}");

        sample().write(dir.path()).unwrap();
        std::fs::remove_dir_all(dir.path().join("count/0")).unwrap();
        let error = Metadata::read(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("count/0") && error.contains("`count`"),
            "{error}"
        );
    }
}
