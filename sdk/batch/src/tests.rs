//! The batch's laws: events read back as pushed, columns stay valid, whole-batch
//! operations agree with event-by-event ones.

use super::*;

fn sample() -> Batch {
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"one", 1);
    batch.push_header("trace", b"t1");
    batch.push(None, b"two", 2);
    batch.push(Some(b""), b"", 3);
    batch.push_header("x", b"1");
    batch.push_header("y", b"2");
    batch
}

#[test]
fn events_read_back_as_pushed() {
    let batch = sample();
    assert_eq!(batch.len(), 3);
    let events: Vec<_> = batch.iter().collect();
    assert_eq!(events[0].key, Some(&b"a"[..]));
    assert_eq!(events[0].value, b"one");
    assert_eq!(events[0].headers.len(), 1);
    assert_eq!(events[1].key, None, "absent key stays absent");
    assert_eq!(events[1].headers, &[]);
    assert_eq!(events[2].key, Some(&b""[..]), "empty key is not absent");
    assert_eq!(events[2].timestamp, 3);
    assert_eq!(events[2].headers.len(), 2);
    batch.validate().expect("pushed batches are valid");
}

#[test]
fn copied_headers_go_to_the_last_event_whatever_their_event_field() {
    let template = [
        Header {
            event: 99,
            name: "window_start".into(),
            value: HeaderValue::decimal(1_000),
        },
        Header {
            event: 7,
            name: "firing".into(),
            value: HeaderValue::from(&b"on-time"[..]),
        },
    ];
    let mut batch = Batch::default();
    for value in [&b"a"[..], b"b"] {
        batch.push(None, value, 0);
        batch.push_headers_from(&template);
    }
    batch.validate().expect("headers stay ordered by event");
    for event in batch.iter() {
        let headers: Vec<_> = event
            .headers
            .iter()
            .map(|header| (header.event, header.name.as_str(), header.value.as_slice()))
            .collect();
        assert_eq!(
            headers,
            [
                (event.index, "window_start", &b"1000"[..]),
                (event.index, "firing", &b"on-time"[..]),
            ]
        );
    }
}

#[test]
fn a_whole_batch_maps_to_fixed_width_values_as_event_by_event() {
    let mut fixed = Batch::default();
    fixed.push(Some(b"k"), b"abcd", 1);
    fixed.push(None, b"efgh", 2);
    fixed.push_header("h", b"v");
    assert_eq!(fixed.fixed_width_values(4), Some(&b"abcdefgh"[..]));
    assert_eq!(fixed.fixed_width_values(2), None);
    assert_eq!(
        sample().fixed_width_values(3),
        None,
        "values of 3, 3 and 0 bytes"
    );

    let source = sample();
    let mut at_once = Batch::default();
    at_once.push(Some(b"before"), b"x", 0);
    let mut one_by_one = at_once.clone();
    at_once.extend_with_values(&source, b"112233", 2);
    for (event, value) in source.iter().zip([b"11", b"22", b"33"]) {
        one_by_one.push_event_with_value(&event, value);
    }
    assert_eq!(at_once, one_by_one);
    at_once.validate().expect("valid");
}

#[test]
fn iteration_agrees_with_random_access() {
    let batch = sample();
    let walked: Vec<_> = batch.iter().collect();
    let indexed: Vec<_> = (0..batch.len()).map(|index| batch.event(index)).collect();
    assert_eq!(walked, indexed);
    assert_eq!(batch.iter().len(), 3);
}

#[test]
fn slice_and_append_round_trip() {
    let batch = sample();
    let mut joined = batch.slice(0..1);
    joined.append(batch.slice(1..2));
    joined.append(batch.slice(2..3));
    assert_eq!(joined, batch);
    joined.validate().expect("valid");
}

#[test]
fn validate_rejects_inconsistent_columns() {
    let mut batch = sample();
    batch.parts.value_ends[0] = 99;
    assert!(batch.validate().is_err());
    let mut batch = sample();
    batch.parts.keyless.push(7);
    assert!(batch.validate().is_err());
    let mut batch = sample();
    batch.parts.headers.reverse();
    assert!(batch.validate().is_err());
    let mut batch = sample();
    batch.parts.timestamps.pop();
    assert!(batch.validate().is_err());
}

type Row = (Option<Vec<u8>>, Vec<u8>, i64, Vec<(String, Vec<u8>)>);

fn batch_of(rows: &[Row]) -> Batch {
    let mut batch = Batch::default();
    for (key, value, timestamp, headers) in rows {
        batch.push(key.as_deref(), value, *timestamp);
        for (name, value) in headers {
            batch.push_header(name.clone(), value);
        }
    }
    batch
}

fn row_strategy() -> impl proptest::strategy::Strategy<Value = Row> {
    use proptest::prelude::*;
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
        proptest::collection::vec(any::<u8>(), 0..16),
        any::<i64>(),
        proptest::collection::vec(
            ("[a-z]{1,4}", proptest::collection::vec(any::<u8>(), 0..4)),
            0..3,
        ),
    )
}

proptest::proptest! {
    #[test]
    fn every_event_reads_back_and_survives_split_and_join(
        rows in proptest::collection::vec(row_strategy(), 0..40),
        cut in 0usize..40,
    ) {
        let batch = batch_of(&rows);
        proptest::prop_assert!(batch.validate().is_ok());
        for (event, (key, value, timestamp, headers)) in batch.iter().zip(&rows) {
            proptest::prop_assert_eq!(event.key, key.as_deref());
            proptest::prop_assert_eq!(event.value, value.as_slice());
            proptest::prop_assert_eq!(event.timestamp, *timestamp);
            let read: Vec<(String, Vec<u8>)> = event
                .headers
                .iter()
                .map(|header| (header.name.to_string(), header.value.to_vec()))
                .collect();
            proptest::prop_assert_eq!(&read, headers);
        }
        let mut copy = Batch::default();
        copy.push(Some(b"old"), b"old value", 1);
        copy.push_header("old", b"1");
        copy.clone_from(&batch);
        proptest::prop_assert_eq!(&copy, &batch);
        let cut = cut.min(batch.len());
        let mut joined = batch.slice(0..cut);
        joined.append(batch.slice(cut..batch.len()));
        proptest::prop_assert_eq!(joined, batch);
    }
}
