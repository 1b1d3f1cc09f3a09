//! [`Event`] and [`Batch`]: read-only views of the events a plugin is given.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Error, JsonPath};

/// Event time: milliseconds since the Unix epoch.
pub type Timestamp = i64;

/// One event of the input batch.
pub type Event<'a> = weir_batch::EventRef<'a>;

/// The batch a plugin is called with. Iterate it with [`Batch::iter`].
pub use weir_batch::Batch;

/// JSON helpers on events.
pub trait EventExt {
    /// Parses the value as JSON into `T` (a `#[derive(Deserialize)]` struct, or
    /// `serde_json::Value`).
    ///
    /// # Errors
    /// [`Error::invalid_input`] naming the parse error.
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// Reads the field at `path` of the value, a JSON object, without parsing the rest
    /// into memory: `None` when a field on the way is missing.
    ///
    /// # Errors
    /// [`Error::invalid_input`] when the value is not JSON, or the field is not a `T`.
    fn json_at<'a, T: Deserialize<'a>>(&'a self, path: &JsonPath) -> Result<Option<T>, Error>;

    /// The value as UTF-8 text.
    ///
    /// # Errors
    /// [`Error::invalid_input`] when the value is not UTF-8.
    fn text(&self) -> Result<&str, Error>;

    /// The first header named `name`.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

impl EventExt for Event<'_> {
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(serde_json::from_slice(self.value)?)
    }

    fn json_at<'a, T: Deserialize<'a>>(&'a self, path: &JsonPath) -> Result<Option<T>, Error> {
        path.read(self.value)
    }

    fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(self.value)
            .map_err(|error| Error::invalid_input(format!("value is not UTF-8: {error}")))
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|header| header.name == name)
            .map(|header| header.value.as_slice())
    }
}
