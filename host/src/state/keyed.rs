//! [`KeyedState`]: typed keyed state — values, lists and maps — over any
//! [`StateBackend`], with time to live in event time.
//!
//! Every entry is scoped `(key group, key, namespace, state name)` ([`Scope`],
//! [`StateSpec`]) and laid out by [`encoding`]:
//! - a **value** is one entry at the state prefix;
//! - a **map** is one entry per map key, at the state prefix followed by the map key,
//!   so entries come back ordered by map key and are read and written one by one;
//! - a **list** is one entry per element, at the state prefix followed by a `u64` BE
//!   sequence number, plus a small *meta* entry at the bare state prefix holding the
//!   next sequence number. An append reads the meta entry (a point lookup, which
//!   RocksDB answers from its bloom filters) and writes two small entries: it never
//!   rewrites the list, whatever its length. A read is one prefix scan: the meta entry
//!   sorts first, then the elements in the order they were added.
//!
//! **Time to live** counts in event time, so a replay gives the same answers. An entry
//! written with scope time `t` while the watermark is `w` expires at
//! `max(t, w) + ttl`; it reads as absent once `watermark >= expiry`. For states with a
//! TTL (only those) every stored value starts with an 8-byte header: the expiry as an
//! `i64` BE. Expired entries are deleted lazily, when an operation comes across them.
//! A list's meta entry carries the latest expiry of its elements, so when it has
//! expired the whole list has, and is dropped in one prefix deletion.
//!
//! Laws (tested here and in the conformance suite): what was written reads back until
//! it is overwritten, cleared or expired; `list_get` returns the elements in the order
//! they were added; `map_entries` is ordered by map key; `clear_namespace` removes every
//! state of that key and namespace and nothing else; no entry is visible once the
//! watermark reaches its expiry.
//!
//! Sizes are guest-controlled, so they are clamped: values up to [`MAX_VALUE_LEN`],
//! keys, namespaces and map keys up to [`MAX_KEY_LEN`](super::encoding::MAX_KEY_LEN),
//! and one `list_get` or `map_entries` answer up to [`MAX_READ_LEN`] (a guest could
//! not take more into its memory anyway). An oversized write is refused before
//! anything is written.
//!
//! Changing a state's kind or switching its TTL on or off across plugin versions makes
//! its stored entries unreadable ([`StateError::Corrupt`] or wrong answers): the plugin
//! host must refuse such a declaration for an existing state.

use weir_batch::Timestamp;

use super::ttl::{self, Sweep, TTL_HEADER_LEN, framed, is_expired, split_header};
use super::{KeyGroup, StateBackend, StateError, encoding};

/// Largest value (or list element) a state stores, in bytes (16 MiB).
pub const MAX_VALUE_LEN: usize = 16 << 20;
/// Largest answer of one [`KeyedState::list_get`] or [`KeyedState::map_entries`], in
/// bytes of keys and values plus [`READ_OVERHEAD`] per element or entry (64 MiB).
pub const MAX_READ_LEN: usize = 64 << 20;
/// What one element or entry of an answer counts towards [`MAX_READ_LEN`] besides its
/// bytes — about its `(pointer, length)` in the guest's memory — so that a list of
/// empty elements cannot grow an answer without bound.
pub const READ_OVERHEAD: usize = 8;

const SEQ_LEN: usize = 8;

/// One entry of a map state: `(map key, value)`.
pub type MapEntry = (Vec<u8>, Vec<u8>);

/// The shape of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// One value per scope.
    Value,
    /// An ordered list of values per scope; appends are cheap.
    List,
    /// A map from byte keys to values per scope.
    Map,
}

/// A state an operator uses. The name identifies it across restarts and versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateSpec {
    /// Unique within the operator.
    pub name: String,
    /// Its shape.
    pub kind: StateKind,
    /// Entries expire this many ms of event time after they were written; `None`:
    /// never.
    pub ttl_ms: Option<u64>,
}

impl StateSpec {
    /// A state without time to live.
    pub fn new(name: impl Into<String>, kind: StateKind) -> Self {
        StateSpec {
            name: name.into(),
            kind,
            ttl_ms: None,
        }
    }

    /// The same state with entries expiring `ttl_ms` after they are written.
    pub fn with_ttl(mut self, ttl_ms: u64) -> Self {
        self.ttl_ms = Some(ttl_ms);
        self
    }
}

/// Which key (and window) an operation is about, and the event time of what is being
/// handled: the event's timestamp, the timer's time or the window's last ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The key group of `key`: [`key_group_of`](super::key_group_of)`(key,
    /// max_key_groups)`, computed once per event by the caller (not checked here).
    pub key_group: KeyGroup,
    /// The record key.
    pub key: &'a [u8],
    /// The window, or empty.
    pub namespace: &'a [u8],
    /// Event time of what is being handled; TTL counts from it.
    pub time: Timestamp,
}

