//! Reading and presetting a keyed process function's state and timers under the
//! harness — through the same paths a checkpoint and a restore take: the operator is
//! snapshotted, the snapshot opened as the backend a restore would open, and (to
//! preset) written and restored into a fresh operator. Nothing reaches into the
//! running operator, so what a test reads is what a checkpoint holds.
//!
//! States are named as the plugin declares them in `init`; their kind and time to live
//! come from that declaration. Values are the bytes the plugin stored (the Rust SDK's
//! typed states store postcard; `raw_*` states store bytes as they are).

use weir_batch::Timestamp;

use super::HarnessError;
use super::driver::{Harness, Snapshot};
use crate::plugin::PluginKind;
use crate::state::keyed::MapEntry;
use crate::state::{
    Scope, StateBackend, StateError, StateSpec, SubtaskState, TimeDomain, key_group_of,
    open_backend,
};

/// A timer waiting to fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTimer {
    pub domain: TimeDomain,
    pub key: Vec<u8>,
    pub at: Timestamp,
}

/// The state of the operator under test, opened from a snapshot; writes through
/// [`StateEditor`] are restored into a fresh operator when the edit ends.
#[derive(Debug)]
pub struct StateEditor {
    state: SubtaskState<Box<dyn StateBackend>>,
    specs: Vec<StateSpec>,
    max_key_groups: u16,
    time: Timestamp,
}

fn state_error(error: StateError) -> HarnessError {
    HarnessError::State(error.to_string())
}

impl StateEditor {
    fn spec(&self, name: &str) -> Result<StateSpec, HarnessError> {
        self.specs
            .iter()
            .find(|spec| spec.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.specs.iter().map(|spec| spec.name.as_str()).collect();
                HarnessError::State(format!(
                    "the plugin declares no state `{name}` (it declares {names:?})"
                ))
            })
    }

    fn with_scope<R>(
        &mut self,
        name: &str,
        key: &[u8],
        op: impl FnOnce(
            &mut SubtaskState<Box<dyn StateBackend>>,
            &StateSpec,
            &Scope<'_>,
        ) -> Result<R, StateError>,
    ) -> Result<R, HarnessError> {
        let spec = self.spec(name)?;
        let scope = Scope {
            key_group: key_group_of(key, self.max_key_groups),
            key,
            namespace: b"",
            time: self.time,
        };
        let result = op(&mut self.state, &spec, &scope).map_err(state_error);
        match &result {
            Ok(_) => self.state.commit().map_err(state_error)?,
            Err(_) => self.state.rollback(),
        }
        result
    }

    /// The value of value state `name` for `key`.
    ///
    /// # Errors
    /// When the plugin declares no such state, or it has another kind.
    pub fn value(&mut self, name: &str, key: &[u8]) -> Result<Option<Vec<u8>>, HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state.keyed.value_get(&mut state.backend, spec, scope)
        })
    }

    /// The elements of list state `name` for `key`.
    ///
    /// # Errors
    /// As for [`StateEditor::value`].
    pub fn list(&mut self, name: &str, key: &[u8]) -> Result<Vec<Vec<u8>>, HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state.keyed.list_get(&mut state.backend, spec, scope)
        })
    }

    /// The entries of map state `name` for `key`, by map key.
    ///
    /// # Errors
    /// As for [`StateEditor::value`].
    pub fn map(&mut self, name: &str, key: &[u8]) -> Result<Vec<MapEntry>, HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state.keyed.map_entries(&mut state.backend, spec, scope)
        })
    }

    /// Sets value state `name` for `key`.
    ///
    /// # Errors
    /// As for [`StateEditor::value`].
    pub fn set_value(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state
                .keyed
                .value_set(&mut state.backend, spec, scope, value)
        })
    }

    /// Replaces the elements of list state `name` for `key`.
    ///
    /// # Errors
    /// As for [`StateEditor::value`].
    pub fn set_list(
        &mut self,
        name: &str,
        key: &[u8],
        values: &[Vec<u8>],
    ) -> Result<(), HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state
                .keyed
                .list_replace(&mut state.backend, spec, scope, values)
        })
    }

    /// Sets one entry of map state `name` for `key`.
    ///
    /// # Errors
    /// As for [`StateEditor::value`].
    pub fn put_map(
        &mut self,
        name: &str,
        key: &[u8],
        map_key: &[u8],
        value: &[u8],
    ) -> Result<(), HarnessError> {
        self.with_scope(name, key, |state, spec, scope| {
            state
                .keyed
                .map_put(&mut state.backend, spec, scope, map_key, value)
        })
    }

    /// Registers a timer for `key`.
    ///
    /// # Errors
    /// When the backend fails.
    pub fn register_timer(
        &mut self,
        domain: TimeDomain,
        key: &[u8],
        at: Timestamp,
    ) -> Result<(), HarnessError> {
        let key_group = key_group_of(key, self.max_key_groups);
        let state = &mut self.state;
        state
            .timers
            .register(&mut state.backend, domain, at, key_group, key, b"")
            .map_err(state_error)?;
        state.commit().map_err(state_error)
    }

    /// The timers waiting to fire, event-time ones first, each domain by time.
    pub fn timers(&self) -> Vec<PendingTimer> {
        [TimeDomain::EventTime, TimeDomain::ProcessingTime]
            .into_iter()
            .flat_map(|domain| {
                self.state
                    .timers
                    .iter(domain)
                    .map(move |timer| PendingTimer {
                        domain,
                        key: timer.key.clone(),
                        at: timer.at,
                    })
            })
            .collect()
    }
}

