//! [`FieldPath`]: one field of a JSON value, named by a dotted path (`meta.ts`), read
//! in a single pass that also checks the whole value is valid JSON, without building
//! it (no allocation unless the field is a string with escapes).
//!
//! Laws (tested below, against `serde_json::Value` as the reference):
//! - `lookup` fails exactly when the bytes are not one valid JSON value;
//! - otherwise it returns what `value["a"]["b"]` would hold (the last occurrence of a
//!   repeated key, as `serde_json` and JavaScript take), or [`FieldValue::Missing`]
//!   when some step is not an object or lacks the key.
//!
//! ```
//! use weir_host::connector::json_path::{FieldPath, FieldValue};
//! let path = FieldPath::parse("meta.ts");
//! let value = path.lookup(br#"{"meta":{"ts":17},"x":[1,2]}"#).expect("valid JSON");
//! assert_eq!(value, FieldValue::UInt(17));
//! assert_eq!(path.lookup(br#"{"meta":3}"#), Ok(FieldValue::Missing));
//! assert!(path.lookup(b"{oops").is_err());
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A dotted path of object keys; keys cannot contain `.` themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    segments: Vec<String>,
}

/// What a [`FieldPath`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// Some step of the path is not an object or has no such key.
    Missing,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or an exponent, or beyond 64 bits.
    Float(f64),
    /// A string, borrowed from the input when it has no escapes.
    Str(Cow<'a, str>),
    /// An object (not looked into).
    Object,
    /// An array (not looked into).
    Array,
}

impl FieldValue<'_> {
    /// The kind of value, for messages: `a string`, `null`, `an object`...
    pub fn kind(&self) -> &'static str {
        match self {
            FieldValue::Missing => "missing",
            FieldValue::Null => "null",
            FieldValue::Bool(_) => "a boolean",
            FieldValue::Int(_) | FieldValue::UInt(_) | FieldValue::Float(_) => "a number",
            FieldValue::Str(_) => "a string",
            FieldValue::Object => "an object",
            FieldValue::Array => "an array",
        }
    }
}

impl FieldPath {
    /// The path `text`, split at each `.`. Checking that no segment is empty is the
    /// pipeline file's job (see [`FieldPath::check`]).
    pub fn parse(text: &str) -> Self {
        FieldPath {
            text: text.to_owned(),
            segments: text.split('.').map(str::to_owned).collect(),
        }
    }

    /// Checks that `text` is a usable path: non-empty, no empty segment.
    ///
    /// # Errors
    /// What is wrong, in words.
    pub fn check(text: &str) -> Result<(), String> {
        if text.is_empty() || text.split('.').any(str::is_empty) {
            return Err(format!(
                "{text:?} is not a field path: expected names separated by dots, like \"user.id\""
            ));
        }
        Ok(())
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Finds the field in the JSON value `json`, checking all of `json` on the way.
    ///
    /// # Errors
    /// When `json` is not one valid JSON value (UTF-8 included).
    pub fn lookup<'a>(&self, json: &'a [u8]) -> Result<FieldValue<'a>, String> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let found = PathSeed {
            rest: &self.segments,
        }
        .deserialize(&mut deserializer)
        .and_then(|found| deserializer.end().map(|()| found))
        .map_err(|error| format!("invalid JSON: {error}"))?;
        Ok(found)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads one JSON value, descending along `rest`.
struct PathSeed<'p> {
    rest: &'p [String],
}

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = FieldValue<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> PathSeed<'_> {
    /// The value itself when the path ends here, else `Missing` (not an object).
    fn leaf(&self, value: FieldValue<'de>) -> FieldValue<'de> {
        if self.rest.is_empty() {
            value
        } else {
            FieldValue::Missing
        }
    }
}

