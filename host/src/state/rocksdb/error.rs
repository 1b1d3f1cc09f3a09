//! RocksDB's errors as [`StateError`]s: the operation that failed, with RocksDB's
//! own words (they name the file and the kind of damage).

use std::path::Path;

use crate::state::{StateError, StateOp};

/// A backend failure during `op`.
pub(super) fn backend(op: StateOp) -> impl FnOnce(::rocksdb::Error) -> StateError {
    move |error| StateError::Backend {
        op,
        message: error.into_string(),
    }
}

/// A snapshot failure about `path`, with what was being done.
pub(super) fn snapshot<E: std::fmt::Display>(
    path: &Path,
    doing: &'static str,
) -> impl FnOnce(E) -> StateError {
    move |error| StateError::snapshot(path, format!("{doing}: {error}"))
}
