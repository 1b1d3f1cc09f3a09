//! [`JsonPath`]: a dotted path to a field of a JSON object (`payment.amount`), read
//! from an event's value without building the whole document.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A path to a field of nested JSON objects: the names of the fields from the outside
/// in, written with dots (`payment.amount`). A name cannot contain a dot.
///
/// It deserialises from its dotted text, so settings can hold one directly:
///
/// ```
/// use weir_sdk::{Batch, EventExt, JsonPath};
///
/// let path: JsonPath = "payment.amount".parse().unwrap();
/// let mut batch = Batch::default();
/// batch.push(None, br#"{"id":1,"payment":{"amount":12.5,"currency":"EUR"}}"#, 0);
/// let event = batch.event(0);
/// assert_eq!(event.json_at::<f64>(&path).unwrap(), Some(12.5));
/// assert_eq!(event.json_at::<f64>(&"payment.fee".parse().unwrap()).unwrap(), None);
/// assert!(event.json_at::<f64>(&"payment.currency".parse().unwrap()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JsonPath {
    fields: Vec<String>,
}

impl JsonPath {
    /// The field names, outermost first.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Reads the value at this path in the JSON text `json`: `None` when a field on the
    /// way is missing or is not an object.
    ///
    /// # Errors
    /// [`Error::invalid_input`] when `json` is not valid JSON, or the value at the path
    /// is not a `T`.
    pub fn read<'de, T: Deserialize<'de>>(&self, json: &'de [u8]) -> Result<Option<T>, Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let value = AtPath {
            path: &self.fields,
            value: PhantomData,
        }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
        value.map_err(|error| match error.classify() {
            serde_json::error::Category::Data => Error::invalid_input(format!("`{self}`: {error}")),
            _ => Error::invalid_input(format!("invalid JSON: {error}")),
        })
    }
}

impl std::str::FromStr for JsonPath {
    type Err = Error;

    /// # Errors
    /// [`Error::config`] for an empty path or an empty field name (`a..b`).
    fn from_str(text: &str) -> Result<Self, Error> {
        let fields: Vec<String> = text.split('.').map(str::to_owned).collect();
        if fields.iter().any(String::is_empty) {
            return Err(Error::config(format!(
                "`{text}` is not a field path: write field names separated by dots, like `payment.amount`"
            )));
        }
        Ok(JsonPath { fields })
    }
}

impl TryFrom<String> for JsonPath {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Error> {
        text.parse()
    }
}

impl From<JsonPath> for String {
    fn from(path: JsonPath) -> String {
        path.to_string()
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fields.join("."))
    }
}

/// Deserialises the value at `path`, skipping everything else.
struct AtPath<'p, T> {
    path: &'p [String],
    value: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for AtPath<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        match self.path.split_first() {
            None => T::deserialize(deserializer).map(Some),
            Some((field, rest)) => deserializer.deserialize_any(Walk {
                field,
                rest,
                value: PhantomData,
            }),
        }
    }
}

/// Looks for `field` in an object and goes on with `rest` there; anything but an object
/// has no such field.
struct Walk<'p, T> {
    field: &'p str,
    rest: &'p [String],
    value: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Walk<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(self.field))? {
            if matches {
                found = map.next_value_seed(AtPath {
                    path: self.rest,
                    value: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
}

/// Whether a map key equals the field looked for, without allocating the key.
struct KeyIs<'p>(&'p str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> JsonPath {
        text.parse().expect("a path")
    }

    #[test]
    fn reads_nested_fields_and_skips_the_rest() {
        let json = br#"{"a":[1,{"b":2}],"x":{"y":{"z":"deep"},"n":null},"s":"t\"x"}"#;
        assert_eq!(
            path("x.y.z").read::<String>(json).expect("reads"),
            Some("deep".into())
        );
        assert_eq!(
            path("s").read::<&str>(br#"{"s":"plain"}"#).expect("reads"),
            Some("plain")
        );
        assert_eq!(
            path("x.y").read::<serde_json::Value>(json).expect("reads"),
            Some(serde_json::json!({"z": "deep"}))
        );
        assert_eq!(
            path("a.b").read::<u64>(json).expect("reads"),
            None,
            "arrays have no fields"
        );
        assert_eq!(path("x.n.q").read::<u64>(json).expect("reads"), None);
        assert_eq!(path("nope").read::<u64>(json).expect("reads"), None);
        assert_eq!(
            path("x.n").read::<Option<u64>>(json).expect("reads"),
            Some(None)
        );
    }

    #[test]
    fn integers_read_as_floats_and_wrong_types_are_errors() {
        assert_eq!(
            path("n").read::<f64>(br#"{"n":3}"#).expect("reads"),
            Some(3.0)
        );
        let error = path("n")
            .read::<f64>(br#"{"n":"3"}"#)
            .expect_err("a string");
        assert!(error.message().starts_with("`n`: invalid type"), "{error}");
        let error = path("n").read::<f64>(br#"{"n":3"#).expect_err("truncated");
        assert!(error.message().starts_with("invalid JSON"), "{error}");
        assert!(
            path("n").read::<f64>(br#"{"n":3} 4"#).is_err(),
            "trailing data"
        );
    }

    #[test]
    fn paths_parse_from_settings_and_refuse_empty_fields() {
        #[derive(Deserialize)]
        struct Settings {
            field: JsonPath,
        }
        let settings: Settings =
            serde_json::from_str(r#"{"field":"payment.amount"}"#).expect("parses");
        assert_eq!(settings.field.fields(), ["payment", "amount"]);
        assert_eq!(settings.field.to_string(), "payment.amount");
        for bad in ["", "a..b", ".a", "a."] {
            assert!(bad.parse::<JsonPath>().is_err(), "{bad:?}");
        }
    }
}
