//! [`StateHost`]: the state calls the SDK makes, behind a trait so that the typed
//! handles can be tested natively against an in-memory fake; [`WitState`] forwards them
//! to the host's `state` import.

use crate::state::cache::Held;
use crate::wit::state::{self as wit, StateError, StateSpec};

/// The `state` interface of `wit/state.wit`, one method per function, and a hook for
/// the call cache of keyed calls ([`crate::state::cache::CallCache`]).
pub(crate) trait StateHost {
    fn declare(&self, spec: &StateSpec) -> Result<u32, StateError>;
    fn get(&self, state: u32, scope: u32) -> Result<Option<Vec<u8>>, StateError>;
    /// `name` is the state's, for a caller that reports the error later
    /// ([`crate::state::cache::CallCache`]).
    fn set(&self, state: u32, scope: u32, value: &[u8], name: &str) -> Result<(), StateError>;
    fn clear(&self, state: u32, scope: u32) -> Result<(), StateError>;
    fn list_get(&self, state: u32, scope: u32) -> Result<Vec<Vec<u8>>, StateError>;
    fn list_add(&self, state: u32, scope: u32, value: &[u8]) -> Result<(), StateError>;
    fn list_replace(&self, state: u32, scope: u32, values: &[Vec<u8>]) -> Result<(), StateError>;
    fn map_get(&self, state: u32, scope: u32, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    fn map_put(&self, state: u32, scope: u32, key: &[u8], value: &[u8]) -> Result<(), StateError>;
    fn map_remove(&self, state: u32, scope: u32, key: &[u8]) -> Result<(), StateError>;
    #[allow(clippy::type_complexity)]
    fn map_entries(&self, state: u32, scope: u32) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StateError>;

    /// Runs `update` on the value of `state` in `scope` as the call's cache holds it,
    /// and marks it written when `update` succeeds. `None` when this host keeps no
    /// cache for the scope: the caller then reads and writes with `get` and `set`.
    fn update_cached(
        &self,
        _state: u32,
        _scope: u32,
        _name: &str,
        _update: &mut dyn FnMut(&mut Held) -> Result<(), crate::Error>,
    ) -> Option<Result<(), crate::Error>> {
        None
    }
}

/// The host's `state` import. Only the keyed and window glue make one, so plugins of
/// the other worlds never import `state`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WitState;

impl StateHost for WitState {
    fn declare(&self, spec: &StateSpec) -> Result<u32, StateError> {
        wit::declare(spec)
    }

    fn get(&self, state: u32, scope: u32) -> Result<Option<Vec<u8>>, StateError> {
        wit::get(state, scope)
    }

    fn set(&self, state: u32, scope: u32, value: &[u8], _name: &str) -> Result<(), StateError> {
        wit::set(state, scope, value)
    }

    fn clear(&self, state: u32, scope: u32) -> Result<(), StateError> {
        wit::clear(state, scope)
    }

    fn list_get(&self, state: u32, scope: u32) -> Result<Vec<Vec<u8>>, StateError> {
        wit::list_get(state, scope)
    }

    fn list_add(&self, state: u32, scope: u32, value: &[u8]) -> Result<(), StateError> {
        wit::list_add(state, scope, value)
    }

    fn list_replace(&self, state: u32, scope: u32, values: &[Vec<u8>]) -> Result<(), StateError> {
        wit::list_replace(state, scope, values)
    }

    fn map_get(&self, state: u32, scope: u32, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        wit::map_get(state, scope, key)
    }

    fn map_put(&self, state: u32, scope: u32, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        wit::map_put(state, scope, key, value)
    }

    fn map_remove(&self, state: u32, scope: u32, key: &[u8]) -> Result<(), StateError> {
        wit::map_remove(state, scope, key)
    }

    fn map_entries(&self, state: u32, scope: u32) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StateError> {
        wit::map_entries(state, scope)
    }
}

/// A state call's error as an SDK [`crate::Error`], naming the state.
pub(crate) fn state_error(name: &str, error: StateError) -> crate::Error {
    host_error(format_args!("state `{name}`"), error)
}

/// A state or timer call's error as an SDK [`crate::Error`], naming its `subject`.
/// A too-large value is the input's fault; the rest are internal.
pub(crate) fn host_error(subject: std::fmt::Arguments<'_>, error: StateError) -> crate::Error {
    let what = match error {
        StateError::DeclareOutsideInit => "states can be declared only in `init`".to_owned(),
        StateError::ConflictingDeclaration(message) => {
            format!("declared before with another kind or time to live: {message}")
        }
        StateError::UnknownState(id) => format!("the host does not know state id {id}"),
        StateError::WrongKind(id) => format!("state id {id} has another kind"),
        StateError::NoSuchScope(scope) => format!("scope {scope} is not part of this call"),
        StateError::TooLarge(limit) => {
            return crate::Error::invalid_input(format!(
                "{subject}: value or key larger than the host's limit of {limit} bytes"
            ));
        }
        StateError::Backend(message) => format!("state backend: {message}"),
    };
    crate::Error::internal(format!("{subject}: {what}"))
}
