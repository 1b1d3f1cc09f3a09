//! Timestamp assignment at the sources: where an event's time comes from
//! ([`TimestampSpec`]) and how a field's value becomes milliseconds.
//!
//! - a **field** of a JSON value (a dotted path, `meta.ts`) or a CSV column;
//! - a **header** of the record (sources whose records carry headers, like Kafka);
//! - **ingestion time**, the wall clock when the source read the record.
//!
//! A number counts in the [`TimeUnit`] given (milliseconds by default; a fraction is
//! allowed and rounded down to the millisecond); a string must be an RFC 3339
//! date-time ([`super::rfc3339`]). Anything else — missing, null, a boolean, an
//! object, a number out of range — is an error with the reason, and the source
//! dead-letters the record.
//!
//! ```
//! use weir_host::connector::json_path::FieldValue;
//! use weir_host::time::extract::{TimeUnit, timestamp_of_value};
//! assert_eq!(timestamp_of_value(&FieldValue::Float(1.5), TimeUnit::Seconds), Ok(1_500));
//! assert_eq!(timestamp_of_value(&FieldValue::Str("1970-01-01T00:00:02Z".into()), TimeUnit::Millis), Ok(2_000));
//! assert!(timestamp_of_value(&FieldValue::Null, TimeUnit::Millis).is_err());
//! ```

use weir_batch::{EventRef, Timestamp};

use super::rfc3339::parse_rfc3339;
use crate::connector::json_path::{FieldPath, FieldValue};

/// The unit of numeric timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    /// Milliseconds since the Unix epoch.
    #[default]
    Millis,
    /// Seconds since the Unix epoch.
    Seconds,
}

impl TimeUnit {
    fn millis(self) -> i64 {
        match self {
            TimeUnit::Millis => 1,
            TimeUnit::Seconds => 1_000,
        }
    }
}

/// Where a source takes each event's time from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimestampSpec {
    /// The wall clock when the record was read (for the generator: its own synthetic
    /// times).
    #[default]
    Ingestion,
    /// A field of the value.
    Field {
        /// A dotted JSON path, or for CSV the column's name.
        field: String,
        /// The unit of numeric times.
        unit: TimeUnit,
    },
    /// A header of the record, whose text is a number or an RFC 3339 date-time.
    Header {
        /// The header's name.
        name: String,
        /// The unit of numeric times.
        unit: TimeUnit,
    },
}

/// The timestamp in `value`, a field read from a JSON value.
///
/// # Errors
/// Why `value` is not a time, in words.
pub fn timestamp_of_value(value: &FieldValue<'_>, unit: TimeUnit) -> Result<Timestamp, String> {
    match value {
        FieldValue::UInt(n) => i64::try_from(*n)
            .ok()
            .and_then(|n| n.checked_mul(unit.millis()))
            .ok_or_else(|| format!("{n} is out of range")),
        FieldValue::Int(n) => n
            .checked_mul(unit.millis())
            .ok_or_else(|| format!("{n} is out of range")),
        FieldValue::Float(f) => float_millis(*f, unit),
        FieldValue::Str(text) => parse_rfc3339(text),
        other => Err(format!(
            "it is {}, not a number or an RFC 3339 string",
            other.kind()
        )),
    }
}

/// The timestamp in `text`, a CSV cell or a header's value: a number in `unit`, or
/// an RFC 3339 date-time.
///
/// # Errors
/// Why `text` is not a time, in words.
pub fn timestamp_of_text(text: &str, unit: TimeUnit) -> Result<Timestamp, String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if let Ok(integer) = text.parse::<i64>() {
        return integer
            .checked_mul(unit.millis())
            .ok_or_else(|| format!("{text} is out of range"));
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && let Ok(float) = text.parse::<f64>()
    {
        return float_millis(float, unit);
    }
    parse_rfc3339(text)
}

/// `value` in `unit`, as whole milliseconds (rounded down).
fn float_millis(value: f64, unit: TimeUnit) -> Result<Timestamp, String> {
    let millis = (value * unit.millis() as f64).floor();
    // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
    if millis.is_finite() && millis >= i64::MIN as f64 && millis < i64::MAX as f64 {
        Ok(millis as i64)
    } else {
        Err(format!("{value} is out of range"))
    }
}

/// Reads each event's time from a field of its JSON value; see the module docs.
#[derive(Debug, Clone)]
pub struct FieldTimestamps {
    path: FieldPath,
    unit: TimeUnit,
}

impl FieldTimestamps {
    /// Times from the field at `path`, numbers in `unit`.
    pub fn new(path: &str, unit: TimeUnit) -> Self {
        FieldTimestamps {
            path: FieldPath::parse(path),
            unit,
        }
    }

    /// The time in the JSON value `json`, which is checked whole on the way.
    ///
    /// # Errors
    /// Invalid JSON, or a field that is missing or not a time; the reason names the
    /// field.
    pub fn timestamp(&self, json: &[u8]) -> Result<Timestamp, String> {
        let value = self.path.lookup(json)?;
        if value == FieldValue::Missing {
            return Err(format!("event time: field `{}` is missing", self.path));
        }
        timestamp_of_value(&value, self.unit)
            .map_err(|why| format!("event time: field `{}`: {why}", self.path))
    }
}