impl Harness {
    /// Opens the operator's current state (a keyed process function's), read-only
    /// unless given back with [`Harness::write_state`].
    fn open_state(&mut self) -> Result<(StateEditor, Snapshot), HarnessError> {
        if self.plugin().kind() != PluginKind::KeyedProcess {
            return Err(HarnessError::State(format!(
                "keyed state is read and preset for keyed process functions; this is a {} plugin",
                self.plugin().kind()
            )));
        }
        let specs = self
            .plugin()
            .instantiate(0)
            .map_err(|error| HarnessError::Plugin(error.to_string()))?
            .declared_states()
            .to_vec();
        let snapshot = self.snapshot()?;
        let dir = snapshot
            .dir
            .clone()
            .ok_or_else(|| HarnessError::State("the operator wrote no state".into()))?;
        let work = dir.with_extension("view");
        let backend =
            open_backend(self.config().backend, &work, Some(&dir)).map_err(state_error)?;
        let max_key_groups = self.key_group_count();
        let mut state = SubtaskState::restore(backend, 0..max_key_groups).map_err(state_error)?;
        state.set_watermark(self.watermark());
        let editor = StateEditor {
            state,
            specs,
            max_key_groups,
            time: self.watermark().unwrap_or(0),
        };
        Ok((editor, snapshot))
    }

    /// Reads the state: `read` gets a [`StateEditor`] over a snapshot of it.
    ///
    /// # Errors
    /// When the plugin is not a keyed process function, or as `read` says.
    pub fn read_state<R>(
        &mut self,
        read: impl FnOnce(&mut StateEditor) -> Result<R, HarnessError>,
    ) -> Result<R, HarnessError> {
        let (mut editor, _snapshot) = self.open_state()?;
        read(&mut editor)
    }

    /// Changes the state: `edit` writes through a [`StateEditor`], and the operator is
    /// then restored from the result (a fresh instance, as after a restart).
    ///
    /// # Errors
    /// As for [`Harness::read_state`], or when the edited state does not restore.
    pub fn write_state(
        &mut self,
        edit: impl FnOnce(&mut StateEditor) -> Result<(), HarnessError>,
    ) -> Result<(), HarnessError> {
        let (mut editor, mut snapshot) = self.open_state()?;
        edit(&mut editor)?;
        let edited = snapshot
            .dir
            .as_ref()
            .map(|dir| dir.with_extension("edited"))
            .ok_or_else(|| HarnessError::State("the operator wrote no state".into()))?;
        let base = editor
            .state
            .backend
            .base_mut()
            .ok_or_else(|| HarnessError::State("an edit left writes pending".into()))?;
        base.snapshot_to(&edited).map_err(state_error)?;
        drop(editor);
        snapshot.dir = Some(edited);
        self.restore(&snapshot)
    }

    /// The value of value state `name` for `key`, as the plugin stored it.
    ///
    /// # Errors
    /// As for [`Harness::read_state`].
    pub fn value_state(&mut self, name: &str, key: &[u8]) -> Result<Option<Vec<u8>>, HarnessError> {
        self.read_state(|state| state.value(name, key))
    }

    /// The elements of list state `name` for `key`.
    ///
    /// # Errors
    /// As for [`Harness::read_state`].
    pub fn list_state(&mut self, name: &str, key: &[u8]) -> Result<Vec<Vec<u8>>, HarnessError> {
        self.read_state(|state| state.list(name, key))
    }

    /// The entries of map state `name` for `key`.
    ///
    /// # Errors
    /// As for [`Harness::read_state`].
    pub fn map_state(&mut self, name: &str, key: &[u8]) -> Result<Vec<MapEntry>, HarnessError> {
        self.read_state(|state| state.map(name, key))
    }

    /// The timers waiting to fire.
    ///
    /// # Errors
    /// As for [`Harness::read_state`].
    pub fn pending_timers(&mut self) -> Result<Vec<PendingTimer>, HarnessError> {
        self.read_state(|state| Ok(state.timers()))
    }
}
