//! Record formats at the edges of a pipeline: how sources turn lines into events
//! ([`super::decode::LineDecoder`]) and how sinks turn events into lines ([`encode`]).
//!
//! Input formats ([`RecordFormat`]):
//! - **JSON lines**: one JSON value per line, kept byte for byte as the event value.
//! - **CSV**: the first non-blank line names the columns; each later row becomes a JSON
//!   object keyed by those names. RFC 4180 quoting works within a line (quoted commas,
//!   `""` for a quote), but a quoted field cannot span lines: multi-line fields are not
//!   supported and such a row is dead-lettered as an unterminated quote.
//!
//! Output formats ([`SinkFormat`]): the bare value per line, or a JSON envelope with
//! key, value, timestamp and headers. Bytes that are not UTF-8 are written in base64
//! under `<name>_base64`, the convention of
//! [`DeadLetter::to_json_line`](crate::runtime::dead_letter::DeadLetter::to_json_line).

use super::json_text::{write_bytes_field, write_i64, write_json_string};
use weir_batch::Batch;

/// How a source's lines are decoded into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// One JSON value per line; the line is the event value.
    JsonLines,
    /// Comma-separated values with a header line; each row becomes a JSON object.
    Csv,
}

/// How a sink writes events, one line per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkFormat {
    /// The event's value bytes followed by `\n`.
    Value,
    /// `{"key":..,"value":..,"timestamp":..,"headers":{..}}` per line. Key and value
    /// are text when they are UTF-8, else base64 under `key_base64` / `value_base64`;
    /// an absent key is `null`; header values are text (invalid UTF-8 replaced).
    Envelope,
}

/// Appends the events of `batch` to `out`, one line each, in `format`.
pub fn encode(format: SinkFormat, batch: &Batch, out: &mut Vec<u8>) {
    match format {
        SinkFormat::Value => {
            out.reserve(batch.byte_len() + batch.len());
            for event in batch.iter() {
                out.extend_from_slice(event.value);
                out.push(b'\n');
            }
        }
        SinkFormat::Envelope => {
            for event in batch.iter() {
                out.push(b'{');
                match event.key {
                    Some(key) => write_bytes_field(out, "key", key),
                    None => out.extend_from_slice(br#""key":null"#),
                }
                out.push(b',');
                write_bytes_field(out, "value", event.value);
                out.extend_from_slice(br#","timestamp":"#);
                write_i64(out, event.timestamp);
                out.extend_from_slice(br#","headers":{"#);
                for (i, header) in event.headers.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(out, &header.name);
                    out.push(b':');
                    write_json_string(out, &String::from_utf8_lossy(&header.value));
                }
                out.extend_from_slice(b"}}\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::csv::is_json_number;
    use crate::connector::json_text::{write_u64, write_u64_padded};
    use serde_json::{Value, json};

    #[test]
    fn json_number_grammar() {
        for yes in ["0", "-0", "12", "-1.5", "1e5", "1E+5", "2.5e-3"] {
            assert!(is_json_number(yes.as_bytes()), "{yes}");
        }
        for no in [
            "", "-", "01", "+1", ".5", "5.", "1e", "1e+", "inf", "NaN", "1.2.3", " 1",
        ] {
            assert!(!is_json_number(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn json_strings_round_trip_through_serde() {
        let text = "plain \"quoted\" back\\slash \n\r\t \u{1} \u{1f} é 🦀";
        let mut out = Vec::new();
        write_json_string(&mut out, text);
        let back: String = serde_json::from_slice(&out).expect("valid JSON string");
        assert_eq!(back, text);
    }

    #[test]
    fn integers_are_written_in_decimal() {
        let mut out = Vec::new();
        write_u64(&mut out, 0);
        out.push(b' ');
        write_u64(&mut out, u64::MAX);
        out.push(b' ');
        write_i64(&mut out, i64::MIN);
        out.push(b' ');
        write_u64_padded(&mut out, 42, 4);
        out.push(b' ');
        write_u64_padded(&mut out, 123_456, 4);
        assert_eq!(
            String::from_utf8(out).expect("ASCII"),
            "0 18446744073709551615 -9223372036854775808 0042 123456"
        );
    }

    #[test]
    fn encode_value_and_envelope() {
        let mut batch = Batch::default();
        batch.push(Some(b"k1"), br#"{"a":1}"#, 5);
        batch.push_header("trace", b"t\"1");
        batch.push(None, &[0xff, 0x00], -3);
        batch.push(Some(&[0xfe]), b"line\nbreak", 0);

        let mut out = Vec::new();
        encode(SinkFormat::Value, &batch, &mut out);
        assert_eq!(out, b"{\"a\":1}\n\xff\x00\nline\nbreak\n");

        let mut out = b"existing\n".to_vec();
        encode(SinkFormat::Envelope, &batch, &mut out);
        let text = std::str::from_utf8(&out).expect("envelopes are UTF-8");
        let lines: Vec<Value> = text
            .lines()
            .skip(1)
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect();
        assert!(text.starts_with("existing\n"), "appends");
        assert_eq!(
            lines,
            [
                json!({"key":"k1","value":"{\"a\":1}","timestamp":5,"headers":{"trace":"t\"1"}}),
                json!({"key":null,"value_base64":"/wA=","timestamp":-3,"headers":{}}),
                json!({"key_base64":"/g==","value":"line\nbreak","timestamp":0,"headers":{}}),
            ]
        );
    }
}
