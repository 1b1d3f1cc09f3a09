//! [`StateError`]: why a state operation failed, with the operation and, for backend
//! failures, the backend's own words.
//!
//! Errors split in two domains ([`StateError::is_internal`]): a *guest* error
//! (a value over the size limit, a state used as the wrong kind) is returned to the
//! plugin as a WIT `state-error`; an *internal* one (the backend failed, a stored entry
//! does not decode) fails the task, which restores from its last checkpoint.

use std::fmt;

use super::keyed::StateKind;

/// The state operation that failed, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateOp {
    /// Opening a backend.
    Open,
    /// [`StateBackend::get`](super::StateBackend::get).
    Get,
    /// [`StateBackend::put`](super::StateBackend::put).
    Put,
    /// [`StateBackend::delete`](super::StateBackend::delete).
    Delete,
    /// [`StateBackend::scan_prefix`](super::StateBackend::scan_prefix).
    Scan,
    /// [`StateBackend::delete_prefix`](super::StateBackend::delete_prefix).
    DeletePrefix,
    /// [`StateBackend::write`](super::StateBackend::write).
    Write,
}

impl fmt::Display for StateOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateOp::Open => "open",
            StateOp::Get => "get",
            StateOp::Put => "put",
            StateOp::Delete => "delete",
            StateOp::Scan => "scan",
            StateOp::DeletePrefix => "delete-prefix",
            StateOp::Write => "write batch",
        })
    }
}

/// Why a state operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The backend (e.g. RocksDB) failed; `message` is its own description.
    #[error("state backend failed during {op}: {message}")]
    Backend {
        /// The operation that failed.
        op: StateOp,
        /// The backend's message.
        message: String,
    },
    /// A key, namespace, name or value is over its size limit. Guest-controlled sizes
    /// are refused here, before anything is written.
    #[error("{what} of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large ("value", "key", "namespace", ...).
        what: &'static str,
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A state was used as another kind than it was declared with.
    #[error("state `{name}` is a {declared:?} state, not a {used_as:?} state")]
    WrongKind {
        /// The state's name.
        name: String,
        /// The kind it was declared with.
        declared: StateKind,
        /// The kind the operation needs.
        used_as: StateKind,
    },
    /// A stored key or value does not decode: the data is damaged or was written by an
    /// incompatible version (e.g. a state whose time to live was switched on or off).
    #[error("corrupt state entry: {reason}")]
    Corrupt {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A snapshot could not be written, or one being restored is missing, damaged or of
    /// another format version. Never treated as "start from scratch".
    #[error("state snapshot {path}: {message}")]
    Snapshot {
        /// The snapshot's directory or file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl StateError {
    /// Whether the error is the host's (backend, corrupt data) rather than the guest's
    /// (too large, wrong kind). Internal errors fail the task; guest errors are
    /// returned to the plugin.
    ///
    /// ```
    /// use weir_host::state::StateError;
    /// let too_large = StateError::TooLarge { what: "value", len: 20 << 20, limit: 16 << 20 };
    /// assert!(!too_large.is_internal());
    /// assert!(StateError::Corrupt { reason: "short value" }.is_internal());
    /// ```
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            StateError::Backend { .. } | StateError::Corrupt { .. } | StateError::Snapshot { .. }
        )
    }

    /// A [`StateError::Snapshot`] about `path`.
    pub(crate) fn snapshot(path: &std::path::Path, message: impl fmt::Display) -> Self {
        StateError::Snapshot {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }

    /// The error for a size over a limit (see [`StateError::TooLarge`]).
    pub(crate) fn too_large(what: &'static str, len: usize, limit: usize) -> Self {
        StateError::TooLarge { what, len, limit }
    }

    /// Refuses `len` above `limit`.
    pub(crate) fn check_len(what: &'static str, len: usize, limit: usize) -> Result<(), Self> {
        if len > limit {
            return Err(StateError::too_large(what, len, limit));
        }
        Ok(())
    }
}
