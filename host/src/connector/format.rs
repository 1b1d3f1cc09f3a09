//! Record formats at the edges of a pipeline: how sources turn lines into events
//! ([`LineDecoder`]) and how sinks turn events into lines ([`encode`]).
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
//! under `<name>_base64`, the convention of [`DeadLetter::to_json_line`].

use super::csv::{header_columns, split_csv, write_csv_value};
use super::json_text::{write_bytes_field, write_i64, write_json_string};
use serde::de::IgnoredAny;
use weir_batch::{Batch, Timestamp};

use crate::runtime::dead_letter::DeadLetter;

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

/// Decodes the lines of one source into events, keeping the state a format needs
/// across lines (the CSV header).
///
/// Blank lines (empty or only whitespace) are skipped; a trailing `\r\n` or `\n` is
/// removed, as is a UTF-8 byte-order mark at the start of the first line. A line that
/// does not decode becomes a [`DeadLetter`] at position `line N` holding the raw line.
///
/// For CSV, a header with an empty or repeated column name is invalid: the header line
/// is dead-lettered with the reason, and so is every later row (their reason names the
/// header's line), since they cannot be given names.
#[derive(Debug)]
pub struct LineDecoder {
    format: RecordFormat,
    source_desc: String,
    first_line: bool,
    csv: CsvState,
}

/// What a CSV decoder knows about its header.
#[derive(Debug)]
enum CsvHeader {
    /// Not seen yet: the next non-blank line is the header.
    Pending,
    /// The column names, each pre-rendered as `"name":`.
    Valid(Vec<Vec<u8>>),
    /// The header line could not be used.
    Invalid { line: u64, reason: String },
}

/// Scratch space of the CSV decoder, reused from row to row.
#[derive(Debug)]
struct CsvState {
    header: CsvHeader,
    /// The unquoted contents of the fields of the current row, back to back.
    cells: Vec<u8>,
    /// Where each field of `cells` ends.
    ends: Vec<usize>,
    /// The JSON object being built for the current row.
    json: Vec<u8>,
}

impl LineDecoder {
    /// A decoder for `format`; `source_desc` (e.g. `file:tx.csv`) names the source in
    /// dead letters.
    pub fn new(format: RecordFormat, source_desc: String) -> Self {
        LineDecoder {
            format,
            source_desc,
            first_line: true,
            csv: CsvState {
                header: CsvHeader::Pending,
                cells: Vec::new(),
                ends: Vec::new(),
                json: Vec::new(),
            },
        }
    }

    /// The format this decoder reads.
    pub fn format(&self) -> RecordFormat {
        self.format
    }

    /// Decodes `line` (line `line_number` of the source, counted from 1): pushes the
    /// event it holds to `batch` with `timestamp`, pushes a dead letter, or does nothing
    /// for a blank line or a CSV header.
    pub fn decode(
        &mut self,
        line_number: u64,
        line: &[u8],
        timestamp: Timestamp,
        batch: &mut Batch,
        dead_letters: &mut Vec<DeadLetter>,
    ) {
        let mut line = trim_line_end(line);
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let result = match self.format {
            RecordFormat::JsonLines => check_json(line).map(|()| batch.push(None, line, timestamp)),
            RecordFormat::Csv => self.decode_csv(line_number, line, timestamp, batch),
        };
        if let Err(reason) = result {
            dead_letters.push(DeadLetter::for_record(
                &self.source_desc,
                format!("line {line_number}"),
                reason,
                line,
            ));
        }
    }

