//! [`Registry`]: plugins by name, each with immutable versions addressed by the
//! SHA-256 of their component, under the host's data directory:
//!
//! ```text
//! <data dir>/plugins/<name>/versions/<sha256>.wasm   the component, never rewritten
//! <data dir>/plugins/<name>/index.json               every version received: when,
//!                                                    from where, accepted or why not
//! ```
//!
//! Models (`Registry::for_models`) live the same way under `<data dir>/models/<name>/`,
//! as `<sha256>.onnx`.
//!
//! A version is named by its hash or any prefix of at least 8 hex digits that is
//! unique. Files are written atomically (temporary file, fsync, rename), so a crash
//! leaves either the old index or the new one. Compiled artifacts live in the
//! component cache, keyed by the same hash.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::name::PluginName;
use crate::fsutil::write_atomically;
use crate::plugin::cache::content_hash;

/// Shortest version prefix accepted.
pub const MIN_VERSION_PREFIX: usize = 8;

/// What became of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionStatus {
    /// Received, being validated.
    Validating,
    /// Validated and running (or ran).
    Accepted,
    /// Validated but not swapped in: the plugin is pinned to another version.
    Held,
    /// Refused by validation; `message` says why.
    Rejected,
    /// Ran, faulted too often, and was rolled back; `message` says why.
    RolledBack,
}

/// One version of a plugin as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// SHA-256 of the component, hex.
    pub hash: String,
    /// `name@version+hash` the component gives itself, once it has started.
    pub identity: Option<String>,
    /// Milliseconds since the Unix epoch when it arrived (last time).
    pub received_ms: i64,
    /// `api` or `watch:<file>`.
    pub origin: String,
    pub size: u64,
    pub status: VersionStatus,
    /// Why it was rejected or rolled back, or what holds it.
    pub message: Option<String>,
}

/// Everything the registry knows of one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginIndex {
    pub versions: Vec<VersionRecord>,
    /// The hash of the version running now, if it came through the registry.
    pub active: Option<String>,
    /// The version the plugin is pinned to: deploys are held until it is unpinned.
    pub pinned: Option<String>,
}

impl PluginIndex {
    /// The record of `hash`.
    pub fn version(&self, hash: &str) -> Option<&VersionRecord> {
        self.versions.iter().find(|record| record.hash == hash)
    }

    /// Records `record`, replacing an earlier record of the same hash.
    pub fn upsert(&mut self, record: VersionRecord) {
        match self.versions.iter_mut().find(|old| old.hash == record.hash) {
            Some(old) => *old = record,
            None => self.versions.push(record),
        }
    }

    /// Sets the status (and message) of `hash`, if recorded.
    pub fn mark(&mut self, hash: &str, status: VersionStatus, message: Option<String>) {
        if let Some(record) = self.versions.iter_mut().find(|record| record.hash == hash) {
            record.status = status;
            record.message = message;
        }
    }

    /// The full hash of the version named by `prefix`.
    ///
    /// # Errors
    /// When the prefix is too short, matches nothing or several versions.
    pub fn resolve(&self, prefix: &str) -> Result<String, String> {
        if prefix.len() < MIN_VERSION_PREFIX || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "a version is its content hash or a prefix of at least {MIN_VERSION_PREFIX} hex digits, not {prefix:?}"
            ));
        }
        let matches: Vec<&VersionRecord> = self
            .versions
            .iter()
            .filter(|record| record.hash.starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [record] => Ok(record.hash.clone()),
            [] => Err(format!("no version {prefix}")),
            _ => Err(format!("version prefix {prefix} is ambiguous")),
        }
    }
}

/// The plugin registry under one directory (see the module docs).
#[derive(Debug, Clone)]
pub struct Registry {
    root: PathBuf,
    /// The extension of the stored files: `wasm` for plugins, `onnx` for models.
    extension: &'static str,
}

