//! The typed state handles. Each holds the id the host gave its state in `init`, and
//! passes the scope of the context it is given to every call.

use crate::Error;
use crate::codec::{Codec, Marker, Postcard, decode_from, encode_to_vec};
use crate::state::cache::{Held, encode_any};
use crate::state::host::state_error;
use crate::state::{ScopeRef, StateHandle, StateScope};
use crate::wit::state::StateKind;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// One `T` per scope. Declared with [`crate::StateRegistry::value`].
///
/// ```no_run
/// # use weir_sdk::{Error, KeyedContext, ValueState};
/// # fn count(seen: &ValueState<u64>, ctx: &mut KeyedContext<'_>) -> Result<u64, Error> {
/// let n = seen.get(ctx)?.unwrap_or(0) + 1;
/// seen.set(ctx, &n)?;
/// # Ok(n) }
/// ```
pub struct ValueState<T, C = Postcard> {
    pub(crate) id: u32,
    name: String,
    value: Marker<(T, C)>,
}

/// An ordered list of `T` per scope; appending is cheap, reading returns the whole
/// list. Declared with [`crate::StateRegistry::list`].
pub struct ListState<T, C = Postcard> {
    pub(crate) id: u32,
    name: String,
    value: Marker<(T, C)>,
}

/// A map from `K` to `V` per scope, read and written entry by entry. Declared with
/// [`crate::StateRegistry::map`].
///
/// Keys are stored encoded (by `C`), and [`MapState::entries`] returns the entries in
/// the order of their encoded bytes: for [`Postcard`] that is not `K`'s order
/// (integers are varints, strings are length-prefixed), so sort them if order matters.
pub struct MapState<K, V, C = Postcard> {
    pub(crate) id: u32,
    name: String,
    value: Marker<(K, V, C)>,
}

macro_rules! handle_common {
    ($handle:ident < $($param:ident),* >, $kind:expr) => {
        impl<$($param),*> sealed::Sealed for $handle<$($param),*> {}

        impl<$($param),*> StateHandle for $handle<$($param),*> {
            const KIND: StateKind = $kind;

            fn from_id(id: u32, name: String) -> Self {
                $handle { id, name, value: std::marker::PhantomData }
            }
        }

        impl<$($param),*> std::fmt::Debug for $handle<$($param),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("name", &self.name)
                    .field("id", &self.id)
                    .finish()
            }
        }

        impl<$($param),*> $handle<$($param),*> {
            /// The name the state was declared with.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// Removes everything the state holds for the context's scope.
            ///
            /// # Errors
            /// When the host's state backend fails.
            pub fn clear(&self, ctx: &mut (impl StateScope + ?Sized)) -> Result<(), Error> {
                let scope = ctx.scope();
                scope
                    .host
                    .clear(self.id, scope.index)
                    .map_err(|error| state_error(&self.name, error))
            }
        }
    };
}

handle_common!(ValueState<T, C>, StateKind::Value);
handle_common!(ListState<T, C>, StateKind::List);
handle_common!(MapState<K, V, C>, StateKind::Map);

/// Runs one host call for the scope, naming the state in its error.
fn call<R>(
    name: &str,
    scope: ScopeRef<'_>,
    f: impl FnOnce(ScopeRef<'_>) -> Result<R, crate::wit::state::StateError>,
) -> Result<R, Error> {
    f(scope).map_err(|error| state_error(name, error))
}

impl<T, C: Codec<T>> ValueState<T, C> {
    /// The scope's value, or `None` if it has none (or it expired).
    ///
    /// # Errors
    /// When the stored bytes do not decode as a `T`, or the state backend fails.
    pub fn get(&self, ctx: &(impl StateScope + ?Sized)) -> Result<Option<T>, Error> {
        let bytes = call(&self.name, ctx.scope(), |s| s.host.get(self.id, s.index))?;
        bytes
            .map(|bytes| decode_from::<T, C>(bytes, &self.name))
            .transpose()
    }

    /// Sets the scope's value.
    ///
    /// # Errors
    /// When the value is larger than the host accepts, or the state backend fails.
    pub fn set(&self, ctx: &mut (impl StateScope + ?Sized), value: &T) -> Result<(), Error> {
        let bytes = encode_to_vec::<T, C>(value, &self.name)?;
        call(&self.name, ctx.scope(), |s| {
            s.host.set(self.id, s.index, &bytes, &self.name)
        })
    }

    /// The scope's value as stored, without decoding.
    ///
    /// # Errors
    /// When the state backend fails.
    pub fn get_bytes(&self, ctx: &(impl StateScope + ?Sized)) -> Result<Option<Vec<u8>>, Error> {
        call(&self.name, ctx.scope(), |s| s.host.get(self.id, s.index))
    }

    /// Stores `bytes` as the scope's value, without encoding (they must decode with `C`
    /// for [`ValueState::get`] to read them).
    ///
    /// # Errors
    /// When the value is larger than the host accepts, or the state backend fails.
    pub fn set_bytes(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        bytes: &[u8],
    ) -> Result<(), Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.set(self.id, s.index, bytes, &self.name)
        })
    }
}

