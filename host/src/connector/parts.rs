//! [`PartFileSink`]: the exactly-once file sink of a checkpointed pipeline, in two
//! phases, as Flink's `FileSink`.
//!
//! With `[checkpoint]`, a file sink's `path` is a directory of part files:
//!
//! ```text
//! out/
//!   part-0-000001.jsonl            committed: the output up to checkpoint 1
//!   part-0-000002.jsonl            ... up to checkpoint 2 (parts concatenate in order)
//!   .part-0-000003.pending         pre-committed for checkpoint 3, not yet visible
//!   .part-0-7.inprogress           being written (the 8th part of this run)
//! ```
//!
//! - write: events go to the hidden in-progress part (created on the first write);
//! - pre-commit (barrier `n`): it is flushed, fsynced and renamed
//!   `.part-<subtask>-<n>.pending`;
//! - commit (checkpoint `n` exists): every pending part up to `n` is renamed
//!   `part-<subtask>-<n>.jsonl`; idempotent.
//!
//! Law: a committed part holds only output of a checkpoint whose `_metadata` exists,
//! so a reader of `part-*` files never sees output that a restore would replay.
//! [`recover`] brings a directory in line with the checkpoint a run restores.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::fs::File;
use tokio::io::AsyncWriteExt as _;
use weir_batch::Batch;

use super::format::{SinkFormat, encode};
use super::{ConnectorError, Sink};

/// What a file in a part directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartFile {
    InProgress,
    Pending { subtask: u64, checkpoint: u64 },
    Committed { checkpoint: u64 },
}

fn parse(name: &str) -> Option<PartFile> {
    let numbers = |middle: &str| -> Option<(u64, u64)> {
        let (subtask, number) = middle.split_once('-')?;
        Some((subtask.parse().ok()?, number.parse().ok()?))
    };
    if let Some(middle) = name
        .strip_prefix(".part-")
        .and_then(|rest| rest.strip_suffix(".inprogress"))
    {
        numbers(middle).map(|_| PartFile::InProgress)
    } else if let Some(middle) = name
        .strip_prefix(".part-")
        .and_then(|rest| rest.strip_suffix(".pending"))
    {
        numbers(middle).map(|(subtask, checkpoint)| PartFile::Pending {
            subtask,
            checkpoint,
        })
    } else {
        let middle = name.strip_prefix("part-")?.strip_suffix(".jsonl")?;
        numbers(middle).map(|(_, checkpoint)| PartFile::Committed { checkpoint })
    }
}

fn committed_name(subtask: u64, checkpoint: u64) -> String {
    format!("part-{subtask}-{checkpoint:06}.jsonl")
}

/// Brings the part directory `dir` in line with a run restored from checkpoint
/// `restored` (`None`: a fresh run): pending parts up to it are committed (the crash
/// may have come between its `_metadata` and the rename); every in-progress part,
/// every pending or committed part after it goes (a fresh run removes every part).
/// Returns how many parts were committed and removed.
///
/// # Errors
/// On an I/O failure, naming the file.
pub fn recover(dir: &Path, restored: Option<u64>) -> Result<(usize, usize), ConnectorError> {
    let describe = format!("file:{}", dir.display());
    let failed = |path: &Path, error: io::Error| {
        ConnectorError::new(&describe, format!("recovering {}: {error}", path.display()))
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(error) => return Err(failed(dir, error)),
    };
    let (mut committed, mut removed) = (0, 0);
    for entry in entries {
        let path = entry.map_err(|error| failed(dir, error))?.path();
        let Some(kind) = path.file_name().and_then(|n| n.to_str()).and_then(parse) else {
            continue;
        };
        let keep_through = restored.unwrap_or(0);
        match kind {
            PartFile::Pending {
                subtask,
                checkpoint,
            } if restored.is_some() && checkpoint <= keep_through => {
                let target = dir.join(committed_name(subtask, checkpoint));
                std::fs::rename(&path, &target).map_err(|error| failed(&path, error))?;
                committed += 1;
            }
            PartFile::Committed { checkpoint }
                if restored.is_some() && checkpoint <= keep_through => {}
            _ => {
                std::fs::remove_file(&path).map_err(|error| failed(&path, error))?;
                removed += 1;
            }
        }
    }
    crate::fsutil::sync_dir(dir).map_err(|error| failed(dir, error))?;
    Ok((committed, removed))
}

/// A directory of part files written in two phases (see the module docs).
#[derive(Debug)]
pub struct PartFileSink {
    dir: PathBuf,
    subtask: u64,
    format: SinkFormat,
    describe: String,
    /// The in-progress part, once something was written since the last pre-commit.
    open: Option<(PathBuf, File)>,
    /// Parts started in this run, for in-progress names.
    started: u64,
    /// Pre-committed parts by checkpoint, oldest first.
    pending: Vec<(u64, PathBuf)>,
    encoded: Vec<u8>,
}

