//! [`SubtaskState`]: everything stateful of one keyed operator subtask — backend,
//! keyed state, timers — with one commit and one rollback for all of it.
//!
//! The plugin host calls [`SubtaskState::commit`] after each plugin call that
//! succeeded and [`SubtaskState::rollback`] after one that failed. Between the two,
//! keyed state and timers write through the same [`Overlay`], so a failed call leaves
//! no trace in either; the fields are public so that a caller can borrow the backend
//! and a service at once:
//!
//! ```
//! use weir_host::state::{MemoryBackend, Scope, StateKind, StateSpec, SubtaskState, TimeDomain};
//!
//! let mut state = SubtaskState::restore(MemoryBackend::new(), 0..128)?;
//! let count = StateSpec::new("count", StateKind::Value);
//! let scope = Scope { key_group: 3, key: b"k", namespace: b"", time: 10 };
//! state.keyed.value_set(&mut state.backend, &count, &scope, b"1")?;
//! state.timers.register(&mut state.backend, TimeDomain::EventTime, 99, 3, b"k", b"")?;
//! state.rollback(); // the call trapped
//! assert_eq!(state.keyed.value_get(&mut state.backend, &count, &scope)?, None);
//! assert_eq!(state.timers.next_due(TimeDomain::EventTime), None);
//! # Ok::<(), weir_host::state::StateError>(())
//! ```

use std::ops::Range;

use weir_batch::Timestamp;

use super::{KeyGroup, KeyedState, Overlay, StateBackend, StateError, TimerService};

/// The state of one operator subtask (see the module docs).
#[derive(Debug)]
pub struct SubtaskState<B> {
    /// The backend behind the current call's writes.
    pub backend: Overlay<B>,
    /// Typed keyed state; write it through `backend`.
    pub keyed: KeyedState,
    /// Timers; change them through `backend`.
    pub timers: TimerService,
}

impl<B: StateBackend> SubtaskState<B> {
    /// The state of a subtask owning `key_groups`, as `base` holds it (e.g. restored
    /// from a checkpoint): the timer index is rebuilt from the backend.
    ///
    /// # Errors
    /// When the backend fails or holds a damaged timer entry.
    pub fn restore(base: B, key_groups: Range<KeyGroup>) -> Result<Self, StateError> {
        let timers = TimerService::restore(&base, key_groups)?;
        Ok(SubtaskState {
            backend: Overlay::new(base),
            keyed: KeyedState::new(),
            timers,
        })
    }

    /// Sets the operator's watermark, which TTL is measured against.
    pub fn set_watermark(&mut self, watermark: Option<Timestamp>) {
        self.keyed.set_watermark(watermark);
    }

    /// Keeps the writes and timer changes made since the last commit or rollback.
    ///
    /// # Errors
    /// When the backend fails: then nothing was applied (timers included) and the task
    /// must fail and restore from its last checkpoint.
    pub fn commit(&mut self) -> Result<(), StateError> {
        match self.backend.commit() {
            Ok(()) => {
                self.timers.commit();
                Ok(())
            }
            Err(error) => {
                self.timers.rollback();
                Err(error)
            }
        }
    }

    /// Drops the writes and timer changes made since the last commit or rollback.
    pub fn rollback(&mut self) {
        self.backend.rollback();
        self.timers.rollback();
    }

    /// The backend, as of the last commit (for a checkpoint).
    pub fn base(&self) -> &B {
        self.backend.base()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::state::{
        MemoryBackend, ScanControl, Scope, StateKind, StateOp, StateSpec, TimeDomain, WriteBatch,
    };

    /// A backend whose batch writes fail, like a full disk under RocksDB.
    #[derive(Debug, Default)]
    struct FailingWrites(MemoryBackend);

    impl StateBackend for FailingWrites {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
            self.0.get(key)
        }
        fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
            self.0.put(key, value)
        }
        fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
            self.0.delete(key)
        }
        fn scan_prefix(
            &self,
            prefix: &[u8],
            visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
        ) -> Result<(), StateError> {
            self.0.scan_prefix(prefix, visit)
        }
        fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
            self.0.delete_prefix(prefix)
        }
        fn write(&mut self, _batch: WriteBatch) -> Result<(), StateError> {
            Err(StateError::Backend {
                op: StateOp::Write,
                message: "no space left on device".into(),
            })
        }
        fn snapshot_to(&mut self, dir: &std::path::Path) -> Result<(), StateError> {
            self.0.snapshot_to(dir)
        }
    }

    #[test]
    fn a_failed_commit_leaves_backend_and_timers_as_they_were() {
        let mut base = FailingWrites::default();
        let mut timers = TimerService::new();
        timers
            .register(&mut base, TimeDomain::EventTime, 7, 0, b"k", b"")
            .unwrap();
        let mut state = SubtaskState::restore(base, 0..1).unwrap();
        assert_eq!(state.timers.next_due(TimeDomain::EventTime), Some(7));

        let spec = StateSpec::new("v", StateKind::Value);
        let scope = Scope {
            key_group: 0,
            key: b"k",
            namespace: b"",
            time: 0,
        };
        state
            .keyed
            .value_set(&mut state.backend, &spec, &scope, b"x")
            .unwrap();
        let mut due = Vec::new();
        state
            .timers
            .pop_due(&mut state.backend, TimeDomain::EventTime, 10, &mut due)
            .unwrap();
        state
            .timers
            .register(
                &mut state.backend,
                TimeDomain::ProcessingTime,
                1,
                0,
                b"k",
                b"",
            )
            .unwrap();

        let error = state.commit().unwrap_err();
        assert!(error.is_internal());
        assert_eq!(
            error.to_string(),
            "state backend failed during write batch: no space left on device"
        );
        assert!(state.base().0.get(b"k").unwrap().is_none());
        assert_eq!(state.base().0.len(), 1, "only the timer entry from before");
        assert_eq!(state.timers.next_due(TimeDomain::EventTime), Some(7));
        assert_eq!(state.timers.next_due(TimeDomain::ProcessingTime), None);
        assert_eq!(
            state
                .keyed
                .value_get(&mut state.backend, &spec, &scope)
                .unwrap(),
            None
        );
    }
}