/// Typed keyed state of one operator subtask. Holds the watermark (for TTL) and
/// reusable buffers; the backend (usually a transaction
/// [`Overlay`](super::Overlay)) is passed to each operation.
///
/// ```
/// use weir_host::state::{KeyedState, MemoryBackend, Scope, StateKind, StateSpec};
///
/// let mut backend = MemoryBackend::new();
/// let mut state = KeyedState::new();
/// let seen = StateSpec::new("seen", StateKind::List).with_ttl(1_000);
/// let scope = Scope { key_group: 7, key: b"card-1", namespace: b"", time: 5_000 };
/// state.list_add(&mut backend, &seen, &scope, b"tx-1")?;
/// state.list_add(&mut backend, &seen, &scope, b"tx-2")?;
/// assert_eq!(state.list_get(&mut backend, &seen, &scope)?, [b"tx-1".to_vec(), b"tx-2".to_vec()]);
///
/// state.set_watermark(Some(6_000)); // max(5_000, no watermark) + 1_000: expired
/// assert!(state.list_get(&mut backend, &seen, &scope)?.is_empty());
/// assert!(backend.is_empty(), "expired entries are deleted when read");
/// # Ok::<(), weir_host::state::StateError>(())
/// ```
#[derive(Debug, Default)]
pub struct KeyedState {
    watermark: Option<Timestamp>,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl KeyedState {
    /// Keyed state before the first watermark.
    pub fn new() -> Self {
        KeyedState::default()
    }

    /// The watermark TTL is measured against; `None` before the first one.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.watermark
    }

    /// Sets the operator's current watermark (it never goes backwards).
    pub fn set_watermark(&mut self, watermark: Option<Timestamp>) {
        self.watermark = watermark;
    }

