//! Tests of [`super::LineDecoder`]: JSON lines and CSV, event times, dead letters.

use serde_json::{Value, json};

use super::*;

fn decode_with(
    format: RecordFormat,
    timestamps: &TimestampSpec,
    text: &str,
) -> (Batch, Vec<DeadLetter>) {
    let mut decoder = LineDecoder::new(format, timestamps, "test".into());
    let mut batch = Batch::default();
    let mut dead = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        decoder.decode(index as u64 + 1, line.as_bytes(), 7, &mut batch, &mut dead);
    }
    (batch, dead)
}

fn decode_all(format: RecordFormat, text: &str) -> (Batch, Vec<DeadLetter>) {
    decode_with(format, &TimestampSpec::Ingestion, text)
}

fn field(name: &str, unit: TimeUnit) -> TimestampSpec {
    TimestampSpec::Field {
        field: name.into(),
        unit,
    }
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
    let mut decoder = LineDecoder::new(
        RecordFormat::JsonLines,
        &TimestampSpec::Ingestion,
        "test".into(),
    );
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

fn reasons(dead: &[DeadLetter]) -> Vec<(String, String)> {
    dead.iter()
        .map(|letter| (position(letter).to_owned(), letter.reason.clone()))
        .collect()
}

#[test]
fn json_times_from_a_field_dead_letter_bad_ones_with_their_line() {
    let text = "{\"ts\":{\"s\":1700000000}}\n\
                {\"ts\":{\"s\":\"2023-11-14T22:13:21.5Z\"}}\n\
                {\"ts\":{}}\n\
                {\"ts\":{\"s\":\"soon\"}}\n\
                {\"ts\":{\"s\":1.25}}\n\
                {\"ts\":{\"s\":2} oops\n";
    let (batch, dead) = decode_with(
        RecordFormat::JsonLines,
        &field("ts.s", TimeUnit::Seconds),
        text,
    );
    assert_eq!(
        batch.timestamps(),
        [1_700_000_000_000, 1_700_000_001_500, 1_250]
    );
    let got = reasons(&dead);
    assert_eq!(
        got[0],
        (
            "line 3".into(),
            "event time: field `ts.s` is missing".into()
        )
    );
    assert_eq!(got[1].0, "line 4");
    assert!(
        got[1]
            .1
            .starts_with("event time: field `ts.s`: `soon` is not an RFC 3339"),
        "{}",
        got[1].1
    );
    assert_eq!(got[2].0, "line 6");
    assert!(got[2].1.contains("invalid JSON"), "{}", got[2].1);
    assert_eq!(dead[0].value, br#"{"ts":{}}"#);
}

#[test]
fn csv_times_from_a_column() {
    let text = "id,at,v\n1,1700000000000,a\n2,2023-11-14T22:13:20.250Z,b\n3,,c\n4,noon,d\n";
    let (batch, dead) = decode_with(RecordFormat::Csv, &field("at", TimeUnit::Millis), text);
    assert_eq!(batch.timestamps(), [1_700_000_000_000, 1_700_000_000_250]);
    assert_eq!(
        values(&batch)[0],
        json!({"id":1,"at":1_700_000_000_000u64,"v":"a"})
    );
    let got = reasons(&dead);
    assert_eq!(
        got[0],
        (
            "line 4".into(),
            "event time: column `at`: it is empty".into()
        )
    );
    assert_eq!(got[1].0, "line 5");
    assert!(
        got[1].1.contains("`noon` is not an RFC 3339"),
        "{}",
        got[1].1
    );
}

#[test]
fn csv_without_the_time_column_is_refused_at_the_header() {
    let (batch, dead) = decode_with(
        RecordFormat::Csv,
        &field("at", TimeUnit::Millis),
        "id,v\n1,a\n",
    );
    assert!(batch.is_empty());
    let got = reasons(&dead);
    assert_eq!(
        got[0],
        (
            "line 1".into(),
            "invalid CSV header: no column `at`, which holds event time".into()
        )
    );
    assert!(
        got[1].1.starts_with("the CSV header (line 1) is invalid"),
        "{}",
        got[1].1
    );
}

#[test]
fn ingestion_time_is_the_time_of_the_read_and_headers_do_not_exist() {
    let (batch, dead) = decode_all(RecordFormat::JsonLines, "1\n2\n");
    assert_eq!(batch.timestamps(), [7, 7]);
    assert!(dead.is_empty());
    let header = TimestampSpec::Header {
        name: "ts".into(),
        unit: TimeUnit::Millis,
    };
    let (batch, dead) = decode_with(RecordFormat::JsonLines, &header, "1\n");
    assert!(batch.is_empty());
    assert!(
        dead[0].reason.contains("carry no headers"),
        "{}",
        dead[0].reason
    );
}
