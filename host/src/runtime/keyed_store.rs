//! [`OperatorState`]: the [`KeyedStore`] a keyed operator lends its plugin for each
//! call — the subtask's [`SubtaskState`] (backend, keyed state, timers) behind one
//! transaction, committed after a call that succeeded and rolled back after one that
//! failed.

use std::ops::Range;

use weir_batch::Timestamp;

use crate::plugin::state::{CallScope, KeyedStore, StateSpec, TimerDomain};
use crate::state::keyed::MapEntry;
use crate::state::{KeyGroup, Scope, StateBackend, StateError, SubtaskState, Timer};

/// The state of one keyed operator subtask.
#[derive(Debug)]
pub struct OperatorState {
    inner: SubtaskState<Box<dyn StateBackend>>,
    key_groups: Range<KeyGroup>,
}

fn scope(call: &CallScope) -> Scope<'_> {
    Scope {
        key_group: call.key_group,
        key: &call.key,
        namespace: &call.namespace,
        time: call.time,
    }
}

fn message(error: StateError) -> String {
    error.to_string()
}

impl OperatorState {
    /// The state of a subtask owning `key_groups`, as `backend` holds it.
    ///
    /// # Errors
    /// When the backend fails or holds damaged timers.
    pub fn restore(
        backend: Box<dyn StateBackend>,
        key_groups: Range<KeyGroup>,
    ) -> Result<Self, StateError> {
        Ok(OperatorState {
            inner: SubtaskState::restore(backend, key_groups.clone())?,
            key_groups,
        })
    }

    /// The key groups this state covers.
    pub fn key_groups(&self) -> Range<KeyGroup> {
        self.key_groups.clone()
    }

    /// Writes a snapshot of the committed state into `dir` (which must not exist).
    ///
    /// # Errors
    /// When a call's writes are still pending, or the backend cannot write it.
    pub fn snapshot_to(&mut self, dir: &std::path::Path) -> Result<(), StateError> {
        let base = self.inner.backend.base_mut().ok_or_else(|| {
            StateError::snapshot(dir, "a call's writes are still pending (not committed)")
        })?;
        base.snapshot_to(dir)
    }

    pub fn set_watermark(&mut self, watermark: Option<Timestamp>) {
        self.inner.set_watermark(watermark);
    }

    /// The backend as of the last commit, for a checkpoint: what a window operator
    /// persists into and what `snapshot_to` copies. Uncommitted writes of a call are
    /// not in it: `None` while a call's writes are pending (take it between calls).
    pub fn backend_mut(&mut self) -> Option<&mut Box<dyn StateBackend>> {
        self.inner.backend.base_mut()
    }

    /// Keeps the current call's writes.
    ///
    /// # Errors
    /// When the backend fails; nothing was applied.
    pub fn commit(&mut self) -> Result<(), StateError> {
        self.inner.commit()
    }

    /// Drops the current call's writes.
    pub fn rollback(&mut self) {
        self.inner.rollback();
    }

    /// Removes the timers of `domain` due by `up_to` and appends them to `out` in
    /// firing order; committed at once (a fired timer does not come back, even if the
    /// call that handles it fails — that timer is dead-lettered instead).
    ///
    /// # Errors
    /// When the backend fails.
    pub fn pop_due_timers(
        &mut self,
        domain: TimerDomain,
        up_to: Timestamp,
        out: &mut Vec<Timer>,
    ) -> Result<(), StateError> {
        let state = &mut self.inner;
        state
            .timers
            .pop_due(&mut state.backend, domain, up_to, out)?;
        state.commit()
    }

    /// Registers `timers` again (those a round limit kept from firing now).
    ///
    /// # Errors
    /// When the backend fails.
    pub fn reregister_timers(
        &mut self,
        domain: TimerDomain,
        timers: &[Timer],
    ) -> Result<(), StateError> {
        let state = &mut self.inner;
        for timer in timers {
            state.timers.register(
                &mut state.backend,
                domain,
                timer.at,
                timer.key_group,
                &timer.key,
                &timer.namespace,
            )?;
        }
        state.commit()
    }

    /// Removes every state of one key's window (when the window is purged).
    ///
    /// # Errors
    /// When the backend fails.
    pub fn clear_namespace(
        &mut self,
        key_group: KeyGroup,
        key: &[u8],
        namespace: &[u8],
    ) -> Result<(), StateError> {
        let state = &mut self.inner;
        state
            .keyed
            .clear_namespace(&mut state.backend, key_group, key, namespace)?;
        state.commit()
    }
}

impl KeyedStore for OperatorState {
    fn value_get(&mut self, spec: &StateSpec, call: &CallScope) -> Result<Option<Vec<u8>>, String> {
        let state = &mut self.inner;
        state
            .keyed
            .value_get(&mut state.backend, spec, &scope(call))
            .map_err(message)
    }

    fn value_set(
        &mut self,
        spec: &StateSpec,
        call: &CallScope,
        value: &[u8],
    ) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .value_set(&mut state.backend, spec, &scope(call), value)
            .map_err(message)
    }

    fn clear(&mut self, spec: &StateSpec, call: &CallScope) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .clear(&mut state.backend, spec, &scope(call))
            .map_err(message)
    }

    fn list_get(&mut self, spec: &StateSpec, call: &CallScope) -> Result<Vec<Vec<u8>>, String> {
        let state = &mut self.inner;
        state
            .keyed
            .list_get(&mut state.backend, spec, &scope(call))
            .map_err(message)
    }

    fn list_add(&mut self, spec: &StateSpec, call: &CallScope, value: &[u8]) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .list_add(&mut state.backend, spec, &scope(call), value)
            .map_err(message)
    }

    fn list_replace(
        &mut self,
        spec: &StateSpec,
        call: &CallScope,
        values: &[Vec<u8>],
    ) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .list_replace(&mut state.backend, spec, &scope(call), values)
            .map_err(message)
    }

    fn map_get(
        &mut self,
        spec: &StateSpec,
        call: &CallScope,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, String> {
        let state = &mut self.inner;
        state
            .keyed
            .map_get(&mut state.backend, spec, &scope(call), key)
            .map_err(message)
    }

    fn map_put(
        &mut self,
        spec: &StateSpec,
        call: &CallScope,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .map_put(&mut state.backend, spec, &scope(call), key, value)
            .map_err(message)
    }

    fn map_remove(&mut self, spec: &StateSpec, call: &CallScope, key: &[u8]) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .keyed
            .map_remove(&mut state.backend, spec, &scope(call), key)
            .map_err(message)
    }

    fn map_entries(&mut self, spec: &StateSpec, call: &CallScope) -> Result<Vec<MapEntry>, String> {
        let state = &mut self.inner;
        state
            .keyed
            .map_entries(&mut state.backend, spec, &scope(call))
            .map_err(message)
    }

    fn register_timer(
        &mut self,
        call: &CallScope,
        domain: TimerDomain,
        at: Timestamp,
    ) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .timers
            .register(
                &mut state.backend,
                domain,
                at,
                call.key_group,
                &call.key,
                &call.namespace,
            )
            .map(|_| ())
            .map_err(message)
    }

    fn delete_timer(
        &mut self,
        call: &CallScope,
        domain: TimerDomain,
        at: Timestamp,
    ) -> Result<(), String> {
        let state = &mut self.inner;
        state
            .timers
            .delete(
                &mut state.backend,
                domain,
                at,
                call.key_group,
                &call.key,
                &call.namespace,
            )
            .map(|_| ())
            .map_err(message)
    }
}
