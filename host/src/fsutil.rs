//! Durable file writes: what checkpoints and state snapshots rely on.
//!
//! A file written with [`write_atomically`] is either absent or complete, even across
//! a power cut: the bytes go to a temporary file in the same directory, which is
//! synced, renamed over the target, and the directory is synced so the rename itself
//! survives.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically and durably (see the module docs).
///
/// # Errors
/// On any I/O failure; the target is then untouched (a stray temporary file may stay).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut temporary_name = name.to_os_string();
    temporary_name.push(".tmp");
    let temporary = dir.join(temporary_name);
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;
    sync_dir(dir)
}

/// Syncs a directory, so that the entries created, renamed or removed in it are
/// durable.
///
/// # Errors
/// On an I/O failure.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The bytes of every file under `dir`, recursively (a file hard-linked twice counts
/// twice; symbolic links are not followed).
///
/// # Errors
/// When `dir` or something under it cannot be listed.
pub fn dir_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += dir_size(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta");
        write_atomically(&path, b"one")?;
        write_atomically(&path, b"two")?;
        assert_eq!(fs::read(&path)?, b"two");
        let names: Vec<_> = fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["meta"]);
        Ok(())
    }
}
