//! The checkpoint runtime's hooks for a window operator ([`Operator::snapshot`] and
//! [`Operator::restore`](crate::runtime::operator::Operator::restore)) on top of
//! [`durable`](super::durable): where the operator's backend lives (the pipeline's
//! `[state] backend` and the subtask's working directory) and which key groups the
//! subtask owns, so that a restore can reopen the backend from a snapshot.
//!
//! [`Operator::snapshot`]: crate::runtime::operator::Operator::snapshot

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::WindowOperator;
use super::durable::WindowStateError;
use crate::runtime::operator::{OperatorError, OperatorSnapshot, SnapshotWait};
use crate::state::{BackendKind, KeyGroup, open_backend};

/// Where a window operator subtask keeps its state between checkpoints.
#[derive(Debug, Clone)]
pub struct WindowDurability {
    /// The backend kind (`[state] backend`).
    pub backend: BackendKind,
    /// The subtask's working directory for live state.
    pub work_dir: PathBuf,
    /// The key groups the subtask owns.
    pub key_groups: Range<KeyGroup>,
}

impl WindowOperator {
    /// Keeps the operator's state in a fresh backend of `durability.backend` in its
    /// working directory, and remembers where, for [`Operator::restore`].
    ///
    /// # Errors
    /// When the backend cannot be opened.
    ///
    /// [`Operator::restore`]: crate::runtime::operator::Operator::restore
    pub fn with_durability(
        mut self,
        durability: WindowDurability,
    ) -> Result<Self, WindowStateError> {
        let backend = open_backend(durability.backend, &durability.work_dir, None)
            .map_err(|source| self.state_error(source))?;
        self = self.with_backend(backend)?;
        self.durability = Some(durability);
        Ok(self)
    }

    pub(super) fn snapshot_hook(
        &mut self,
        dir: &Path,
    ) -> Result<Option<OperatorSnapshot>, OperatorError> {
        self.checkpoint_to(dir)
            .map_err(|error| self.operator_error(format!("checkpoint: {error}")))?;
        let backend = self
            .durability
            .as_ref()
            .map_or(BackendKind::Memory, |durability| durability.backend);
        Ok(Some(OperatorSnapshot {
            backend: format!("{backend:?}").to_lowercase(),
        }))
    }

    /// [`Operator::snapshot_async`](crate::runtime::operator::Operator::snapshot_async):
    /// the changes are taken now, written and snapshotted on a thread of their own
    /// ([`super::snapshot_thread`]).
    pub(super) fn snapshot_async_hook(
        &mut self,
        dir: &Path,
    ) -> Result<(Option<OperatorSnapshot>, Option<SnapshotWait>), OperatorError> {
        let (_, wait) = self
            .begin_checkpoint(dir)
            .map_err(|error| self.operator_error(format!("checkpoint: {error}")))?;
        let backend = self
            .durability
            .as_ref()
            .map_or(BackendKind::Memory, |durability| durability.backend);
        let operator = self.name.clone();
        Ok((
            Some(OperatorSnapshot {
                backend: format!("{backend:?}").to_lowercase(),
            }),
            Some(Box::new(move || {
                wait.wait()
                    .map_err(|error| format!("operator `{operator}`: checkpoint: {error}"))
            })),
        ))
    }

    pub(super) fn restore_hook(&mut self, dir: &Path) -> Result<(), OperatorError> {
        let durability = self.durability.clone().ok_or_else(|| {
            self.operator_error("restore: the operator was built without a state directory")
        })?;
        // Close the empty backend first: it holds the working directory (RocksDB's
        // lock) that the restored one opens.
        self.release_backend();
        let backend = open_backend(durability.backend, &durability.work_dir, Some(dir))
            .map_err(|error| self.operator_error(format!("restore: {error}")))?;
        self.set_backend(backend)
            .and_then(|()| self.restore(durability.key_groups.clone()))
            .map_err(|error| self.operator_error(format!("restore: {error}")))
    }

    fn operator_error(&self, message: impl Into<String>) -> OperatorError {
        OperatorError {
            operator: self.name.clone(),
            message: message.into(),
        }
    }
}
