//! Reading one number at a dotted path of a JSON value without building the value:
//! the parser skips everything off the path and allocates nothing for plain keys.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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
pub fn number_at(value: &[u8], path: &[String]) -> Result<f64, FieldError> {
    let mut deserializer = serde_json::Deserializer::from_slice(value);
    let found = PathSeed { path }
        .deserialize(&mut deserializer)
        .map_err(|error| FieldError::NotJson(error.to_string()))?;
    deserializer
        .end()
        .map_err(|error| FieldError::NotJson(error.to_string()))?;
    match found {
        Found::Number(number) => Ok(number),
        Found::Missing => Err(FieldError::Missing),
        Found::Other(what) => Err(FieldError::NotNumber(what)),
    }
}

enum Found {
    Number(f64),
    Missing,
    Other(&'static str),
}

struct PathSeed<'p> {
    path: &'p [String],
}

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Found;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PathSeed<'_> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_f64<E>(self, v: f64) -> Result<Found, E> {
        Ok(self.leaf(Found::Number(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Found, E> {
        Ok(self.leaf(Found::Number(v as f64)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Found, E> {
        Ok(self.leaf(Found::Number(v as f64)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Found, E> {
        Ok(self.leaf(Found::Other("a boolean")))
    }

    fn visit_str<E>(self, _: &str) -> Result<Found, E> {
        Ok(self.leaf(Found::Other("a string")))
    }

    fn visit_unit<E>(self) -> Result<Found, E> {
        Ok(self.leaf(Found::Other("null")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.leaf(Found::Other("an array")))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Found::Other("an object"));
        };
        let mut found = Found::Missing;
        while let Some(matches) = map.next_key_seed(KeyIs(first))? {
            if matches && matches!(found, Found::Missing) {
                found = map.next_value_seed(PathSeed { path: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

impl PathSeed<'_> {
    /// A scalar or array: what was found if the path ends here, else nothing.
    fn leaf(&self, found: Found) -> Found {
        if self.path.is_empty() {
            found
        } else {
            Found::Missing
        }
    }
}

/// Deserializes a map key into whether it equals the wanted name.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_owned).collect()
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