    fn decode_csv(
        &mut self,
        line_number: u64,
        line: &[u8],
        timestamp: Timestamp,
        batch: &mut Batch,
    ) -> Result<(), String> {
        let csv = &mut self.csv;
        let columns = match &csv.header {
            CsvHeader::Valid(columns) => columns,
            CsvHeader::Invalid { line, reason } => {
                return Err(format!("the CSV header (line {line}) is invalid: {reason}"));
            }
            CsvHeader::Pending => {
                let header = split_csv(line, &mut csv.cells, &mut csv.ends)
                    .and_then(|()| header_columns(&csv.cells, &csv.ends));
                return match header {
                    Ok(columns) => {
                        csv.header = CsvHeader::Valid(columns);
                        Ok(())
                    }
                    Err(reason) => {
                        csv.header = CsvHeader::Invalid {
                            line: line_number,
                            reason: reason.clone(),
                        };
                        Err(format!("invalid CSV header: {reason}"))
                    }
                };
            }
        };
        split_csv(line, &mut csv.cells, &mut csv.ends)?;
        if csv.ends.len() != columns.len() {
            return Err(format!(
                "expected {} fields (by the header), found {}",
                columns.len(),
                csv.ends.len()
            ));
        }
        let json = &mut csv.json;
        json.clear();
        json.push(b'{');
        let mut start = 0;
        for (index, (&end, column)) in csv.ends.iter().zip(columns).enumerate() {
            let cell = std::str::from_utf8(&csv.cells[start..end])
                .map_err(|error| format!("field {} is not valid UTF-8: {error}", index + 1))?;
            if index > 0 {
                json.push(b',');
            }
            json.extend_from_slice(column);
            write_csv_value(json, cell);
            start = end;
        }
        json.push(b'}');
        batch.push(None, json, timestamp);
        Ok(())
    }
}

/// `line` without its trailing `\n` and `\r`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Checks that `line` is one valid JSON value (without building it).
fn check_json(line: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(line).map_err(|error| format!("not valid UTF-8: {error}"))?;
    serde_json::from_str::<IgnoredAny>(text)
        .map(|_| ())
        .map_err(|error| format!("invalid JSON: {error}"))
}

