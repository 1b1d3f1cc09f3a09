//! Keyed state: where operators keep what must survive a batch, a trap, a new plugin
//! version and (with checkpoints) a crash.
//!
//! State lives in the host, never in guest memory. Layers, bottom up:
//! - [`backend`]: [`StateBackend`], an ordered byte key-value store per operator
//!   subtask ([`rocksdb`]'s instance on disk, or [`memory`]'s `BTreeMap`), with
//!   atomic [`WriteBatch`]es;
//! - [`encoding`]: the key layout — key group first, so a key group is one contiguous
//!   range — for state entries and timers;
//! - [`keyed`]: typed value, list and map state scoped `(key group, key, namespace,
//!   name)`, with time to live in event time;
//! - [`timers`]: event- and processing-time timers, persisted as entries, fired from an
//!   in-memory index;
//! - [`transaction`]: the [`Overlay`] that holds one plugin call's writes until the call
//!   succeeds, and [`subtask`]'s [`SubtaskState`] that commits or rolls back keyed state
//!   and timers together;
//! - [`key_group`]: keys → key groups → subtasks; the unit of partitioning;
//! - [`open`]: a subtask's backend, fresh or restored from a checkpoint's snapshot
//!   ([`StateBackend::snapshot_to`]; [`snapshot_file`] for the memory backend).
//!
//! A keyed operator's call, end to end:
//!
//! ```
//! use weir_host::state::{
//!     key_group_of, MemoryBackend, Scope, StateKind, StateSpec, SubtaskState, TimeDomain,
//! };
//!
//! let mut state = SubtaskState::restore(MemoryBackend::new(), 0..128)?;
//! let sum = StateSpec::new("sum", StateKind::Value).with_ttl(60_000);
//! let key = b"card-17";
//! let scope = Scope { key_group: key_group_of(key, 128), key, namespace: b"", time: 1_000 };
//!
//! // One call: read, update, set a timer; then commit.
//! let old = state.keyed.value_get(&mut state.backend, &sum, &scope)?;
//! assert_eq!(old, None);
//! state.keyed.value_set(&mut state.backend, &sum, &scope, &12u64.to_be_bytes())?;
//! state.timers.register(&mut state.backend, TimeDomain::EventTime, 5_000, scope.key_group, key, b"")?;
//! state.commit()?;
//!
//! // The watermark passes the timer: it is due once.
//! state.set_watermark(Some(5_000));
//! let mut due = Vec::new();
//! state.timers.pop_due(&mut state.backend, TimeDomain::EventTime, 5_000, &mut due)?;
//! state.commit()?;
//! assert_eq!(due.len(), 1);
//! assert_eq!(state.keyed.value_get(&mut state.backend, &sum, &scope)?, Some(12u64.to_be_bytes().to_vec()));
//! # Ok::<(), weir_host::state::StateError>(())
//! ```
pub mod backend;
pub mod encoding;
pub mod error;
pub mod key_group;
pub mod keyed;
pub mod memory;
pub mod open;
pub mod rocksdb;
pub mod snapshot_file;
pub mod subtask;
pub mod timers;
pub mod transaction;
mod ttl;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
pub(crate) mod conformance;

pub use self::rocksdb::RocksDbBackend;
pub use backend::{BatchOp, ScanControl, StateBackend, WriteBatch, prefix_successor};
pub use error::{StateError, StateOp};
pub use key_group::{DEFAULT_MAX_KEY_GROUPS, KeyGroup, key_group_of, key_group_range, subtask_of};
pub use keyed::{
    KeyedState, MAX_READ_LEN, MAX_VALUE_LEN, MapEntry, READ_OVERHEAD, Scope, StateKind, StateSpec,
};
pub use memory::MemoryBackend;
pub use open::{BackendKind, open_backend};
pub use subtask::SubtaskState;
pub use timers::{TimeDomain, Timer, TimerService};
pub use transaction::Overlay;