impl<T: 'static, C: Codec<T> + 'static> ValueState<T, C> {
    /// Updates the scope's value in place: `f` gets it (or `init()` when the scope has
    /// none) and may change it; the result is the scope's new value. Returns what `f`
    /// returns.
    ///
    /// The same as [`ValueState::get`], then [`ValueState::set`], and the way to write
    /// a read-modify-write: in a keyed process function the value is decoded once per
    /// call and key and encoded once when the call ends, not once per event, which
    /// matters for a large value updated by every event (an online model's weights).
    ///
    /// ```no_run
    /// # use weir_sdk::{Error, KeyedContext, ValueState};
    /// # fn count(seen: &ValueState<u64>, ctx: &mut KeyedContext<'_>) -> Result<u64, Error> {
    /// let n = seen.update(ctx, || 0, |n| {
    ///     *n += 1;
    ///     *n
    /// })?;
    /// # Ok(n) }
    /// ```
    ///
    /// # Errors
    /// When the stored bytes do not decode as a `T`, the new value is larger than the
    /// host accepts, or the state backend fails. In a keyed process function a value
    /// too large is found only when the call ends, and then fails the call.
    pub fn update<R>(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        init: impl FnOnce() -> T,
        f: impl FnOnce(&mut T) -> R,
    ) -> Result<R, Error> {
        let scope = ctx.scope();
        let mut init = Some(init);
        let mut f = Some(f);
        let mut result = None;
        let cached = scope
            .host
            .update_cached(self.id, scope.index, &self.name, &mut |held| {
                let typed = self.typed(held, &mut init)?;
                let f = f.take().expect("the cache runs the update once");
                result = Some(f(typed));
                Ok(())
            });
        match cached {
            Some(outcome) => {
                outcome?;
                Ok(result.expect("the update ran"))
            }
            None => {
                let init = init.take().expect("not run");
                let mut value = self.get(ctx)?.unwrap_or_else(init);
                let result = f.take().expect("not run")(&mut value);
                self.set(ctx, &value)?;
                Ok(result)
            }
        }
    }

    /// `held` as this state's decoded value, decoding it (or creating it with `init`)
    /// on first use in the call.
    fn typed<'h>(
        &self,
        held: &'h mut Held,
        init: &mut Option<impl FnOnce() -> T>,
    ) -> Result<&'h mut T, Error> {
        let is_ours = matches!(held, Held::Typed { value, .. } if value.is::<T>());
        if !is_ours {
            let value = match held.to_bytes(&self.name)? {
                Some(bytes) => decode_from::<T, C>(bytes, &self.name)?,
                None => init.take().expect("created once")(),
            };
            *held = Held::Typed {
                value: Box::new(value),
                encode: encode_any::<T, C>,
            };
        }
        let Held::Typed { value, .. } = held else {
            unreachable!("made typed above")
        };
        Ok(value.downcast_mut::<T>().expect("checked or made above"))
    }
}

impl<T, C: Codec<T>> ListState<T, C> {
    /// The scope's elements in the order they were added (empty if none).
    ///
    /// # Errors
    /// When an element does not decode as a `T`, or the state backend fails.
    pub fn get(&self, ctx: &(impl StateScope + ?Sized)) -> Result<Vec<T>, Error> {
        let elements = self.get_bytes(ctx)?;
        elements
            .into_iter()
            .map(|bytes| decode_from::<T, C>(bytes, &self.name))
            .collect()
    }

    /// Appends one element.
    ///
    /// # Errors
    /// When the element is larger than the host accepts, or the state backend fails.
    pub fn add(&self, ctx: &mut (impl StateScope + ?Sized), value: &T) -> Result<(), Error> {
        let bytes = encode_to_vec::<T, C>(value, &self.name)?;
        call(&self.name, ctx.scope(), |s| {
            s.host.list_add(self.id, s.index, &bytes)
        })
    }

