//! `WEIR-SNAPSHOT`: the list of a RocksDB snapshot's files that a restore checks
//! before it opens anything.
//!
//! RocksDB checks much by itself, but not everything: a MANIFEST cut at a record
//! boundary reads as a shorter, valid history, i.e. a database with files missing.
//! So next to RocksDB's checkpoint Weir writes, atomically and last:
//!
//! ```text
//! weir-rocksdb-snapshot 1
//! <size> <sha-256 in hex, or - for SST and blob files> <file name>
//! ...
//! end <sha-256 in hex of every line above>
//! ```
//!
//! SST files are immutable and checksummed block by block by RocksDB (their sizes are
//! checked here and again by RocksDB at open); the small files that say what the
//! database is (CURRENT, MANIFEST, OPTIONS) are hashed whole. A missing listing (an
//! unfinished snapshot), a listing of another format version, a missing file, a file of
//! another size, or a file whose digest differs is refused by name.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::state::StateError;

/// The listing's file name inside a snapshot directory.
pub(super) const FILE_NAME: &str = "WEIR-SNAPSHOT";
const HEADER: &str = "weir-rocksdb-snapshot";
/// Bumped when the snapshot layout changes; other versions are refused.
pub(super) const FORMAT_VERSION: u32 = 1;

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListedFile {
    pub name: String,
    pub size: u64,
    /// SHA-256 in hex; `None` for immutable data files (SST, blob).
    pub digest: Option<String>,
}

impl ListedFile {
    /// Whether the file never changes once written, so a restore may hard-link it.
    pub fn is_immutable(&self) -> bool {
        self.digest.is_none()
    }
}

fn is_data_file(name: &str) -> bool {
    name.ends_with(".sst") || name.ends_with(".blob")
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Lists the files of the checkpoint in `dir` and writes the listing there.
///
/// # Errors
/// [`StateError::Snapshot`] on an I/O failure.
pub(super) fn write(dir: &Path) -> Result<Vec<ListedFile>, StateError> {
    let io =
        |error: std::io::Error| StateError::snapshot(dir, format!("listing its files: {error}"));
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().map_err(io)?.is_file() || name == FILE_NAME {
            continue;
        }
        let size = entry.metadata().map_err(io)?.len();
        let digest = if is_data_file(&name) {
            None
        } else {
            Some(sha256_hex(&fs::read(entry.path()).map_err(io)?))
        };
        files.push(ListedFile { name, size, digest });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = format!("{HEADER} {FORMAT_VERSION}\n");
    for file in &files {
        let digest = file.digest.as_deref().unwrap_or("-");
        let _ = writeln!(text, "{} {} {}", file.size, digest, file.name);
    }
    let _ = writeln!(text, "end {}", sha256_hex(text.as_bytes()));
    crate::fsutil::write_atomically(&dir.join(FILE_NAME), text.as_bytes()).map_err(io)?;
    Ok(files)
}

/// Reads the listing of the snapshot in `dir` and checks every file it names.
///
/// # Errors
/// [`StateError::Snapshot`] saying what is missing or damaged.
pub(super) fn read_and_verify(dir: &Path) -> Result<Vec<ListedFile>, StateError> {
    let damaged = |what: String| StateError::snapshot(dir, what);
    let path = dir.join(FILE_NAME);
    let text = fs::read_to_string(&path).map_err(|error| {
        damaged(format!(
            "cannot read {FILE_NAME} ({error}): not a complete Weir RocksDB snapshot"
        ))
    })?;
    let files = parse(&text).map_err(|why| damaged(format!("{FILE_NAME} is damaged: {why}")))?;
    for file in &files {
        let file_path = dir.join(&file.name);
        let size = match fs::metadata(&file_path) {
            Ok(metadata) => metadata.len(),
            Err(error) => return Err(damaged(format!("{} is missing ({error})", file.name))),
        };
        if size != file.size {
            return Err(damaged(format!(
                "{} has {size} bytes, the snapshot wrote {} (truncated or replaced)",
                file.name, file.size
            )));
        }
        if let Some(expected) = &file.digest {
            let bytes = fs::read(&file_path)
                .map_err(|error| damaged(format!("cannot read {}: {error}", file.name)))?;
            if sha256_hex(&bytes) != *expected {
                return Err(damaged(format!(
                    "{} is damaged (its SHA-256 differs from the one the snapshot wrote)",
                    file.name
                )));
            }
        }
    }
    Ok(files)
}

fn parse(text: &str) -> Result<Vec<ListedFile>, String> {
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|at| at + 1)
        .ok_or("truncated")?;
    let (body, trailer) = text.split_at(body_end);
    let digest = trailer
        .trim_end()
        .strip_prefix("end ")
        .ok_or("truncated (no end line)")?;
    if sha256_hex(body.as_bytes()) != digest {
        return Err("checksum mismatch".into());
    }
    let mut lines = body.lines();
    let header = lines.next().unwrap_or_default();
    let version = header
        .strip_prefix(HEADER)
        .map(str::trim)
        .ok_or("not a snapshot listing")?;
    if version != FORMAT_VERSION.to_string() {
        return Err(format!(
            "format version {version}, this build reads version {FORMAT_VERSION}"
        ));
    }
    lines
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (Some(size), Some(digest), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("bad line `{line}`"));
            };
            if name.contains('/') || name.starts_with('.') {
                return Err(format!("bad file name `{name}`"));
            }
            Ok(ListedFile {
                name: name.to_owned(),
                size: size.parse().map_err(|_| format!("bad size in `{line}`"))?,
                digest: (digest != "-").then(|| digest.to_owned()),
            })
        })
        .collect()
}
