//! The memory backend's snapshot: one file, `state.bin`, holding every entry.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! "WEIRSNAP"  format version: u32  entries: u64
//! entries × (key length: u32, key, value length: u32, value)
//! SHA-256 of everything above: 32 bytes
//! ```
//!
//! A file that is short, has another magic or version, or whose digest does not match
//! is refused with [`StateError::Snapshot`] saying which: never read as empty state.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::StateError;

/// The snapshot file's name inside the snapshot directory.
pub const FILE_NAME: &str = "state.bin";
const MAGIC: &[u8; 8] = b"WEIRSNAP";
/// Bumped whenever the layout changes; older or newer files are refused.
pub const FORMAT_VERSION: u32 = 1;
const DIGEST_LEN: usize = 32;

/// Writes `entries` as a snapshot into `dir` (created here; it must not exist).
///
/// # Errors
/// [`StateError::Snapshot`] on an I/O failure.
pub fn write(dir: &Path, entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), StateError> {
    let size: usize = entries.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut bytes = Vec::with_capacity(20 + size + DIGEST_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (key, value) in entries {
        for part in [key, value] {
            let len = u32::try_from(part.len())
                .map_err(|_| StateError::snapshot(dir, "an entry is over 4 GiB"))?;
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(part);
        }
    }
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    std::fs::create_dir(dir).map_err(|error| StateError::snapshot(dir, error))?;
    crate::fsutil::write_atomically(&dir.join(FILE_NAME), &bytes)
        .map_err(|error| StateError::snapshot(dir, error))
}

/// Reads the snapshot in `dir`.
///
/// # Errors
/// [`StateError::Snapshot`] when it is missing, damaged or of another format version.
pub fn read(dir: &Path) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StateError> {
    let path = dir.join(FILE_NAME);
    let bytes = std::fs::read(&path).map_err(|error| StateError::snapshot(&path, error))?;
    let corrupt = |what: &str| StateError::snapshot(&path, what);
    if bytes.len() < MAGIC.len() + 12 + DIGEST_LEN || !bytes.starts_with(MAGIC) {
        return Err(corrupt(
            "not a Weir state snapshot (bad magic or too short)",
        ));
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let mut reader = Reader {
        bytes: &body[MAGIC.len()..],
    };
    let version = reader.u32().ok_or_else(|| corrupt("truncated header"))?;
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!(
            "format version {version}, this build reads version {FORMAT_VERSION}"
        )));
    }
    if Sha256::digest(body).as_slice() != digest {
        return Err(corrupt(
            "checksum mismatch: the file is truncated or damaged",
        ));
    }
    let count = reader.u64().ok_or_else(|| corrupt("truncated header"))?;
    let mut entries = BTreeMap::new();
    for _ in 0..count {
        let key = reader.part().ok_or_else(|| corrupt("truncated entry"))?;
        let value = reader.part().ok_or_else(|| corrupt("truncated entry"))?;
        entries.insert(key.to_vec(), value.to_vec());
    }
    if !reader.bytes.is_empty() {
        return Err(corrupt("bytes after the last entry"));
    }
    Ok(entries)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < len {
            return None;
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn part(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> BTreeMap<Vec<u8>, Vec<u8>> {
        (0..100u32)
            .map(|i| (i.to_be_bytes().to_vec(), vec![i as u8; i as usize]))
            .collect()
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("chk");
        write(&snapshot, &sample()).unwrap();
        assert_eq!(read(&snapshot).unwrap(), sample());
    }

    #[test]
    fn refuses_damage_truncation_versions_and_absence() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("chk");
        write(&snapshot, &sample()).unwrap();
        let file = snapshot.join(FILE_NAME);
        let good = std::fs::read(&file).unwrap();
        let message = |bytes: &[u8]| {
            std::fs::write(&file, bytes).unwrap();
            read(&snapshot).unwrap_err().to_string()
        };
        let mut flipped = good.clone();
        flipped[100] ^= 1;
        assert!(
            message(&flipped).contains("checksum mismatch"),
            "{}",
            message(&flipped)
        );
        assert!(message(&good[..good.len() / 2]).contains("checksum mismatch"));
        assert!(message(&good[..10]).contains("bad magic"));
        let mut newer = good.clone();
        newer[8] = 9;
        assert!(message(&newer).contains("format version 9"));
        std::fs::remove_file(&file).unwrap();
        assert!(
            read(&snapshot)
                .unwrap_err()
                .to_string()
                .contains("state.bin")
        );
    }
}
