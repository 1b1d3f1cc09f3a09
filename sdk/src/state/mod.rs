//! Keyed state kept by the host: [`StateRegistry`] declares states in `init`, and the
//! typed handles [`ValueState`], [`ListState`] and [`MapState`] read and write them for
//! the key (or key and window) that a context stands for.
//!
//! Values are encoded with a [`Codec`](crate::Codec), [`Postcard`] by default, so
//! plugins work with their own types; the `raw_*` declarations store bytes as they are.

pub(crate) mod cache;
mod handles;
pub(crate) mod host;
#[cfg(test)]
pub(crate) mod memory;

use std::time::Duration;

pub use handles::{ListState, MapState, ValueState};
pub(crate) use host::{StateHost, WitState};

use crate::Error;
use crate::codec::Raw;
use crate::wit::state::{StateKind, StateSpec};

/// Something that stands for one scope of the current call: a key in a keyed process
/// function ([`crate::KeyedContext`]), a key and window in a window process function
/// ([`crate::WindowContext`]). State handles read and write the scope's entries.
///
/// Implemented by the SDK's contexts only.
pub trait StateScope: sealed::Sealed {
    #[doc(hidden)]
    fn scope(&self) -> ScopeRef<'_>;
}

/// Which host and which scope a state call goes to (SDK-internal).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct ScopeRef<'a> {
    pub(crate) host: &'a dyn StateHost,
    pub(crate) index: u32,
}

impl std::fmt::Debug for ScopeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeRef")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// Declares the states of a plugin; given to `init` only, since the host accepts
/// declarations only there.
///
/// A state is identified by its name, not by the order of declaration: a new version
/// of the plugin that declares the same name with the same kind and time to live finds
/// the state the old one left.
///
/// ```no_run
/// # use weir_sdk::{Error, ListState, MapState, StateRegistry, ValueState};
/// # use std::time::Duration;
/// # fn declare(states: &mut StateRegistry<'_>) -> Result<(), Error> {
/// let last_seen: ValueState<i64> = states.value("last_seen").declare()?;
/// let recent: ListState<String> = states.list("recent").ttl(Duration::from_secs(600)).declare()?;
/// let counts: MapState<String, u64> = states.map("counts").declare()?;
/// # Ok(()) }
/// ```
pub struct StateRegistry<'a> {
    host: &'a dyn StateHost,
}

impl std::fmt::Debug for StateRegistry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateRegistry").finish_non_exhaustive()
    }
}

impl<'a> StateRegistry<'a> {
    pub(crate) fn new(host: &'a dyn StateHost) -> Self {
        StateRegistry { host }
    }

    /// A value state: one `T` per scope.
    pub fn value<T>(&mut self, name: &str) -> Declare<'_, ValueState<T>> {
        Declare::new(self.host, name)
    }

    /// A list state: an ordered list of `T` per scope.
    pub fn list<T>(&mut self, name: &str) -> Declare<'_, ListState<T>> {
        Declare::new(self.host, name)
    }

    /// A map state: a map from `K` to `V` per scope.
    pub fn map<K, V>(&mut self, name: &str) -> Declare<'_, MapState<K, V>> {
        Declare::new(self.host, name)
    }

    /// A value state of bytes stored as they are.
    pub fn raw_value(&mut self, name: &str) -> Declare<'_, ValueState<Vec<u8>, Raw>> {
        Declare::new(self.host, name)
    }

    /// A list state of byte strings stored as they are.
    pub fn raw_list(&mut self, name: &str) -> Declare<'_, ListState<Vec<u8>, Raw>> {
        Declare::new(self.host, name)
    }

    /// A map state whose keys and values are bytes stored as they are (entries come
    /// back ordered by key bytes).
    pub fn raw_map(&mut self, name: &str) -> Declare<'_, MapState<Vec<u8>, Vec<u8>, Raw>> {
        Declare::new(self.host, name)
    }
}

/// A state about to be declared; set its time to live, then [`Declare::declare`] it.
#[must_use = "a state is declared only by `.declare()`"]
pub struct Declare<'a, H> {
    host: &'a dyn StateHost,
    name: String,
    ttl_ms: Option<u64>,
    handle: std::marker::PhantomData<fn() -> H>,
}

impl<H> std::fmt::Debug for Declare<'_, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declare")
            .field("name", &self.name)
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl<'a, H: StateHandle> Declare<'a, H> {
    fn new(host: &'a dyn StateHost, name: &str) -> Self {
        Declare {
            host,
            name: name.to_owned(),
            ttl_ms: None,
            handle: std::marker::PhantomData,
        }
    }

    /// Entries expire `ttl` of *event time* after they were last written: once the
    /// operator's watermark passes `max(t, watermark at the write) + ttl`, where `t` is
    /// the time of what was being handled (event, timer, window). An expired entry
    /// reads as absent. Precision is a millisecond; a TTL below one rounds up to one.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.ttl_ms = Some(millis.max(1));
        self
    }

    /// Declares the state to the host and returns its handle.
    ///
    /// # Errors
    /// When the name was declared before with another kind or time to live.
    pub fn declare(self) -> Result<H, Error> {
        let spec = StateSpec {
            name: self.name,
            kind: H::KIND,
            ttl_ms: self.ttl_ms,
        };
        let id = self
            .host
            .declare(&spec)
            .map_err(|error| host::state_error(&spec.name, error))?;
        Ok(H::from_id(id, spec.name))
    }
}

/// A typed handle of one kind of state (implemented by the SDK's handles).
pub trait StateHandle: handles::sealed::Sealed {
    #[doc(hidden)]
    const KIND: StateKind;
    #[doc(hidden)]
    fn from_id(id: u32, name: String) -> Self;
}

#[cfg(test)]
mod tests;
