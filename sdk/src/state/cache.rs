//! [`CallCache`]: value states read and written within one call of a keyed process
//! function, kept in the guest and written back to the host once, at the end of the call.
//!
//! A keyed process function typically reads its key's values, updates them and writes
//! them back for every event (an online model: read the weights, predict, learn, write).
//! Without the cache that is two host calls per value per event, each copying the value
//! across the component boundary; with it, a key's value crosses once in each direction
//! per call, however many of the call's events have that key. A value updated with
//! [`crate::ValueState::update`] is also decoded once per call and encoded once, at the
//! write-back, instead of once per event.
//!
//! Nothing changes for the plugin or the host:
//! - a scope of a keyed call stands for its event's (or timer's) key, so two scopes with
//!   the same key share one entry, as they share the host's;
//! - writes reach the host before the call returns, so the host sees them before any
//!   checkpoint barrier, as before;
//! - a call that fails writes nothing back, and the host rolls back what it has anyway;
//! - a value the host refuses (too large) fails the call at the write-back, naming the
//!   state, as `set` would have.
//!
//! Lists, maps and timers go straight to the host; `clear` does too, after dropping the
//! cached entry.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Error;
use crate::codec::Codec;
use crate::state::StateHost;
use crate::state::host::state_error;
use crate::wit::state::StateError;

/// Encodes a value held decoded (a `T` behind `dyn Any`); the state's name goes into
/// the error.
pub(crate) type EncodeAny = fn(&dyn Any, &str) -> Result<Vec<u8>, Error>;

/// The [`EncodeAny`] of a `T` stored with the codec `C`.
pub(crate) fn encode_any<T: 'static, C: Codec<T>>(
    value: &dyn Any,
    state: &str,
) -> Result<Vec<u8>, Error> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| Error::internal(format!("state `{state}`: cached as another type")))?;
    crate::codec::encode_to_vec::<T, C>(value, state)
}

/// A cached value: as bytes (read or written with `get`/`set`), or decoded (updated
/// with `update`).
pub(crate) enum Held {
    Bytes(Option<Vec<u8>>),
    Typed {
        value: Box<dyn Any>,
        encode: EncodeAny,
    },
}

impl Held {
    /// The value's bytes, encoding a decoded one.
    pub(crate) fn to_bytes(&self, state: &str) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Held::Bytes(bytes) => Ok(bytes.clone()),
            Held::Typed { value, encode } => encode(value.as_ref(), state).map(Some),
        }
    }
}

/// A value as the call last saw it.
struct Cached {
    state: u32,
    held: Held,
    /// The state's name, when the call wrote the value (so it must be written back).
    written_as: Option<String>,
}

/// The values of one key in the call.
struct Slot {
    /// A scope of the key, to read and write back through.
    scope: u32,
    /// Few per plugin: a list is faster than a map.
    values: Vec<Cached>,
}

impl Slot {
    /// The cached value of `state`, made by `load` (given the slot's scope) on first use.
    fn entry(
        &mut self,
        state: u32,
        load: impl FnOnce(u32) -> Result<Held, StateError>,
    ) -> Result<&mut Cached, StateError> {
        let index = match self.values.iter().position(|cached| cached.state == state) {
            Some(index) => index,
            None => {
                self.values.push(Cached {
                    state,
                    held: load(self.scope)?,
                    written_as: None,
                });
                self.values.len() - 1
            }
        };
        Ok(&mut self.values[index])
    }
}

impl Cached {
    /// Marks the value as written by the call, so it is written back.
    fn mark_written(&mut self, name: &str) {
        if self.written_as.is_none() {
            self.written_as = Some(name.to_owned());
        }
    }
}

/// The value states of one keyed call. Scopes with the same key share a slot; a scope
/// without a key (or past the end) bypasses the cache.
pub(crate) struct CallCache<'a> {
    host: &'a dyn StateHost,
    /// The slot of each scope.
    slot_of: Vec<Option<u32>>,
    slots: RefCell<Vec<Slot>>,
}