/// The time in header `name` of `event`: the first header of that name, its value
/// read as UTF-8 text by [`timestamp_of_text`].
///
/// # Errors
/// A missing header, or one whose value is not a time; the reason names the header.
pub fn timestamp_of_header(
    event: &EventRef<'_>,
    name: &str,
    unit: TimeUnit,
) -> Result<Timestamp, String> {
    let header = event
        .headers
        .iter()
        .find(|header| header.name == name)
        .ok_or_else(|| format!("event time: header `{name}` is missing"))?;
    let text = std::str::from_utf8(&header.value)
        .map_err(|_| format!("event time: header `{name}` is not UTF-8 text"))?;
    timestamp_of_text(text.trim(), unit)
        .map_err(|why| format!("event time: header `{name}`: {why}"))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use weir_batch::Batch;

    use super::*;

    #[test]
    fn numbers_in_either_unit_and_strings_in_rfc3339() {
        let ms = TimeUnit::Millis;
        let s = TimeUnit::Seconds;
        assert_eq!(timestamp_of_value(&FieldValue::UInt(1_700), ms), Ok(1_700));
        assert_eq!(
            timestamp_of_value(&FieldValue::UInt(1_700), s),
            Ok(1_700_000)
        );
        assert_eq!(timestamp_of_value(&FieldValue::Int(-2), s), Ok(-2_000));
        assert_eq!(timestamp_of_value(&FieldValue::Float(2.9), ms), Ok(2));
        assert_eq!(timestamp_of_value(&FieldValue::Float(-0.5), ms), Ok(-1));
        assert_eq!(timestamp_of_value(&FieldValue::Float(1.2345), s), Ok(1_234));
        let text = FieldValue::Str(Cow::Borrowed("2023-11-14T22:13:20Z"));
        assert_eq!(
            timestamp_of_value(&text, s),
            Ok(1_700_000_000_000),
            "unit is for numbers"
        );
        for bad in [
            FieldValue::UInt(u64::MAX),
            FieldValue::Int(i64::MIN),
            FieldValue::Float(1e300),
            FieldValue::Null,
            FieldValue::Bool(true),
            FieldValue::Object,
            FieldValue::Str(Cow::Borrowed("yesterday")),
        ] {
            assert!(timestamp_of_value(&bad, s).is_err(), "{bad:?}");
        }
        assert!(timestamp_of_value(&FieldValue::UInt(i64::MAX as u64), s).is_err());
    }

    #[test]
    fn text_is_a_number_or_a_date_time() {
        assert_eq!(timestamp_of_text("1700", TimeUnit::Seconds), Ok(1_700_000));
        assert_eq!(timestamp_of_text("-1.5", TimeUnit::Seconds), Ok(-1_500));
        assert_eq!(timestamp_of_text("1e3", TimeUnit::Millis), Ok(1_000));
        assert_eq!(
            timestamp_of_text("1970-01-01T00:00:00.042Z", TimeUnit::Seconds),
            Ok(42)
        );
        assert!(timestamp_of_text("", TimeUnit::Millis).is_err());
        assert!(timestamp_of_text("inf", TimeUnit::Millis).is_err());
        assert!(timestamp_of_text("NaN", TimeUnit::Millis).is_err());
    }

    #[test]
    fn field_reasons_name_the_field() {
        let field = FieldTimestamps::new("meta.ts", TimeUnit::Millis);
        assert_eq!(field.timestamp(br#"{"meta":{"ts":5}}"#), Ok(5));
        let missing = field.timestamp(br#"{"meta":{}}"#).expect_err("missing");
        assert_eq!(missing, "event time: field `meta.ts` is missing");
        let null = field
            .timestamp(br#"{"meta":{"ts":null}}"#)
            .expect_err("null");
        assert!(
            null.starts_with("event time: field `meta.ts`: it is null"),
            "{null}"
        );
        assert!(
            field
                .timestamp(b"{")
                .expect_err("bad")
                .contains("invalid JSON")
        );
    }

    #[test]
    fn headers_are_read_as_text() {
        let mut batch = Batch::default();
        batch.push(None, b"v", 0);
        batch.push_header("ts", b" 1700 ");
        batch.push(None, b"v", 0);
        batch.push_header("other", b"1");
        batch.push(None, b"v", 0);
        batch.push_header("ts", b"2023-11-14T22:13:20.5Z");
        batch.push(None, b"v", 0);
        batch.push_header("ts", &[0xff]);
        let times: Vec<Result<Timestamp, String>> = batch
            .iter()
            .map(|event| timestamp_of_header(&event, "ts", TimeUnit::Seconds))
            .collect();
        assert_eq!(times[0], Ok(1_700_000));
        assert_eq!(times[1], Err("event time: header `ts` is missing".into()));
        assert_eq!(times[2], Ok(1_700_000_000_500));
        assert_eq!(
            times[3],
            Err("event time: header `ts` is not UTF-8 text".into())
        );
    }
}