impl Registry {
    /// The plugin registry in `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Registry {
            root: root.into(),
            extension: "wasm",
        }
    }

    /// A registry of ONNX model versions in `root`, laid out as the plugins' are.
    pub fn for_models(root: impl Into<PathBuf>) -> Self {
        Registry {
            root: root.into(),
            extension: "onnx",
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn plugin_dir(&self, name: &PluginName) -> PathBuf {
        self.root.join(name.as_str())
    }

    /// Where version `hash` of `name` is stored.
    pub fn version_path(&self, name: &PluginName, hash: &str) -> PathBuf {
        self.plugin_dir(name)
            .join("versions")
            .join(format!("{hash}.{}", self.extension))
    }

    /// Stores `bytes` as a version of `name` (a no-op if it is there already) and
    /// returns its hash and path.
    ///
    /// # Errors
    /// On an I/O failure.
    pub fn store(&self, name: &PluginName, bytes: &[u8]) -> io::Result<(String, PathBuf)> {
        let hash = content_hash(bytes);
        let path = self.version_path(name, &hash);
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomically(&path, bytes)?;
        }
        Ok((hash, path))
    }

    /// Stores `bytes` as a version of `name` received from `origin` and records it
    /// as [`VersionStatus::Validating`]; returns its hash and path.
    ///
    /// # Errors
    /// On an I/O failure.
    pub fn receive(
        &self,
        name: &PluginName,
        bytes: &[u8],
        origin: &str,
    ) -> io::Result<(String, PathBuf)> {
        let (hash, path) = self.store(name, bytes)?;
        let record = VersionRecord {
            hash: hash.clone(),
            identity: None,
            received_ms: crate::connector::file::now_ms(),
            origin: origin.to_owned(),
            size: bytes.len() as u64,
            status: VersionStatus::Validating,
            message: None,
        };
        self.update(name, |index| index.upsert(record))?;
        Ok((hash, path))
    }

    /// The index of `name` (empty when it has none yet).
    ///
    /// # Errors
    /// When the index exists but cannot be read or parsed.
    pub fn index(&self, name: &PluginName) -> io::Result<PluginIndex> {
        let path = self.plugin_dir(name).join("index.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {error}", path.display()),
                )
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(PluginIndex::default()),
            Err(error) => Err(error),
        }
    }

    /// Changes the index of `name` with `change` and writes it back atomically.
    ///
    /// # Errors
    /// When the index cannot be read or written.
    pub fn update<R>(
        &self,
        name: &PluginName,
        change: impl FnOnce(&mut PluginIndex) -> R,
    ) -> io::Result<R> {
        let mut index = self.index(name)?;
        let result = change(&mut index);
        let dir = self.plugin_dir(name);
        std::fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec_pretty(&index)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        write_atomically(&dir.join("index.json"), &bytes)?;
        Ok(result)
    }

    /// The names of every plugin in the registry, sorted.
    ///
    /// # Errors
    /// When the directory cannot be listed.
    pub fn names(&self) -> io::Result<Vec<PluginName>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str()
                && let Ok(name) = PluginName::parse(name)
            {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_content_addressed_and_recorded() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let registry = Registry::new(dir.path());
        let name = PluginName::parse("p").map_err(anyhow::Error::msg)?;
        let (hash, path) = registry.store(&name, b"one")?;
        assert_eq!(registry.store(&name, b"one")?.0, hash);
        assert_eq!(std::fs::read(&path)?, b"one");
        assert!(path.starts_with(dir.path()));
        registry.update(&name, |index| {
            index.upsert(VersionRecord {
                hash: hash.clone(),
                identity: None,
                received_ms: 0,
                origin: "api".into(),
                size: 3,
                status: VersionStatus::Rejected,
                message: Some("why".into()),
            })
        })?;
        let index = registry.index(&name)?;
        assert_eq!(index.resolve(&hash[..8]), Ok(hash.clone()));
        assert!(index.resolve("abc").is_err());
        assert_eq!(
            index.version(&hash).map(|record| record.status),
            Some(VersionStatus::Rejected)
        );
        assert_eq!(registry.names()?, vec![name]);
        Ok(())
    }
}
