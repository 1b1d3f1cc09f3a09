//! [`Output`]: one record an operator emitted under the harness — to its main output,
//! a named output (`late` included) or the dead-letter output — and its JSON line form,
//! the one `weir test` expected files hold.
//!
//! A value that is JSON appears as `"event"`; other UTF-8 text as `"event_text"`;
//! other bytes as `"event_base64"`. Keys and header values likewise (`"key"` or
//! `"key_base64"`). So a line says exactly which bytes were emitted.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use weir_batch::{Batch, Timestamp};

use crate::runtime::dead_letter::DeadLetter;

/// The name of the main output in [`Output::output`].
pub const MAIN: &str = "main";
/// The name of the dead-letter output in [`Output::output`].
pub const DEAD_LETTER: &str = "dead-letter";

/// One emitted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// `main`, `dead-letter`, `late` or a named output the plugin declared.
    pub output: String,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    /// The event time (a dead letter of a failed timer carries the timer's time).
    pub timestamp: Option<Timestamp>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// For dead letters: why.
    pub reason: Option<String>,
}

impl Output {
    /// The events of `batch`, emitted to `output`.
    pub fn from_batch<'a>(output: &str, batch: &'a Batch) -> impl Iterator<Item = Output> + 'a {
        let output = output.to_owned();
        batch.iter().map(move |event| Output {
            output: output.clone(),
            key: event.key.map(<[u8]>::to_vec),
            value: event.value.to_vec(),
            timestamp: Some(event.timestamp),
            headers: event
                .headers
                .iter()
                .map(|header| (header.name.to_string(), header.value.to_vec()))
                .collect(),
            reason: None,
        })
    }

    /// A dead letter, its reason as given.
    pub fn from_dead_letter(letter: DeadLetter) -> Output {
        Output {
            output: DEAD_LETTER.to_owned(),
            key: letter.key,
            value: letter.value,
            timestamp: letter.timestamp,
            headers: letter.headers,
            reason: Some(letter.reason),
        }
    }

    /// The value parsed as JSON (`None` if it is not JSON).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.value).ok()
    }

    /// The key as text (lossy), if any.
    pub fn key_text(&self) -> Option<String> {
        self.key
            .as_deref()
            .map(|key| String::from_utf8_lossy(key).into_owned())
    }

    /// The record as one JSON object: `output`, the value (`event`, `event_text` or
    /// `event_base64`), `key` (or `key_base64`) if any, `time` if any, `headers` (an
    /// object, if any) and `reason` (dead letters).
    pub fn to_json(&self) -> Value {
        let mut line = Map::new();
        line.insert("output".into(), json!(self.output));
        let (field, value) = bytes_field("event", &self.value, true);
        line.insert(field, value);
        if let Some(key) = &self.key {
            let (field, value) = bytes_field("key", key, false);
            line.insert(field, value);
        }
        if let Some(time) = self.timestamp {
            line.insert("time".into(), json!(time));
        }
        if !self.headers.is_empty() {
            let headers: Map<String, Value> = self
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), text_or_base64(value)))
                .collect();
            line.insert("headers".into(), Value::Object(headers));
        }
        if let Some(reason) = &self.reason {
            line.insert("reason".into(), json!(reason));
        }
        Value::Object(line)
    }
}

/// `name` with the JSON value (when `json` and the bytes are JSON), `name_text` with
/// the text, or `name_base64`.
fn bytes_field(name: &str, bytes: &[u8], json: bool) -> (String, Value) {
    if json && let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return (name.to_owned(), value);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if json => (format!("{name}_text"), json!(text)),
        Ok(text) => (name.to_owned(), json!(text)),
        Err(_) => (
            format!("{name}_base64"),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    }
}

/// A header value: its text, or `{"base64": ...}` when it is not UTF-8.
fn text_or_base64(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!(text),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_text_or_base64_and_keys_text_or_base64() {
        let mut batch = Batch::default();
        batch.push(Some(b"k"), br#"{"a":1}"#, 5);
        batch.push(None, b"idle", 6);
        batch.push(Some(&[0xff]), &[0xfe], 7);
        let lines: Vec<String> = Output::from_batch("main", &batch)
            .map(|output| output.to_json().to_string())
            .collect();
        assert_eq!(
            lines,
            [
                r#"{"event":{"a":1},"key":"k","output":"main","time":5}"#,
                r#"{"event_text":"idle","output":"main","time":6}"#,
                r#"{"event_base64":"/g==","key_base64":"/w==","output":"main","time":7}"#,
            ]
        );
    }
}
