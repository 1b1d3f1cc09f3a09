//! Host side of `weir:operator/state` and `weir:operator/timers`: the plugin names a
//! state (by the id `declare` gave it) and a *scope* (an index into the current call's
//! keys); this file checks both — they are guest-controlled — and hands the operation
//! to the operator's [`KeyedStore`], which owns the state backend and the timers.
//!
//! The store is lent to the instance for one call ([`StateCtx::lend`]) and taken back
//! after it, so an instance that is dropped after a trap takes nothing with it.

use weir_batch::Timestamp;

use super::bindings::keyed::weir::operator::state::{
    Host as StateHost, Scope, StateError, StateId, StateKind as WitStateKind,
    StateSpec as WitStateSpec,
};
use super::bindings::keyed::weir::operator::timers::{Host as TimersHost, TimeDomain};
use super::store::HostCtx;
pub use crate::state::StateSpec;
pub use crate::state::TimeDomain as TimerDomain;
use crate::state::keyed::MapEntry;
use crate::state::{KeyGroup, StateKind};

/// Largest value (or list element) a plugin may store; the guest controls the length.
pub const MAX_VALUE_BYTES: usize = 8 << 20;
/// Largest map key a plugin may use.
pub const MAX_MAP_KEY_BYTES: usize = 64 << 10;
/// Most states one plugin may declare.
pub const MAX_STATES: usize = 256;
/// Longest state name.
pub const MAX_STATE_NAME: usize = 128;

/// Which key (and namespace) scope `i` of a call means, and the event time it is
/// handled at (for time to live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallScope {
    pub key_group: KeyGroup,
    pub key: Vec<u8>,
    /// Empty outside windows; the window's encoding inside them.
    pub namespace: Vec<u8>,
    pub time: Timestamp,
}

/// Where a plugin's state and timer calls go: the operator's keyed state, inside the
/// transaction of the current call (so that a failed call leaves nothing behind).
/// Errors are messages for the `backend` state error.
pub trait KeyedStore: Send + std::any::Any {
    fn value_get(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
    ) -> Result<Option<Vec<u8>>, String>;
    fn value_set(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        value: &[u8],
    ) -> Result<(), String>;
    fn clear(&mut self, state: &StateSpec, scope: &CallScope) -> Result<(), String>;
    fn list_get(&mut self, state: &StateSpec, scope: &CallScope) -> Result<Vec<Vec<u8>>, String>;
    fn list_add(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        value: &[u8],
    ) -> Result<(), String>;
    fn list_replace(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        values: &[Vec<u8>],
    ) -> Result<(), String>;
    fn map_get(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, String>;
    fn map_put(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), String>;
    fn map_remove(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
        key: &[u8],
    ) -> Result<(), String>;
    fn map_entries(
        &mut self,
        state: &StateSpec,
        scope: &CallScope,
    ) -> Result<Vec<MapEntry>, String>;
    fn register_timer(
        &mut self,
        scope: &CallScope,
        domain: TimerDomain,
        at: Timestamp,
    ) -> Result<(), String>;
    fn delete_timer(
        &mut self,
        scope: &CallScope,
        domain: TimerDomain,
        at: Timestamp,
    ) -> Result<(), String>;
}

/// The state capability of one instance.
#[derive(Default)]
pub struct StateCtx {
    /// States declared by this instance's `init`; the id is the index.
    declared: Vec<StateSpec>,
    in_init: bool,
    /// What the scopes of the current call mean.
    scopes: Vec<CallScope>,
    store: Option<Box<dyn KeyedStore>>,
    watermark: Option<Timestamp>,
    /// Timer calls are refused outside keyed process functions.
    timers_allowed: bool,
}

impl std::fmt::Debug for StateCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCtx")
            .field("declared", &self.declared)
            .field("scopes", &self.scopes.len())
            .field("lent", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl StateCtx {
    pub(crate) fn set_in_init(&mut self, in_init: bool) {
        self.in_init = in_init;
    }

    /// The states the instance declared, by id.
    pub fn declared(&self) -> &[StateSpec] {
        &self.declared
    }

    /// Lends `store` for one call whose scopes are `scopes`, at `watermark`.
    pub fn lend(
        &mut self,
        store: Box<dyn KeyedStore>,
        scopes: Vec<CallScope>,
        watermark: Option<Timestamp>,
        timers_allowed: bool,
    ) {
        self.store = Some(store);
        self.scopes = scopes;
        self.watermark = watermark;
        self.timers_allowed = timers_allowed;
    }

    /// Takes the store back after the call, with the scopes (to reuse their buffers).
    pub fn take(&mut self) -> Option<(Box<dyn KeyedStore>, Vec<CallScope>)> {
        let store = self.store.take()?;
        Some((store, std::mem::take(&mut self.scopes)))
    }

    /// The state `id` if it exists and has `kind` (`None` = any kind), with the scope
    /// and the store; every argument comes from the guest and is checked here.
    fn resolve(
        &mut self,
        id: StateId,
        kind: Option<StateKind>,
        scope: Scope,
    ) -> Result<(&StateSpec, &CallScope, &mut dyn KeyedStore), StateError> {
        let state = self
            .declared
            .get(id as usize)
            .ok_or(StateError::UnknownState(id))?;
        if kind.is_some_and(|kind| kind != state.kind) {
            return Err(StateError::WrongKind(id));
        }
        let call_scope = self
            .scopes
            .get(scope as usize)
            .ok_or(StateError::NoSuchScope(scope))?;
        let store = self.store.as_deref_mut().ok_or_else(not_lent)?;
        Ok((state, call_scope, store))
    }
}

/// A state call in a call the host lent no state to (e.g. `init`).
fn not_lent() -> StateError {
    StateError::Backend("no keyed state is available in this call".into())
}

fn backend(message: String) -> StateError {
    StateError::Backend(message)
}

fn check_value(value: &[u8]) -> Result<(), StateError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StateError::TooLarge(MAX_VALUE_BYTES as u32));
    }
    Ok(())
}