    /// Replaces all elements with `values` (an empty slice empties the list).
    ///
    /// # Errors
    /// When an element is larger than the host accepts, or the state backend fails.
    pub fn replace(&self, ctx: &mut (impl StateScope + ?Sized), values: &[T]) -> Result<(), Error> {
        let encoded = values
            .iter()
            .map(|value| encode_to_vec::<T, C>(value, &self.name))
            .collect::<Result<Vec<_>, _>>()?;
        self.replace_bytes(ctx, &encoded)
    }

    /// The scope's elements as stored, without decoding.
    ///
    /// # Errors
    /// When the state backend fails.
    pub fn get_bytes(&self, ctx: &(impl StateScope + ?Sized)) -> Result<Vec<Vec<u8>>, Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.list_get(self.id, s.index)
        })
    }

    /// Appends `bytes` as they are.
    ///
    /// # Errors
    /// When the element is larger than the host accepts, or the state backend fails.
    pub fn add_bytes(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        bytes: &[u8],
    ) -> Result<(), Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.list_add(self.id, s.index, bytes)
        })
    }

    /// Replaces all elements with `elements` as they are.
    ///
    /// # Errors
    /// When an element is larger than the host accepts, or the state backend fails.
    pub fn replace_bytes(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        elements: &[Vec<u8>],
    ) -> Result<(), Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.list_replace(self.id, s.index, elements)
        })
    }
}

impl<K, V, C: Codec<K> + Codec<V>> MapState<K, V, C> {
    /// The value at `key`, or `None`.
    ///
    /// # Errors
    /// When the stored value does not decode as a `V`, or the state backend fails.
    pub fn get(&self, ctx: &(impl StateScope + ?Sized), key: &K) -> Result<Option<V>, Error> {
        let key = encode_to_vec::<K, C>(key, &self.name)?;
        self.get_bytes(ctx, &key)?
            .map(|bytes| decode_from::<V, C>(bytes, &self.name))
            .transpose()
    }

    /// Sets the value at `key`.
    ///
    /// # Errors
    /// When the key or value is larger than the host accepts, or the state backend
    /// fails.
    pub fn put(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        let key = encode_to_vec::<K, C>(key, &self.name)?;
        let value = encode_to_vec::<V, C>(value, &self.name)?;
        self.put_bytes(ctx, &key, &value)
    }

    /// Removes the entry at `key`, if any.
    ///
    /// # Errors
    /// When the state backend fails.
    pub fn remove(&self, ctx: &mut (impl StateScope + ?Sized), key: &K) -> Result<(), Error> {
        let key = encode_to_vec::<K, C>(key, &self.name)?;
        self.remove_bytes(ctx, &key)
    }

    /// All entries, in the order of their encoded keys (see the type's docs).
    ///
    /// # Errors
    /// When an entry does not decode, or the state backend fails.
    pub fn entries(&self, ctx: &(impl StateScope + ?Sized)) -> Result<Vec<(K, V)>, Error> {
        self.entries_bytes(ctx)?
            .into_iter()
            .map(|(key, value)| {
                Ok((
                    decode_from::<K, C>(key, &self.name)?,
                    decode_from::<V, C>(value, &self.name)?,
                ))
            })
            .collect()
    }

    /// The value at the encoded `key`, as stored.
    ///
    /// # Errors
    /// When the state backend fails.
    pub fn get_bytes(
        &self,
        ctx: &(impl StateScope + ?Sized),
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.map_get(self.id, s.index, key)
        })
    }

    /// Sets the value at the encoded `key` to `value`, both as they are.
    ///
    /// # Errors
    /// When the key or value is larger than the host accepts, or the state backend
    /// fails.
    pub fn put_bytes(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.map_put(self.id, s.index, key, value)
        })
    }

    /// Removes the entry at the encoded `key`, if any.
    ///
    /// # Errors
    /// When the state backend fails.
    pub fn remove_bytes(
        &self,
        ctx: &mut (impl StateScope + ?Sized),
        key: &[u8],
    ) -> Result<(), Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.map_remove(self.id, s.index, key)
        })
    }

    /// All entries as stored, ordered by key bytes.
    ///
    /// # Errors
    /// When the state backend fails.
    #[allow(clippy::type_complexity)]
    pub fn entries_bytes(
        &self,
        ctx: &(impl StateScope + ?Sized),
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, Error> {
        call(&self.name, ctx.scope(), |s| {
            s.host.map_entries(self.id, s.index)
        })
    }
}
