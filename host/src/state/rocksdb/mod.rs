//! [`RocksDbBackend`]: keyed state on disk, for state larger than memory, with cheap
//! snapshots.
//!
//! Layout, and why:
//! - **One RocksDB instance per operator subtask**, in the subtask's working directory
//!   (as Flink does), rather than one column family per operator in a shared
//!   instance: a subtask owns its instance outright (no locking across tasks, one
//!   flush and one checkpoint per subtask at its own barrier), and a snapshot is a
//!   directory per subtask that a restore can open on its own. What subtasks share is
//!   memory: one block cache for the process ([`options`]).
//! - **Keys key group first** ([`encoding`](super::encoding)): a key group is one
//!   contiguous key range, so re-partitioning (later) is a range scan per key group
//!   over the instances of the old subtasks, and a subtask's instance holds only its
//!   own groups' ranges.
//! - **No write-ahead log.** Durability comes from checkpoints, not from the working
//!   directory: it is scratch, wiped when a backend opens, and a restarted task
//!   restores from its last checkpoint's snapshot. Without a WAL a write is a memtable
//!   insert.
//! - [`WriteBatch`](super::WriteBatch) → `rocksdb::WriteBatch`, applied atomically;
//!   `DeletePrefix` → `delete_range(prefix, prefix_successor(prefix))`, one range
//!   tombstone instead of a read and a delete per key.
//! - Scans iterate with an upper bound at the prefix's successor, so RocksDB stops at
//!   the range's end instead of reading past it.
//! - **Snapshots** (module `snapshot`) are RocksDB's native checkpoints — memtables flushed,
//!   SST files hard-linked, not copied — plus a listing of every file with its size
//!   (and a digest of the small metadata files), so that a restore refuses a missing,
//!   truncated or damaged file by name instead of opening a partial database. A restore
//!   hard-links the snapshot's immutable SSTs and copies the rest into a fresh working
//!   directory and opens that: the snapshot itself is never opened, so it stays valid.

mod backend;
mod error;
mod listing;
pub mod options;
mod snapshot;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests;

pub use backend::RocksDbBackend;
