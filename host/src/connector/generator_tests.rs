//! Tests of [`super::GeneratorSource`]: determinism, seek, shapes, pacing, disorder.

use super::*;
use serde_json::Value;

fn spec(shape: ValueShape, count: u64) -> GeneratorSpec {
    GeneratorSpec {
        count: Some(count),
        shape,
        ..GeneratorSpec::default()
    }
}

async fn collect(source: &mut GeneratorSource, max_events: usize) -> Batch {
    let mut all = Batch::default();
    let mut dead = Vec::new();
    while let Some(batch) = source.next_batch(max_events, &mut dead).await.expect("ok") {
        assert!(batch.len() <= max_events);
        all.append(batch);
    }
    assert!(dead.is_empty());
    all
}

#[test]
fn splitmix_matches_the_reference_sequence() {
    // First outputs of SplitMix64 seeded with 1234567 (the reference C code).
    let mut rng = SplitMix64 { state: 1_234_567 };
    let got: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    assert_eq!(
        got,
        [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423
        ]
    );
}

#[test]
fn compact_layout_round_trips() {
    let bytes = encode_compact(0x0102_0304_0506_0708, 49_999, 999);
    assert_eq!(bytes.len(), COMPACT_LEN);
    assert_eq!(bytes[..8], [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(bytes[8..12], 49_999u32.to_le_bytes());
    assert_eq!(
        decode_compact(&bytes),
        Some((0x0102_0304_0506_0708, 49_999, 999))
    );
    assert_eq!(decode_compact(&bytes[..15]), None);
    assert_eq!(decode_compact(&[0; 17]), None);
}

#[tokio::test]
async fn json_events_follow_the_spec() {
    let spec = GeneratorSpec {
        keys: 7,
        step_ms: 10,
        ..spec(ValueShape::Json, 500)
    };
    let mut source = GeneratorSource::new(spec);
    assert_eq!(source.describe(), "generator(seed=42)");
    let batch = collect(&mut source, 64).await;
    assert_eq!(batch.len(), 500);
    assert_eq!(source.sequence(), 500);
    let mut cards = std::collections::BTreeSet::new();
    for event in batch.iter() {
        let i = u64::from(event.index);
        assert_eq!(event.timestamp, 1_700_000_000_000 + 10 * i as i64);
        let key = std::str::from_utf8(event.key.expect("keyed")).expect("UTF-8");
        let value: Value = serde_json::from_slice(event.value).expect("valid JSON");
        assert_eq!(value["id"], i);
        assert_eq!(value["card"], key);
        assert!(key.starts_with("card-000") && key.len() == 9, "{key}");
        cards.insert(key.to_owned());
        let amount = value["amount"].as_f64().expect("number");
        assert!((0.0..500.0).contains(&amount));
        let text = std::str::from_utf8(event.value).expect("UTF-8");
        let amount_text = text
            .split("\"amount\":")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .expect("amount");
        assert_eq!(
            amount_text.split('.').nth(1).map(str::len),
            Some(2),
            "{text}"
        );
        let merchant = value["merchant"].as_str().expect("string");
        assert!(
            merchant.starts_with("m-") && merchant.len() == 5,
            "{merchant}"
        );
        assert!(
            ["DE", "FR", "US", "GB", "NL", "ES"].contains(&value["country"].as_str().expect("s"))
        );
        assert!(["web", "pos", "app"].contains(&value["channel"].as_str().expect("s")));
        assert!((80..=120).contains(&event.value.len()), "{text}");
    }
    assert_eq!(cards.len(), 7, "all keys show up");
}

#[tokio::test]
async fn same_spec_same_events_and_seek_resumes() {
    for shape in [ValueShape::Json, ValueShape::Compact] {
        let mut a = GeneratorSource::new(spec(shape, 300));
        let mut b = GeneratorSource::new(spec(shape, 300));
        let all = collect(&mut a, 100).await;
        assert_eq!(all, collect(&mut b, 7).await, "batch size does not matter");

        let mut resumed = GeneratorSource::new(spec(shape, 300));
        resumed.seek(123);
        assert_eq!(collect(&mut resumed, 50).await, all.slice(123..300));

        let other = GeneratorSpec {
            seed: 43,
            ..spec(shape, 300)
        };
        let mut c = GeneratorSource::new(other);
        assert_ne!(collect(&mut c, 100).await, all, "the seed matters");
    }
}

#[tokio::test]
async fn disorder_moves_events_back_by_at_most_its_bound_and_seeks() {
    let ordered = collect(
        &mut GeneratorSource::new(spec(ValueShape::Compact, 2000)),
        64,
    )
    .await;
    let disordered_spec = GeneratorSpec {
        disorder_ms: 5,
        ..spec(ValueShape::Compact, 2000)
    };
    let disordered = collect(&mut GeneratorSource::new(disordered_spec.clone()), 64).await;
    let mut shifts = std::collections::BTreeSet::new();
    for (a, b) in ordered.iter().zip(disordered.iter()) {
        assert_eq!((a.key, a.value), (b.key, b.value), "values are unchanged");
        shifts.insert(a.timestamp - b.timestamp);
    }
    assert_eq!(
        shifts,
        (0..=5).collect(),
        "every shift in 0..=5 occurs, no other"
    );
    assert!(
        disordered
            .timestamps()
            .windows(2)
            .any(|pair| pair[1] < pair[0]),
        "out of order"
    );
    let mut resumed = GeneratorSource::new(disordered_spec);
    resumed.seek(777);
    assert_eq!(
        collect(&mut resumed, 100).await,
        disordered.slice(777..2000)
    );
    let negative = GeneratorSpec {
        disorder_ms: -1,
        ..GeneratorSpec::default()
    };
    assert!(negative.validate().is_err());
}

#[tokio::test]
async fn compact_events_decode() {
    let mut source = GeneratorSource::new(GeneratorSpec {
        keys: 20_000,
        ..spec(ValueShape::Compact, 1000)
    });
    let batch = collect(&mut source, 256).await;
    let mut long_keys = 0;
    for event in batch.iter() {
        let (id, amount, merchant) = decode_compact(event.value).expect("16 bytes");
        assert_eq!(id, u64::from(event.index));
        assert!(amount < 50_000 && merchant < 1000);
        let key = event.key.expect("keyed");
        assert!(key.starts_with(b"card-") && (9..=10).contains(&key.len()));
        long_keys += usize::from(key.len() == 10);
    }
    assert!(long_keys > 0, "keys past 9999 get a fifth digit");
}

#[tokio::test]
async fn unbounded_source_keeps_going() {
    let mut source = GeneratorSource::new(GeneratorSpec {
        count: None,
        ..GeneratorSpec::default()
    });
    let mut dead = Vec::new();
    for _ in 0..5 {
        let batch = source.next_batch(1000, &mut dead).await.expect("ok");
        assert_eq!(batch.map(|batch| batch.len()), Some(1000));
    }
    assert_eq!(source.sequence(), 5000);
}

#[tokio::test]
async fn rate_paces_small_batches() {
    let mut source = GeneratorSource::new(GeneratorSpec {
        rate: Some(1000.0),
        ..spec(ValueShape::Compact, 60)
    });
    let started = std::time::Instant::now();
    let mut dead = Vec::new();
    let mut sizes = Vec::new();
    while let Some(batch) = source.next_batch(1000, &mut dead).await.expect("ok") {
        sizes.push(batch.len());
    }
    let elapsed = started.elapsed();
    assert_eq!(sizes, [10; 6], "rate/100 events per batch");
    // The last batch is due at event 50, i.e. after 50 ms.
    assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn invalid_specs_are_refused_or_made_usable() {
    assert!(GeneratorSpec::default().validate().is_ok());
    let zero_keys = GeneratorSpec {
        keys: 0,
        ..spec(ValueShape::Compact, 10)
    };
    let error = GeneratorSource::try_new(zero_keys.clone()).expect_err("no keys");
    assert_eq!(
        error.to_string(),
        "generator(seed=42): keys must be at least 1"
    );
    let batch = collect(&mut GeneratorSource::new(zero_keys), 100).await;
    assert_eq!(batch.len(), 10);
    assert!(
        batch
            .iter()
            .all(|event| event.key == Some(&b"card-0000"[..]))
    );
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let spec = GeneratorSpec {
            rate: Some(rate),
            ..spec(ValueShape::Compact, 10_000)
        };
        let error = GeneratorSource::try_new(spec.clone()).expect_err("bad rate");
        assert!(error.to_string().contains("rate must be"), "{error}");
        let mut source = GeneratorSource::new(spec);
        let mut dead = Vec::new();
        let batch = source.next_batch(10_000, &mut dead).await.expect("ok");
        assert_eq!(batch.map(|batch| batch.len()), Some(10_000), "not paced");
    }
    assert!(GeneratorSource::try_new(GeneratorSpec::default()).is_ok());
}