    /// The value of a value state, or `None`.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, or a backend failure.
    pub fn value_get<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.state_key(spec, StateKind::Value, scope)?;
        self.read_entry(backend, spec)
    }

    /// Sets the value of a value state.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, or a backend failure.
    pub fn value_set<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        value: &[u8],
    ) -> Result<(), StateError> {
        StateError::check_len("value", value.len(), MAX_VALUE_LEN)?;
        self.state_key(spec, StateKind::Value, scope)?;
        let expiry = self.expiry(spec, scope);
        backend.put(&self.key, framed(&mut self.value, expiry, value))
    }

    /// Removes everything `spec` holds for the scope, whatever its kind.
    ///
    /// # Errors
    /// A part over its limit, or a backend failure.
    pub fn clear<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
    ) -> Result<(), StateError> {
        self.state_key(spec, spec.kind, scope)?;
        match spec.kind {
            StateKind::Value => backend.delete(&self.key),
            StateKind::List | StateKind::Map => backend.delete_prefix(&self.key),
        }
    }

    /// Removes every state of `(key, namespace)` (not its timers): purging a window.
    ///
    /// # Errors
    /// A part over its limit, or a backend failure.
    pub fn clear_namespace<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        key_group: KeyGroup,
        key: &[u8],
        namespace: &[u8],
    ) -> Result<(), StateError> {
        self.key.clear();
        encoding::namespace_prefix(&mut self.key, key_group, key, namespace)?;
        backend.delete_prefix(&self.key)
    }

    /// The elements of a list state in the order they were added (empty if none).
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, an answer over [`MAX_READ_LEN`], corrupt
    /// entries, or a backend failure.
    pub fn list_get<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
    ) -> Result<Vec<Vec<u8>>, StateError> {
        self.state_key(spec, StateKind::List, scope)?;
        let mut elements = Vec::new();
        let mut sweep = Sweep::new(spec, self.watermark, Some(self.key.len()));
        backend.scan_prefix(&self.key, &mut |key, stored| {
            sweep.visit(key, stored, |_, value| {
                elements.push(value.to_vec());
                value.len() + READ_OVERHEAD
            })
        })?;
        if sweep.finish(backend, &self.key)? {
            elements.clear();
        }
        Ok(elements)
    }

    /// Appends one element to a list state.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, a corrupt meta entry, or a backend failure.
    pub fn list_add<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        value: &[u8],
    ) -> Result<(), StateError> {
        StateError::check_len("value", value.len(), MAX_VALUE_LEN)?;
        self.state_key(spec, StateKind::List, scope)?;
        let expiry = self.expiry(spec, scope);
        let (seq, meta_expiry) = match backend.get(&self.key)? {
            None => (0, expiry),
            Some(meta) => {
                let (old_expiry, body) = split_header(spec, &meta)?;
                if old_expiry.is_some_and(|old| is_expired(self.watermark, old)) {
                    // Every element has expired with the meta entry: start afresh.
                    backend.delete_prefix(&self.key)?;
                    (0, expiry)
                } else {
                    let seq = <[u8; SEQ_LEN]>::try_from(body).map_err(|_| StateError::Corrupt {
                        reason: "list meta entry",
                    })?;
                    (u64::from_be_bytes(seq), old_expiry.max(expiry))
                }
            }
        };
        let next = seq.checked_add(1).ok_or(StateError::Corrupt {
            reason: "list sequence number overflow",
        })?;
        let meta_len = self.key.len();
        self.key.extend_from_slice(&seq.to_be_bytes());
        backend.put(&self.key, framed(&mut self.value, expiry, value))?;
        self.key.truncate(meta_len);
        backend.put(
            &self.key,
            framed(&mut self.value, meta_expiry, &next.to_be_bytes()),
        )
    }

    /// Replaces all elements of a list state.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit (then nothing is written), or a backend
    /// failure.
    pub fn list_replace<B: StateBackend + ?Sized, V: AsRef<[u8]>>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        values: &[V],
    ) -> Result<(), StateError> {
        for value in values {
            StateError::check_len("value", value.as_ref().len(), MAX_VALUE_LEN)?;
        }
        self.state_key(spec, StateKind::List, scope)?;
        backend.delete_prefix(&self.key)?;
        if values.is_empty() {
            return Ok(());
        }
        let expiry = self.expiry(spec, scope);
        let meta_len = self.key.len();
        for (seq, value) in (0u64..).zip(values) {
            self.key.extend_from_slice(&seq.to_be_bytes());
            backend.put(&self.key, framed(&mut self.value, expiry, value.as_ref()))?;
            self.key.truncate(meta_len);
        }
        let next = values.len() as u64;
        backend.put(
            &self.key,
            framed(&mut self.value, expiry, &next.to_be_bytes()),
        )
    }

    /// One entry of a map state, or `None`.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, or a backend failure.
    pub fn map_get<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        user_key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.map_key(spec, scope, user_key)?;
        self.read_entry(backend, spec)
    }

    /// Sets one entry of a map state.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, or a backend failure.
    pub fn map_put<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        user_key: &[u8],
        value: &[u8],
    ) -> Result<(), StateError> {
        StateError::check_len("value", value.len(), MAX_VALUE_LEN)?;
        self.map_key(spec, scope, user_key)?;
        let expiry = self.expiry(spec, scope);
        backend.put(&self.key, framed(&mut self.value, expiry, value))
    }

    /// Removes one entry of a map state (nothing happens if it is absent).
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, or a backend failure.
    pub fn map_remove<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
        user_key: &[u8],
    ) -> Result<(), StateError> {
        self.map_key(spec, scope, user_key)?;
        backend.delete(&self.key)
    }

    /// All live entries of a map state, ordered by map key.
    ///
    /// # Errors
    /// Wrong kind, a part over its limit, an answer over [`MAX_READ_LEN`], corrupt
    /// entries, or a backend failure.
    pub fn map_entries<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
        scope: &Scope<'_>,
    ) -> Result<Vec<MapEntry>, StateError> {
        self.state_key(spec, StateKind::Map, scope)?;
        let prefix_len = self.key.len();
        let mut entries = Vec::new();
        let mut sweep = Sweep::new(spec, self.watermark, None);
        backend.scan_prefix(&self.key, &mut |key, stored| {
            sweep.visit(key, stored, |key, value| {
                let user_key = &key[prefix_len..];
                entries.push((user_key.to_vec(), value.to_vec()));
                user_key.len() + value.len() + 2 * READ_OVERHEAD
            })
        })?;
        sweep.finish(backend, &self.key)?;
        Ok(entries)
    }

    /// Encodes the state prefix of `(spec, scope)` into `self.key`, after checking that
    /// `spec` is a `kind` state.
    fn state_key(
        &mut self,
        spec: &StateSpec,
        kind: StateKind,
        scope: &Scope<'_>,
    ) -> Result<(), StateError> {
        if spec.kind != kind {
            return Err(StateError::WrongKind {
                name: spec.name.clone(),
                declared: spec.kind,
                used_as: kind,
            });
        }
        self.key.clear();
        encoding::state_prefix(
            &mut self.key,
            scope.key_group,
            scope.key,
            scope.namespace,
            &spec.name,
        )
    }

    fn map_key(
        &mut self,
        spec: &StateSpec,
        scope: &Scope<'_>,
        user_key: &[u8],
    ) -> Result<(), StateError> {
        StateError::check_len("map key", user_key.len(), encoding::MAX_KEY_LEN)?;
        self.state_key(spec, StateKind::Map, scope)?;
        self.key.extend_from_slice(user_key);
        Ok(())
    }

    /// Reads the entry at `self.key`, dropping it if it has expired.
    fn read_entry<B: StateBackend + ?Sized>(
        &mut self,
        backend: &mut B,
        spec: &StateSpec,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let Some(mut stored) = backend.get(&self.key)? else {
            return Ok(None);
        };
        if let (Some(expiry), _) = split_header(spec, &stored)? {
            if is_expired(self.watermark, expiry) {
                backend.delete(&self.key)?;
                return Ok(None);
            }
            stored.drain(..TTL_HEADER_LEN);
        }
        Ok(Some(stored))
    }

    /// When an entry written now in `scope` expires, for a state with a TTL.
    fn expiry(&self, spec: &StateSpec, scope: &Scope<'_>) -> Option<Timestamp> {
        Some(ttl::expiry(spec.ttl_ms?, self.watermark, scope.time))
    }
}