fn check_map_key(key: &[u8]) -> Result<(), StateError> {
    if key.len() > MAX_MAP_KEY_BYTES {
        return Err(StateError::TooLarge(MAX_MAP_KEY_BYTES as u32));
    }
    Ok(())
}

impl StateHost for HostCtx {
    fn declare(&mut self, spec: WitStateSpec) -> Result<StateId, StateError> {
        let ctx = &mut self.state;
        if !ctx.in_init {
            return Err(StateError::DeclareOutsideInit);
        }
        let kind = match spec.kind {
            WitStateKind::Value => StateKind::Value,
            WitStateKind::List => StateKind::List,
            WitStateKind::Map => StateKind::Map,
        };
        if let Some(id) = ctx
            .declared
            .iter()
            .position(|state| state.name == spec.name)
        {
            let earlier = &ctx.declared[id];
            if earlier.kind != kind || earlier.ttl_ms != spec.ttl_ms {
                return Err(StateError::ConflictingDeclaration(format!(
                    "state `{}` was declared as {:?} with ttl {:?}",
                    earlier.name, earlier.kind, earlier.ttl_ms
                )));
            }
            return Ok(id as StateId);
        }
        if spec.name.is_empty() || spec.name.len() > MAX_STATE_NAME {
            return Err(StateError::ConflictingDeclaration(format!(
                "a state name has 1 to {MAX_STATE_NAME} bytes"
            )));
        }
        if ctx.declared.len() >= MAX_STATES {
            return Err(StateError::TooLarge(MAX_STATES as u32));
        }
        let mut declared = StateSpec::new(spec.name, kind);
        declared.ttl_ms = spec.ttl_ms;
        ctx.declared.push(declared);
        Ok((ctx.declared.len() - 1) as StateId)
    }

