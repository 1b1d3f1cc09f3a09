//! How typed values become bytes: [`Codec`], with [`Postcard`] (any serde type, the
//! default of every state handle and of accumulators) and [`Raw`] (bytes as they are).

use std::marker::PhantomData;

use postcard::ser_flavors::Flavor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// Turns values of `T` into bytes and back. State handles take one as a type parameter
/// ([`crate::ValueState<T, C>`]); [`Postcard`] is the default.
pub trait Codec<T> {
    /// Appends the encoding of `value` to `out`.
    ///
    /// # Errors
    /// When `value` cannot be encoded (e.g. a serde type that cannot say its length).
    fn encode(value: &T, out: &mut Vec<u8>) -> Result<(), String>;

    /// Decodes a value that [`Codec::encode`] wrote.
    ///
    /// # Errors
    /// When `bytes` are not an encoding of a `T` (e.g. written by an earlier version of
    /// the plugin with another type).
    fn decode(bytes: &[u8]) -> Result<T, String>;

    /// Decodes an owned buffer; codecs that can keep it override this to avoid a copy.
    ///
    /// # Errors
    /// As for [`Codec::decode`].
    fn decode_owned(bytes: Vec<u8>) -> Result<T, String> {
        Self::decode(&bytes)
    }
}

/// Encodes serde types with [postcard](https://docs.rs/postcard): compact (varints, no
/// field names), and stable for a given Rust type. Changing a stored type between
/// plugin versions is a migration: old bytes may no longer decode.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postcard;

impl<T: Serialize + DeserializeOwned> Codec<T> for Postcard {
    fn encode(value: &T, out: &mut Vec<u8>) -> Result<(), String> {
        encode_postcard(value, out)
    }

    fn decode(bytes: &[u8]) -> Result<T, String> {
        postcard::from_bytes(bytes).map_err(|error| error.to_string())
    }
}

/// Bytes stored as they are: for plugins that encode values themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    fn encode(value: &Vec<u8>, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(value);
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Vec<u8>, String> {
        Ok(bytes.to_vec())
    }

    fn decode_owned(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(bytes)
    }
}

/// Appends the postcard encoding of `value` to `out`, without a buffer of its own.
pub(crate) fn encode_postcard<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    postcard::serialize_with_flavor(value, Append(out)).map_err(|error| error.to_string())
}

/// A postcard flavor that appends to a caller's `Vec`.
struct Append<'a>(&'a mut Vec<u8>);

impl Flavor for Append<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Encodes a value of `state` with `C` into a fresh buffer.
pub(crate) fn encode_to_vec<T, C: Codec<T>>(value: &T, state: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    C::encode(value, &mut out).map_err(|error| {
        Error::internal(format!("state `{state}`: value does not encode: {error}"))
    })?;
    Ok(out)
}

/// Decodes a value of `state` with `C`.
pub(crate) fn decode_from<T, C: Codec<T>>(bytes: Vec<u8>, state: &str) -> Result<T, Error> {
    C::decode_owned(bytes).map_err(|error| {
        Error::internal(format!(
            "state `{state}`: stored bytes do not decode: {error}"
        ))
    })
}

/// A zero-sized marker for a value type and its codec, variance- and `Send`-neutral.
pub(crate) type Marker<T> = PhantomData<fn() -> T>;

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Seen {
        at: i64,
        pages: Vec<String>,
        score: Option<f64>,
    }

    #[test]
    fn postcard_round_trips_structs_and_appends() {
        let seen = Seen {
            at: -5,
            pages: vec!["home".into(), "cart".into()],
            score: Some(0.5),
        };
        let mut out = vec![0xAA];
        Postcard::encode(&seen, &mut out).expect("encodes");
        assert_eq!(out[0], 0xAA, "encode appends, it does not overwrite");
        let back: Seen = Postcard::decode(&out[1..]).expect("decodes");
        assert_eq!(back, seen);
    }

    #[test]
    fn postcard_is_compact() {
        let mut out = Vec::new();
        Postcard::encode(&3u64, &mut out).expect("encodes");
        assert_eq!(out, [3], "small integers are one-byte varints");
    }

    #[test]
    fn decoding_the_wrong_type_is_an_error() {
        let mut out = Vec::new();
        Postcard::encode(&true, &mut out).expect("encodes");
        assert!(<Postcard as Codec<Seen>>::decode(&out).is_err());
        assert!(<Postcard as Codec<u64>>::decode(&[]).is_err());
    }

    #[test]
    fn raw_keeps_bytes_as_they_are() {
        let mut out = Vec::new();
        Raw::encode(&b"\x00\xFFabc".to_vec(), &mut out).expect("encodes");
        assert_eq!(out, b"\x00\xFFabc");
        assert_eq!(Raw::decode_owned(out.clone()).expect("decodes"), out);
    }
}
