//! [`KeySelector`]: what the producer upstream of a keyed operator (`key_by`) runs on
//! each batch before the exchange, as Kafka Streams' `selectKey`: every event gets the
//! key the operator is keyed by, or goes to the dead-letter output with the reason.
//!
//! Laws (tested below):
//! - events that keep flowing keep their order, value, time and headers; only their
//!   key changes (for `$key`, nothing changes);
//! - an event is dead-lettered exactly when it has no usable key: for a field, the
//!   value is not JSON or the field is missing, null, an object or an array; for
//!   `$key`, the event has no key; for `$all`, never (every event gets the key `all`:
//!   one key, so one model or one count for the whole stream, on one subtask);
//! - a field's key is its text: a string as it is (unescaped), a number or boolean as
//!   its JSON text (integers in decimal, other numbers as `serde_json` writes them).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use weir_batch::{Batch, EventRef};

use super::dead_letter::{DeadLetter, Origin};
use super::stats::OperatorStats;
use crate::connector::json_path::{FieldPath, FieldValue};
use crate::connector::json_text::{write_i64, write_u64};

/// What a keyed operator's input is keyed by (`key_by` in the pipeline file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyBy {
    /// `$key`: the event's own key.
    EventKey,
    /// A dotted JSON path of the value.
    Field(FieldPath),
    /// `$all`: one key, [`ALL_KEY`], for every event (a global model or aggregate).
    All,
}

/// The key of every event of an operator keyed by `$all`.
pub const ALL_KEY: &[u8] = b"all";

impl KeyBy {
    /// `$key`, or a field path.
    ///
    /// # Errors
    /// When `text` is neither `$key` nor a field path.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "$key" => return Ok(KeyBy::EventKey),
            "$all" => return Ok(KeyBy::All),
            _ => {}
        }
        FieldPath::check(text).map_err(|why| {
            format!(
                "{why}, or \"$key\" for the event's key, or \"$all\" for one key for all events"
            )
        })?;
        Ok(KeyBy::Field(FieldPath::parse(text)))
    }
}

impl std::fmt::Display for KeyBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyBy::EventKey => f.write_str("$key"),
            KeyBy::All => f.write_str("$all"),
            KeyBy::Field(path) => path.fmt(f),
        }
    }
}

/// Gives each event of a batch the key a keyed operator needs; see the module docs.
#[derive(Debug)]
pub struct KeySelector {
    key_by: KeyBy,
    operator: String,
    origin: Origin,
    stats: Arc<OperatorStats>,
    /// Key columns of the batch being built, reused from batch to batch.
    keys: Vec<u8>,
    key_ends: Vec<u32>,
    /// Where each event's key lies in `keys`; `None` for an event without one.
    spans: Vec<Option<(usize, usize)>>,
}