    fn get(&mut self, state: StateId, scope: Scope) -> Result<Option<Vec<u8>>, StateError> {
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Value), scope)?;
        store.value_get(state, scope).map_err(backend)
    }

    fn set(&mut self, state: StateId, scope: Scope, value: Vec<u8>) -> Result<(), StateError> {
        check_value(&value)?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Value), scope)?;
        store.value_set(state, scope, &value).map_err(backend)
    }

    fn clear(&mut self, state: StateId, scope: Scope) -> Result<(), StateError> {
        let (state, scope, store) = self.state.resolve(state, None, scope)?;
        store.clear(state, scope).map_err(backend)
    }

    fn list_get(&mut self, state: StateId, scope: Scope) -> Result<Vec<Vec<u8>>, StateError> {
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::List), scope)?;
        store.list_get(state, scope).map_err(backend)
    }

    fn list_add(&mut self, state: StateId, scope: Scope, value: Vec<u8>) -> Result<(), StateError> {
        check_value(&value)?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::List), scope)?;
        store.list_add(state, scope, &value).map_err(backend)
    }

    fn list_replace(
        &mut self,
        state: StateId,
        scope: Scope,
        values: Vec<Vec<u8>>,
    ) -> Result<(), StateError> {
        values.iter().try_for_each(|value| check_value(value))?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::List), scope)?;
        store.list_replace(state, scope, &values).map_err(backend)
    }

    fn map_get(
        &mut self,
        state: StateId,
        scope: Scope,
        key: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StateError> {
        check_map_key(&key)?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Map), scope)?;
        store.map_get(state, scope, &key).map_err(backend)
    }

    fn map_put(
        &mut self,
        state: StateId,
        scope: Scope,
        key: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<(), StateError> {
        check_map_key(&key)?;
        check_value(&value)?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Map), scope)?;
        store.map_put(state, scope, &key, &value).map_err(backend)
    }

    fn map_remove(&mut self, state: StateId, scope: Scope, key: Vec<u8>) -> Result<(), StateError> {
        check_map_key(&key)?;
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Map), scope)?;
        store.map_remove(state, scope, &key).map_err(backend)
    }

    fn map_entries(
        &mut self,
        state: StateId,
        scope: Scope,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StateError> {
        let (state, scope, store) = self.state.resolve(state, Some(StateKind::Map), scope)?;
        store.map_entries(state, scope).map_err(backend)
    }
}

impl StateCtx {
    fn timer_call(
        &mut self,
        scope: Scope,
    ) -> Result<(&CallScope, &mut dyn KeyedStore), StateError> {
        if !self.timers_allowed {
            return Err(StateError::Backend(
                "timers are only available to keyed process functions".into(),
            ));
        }
        let call_scope = self
            .scopes
            .get(scope as usize)
            .ok_or(StateError::NoSuchScope(scope))?;
        let store = self.store.as_deref_mut().ok_or_else(not_lent)?;
        Ok((call_scope, store))
    }
}

fn domain(domain: TimeDomain) -> TimerDomain {
    match domain {
        TimeDomain::EventTime => TimerDomain::EventTime,
        TimeDomain::ProcessingTime => TimerDomain::ProcessingTime,
    }
}

impl TimersHost for HostCtx {
    fn register(&mut self, scope: Scope, on: TimeDomain, at: i64) -> Result<(), StateError> {
        let (scope, store) = self.state.timer_call(scope)?;
        store.register_timer(scope, domain(on), at).map_err(backend)
    }

    fn delete(&mut self, scope: Scope, on: TimeDomain, at: i64) -> Result<(), StateError> {
        let (scope, store) = self.state.timer_call(scope)?;
        store.delete_timer(scope, domain(on), at).map_err(backend)
    }

    fn watermark(&mut self) -> Option<i64> {
        self.state.watermark
    }

    fn processing_time(&mut self) -> i64 {
        processing_time_ms()
    }
}

/// The processing time plugins see: the host's wall clock in ms since the Unix
/// epoch, or the test harness's manual clock (see [`super::clock`]).
pub fn processing_time_ms() -> Timestamp {
    super::clock::processing_time_ms()
}
