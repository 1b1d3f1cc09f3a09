//! An in-memory [`StateHost`] for the SDK's native tests: one entry per (state, scope),
//! checked for kind as the host does.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::state::StateHost;
use crate::wit::state::{StateError, StateKind, StateSpec};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    Value(Vec<u8>),
    List(Vec<Vec<u8>>),
    Map(BTreeMap<Vec<u8>, Vec<u8>>),
}

/// States by id (the position in `specs`), entries by (state, scope).
#[derive(Debug, Default)]
pub(crate) struct MemoryState {
    pub(crate) specs: RefCell<Vec<StateSpec>>,
    pub(crate) entries: RefCell<BTreeMap<(u32, u32), Entry>>,
    /// Scopes at or past this do not exist in the current call.
    pub(crate) scopes: u32,
    /// Values longer than this are refused as too large, as the host refuses them.
    pub(crate) value_limit: Option<u32>,
}

impl MemoryState {
    pub(crate) fn with_scopes(scopes: u32) -> Self {
        MemoryState {
            scopes,
            ..MemoryState::default()
        }
    }

    fn check(&self, state: u32, scope: u32, kind: StateKind) -> Result<(), StateError> {
        let specs = self.specs.borrow();
        let spec = specs
            .get(state as usize)
            .ok_or(StateError::UnknownState(state))?;
        if spec.kind != kind {
            return Err(StateError::WrongKind(state));
        }
        if scope >= self.scopes {
            return Err(StateError::NoSuchScope(scope));
        }
        Ok(())
    }

    fn with_entry<R>(
        &self,
        state: u32,
        scope: u32,
        kind: StateKind,
        f: impl FnOnce(&mut Option<Entry>) -> R,
    ) -> Result<R, StateError> {
        self.check(state, scope, kind)?;
        let mut entries = self.entries.borrow_mut();
        let mut entry = entries.remove(&(state, scope));
        let result = f(&mut entry);
        if let Some(entry) = entry {
            entries.insert((state, scope), entry);
        }
        Ok(result)
    }
}

impl StateHost for MemoryState {
    fn declare(&self, spec: &StateSpec) -> Result<u32, StateError> {
        let mut specs = self.specs.borrow_mut();
        if let Some(position) = specs.iter().position(|known| known.name == spec.name) {
            let known = &specs[position];
            return if known.kind == spec.kind && known.ttl_ms == spec.ttl_ms {
                Ok(position as u32)
            } else {
                Err(StateError::ConflictingDeclaration(spec.name.clone()))
            };
        }
        specs.push(spec.clone());
        Ok(specs.len() as u32 - 1)
    }

    fn get(&self, state: u32, scope: u32) -> Result<Option<Vec<u8>>, StateError> {
        self.with_entry(state, scope, StateKind::Value, |entry| match entry {
            Some(Entry::Value(value)) => Some(value.clone()),
            _ => None,
        })
    }

    fn set(&self, state: u32, scope: u32, value: &[u8], _name: &str) -> Result<(), StateError> {
        if let Some(limit) = self.value_limit
            && value.len() > limit as usize
        {
            return Err(StateError::TooLarge(limit));
        }
        self.with_entry(state, scope, StateKind::Value, |entry| {
            *entry = Some(Entry::Value(value.to_vec()));
        })
    }

    fn clear(&self, state: u32, scope: u32) -> Result<(), StateError> {
        let kind = self
            .specs
            .borrow()
            .get(state as usize)
            .map(|spec| spec.kind)
            .ok_or(StateError::UnknownState(state))?;
        self.with_entry(state, scope, kind, |entry| *entry = None)
    }

    fn list_get(&self, state: u32, scope: u32) -> Result<Vec<Vec<u8>>, StateError> {
        self.with_entry(state, scope, StateKind::List, |entry| match entry {
            Some(Entry::List(values)) => values.clone(),
            _ => Vec::new(),
        })
    }

    fn list_add(&self, state: u32, scope: u32, value: &[u8]) -> Result<(), StateError> {
        self.with_entry(state, scope, StateKind::List, |entry| match entry {
            Some(Entry::List(values)) => values.push(value.to_vec()),
            _ => *entry = Some(Entry::List(vec![value.to_vec()])),
        })
    }

    fn list_replace(&self, state: u32, scope: u32, values: &[Vec<u8>]) -> Result<(), StateError> {
        self.with_entry(state, scope, StateKind::List, |entry| {
            *entry = Some(Entry::List(values.to_vec()));
        })
    }

    fn map_get(&self, state: u32, scope: u32, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.with_entry(state, scope, StateKind::Map, |entry| match entry {
            Some(Entry::Map(map)) => map.get(key).cloned(),
            _ => None,
        })
    }

    fn map_put(&self, state: u32, scope: u32, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.with_entry(state, scope, StateKind::Map, |entry| match entry {
            Some(Entry::Map(map)) => {
                map.insert(key.to_vec(), value.to_vec());
            }
            _ => *entry = Some(Entry::Map(BTreeMap::from([(key.to_vec(), value.to_vec())]))),
        })
    }

    fn map_remove(&self, state: u32, scope: u32, key: &[u8]) -> Result<(), StateError> {
        self.with_entry(state, scope, StateKind::Map, |entry| {
            if let Some(Entry::Map(map)) = entry {
                map.remove(key);
            }
        })
    }

    fn map_entries(&self, state: u32, scope: u32) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StateError> {
        self.with_entry(state, scope, StateKind::Map, |entry| match entry {
            Some(Entry::Map(map)) => map.clone().into_iter().collect(),
            _ => Vec::new(),
        })
    }
}