impl PartFileSink {
    /// A sink writing parts of subtask `subtask` into `dir`, created if missing. Run
    /// [`recover`] on `dir` first.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub async fn create(dir: &Path, format: SinkFormat) -> Result<Self, ConnectorError> {
        let describe = format!("file:{}", dir.display());
        tokio::fs::create_dir_all(dir).await.map_err(|error| {
            ConnectorError::new(
                &describe,
                format!("cannot create the part directory: {error}"),
            )
        })?;
        Ok(PartFileSink {
            dir: dir.to_path_buf(),
            subtask: 0,
            format,
            describe,
            open: None,
            started: 0,
            pending: Vec::new(),
            encoded: Vec::new(),
        })
    }

    fn error(&self, what: &str, path: &Path, error: io::Error) -> ConnectorError {
        ConnectorError::new(
            &self.describe,
            format!("{what} {}: {error}", path.display()),
        )
    }

    async fn sync_dir(&self) -> Result<(), ConnectorError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || crate::fsutil::sync_dir(&dir))
            .await
            .map_err(|error| ConnectorError::new(&self.describe, error))?
            .map_err(|error| self.error("syncing", &self.dir, error))
    }
}

#[async_trait]
impl Sink for PartFileSink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        if self.open.is_none() {
            let path = self.dir.join(format!(
                ".part-{}-{}.inprogress",
                self.subtask, self.started
            ));
            let file = File::create(&path)
                .await
                .map_err(|error| self.error("cannot create", &path, error))?;
            self.started += 1;
            self.open = Some((path, file));
        }
        self.encoded.clear();
        encode(self.format, batch, &mut self.encoded);
        if let Some((path, file)) = &mut self.open {
            file.write_all(&self.encoded).await.map_err(|error| {
                ConnectorError::new(&self.describe, format!("write {}: {error}", path.display()))
            })?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        if let Some((path, file)) = &mut self.open {
            file.flush().await.map_err(|error| {
                ConnectorError::new(&self.describe, format!("flush {}: {error}", path.display()))
            })?;
        }
        Ok(())
    }

    async fn pre_commit(&mut self, checkpoint: u64) -> Result<(), ConnectorError> {
        let Some((path, mut file)) = self.open.take() else {
            return Ok(());
        };
        file.flush()
            .await
            .map_err(|error| self.error("flush", &path, error))?;
        file.sync_all()
            .await
            .map_err(|error| self.error("sync", &path, error))?;
        drop(file);
        let pending = self
            .dir
            .join(format!(".part-{}-{checkpoint:06}.pending", self.subtask));
        tokio::fs::rename(&path, &pending)
            .await
            .map_err(|error| self.error("cannot rename", &path, error))?;
        self.sync_dir().await?;
        self.pending.push((checkpoint, pending));
        Ok(())
    }

    async fn commit(&mut self, checkpoint: u64) -> Result<(), ConnectorError> {
        let due = self
            .pending
            .iter()
            .take_while(|(id, _)| *id <= checkpoint)
            .count();
        if due == 0 {
            return Ok(());
        }
        for (id, pending) in self.pending.drain(..due).collect::<Vec<_>>() {
            let target = self.dir.join(committed_name(self.subtask, id));
            tokio::fs::rename(&pending, &target)
                .await
                .map_err(|error| self.error("cannot commit", &pending, error))?;
        }
        self.sync_dir().await
    }

    async fn discard_uncommitted(&mut self) -> Result<(), ConnectorError> {
        if let Some((path, file)) = self.open.take() {
            drop(file);
            tokio::fs::remove_file(&path)
                .await
                .map_err(|error| self.error("cannot remove", &path, error))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn batch(value: &str) -> Batch {
        let mut batch = Batch::default();
        batch.push(None, value.as_bytes(), 1);
        batch
    }

    #[tokio::test]
    async fn parts_become_visible_only_when_their_checkpoint_completes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut sink = PartFileSink::create(&out, SinkFormat::Value).await.unwrap();
        sink.write(&batch("a")).await.unwrap();
        assert_eq!(names(&out), [".part-0-0.inprogress"]);
        sink.pre_commit(1).await.unwrap();
        sink.pre_commit(2).await.unwrap(); // nothing written: no part
        sink.write(&batch("b")).await.unwrap();
        sink.pre_commit(3).await.unwrap();
        sink.write(&batch("c")).await.unwrap();
        assert_eq!(
            names(&out),
            [
                ".part-0-000001.pending",
                ".part-0-000003.pending",
                ".part-0-2.inprogress"
            ]
        );
        sink.commit(2).await.unwrap();
        sink.commit(2).await.unwrap();
        assert_eq!(
            names(&out),
            [
                ".part-0-000003.pending",
                ".part-0-2.inprogress",
                "part-0-000001.jsonl"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(out.join("part-0-000001.jsonl")).unwrap(),
            "a\n"
        );

        // A crash now; the run restores checkpoint 3, whose `_metadata` was written.
        drop(sink);
        assert_eq!(recover(&out, Some(3)).unwrap(), (1, 1));
        assert_eq!(names(&out), ["part-0-000001.jsonl", "part-0-000003.jsonl"]);
        // Restoring checkpoint 1 instead drops what came after it; fresh drops all.
        assert_eq!(recover(&out, Some(1)).unwrap(), (0, 1));
        assert_eq!(names(&out), ["part-0-000001.jsonl"]);
        assert_eq!(recover(&out, None).unwrap(), (0, 1));
        assert!(names(&out).is_empty());
    }
}