impl<'a> CallCache<'a> {
    /// A cache for a call whose scope `i` stands for `keys[i]`.
    pub(crate) fn new(
        host: &'a dyn StateHost,
        keys: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> Self {
        let mut slot_by_key: HashMap<&[u8], u32, BuildHasherDefault<FxHasher>> = HashMap::default();
        let mut slots = Vec::new();
        let slot_of = (0u32..)
            .zip(keys)
            .map(|(scope, key)| {
                let key = key?;
                Some(*slot_by_key.entry(key).or_insert_with(|| {
                    slots.push(Slot {
                        scope,
                        values: Vec::new(),
                    });
                    u32::try_from(slots.len() - 1).unwrap_or(u32::MAX)
                }))
            })
            .collect();
        CallCache {
            host,
            slot_of,
            slots: RefCell::new(slots),
        }
    }

    fn slot(&self, scope: u32) -> Option<usize> {
        self.slot_of
            .get(scope as usize)
            .copied()
            .flatten()
            .map(|slot| slot as usize)
    }

    /// The cached value of `state` in `slot`, loaded from the host on first use.
    fn cached<'s>(
        &self,
        slots: &'s mut [Slot],
        slot: usize,
        state: u32,
    ) -> Result<&'s mut Cached, StateError> {
        slots[slot].entry(state, |scope| self.host.get(state, scope).map(Held::Bytes))
    }

    /// Writes every value the call wrote back to the host.
    ///
    /// # Errors
    /// The first value the host refuses (or that does not encode), naming its state.
    pub(crate) fn write_back(self) -> Result<(), Error> {
        for slot in self.slots.into_inner() {
            for cached in slot.values {
                let Some(name) = cached.written_as else {
                    continue;
                };
                if let Some(value) = cached.held.to_bytes(&name)? {
                    self.host
                        .set(cached.state, slot.scope, &value, &name)
                        .map_err(|error| state_error(&name, error))?;
                }
            }
        }
        Ok(())
    }
}

impl StateHost for CallCache<'_> {
    fn declare(&self, spec: &crate::wit::state::StateSpec) -> Result<u32, StateError> {
        self.host.declare(spec)
    }

    fn get(&self, state: u32, scope: u32) -> Result<Option<Vec<u8>>, StateError> {
        let Some(slot) = self.slot(scope) else {
            return self.host.get(state, scope);
        };
        let mut slots = self.slots.borrow_mut();
        let cached = self.cached(&mut slots, slot, state)?;
        cached
            .held
            .to_bytes("cached value")
            .map_err(|error| StateError::Backend(error.to_string()))
    }

    fn set(&self, state: u32, scope: u32, value: &[u8], name: &str) -> Result<(), StateError> {
        let Some(slot) = self.slot(scope) else {
            return self.host.set(state, scope, value, name);
        };
        let mut slots = self.slots.borrow_mut();
        // Overwritten whole: nothing to load from the host.
        let cached = slots[slot].entry(state, |_| Ok(Held::Bytes(None)))?;
        match &mut cached.held {
            Held::Bytes(Some(held)) => {
                held.clear();
                held.extend_from_slice(value);
            }
            held => *held = Held::Bytes(Some(value.to_vec())),
        }
        cached.mark_written(name);
        Ok(())
    }

    fn update_cached(
        &self,
        state: u32,
        scope: u32,
        name: &str,
        update: &mut dyn FnMut(&mut Held) -> Result<(), Error>,
    ) -> Option<Result<(), Error>> {
        let slot = self.slot(scope)?;
        let mut slots = self.slots.borrow_mut();
        let cached = match self.cached(&mut slots, slot, state) {
            Ok(cached) => cached,
            Err(error) => return Some(Err(state_error(name, error))),
        };
        let result = update(&mut cached.held);
        if result.is_ok() {
            cached.mark_written(name);
        }
        Some(result)
    }

    fn clear(&self, state: u32, scope: u32) -> Result<(), StateError> {
        if let Some(slot) = self.slot(scope) {
            self.slots.borrow_mut()[slot]
                .values
                .retain(|cached| cached.state != state);
        }
        self.host.clear(state, scope)
    }

    fn list_get(&self, state: u32, scope: u32) -> Result<Vec<Vec<u8>>, StateError> {
        self.host.list_get(state, scope)
    }

    fn list_add(&self, state: u32, scope: u32, value: &[u8]) -> Result<(), StateError> {
        self.host.list_add(state, scope, value)
    }

    fn list_replace(&self, state: u32, scope: u32, values: &[Vec<u8>]) -> Result<(), StateError> {
        self.host.list_replace(state, scope, values)
    }

    fn map_get(&self, state: u32, scope: u32, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.host.map_get(state, scope, key)
    }

    fn map_put(&self, state: u32, scope: u32, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.host.map_put(state, scope, key, value)
    }

    fn map_remove(&self, state: u32, scope: u32, key: &[u8]) -> Result<(), StateError> {
        self.host.map_remove(state, scope, key)
    }

    fn map_entries(&self, state: u32, scope: u32) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StateError> {
        self.host.map_entries(state, scope)
    }
}

/// rustc's Fx hash: a multiply and a rotate per word, several times faster than the
/// standard SipHash on short keys. Not DoS-resistant, and need not be: a call's keys
/// are at most its batch, so the worst collision chain is bounded by the batch size.
#[derive(Default)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}
