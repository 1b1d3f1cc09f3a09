//! The on-disk cache of compiled components, keyed by content hash.
//!
//! Compiling a component with Cranelift takes from milliseconds (a small Rust plugin)
//! to seconds (an 18 MB Python one). The cache stores wasmtime's serialised artifact
//! under `<dir>/<sha256 of the component>-<engine fingerprint>.cwasm`, so a second
//! start loads it with a `mmap` instead of compiling. The engine fingerprint covers
//! the wasmtime version and every `Config` choice that changes the code, so an
//! artifact is never loaded into an engine it was not compiled for. Files are written
//! to a temporary name and renamed, so a crash never leaves a torn artifact; an
//! artifact that fails to load anyway is recompiled and replaced.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from when it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a compiled artifact in the cache.
    Hit,
    /// Compiled now (and stored for next time when the cache is writable).
    Compiled,
}

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// A cache in `dir`, created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ComponentCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        ComponentCache { dir: None }
    }

    /// The default location: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir/components`,
    /// else `~/.cache/weir/components`, else no cache.
    pub fn default_location() -> Self {
        let from_env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let dir = from_env("WEIR_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                from_env("XDG_CACHE_HOME").map(|dir| Path::new(&dir).join("weir/components"))
            })
            .or_else(|| {
                from_env("HOME").map(|home| Path::new(&home).join(".cache/weir/components"))
            });
        ComponentCache { dir }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Loads the component in `bytes`, from the cache when it holds it.
    ///
    /// # Errors
    /// When the bytes are not a valid component for this engine. Failing to write the
    /// cache is not an error (it is logged).
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(path) = self.artifact_path(engine, bytes) else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Compiled));
        };
        if path.exists() {
            // SAFETY: the file is an artifact this cache wrote with `Component::serialize`
            // for an engine with the same fingerprint (part of the name), and is only ever
            // replaced by an atomic rename, never modified in place.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(error) => tracing::warn!(
                    path = %path.display(), %error,
                    "cached component does not load; compiling it again"
                ),
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Err(error) = write_atomically(&path, &component.serialize()?) {
            tracing::warn!(path = %path.display(), %error, "cannot write the component cache");
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn artifact_path(&self, engine: &Engine, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let content = hex(&Sha256::digest(bytes));
        let mut fingerprint = Sha256Hasher(Sha256::new());
        engine
            .precompile_compatibility_hash()
            .hash(&mut fingerprint);
        let engine_hash = hex(&fingerprint.0.finalize()[..8]);
        Some(dir.join(format!("{content}-{engine_hash}.cwasm")))
    }
}

/// The SHA-256 of `bytes` in lowercase hex: a component's content address.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// Feeds `Hash` output into SHA-256, so the engine fingerprint is stable across runs
/// (unlike `DefaultHasher`, whose algorithm is unspecified).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0 // unused: the digest is read with `finalize`
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
