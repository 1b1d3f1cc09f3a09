//! Reading one number at a dotted path of a JSON value, for the built-in aggregates:
//! a thin reading of [`FieldPath::lookup`] (one pass, nothing built, the whole value
//! checked), with the reasons a person reads in a dead letter.

use std::fmt;

use crate::connector::json_path::{FieldPath, FieldValue};

/// Why an event has no number at the path.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    /// The value is not JSON.
    NotJson(String),
    /// No field at the path.
    Missing,
    /// The field is there but is not a number (what it is instead).
    NotNumber(&'static str),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::NotJson(error) => write!(f, "the value is not JSON ({error})"),
            FieldError::Missing => f.write_str("is missing"),
            FieldError::NotNumber(what) => write!(f, "is {what}, not a number"),
        }
    }
}

/// The number at `path` in the JSON `value`.
///
/// # Errors
/// A [`FieldError`] when `value` is not JSON or has no number there.
pub fn number_at(value: &[u8], path: &FieldPath) -> Result<f64, FieldError> {
    match path.lookup(value).map_err(FieldError::NotJson)? {
        FieldValue::Int(number) => Ok(number as f64),
        FieldValue::UInt(number) => Ok(number as f64),
        FieldValue::Float(number) => Ok(number),
        FieldValue::Missing => Err(FieldError::Missing),
        other => Err(FieldError::NotNumber(other.kind())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> FieldPath {
        FieldPath::parse(text)
    }

    #[test]
    fn finds_numbers_and_says_why_not() {
        let value = br#"{"a": 1, "p": {"amount": -2.5, "s": "x", "n": null}, "list": [1, {"x": 2}], "a2": 3}"#;
        assert_eq!(number_at(value, &path("a")), Ok(1.0));
        assert_eq!(number_at(value, &path("p.amount")), Ok(-2.5));
        assert_eq!(number_at(value, &path("a2")), Ok(3.0));
        assert_eq!(
            number_at(value, &path("p.s")),
            Err(FieldError::NotNumber("a string"))
        );
        assert_eq!(
            number_at(value, &path("p.n")),
            Err(FieldError::NotNumber("null"))
        );
        assert_eq!(
            number_at(value, &path("p")),
            Err(FieldError::NotNumber("an object"))
        );
        assert_eq!(
            number_at(value, &path("list")),
            Err(FieldError::NotNumber("an array"))
        );
        assert_eq!(number_at(value, &path("missing")), Err(FieldError::Missing));
        assert_eq!(number_at(value, &path("a.b")), Err(FieldError::Missing));
        assert_eq!(number_at(br#"{"k\u0061y": 4}"#, &path("kay")), Ok(4.0));
        assert!(matches!(
            number_at(b"{\"a\": 1", &path("a")),
            Err(FieldError::NotJson(_))
        ));
        assert!(matches!(
            number_at(b"{\"a\": 1} x", &path("a")),
            Err(FieldError::NotJson(_))
        ));
        assert!(matches!(
            number_at(b"not json", &path("a")),
            Err(FieldError::NotJson(_))
        ));
    }
}
