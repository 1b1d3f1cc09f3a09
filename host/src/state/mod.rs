//! Keyed state: where operators keep what must survive a batch, a trap, a new plugin
//! version and (with checkpoints) a crash.
//!
//! - [`key_group`]: keys → key groups → subtasks; the unit of partitioning.
pub mod key_group;

pub use key_group::{DEFAULT_MAX_KEY_GROUPS, KeyGroup, key_group_of, key_group_range, subtask_of};
