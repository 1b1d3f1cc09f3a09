//! [`ByteReader`]: reads the fields of stored bytes (encoded keys, window entries) off
//! their front, checking every length, so that damaged bytes become
//! [`StateError::Corrupt`] rather than a panic or a wrong value.

use super::StateError;

/// A cursor over stored bytes; see the module docs.
#[derive(Debug)]
pub(crate) struct ByteReader<'a> {
    bytes: &'a [u8],
    /// What is read, for errors: `"truncated key"`, `"truncated window entry"`.
    truncated: &'static str,
    /// The error when bytes are left over at [`ByteReader::end`].
    trailing: &'static str,
}

impl<'a> ByteReader<'a> {
    /// A reader of `bytes`; `truncated` and `trailing` are the reasons given when the
    /// bytes end too soon or go on too long.
    pub(crate) fn new(bytes: &'a [u8], truncated: &'static str, trailing: &'static str) -> Self {
        ByteReader {
            bytes,
            truncated,
            trailing,
        }
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], StateError> {
        if self.bytes.len() < len {
            return Err(corrupt(self.truncated));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, StateError> {
        Ok(self.array::<1>()?[0])
    }

    /// A byte that must be 0 or 1.
    pub(crate) fn flag(&mut self) -> Result<bool, StateError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("a flag byte is neither 0 nor 1")),
        }
    }

    pub(crate) fn u16(&mut self) -> Result<u16, StateError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, StateError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, StateError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// A field behind its big-endian u32 length.
    pub(crate) fn field(&mut self) -> Result<&'a [u8], StateError> {
        let len = u32::from_be_bytes(self.array()?);
        self.take(usize::try_from(len).map_err(|_| corrupt(self.truncated))?)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    /// Checks that everything was read.
    pub(crate) fn end(&self) -> Result<(), StateError> {
        match self.bytes.is_empty() {
            true => Ok(()),
            false => Err(corrupt(self.trailing)),
        }
    }
}

/// Appends `field` behind its big-endian u32 length ([`ByteReader::field`] reads it).
/// Callers keep fields far below 4 GiB (keys are checked against their limits).
pub(crate) fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field);
}

fn corrupt(reason: &'static str) -> StateError {
    StateError::Corrupt { reason }
}