impl<'de> Visitor<'de> for PathSeed<'_> {
    type Value = FieldValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Null))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Int(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::UInt(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Float(value)))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Str(Cow::Borrowed(value))))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(self.leaf(FieldValue::Str(Cow::Owned(value.to_owned()))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.leaf(FieldValue::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((wanted, deeper)) = self.rest.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(FieldValue::Object);
        };
        let mut found = FieldValue::Missing;
        while let Some(matches) = map.next_key_seed(KeyIs(wanted))? {
            if matches {
                found = map.next_value_seed(PathSeed { rest: deeper })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Reads an object key and says whether it is the wanted one.
struct KeyIs<'p>(&'p str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// What `serde_json::Value` says is at `path` in `value`.
    fn reference(value: &Value, path: &[&str]) -> FieldValue<'static> {
        let mut at = value;
        for segment in path {
            match at.get(segment) {
                Some(next) if at.is_object() => at = next,
                _ => return FieldValue::Missing,
            }
        }
        match at {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => FieldValue::UInt(u),
                (None, Some(i)) => FieldValue::Int(i),
                _ => FieldValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => FieldValue::Str(Cow::Owned(s.clone())),
            Value::Array(_) => FieldValue::Array,
            Value::Object(_) => FieldValue::Object,
        }
    }

    #[test]
    fn finds_nested_fields_of_every_kind() {
        let text = br#"{"a":{"s":"x\"y","n":-3,"u":7,"f":1.5,"t":true,"z":null,"o":{},"l":[1]},"b":"top"}"#;
        let at = |path: &str| FieldPath::parse(path).lookup(text).expect("valid");
        assert_eq!(at("a.s"), FieldValue::Str(Cow::Borrowed("x\"y")));
        assert_eq!(at("a.n"), FieldValue::Int(-3));
        assert_eq!(at("a.u"), FieldValue::UInt(7));
        assert_eq!(at("a.f"), FieldValue::Float(1.5));
        assert_eq!(at("a.t"), FieldValue::Bool(true));
        assert_eq!(at("a.z"), FieldValue::Null);
        assert_eq!(at("a.o"), FieldValue::Object);
        assert_eq!(at("a.l"), FieldValue::Array);
        assert_eq!(at("b"), FieldValue::Str(Cow::Borrowed("top")));
        assert_eq!(at("a.s.deeper"), FieldValue::Missing);
        assert_eq!(at("nope"), FieldValue::Missing);
        let borrowed = FieldPath::parse("b")
            .lookup(br#"{"b":"plain"}"#)
            .expect("valid");
        assert!(matches!(borrowed, FieldValue::Str(Cow::Borrowed("plain"))));
    }

    #[test]
    fn invalid_json_fails_even_after_the_field() {
        let path = FieldPath::parse("a");
        assert!(path.lookup(br#"{"a":1,"b":}"#).is_err());
        assert!(path.lookup(br#"{"a":1} trailing"#).is_err());
        assert!(path.lookup(b"{\"a\":\"\xff\"}").is_err());
        assert_eq!(path.lookup(br#"[{"a":1}]"#), Ok(FieldValue::Missing));
    }

    #[test]
    fn paths_must_have_names_between_dots() {
        assert!(FieldPath::check("user.id").is_ok());
        for bad in ["", ".", "a.", ".a", "a..b"] {
            assert!(FieldPath::check(bad).is_err(), "{bad:?}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-c\"\\\\]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_value(value in json_value(), path in proptest::collection::vec("[a-c]", 1..4)) {
            let text = serde_json::to_vec(&value).expect("serialises");
            // Compared with the text read back by serde_json, whose float parsing is
            // not exactly round-trip (nor is the lookup's: they agree).
            let reread: Value = serde_json::from_slice(&text).expect("reads back");
            let found = FieldPath::parse(&path.join(".")).lookup(&text).expect("valid JSON");
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            prop_assert_eq!(found, reference(&reread, &path));
        }

        #[test]
        fn fails_exactly_on_invalid_json(text in "[{}\\[\\]:,\"a1 ]{0,12}") {
            let valid = serde_json::from_str::<Value>(&text).is_ok();
            prop_assert_eq!(FieldPath::parse("a").lookup(text.as_bytes()).is_ok(), valid);
        }
    }
}
