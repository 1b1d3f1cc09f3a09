//! Dead letters: input the pipeline could not process, kept with the reason, never
//! dropped. Sources send malformed records here (with the line or offset); operators
//! send the events a plugin rejected or failed on (with the plugin and its version).

use base64::Engine as _;
use serde_json::json;
use weir_batch::{EventRef, Timestamp};

/// Where a dead letter came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A source could not decode a record.
    Source {
        /// The source's description, e.g. `file:data/tx.jsonl`.
        source: String,
        /// Where in the source, e.g. `line 12` or `partition 3 offset 1200`.
        position: String,
    },
    /// An operator rejected the event or failed on it.
    Operator {
        operator: String,
        /// The plugin's identity, `name@version+hash`, or `native`.
        plugin: String,
    },
    /// An operator emitted to an output the pipeline does not route anywhere.
    Unrouted { operator: String, output: String },
}

/// One record that could not be processed, with everything needed to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub origin: Origin,
    /// Why, in words.
    pub reason: String,
    pub key: Option<Vec<u8>>,
    /// The record's bytes as received (for a source, the raw line).
    pub value: Vec<u8>,
    pub timestamp: Option<Timestamp>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl DeadLetter {
    /// A dead letter for `event`.
    pub fn for_event(origin: Origin, reason: impl Into<String>, event: &EventRef<'_>) -> Self {
        DeadLetter {
            origin,
            reason: reason.into(),
            key: event.key.map(<[u8]>::to_vec),
            value: event.value.to_vec(),
            timestamp: Some(event.timestamp),
            headers: event
                .headers
                .iter()
                .map(|header| (header.name.to_string(), header.value.to_vec()))
                .collect(),
        }
    }

    /// A dead letter for a raw record a source could not decode.
    pub fn for_record(
        source: &str,
        position: String,
        reason: impl Into<String>,
        raw: &[u8],
    ) -> Self {
        DeadLetter {
            origin: Origin::Source {
                source: source.to_owned(),
                position,
            },
            reason: reason.into(),
            key: None,
            value: raw.to_vec(),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// The dead letter as one line of JSON. Bytes that are UTF-8 appear as text
    /// (`value`), others in base64 (`value_base64`), so nothing is lost either way.
    pub fn to_json_line(&self) -> String {
        let mut record = serde_json::Map::new();
        match &self.origin {
            Origin::Source { source, position } => {
                record.insert("stage".into(), json!("source"));
                record.insert("source".into(), json!(source));
                record.insert("position".into(), json!(position));
            }
            Origin::Operator { operator, plugin } => {
                record.insert("stage".into(), json!("operator"));
                record.insert("operator".into(), json!(operator));
                record.insert("plugin".into(), json!(plugin));
            }
            Origin::Unrouted { operator, output } => {
                record.insert("stage".into(), json!("routing"));
                record.insert("operator".into(), json!(operator));
                record.insert("output".into(), json!(output));
            }
        }
        record.insert("reason".into(), json!(self.reason));
        if let Some(timestamp) = self.timestamp {
            record.insert("timestamp".into(), json!(timestamp));
        }
        if let Some(key) = &self.key {
            insert_bytes(&mut record, "key", key);
        }
        insert_bytes(&mut record, "value", &self.value);
        if !self.headers.is_empty() {
            let headers: serde_json::Map<_, _> = self
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), json!(String::from_utf8_lossy(value))))
                .collect();
            record.insert("headers".into(), headers.into());
        }
        serde_json::Value::Object(record).to_string()
    }
}

fn insert_bytes(record: &mut serde_json::Map<String, serde_json::Value>, name: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => record.insert(name.into(), json!(text)),
        Err(_) => record.insert(
            format!("{name}_base64"),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_keeps_text_and_binary() {
        let mut batch = weir_batch::Batch::default();
        batch.push(Some(b"k"), &[0xff, 0x00], 5);
        let letter = DeadLetter::for_event(
            Origin::Operator {
                operator: "f".into(),
                plugin: "p@1+abc".into(),
            },
            "boom",
            &batch.event(0),
        );
        let line: serde_json::Value =
            serde_json::from_str(&letter.to_json_line()).expect("valid JSON");
        assert_eq!(line["operator"], "f");
        assert_eq!(line["plugin"], "p@1+abc");
        assert_eq!(line["reason"], "boom");
        assert_eq!(line["key"], "k");
        assert_eq!(line["value_base64"], "/wA=");
        assert_eq!(line["timestamp"], 5);
    }
}
