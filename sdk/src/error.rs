//! [`Error`]: what a plugin returns when it cannot do what it was asked.

use crate::wit::types::{Error as WitError, ErrorKind};

/// An error a plugin returns to the host.
///
/// From `init`, it refuses the operator at start. From a batch call, it fails the
/// batch: the host re-runs the batch event by event and dead-letters the events that
/// still fail. From a per-event hook ([`crate::Filter::keep`], [`crate::Map::map`]...),
/// it sends just that event to the dead-letter output with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// The settings are wrong (use in `init`).
    pub fn config(message: impl std::fmt::Display) -> Self {
        Error {
            kind: ErrorKind::InvalidConfig,
            message: message.to_string(),
        }
    }

    /// The input cannot be processed: malformed, missing a field, out of range.
    pub fn invalid_input(message: impl std::fmt::Display) -> Self {
        Error {
            kind: ErrorKind::InvalidInput,
            message: message.to_string(),
        }
    }

    /// Anything else.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error {
            kind: ErrorKind::Internal,
            message: message.to_string(),
        }
    }

    /// What went wrong, for a person.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn into_wit(self) -> WitError {
        WitError {
            kind: self.kind,
            message: self.message,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// JSON that does not parse, or does not have the expected shape, is invalid input.
impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::invalid_input(format!("invalid JSON: {error}"))
    }
}