impl KeySelector {
    /// The selector for operator `operator` (run by `plugin`), keyed by `key_by`;
    /// events dead-lettered are counted in `stats`.
    pub fn new(key_by: KeyBy, operator: &str, plugin: &str, stats: Arc<OperatorStats>) -> Self {
        KeySelector {
            key_by,
            operator: operator.to_owned(),
            origin: Origin::Operator {
                operator: operator.to_owned(),
                plugin: plugin.to_owned(),
            },
            stats,
            keys: Vec::new(),
            key_ends: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// `batch` with every event keyed; events without a key are pushed to
    /// `dead_letters` instead.
    pub fn select(&mut self, batch: Batch, dead_letters: &mut Vec<DeadLetter>) -> Batch {
        let before = dead_letters.len();
        let selected = match &self.key_by {
            KeyBy::EventKey => self.keep_keyed(batch, dead_letters),
            KeyBy::Field(_) => self.key_by_field(batch, dead_letters),
            KeyBy::All => key_all(batch),
        };
        let rejected = dead_letters.len() - before;
        if rejected > 0 {
            self.stats.dead_lettered.fetch_add(rejected as u64, Relaxed);
        }
        selected
    }

    /// `$key`: events that have a key flow on as they are.
    fn keep_keyed(&self, batch: Batch, dead_letters: &mut Vec<DeadLetter>) -> Batch {
        let parts = batch.into_parts();
        let all_keyed = parts.keyless.is_empty();
        let batch = Batch::from_parts(parts);
        if all_keyed {
            return batch;
        }
        let mut kept = Batch::with_capacity_like(&batch);
        for event in batch.iter() {
            if event.key.is_some() {
                kept.push_event(&event);
            } else {
                dead_letters.push(DeadLetter::for_event(
                    self.origin.clone(),
                    format!(
                        "operator `{}` is keyed by the event key; this event has none",
                        self.operator
                    ),
                    &event,
                ));
            }
        }
        kept
    }

    /// A field: the key columns are rebuilt; the other columns move as they are
    /// unless an event is dead-lettered.
    fn key_by_field(&mut self, batch: Batch, dead_letters: &mut Vec<DeadLetter>) -> Batch {
        let KeyBy::Field(path) = &self.key_by else {
            return batch;
        };
        self.keys.clear();
        self.key_ends.clear();
        self.spans.clear();
        let mut rejected = false;
        for event in batch.iter() {
            let start = self.keys.len();
            match append_key(path, event.value, &mut self.keys) {
                Ok(()) => {
                    // A batch's key bytes stay far below 4 GiB (see `Batch::push`).
                    self.key_ends.push(self.keys.len() as u32);
                    self.spans.push(Some((start, self.keys.len())));
                }
                Err(why) => {
                    rejected = true;
                    self.spans.push(None);
                    dead_letters.push(self.rejection(&event, path, &why));
                }
            }
        }
        if !rejected {
            let mut parts = batch.into_parts();
            std::mem::swap(&mut parts.keys, &mut self.keys);
            std::mem::swap(&mut parts.key_ends, &mut self.key_ends);
            parts.keyless.clear();
            return Batch::from_parts(parts);
        }
        let mut kept = Batch::with_capacity_like(&batch);
        for (event, span) in batch.iter().zip(&self.spans) {
            if let Some((start, end)) = *span {
                kept.push(Some(&self.keys[start..end]), event.value, event.timestamp);
                for header in event.headers {
                    kept.push_header(header.name.clone(), &header.value);
                }
            }
        }
        kept
    }

    fn rejection(&self, event: &EventRef<'_>, path: &FieldPath, why: &str) -> DeadLetter {
        DeadLetter::for_event(
            self.origin.clone(),
            format!(
                "operator `{}` is keyed by field `{path}`, {why}",
                self.operator
            ),
            event,
        )
    }
}

/// `$all`: every event gets the key [`ALL_KEY`]; nothing else changes.
fn key_all(batch: Batch) -> Batch {
    let mut parts = batch.into_parts();
    let events = parts.timestamps.len();
    parts.keys = ALL_KEY.repeat(events);
    parts.key_ends = (1..=events)
        .map(|event| (event * ALL_KEY.len()) as u32)
        .collect();
    parts.keyless.clear();
    Batch::from_parts(parts)
}

/// Appends the key text of the field at `path` of `value` to `keys`, or says why
/// there is none (the end of a sentence starting "keyed by field `x`, ").
fn append_key(path: &FieldPath, value: &[u8], keys: &mut Vec<u8>) -> Result<(), String> {
    let field = path
        .lookup(value)
        .map_err(|why| format!("but the value is {why}"))?;
    match field {
        FieldValue::Str(string) => keys.extend_from_slice(string.as_bytes()),
        FieldValue::Bool(true) => keys.extend_from_slice(b"true"),
        FieldValue::Bool(false) => keys.extend_from_slice(b"false"),
        FieldValue::Int(integer) => write_i64(keys, integer),
        FieldValue::UInt(integer) => write_u64(keys, integer),
        FieldValue::Float(float) => {
            let number = serde_json::Number::from_f64(float)
                .ok_or_else(|| format!("which is {float}, not a JSON number"))?;
            keys.extend_from_slice(number.to_string().as_bytes());
        }
        FieldValue::Missing => return Err("which this event lacks".to_owned()),
        other @ (FieldValue::Null | FieldValue::Object | FieldValue::Array) => {
            return Err(format!(
                "which is {} in this event; a key must be a string, a number or a boolean",
                other.kind()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(key_by: &str) -> KeySelector {
        let key_by = KeyBy::parse(key_by).expect("valid");
        KeySelector::new(
            key_by,
            "count",
            "native",
            Arc::new(OperatorStats::default()),
        )
    }

    fn keys(batch: &Batch) -> Vec<Option<String>> {
        batch
            .iter()
            .map(|event| {
                event
                    .key
                    .map(|key| String::from_utf8_lossy(key).into_owned())
            })
            .collect()
    }

    #[test]
    fn key_by_parses_event_key_and_paths() {
        assert_eq!(KeyBy::parse("$key"), Ok(KeyBy::EventKey));
        assert_eq!(KeyBy::parse("$all"), Ok(KeyBy::All));
        assert_eq!(
            KeyBy::parse("user.id"),
            Ok(KeyBy::Field(FieldPath::parse("user.id")))
        );
        let error = KeyBy::parse("user..id").expect_err("empty segment");
        assert!(error.contains("\"$key\""), "{error}");
        assert_eq!(KeyBy::parse("a.b").expect("valid").to_string(), "a.b");
    }

    #[test]
    fn fields_become_keys_and_the_rest_stays() {
        let mut batch = Batch::default();
        for (index, value) in [
            r#"{"u":{"id":"ann"}}"#,
            r#"{"u":{"id":42}}"#,
            r#"{"u":{"id":-7}}"#,
            r#"{"u":{"id":1.5}}"#,
            r#"{"u":{"id":true}}"#,
            r#"{"u":{"id":"a\"b"}}"#,
        ]
        .into_iter()
        .enumerate()
        {
            batch.push(Some(b"old"), value.as_bytes(), index as i64);
            batch.push_header("h", &[index as u8]);
        }
        let mut selector = selector("u.id");
        let mut dead = Vec::new();
        let selected = selector.select(batch.clone(), &mut dead);
        assert!(dead.is_empty());
        let expected = ["ann", "42", "-7", "1.5", "true", "a\"b"];
        assert_eq!(keys(&selected), expected.map(|key| Some(key.to_owned())));
        for (before, after) in batch.iter().zip(selected.iter()) {
            assert_eq!(
                (before.value, before.timestamp, before.headers),
                (after.value, after.timestamp, after.headers)
            );
        }
        assert!(selected.validate().is_ok());
        // Buffers are reused: a second batch comes out just as right.
        let again = selector.select(batch, &mut dead);
        assert_eq!(keys(&again), keys(&selected));
    }

    #[test]
    fn events_without_a_usable_key_are_dead_lettered_with_the_reason() {
        let mut batch = Batch::default();
        for value in [
            r#"{"u":{"id":"a"}}"#,
            r#"{"u":{}}"#,
            r#"{"u":{"id":null}}"#,
            r#"{"u":{"id":[1]}}"#,
            "not json",
            r#"{"u":{"id":"b"}}"#,
        ] {
            batch.push(None, value.as_bytes(), 1);
            batch.push_header("trace", value.as_bytes());
        }
        let stats = Arc::new(OperatorStats::default());
        let mut selector = KeySelector::new(
            KeyBy::parse("u.id").expect("valid"),
            "count",
            "p@1",
            stats.clone(),
        );
        let mut dead = Vec::new();
        let selected = selector.select(batch, &mut dead);
        assert_eq!(
            keys(&selected),
            [Some("a".to_owned()), Some("b".to_owned())]
        );
        assert_eq!(selected.event(1).headers[0].value, br#"{"u":{"id":"b"}}"#);
        assert!(selected.validate().is_ok());
        let reasons: Vec<&str> = dead.iter().map(|letter| letter.reason.as_str()).collect();
        assert_eq!(
            reasons[0],
            "operator `count` is keyed by field `u.id`, which this event lacks"
        );
        assert!(
            reasons[1].contains("which is null in this event"),
            "{}",
            reasons[1]
        );
        assert!(reasons[2].contains("which is an array"), "{}", reasons[2]);
        assert!(
            reasons[3].contains("but the value is invalid JSON"),
            "{}",
            reasons[3]
        );
        assert_eq!(dead[0].value, br#"{"u":{}}"#);
        assert_eq!(
            dead[0].origin,
            Origin::Operator {
                operator: "count".into(),
                plugin: "p@1".into()
            }
        );
        assert_eq!(stats.dead_lettered.load(Relaxed), 4);
    }

    #[test]
    fn event_key_keeps_keyed_events_untouched() {
        let mut batch = Batch::default();
        batch.push(Some(b"k1"), b"1", 1);
        batch.push(None, b"2", 2);
        batch.push(Some(b"k3"), b"3", 3);
        let mut selector = selector("$key");
        let mut dead = Vec::new();
        let selected = selector.select(batch.clone(), &mut dead);
        assert_eq!(
            keys(&selected),
            [Some("k1".to_owned()), Some("k3".to_owned())]
        );
        assert_eq!(
            dead[0].reason,
            "operator `count` is keyed by the event key; this event has none"
        );
        let keyed = selected.clone();
        assert_eq!(selector.select(selected, &mut dead), keyed, "nothing to do");
        assert_eq!(dead.len(), 1);
    }

    #[test]
    fn all_gives_every_event_one_key_and_keeps_the_rest() {
        let mut batch = Batch::default();
        batch.push(Some(b"k1"), b"1", 1);
        batch.push(None, b"2", 2);
        batch.push_header("h", b"v");
        let mut dead = Vec::new();
        let selected = selector("$all").select(batch.clone(), &mut dead);
        assert!(dead.is_empty());
        assert_eq!(
            keys(&selected),
            [Some("all".to_owned()), Some("all".to_owned())]
        );
        for (before, after) in batch.iter().zip(selected.iter()) {
            assert_eq!(
                (before.value, before.timestamp, before.headers),
                (after.value, after.timestamp, after.headers)
            );
        }
    }
}