/// Splits one CSV line into fields, unquoting them into `cells`, with `ends[i]` the end
/// of field `i` in `cells`. Quotes and commas are ASCII, so splitting bytes never cuts a
/// UTF-8 character.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::csv::is_json_number;
    use crate::connector::json_text::{write_u64, write_u64_padded};
    use serde_json::{Value, json};

    fn decode_all(format: RecordFormat, text: &str) -> (Batch, Vec<DeadLetter>) {
        let mut decoder = LineDecoder::new(format, "test".into());
        let mut batch = Batch::default();
        let mut dead = Vec::new();
        for (index, line) in text.split_inclusive('\n').enumerate() {
            decoder.decode(index as u64 + 1, line.as_bytes(), 7, &mut batch, &mut dead);
        }
        (batch, dead)
    }

    fn values(batch: &Batch) -> Vec<Value> {
        batch
            .iter()
            .map(|event| serde_json::from_slice(event.value).expect("decoded values are JSON"))
            .collect()
    }

    fn position(letter: &DeadLetter) -> &str {
        match &letter.origin {
            crate::runtime::dead_letter::Origin::Source { position, .. } => position,
            other => panic!("not a source dead letter: {other:?}"),
        }
    }

    #[test]
    fn json_lines_keep_valid_lines_and_dead_letter_the_rest() {
        let text = "{\"a\":1}\r\n\n   \n[1,2\n\"text\"\n{\"b\":2} trailing\n{\"c\":3}";
        let (batch, dead) = decode_all(RecordFormat::JsonLines, text);
        let got: Vec<&[u8]> = batch.iter().map(|event| event.value).collect();
        assert_eq!(got, [&b"{\"a\":1}"[..], b"\"text\"", b"{\"c\":3}"]);
        assert!(
            batch
                .iter()
                .all(|event| event.key.is_none() && event.timestamp == 7)
        );
        assert_eq!(dead.len(), 2);
        assert_eq!(position(&dead[0]), "line 4");
        assert_eq!(dead[0].value, b"[1,2");
        assert!(
            dead[0].reason.contains("invalid JSON"),
            "{}",
            dead[0].reason
        );
        assert_eq!(position(&dead[1]), "line 6");
        assert!(dead[1].reason.contains("trailing"), "{}", dead[1].reason);
    }

    #[test]
    fn json_lines_reject_invalid_utf8_and_strip_a_bom() {
        let mut decoder = LineDecoder::new(RecordFormat::JsonLines, "test".into());
        let mut batch = Batch::default();
        let mut dead = Vec::new();
        decoder.decode(1, b"\xEF\xBB\xBF{\"a\":1}\n", 0, &mut batch, &mut dead);
        decoder.decode(2, b"{\"a\":\"\xff\"}\n", 0, &mut batch, &mut dead);
        assert_eq!(batch.event(0).value, b"{\"a\":1}");
        assert_eq!(batch.len(), 1);
        assert_eq!(dead.len(), 1);
        assert!(dead[0].reason.contains("UTF-8"), "{}", dead[0].reason);
    }

    #[test]
    fn csv_rows_become_typed_objects() {
        let text = "id,name,amount,note,big\r\n\
                    1,Ann,12.50,,12345678901234567890123\n\
                    +2,\"Smith, Bob\",007,\"say \"\"hi\"\"\",1e999\n\
                    3,Zoë,.5,\"\",-12\n";
        let (batch, dead) = decode_all(RecordFormat::Csv, text);
        assert!(dead.is_empty(), "{dead:?}");
        assert_eq!(
            std::str::from_utf8(batch.event(0).value).expect("UTF-8"),
            r#"{"id":1,"name":"Ann","amount":12.50,"note":null,"big":12345678901234567890123}"#
        );
        assert_eq!(
            values(&batch),
            [
                json!({"id":1,"name":"Ann","amount":12.5,"note":null,"big":1.2345678901234568e22}),
                json!({"id":2,"name":"Smith, Bob","amount":7,"note":"say \"hi\"","big":"1e999"}),
                json!({"id":3,"name":"Zoë","amount":0.5,"note":null,"big":-12}),
            ]
        );
    }

    #[test]
    fn csv_bad_rows_are_dead_lettered_with_their_line() {
        let text = "a,b,c\n1,2\n1,2,3,4\n\"x,2,3\n\"x\"y,2,3\n1,2,3\n";
        let (batch, dead) = decode_all(RecordFormat::Csv, text);
        assert_eq!(values(&batch), [json!({"a":1,"b":2,"c":3})]);
        let got: Vec<(&str, &str)> = dead
            .iter()
            .map(|letter| (position(letter), letter.reason.as_str()))
            .collect();
        assert_eq!(
            got[0],
            ("line 2", "expected 3 fields (by the header), found 2")
        );
        assert_eq!(
            got[1],
            ("line 3", "expected 3 fields (by the header), found 4")
        );
        assert_eq!(got[2].0, "line 4");
        assert!(got[2].1.contains("unterminated"), "{}", got[2].1);
        assert_eq!(got[3].0, "line 5");
        assert!(got[3].1.contains("closing quote"), "{}", got[3].1);
        assert_eq!(dead[0].value, b"1,2");
    }

    #[test]
    fn csv_invalid_header_dead_letters_header_and_rows() {
        for (header, why) in [("a,,c", "empty name"), ("a,b,a", "appears twice")] {
            let text = format!("\n{header}\n1,2,3\n");
            let (batch, dead) = decode_all(RecordFormat::Csv, &text);
            assert!(batch.is_empty());
            assert_eq!(dead.len(), 2);
            assert_eq!(position(&dead[0]), "line 2");
            assert!(dead[0].reason.contains(why), "{}", dead[0].reason);
            assert_eq!(position(&dead[1]), "line 3");
            assert!(
                dead[1].reason.contains("(line 2) is invalid"),
                "{}",
                dead[1].reason
            );
        }
    }

    #[test]
    fn csv_quoted_header_names_are_escaped() {
        let (batch, dead) = decode_all(RecordFormat::Csv, "\"a\"\"b\",\"c,d\"\nx,y\n");
        assert!(dead.is_empty());
        assert_eq!(values(&batch), [json!({"a\"b":"x","c,d":"y"})]);
    }

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
