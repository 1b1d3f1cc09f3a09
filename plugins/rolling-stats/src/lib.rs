//! `rolling-stats`: count, sum, min, max and mean of a number per window — an
//! incremental window aggregate (world `window-aggregate`): the host keeps one small
//! accumulator per key and window, so windows never buffer their events.
//!
//! Settings:
//! - `format`: `json` (the default) or `compact`;
//! - `field`: for `json`, the dotted path of the number in each event's JSON object
//!   (`amount`, `payment.amount`); not allowed for `compact`.
//!
//! `compact` reads the 16-byte records of the host's generator: `id: u64 LE |
//! amount_cents: u32 LE | merchant: u32 LE`; the number is `amount_cents`.
//!
//! Each window's result is a JSON object:
//! `{"key":"card-1","window_start":0,"window_end":60000,"firing":"on-time","firing_index":0,
//! "count":3,"sum":42,"min":2,"max":30,"mean":14}` (whole numbers print without a
//! fraction; `min`, `max` and `mean` are `null` for a window without events). An event
//! without the field, with a non-numeric one, or a compact record of the wrong length
//! fails the call as invalid input: the host re-runs the events one by one and sends
//! the bad ones to the dead-letter output.
//!
//! ```toml
//! [[operator]]
//! name = "per-minute"
//! plugin = "rolling_stats.wasm"
//! window = { tumbling = "1m" }
//! settings = { field = "amount" }
//! ```

use serde::{Deserialize, Serialize};
use weir_sdk::{Aggregate, Error, Event, EventExt, JsonPath, Settings, WindowInfo, decimal};

/// Length of a compact record.
const COMPACT_LEN: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    format: Format,
    field: Option<JsonPath>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Json,
    Compact,
}

/// Where the number of an event is.
enum Source {
    Json(JsonPath),
    Compact,
}

/// The aggregate: where to read the number.
struct RollingStats {
    source: Source,
}

/// What a window remembers: enough for count, sum, min, max and mean, and mergeable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Stats {
    count: u64,
    sum: f64,
    /// `+inf` while empty, the neutral element of `min`.
    min: f64,
    /// `-inf` while empty.
    max: f64,
}

/// The smaller of `a` and `b`, `a` when `b` is NaN — what `f64::min` gives for an
/// accumulator that never holds NaN, as one comparison: in Wasm, `f64::min` is a call
/// to `fmin` (Wasm's `f64.min` propagates NaN), about 3% of a sliding window's cost.
#[inline]
fn lower(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// The larger of `a` and `b`, `a` when `b` is NaN (see [`lower`]).
#[inline]
fn higher(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// A number that prints without a fraction when it is whole (and exactly so).
#[derive(Clone, Copy)]
struct Number(f64);

impl Number {
    /// Appends the number as serde_json writes it (see the `Serialize` impl).
    fn write_json(self, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(whole) = self.whole() {
            decimal::write_i64(out, whole);
            return Ok(());
        }
        serde_json::to_writer(out, &self)
            .map_err(|error| Error::internal(format!("number does not serialise: {error}")))
    }

    /// The number as an integer, when it is one that an `f64` holds exactly.
    fn whole(self) -> Option<i64> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        (self.0.fract() == 0.0 && self.0.abs() < EXACT).then_some(self.0 as i64)
    }
}

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.whole() {
            Some(whole) => serializer.serialize_i64(whole),
            None => serializer.serialize_f64(self.0),
        }
    }
}

impl RollingStats {
    fn value(&self, event: &Event<'_>) -> Result<f64, Error> {
        match &self.source {
            Source::Compact => {
                let amount = event
                    .value
                    .get(8..12)
                    .filter(|_| event.value.len() == COMPACT_LEN)
                    .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "a compact record has {COMPACT_LEN} bytes, this one {}",
                            event.value.len()
                        ))
                    })?;
                Ok(f64::from(u32::from_le_bytes(amount)))
            }
            Source::Json(path) => {
                let value: f64 = event
                    .json_at(path)?
                    .ok_or_else(|| Error::invalid_input(format!("no field `{path}`")))?;
                if value.is_finite() {
                    Ok(value)
                } else {
                    Err(Error::invalid_input(format!(
                        "`{path}` is not a finite number"
                    )))
                }
            }
        }
    }
}

impl Aggregate for RollingStats {
    type Acc = Stats;

    fn new(settings: Settings) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        let source = match (config.format, config.field) {
            (Format::Json, Some(path)) => Source::Json(path),
            (Format::Json, None) => {
                return Err(Error::config(
                    "settings: `field` (the path of the number, like `amount`) is required for JSON events",
                ));
            }
            (Format::Compact, None) => Source::Compact,
            (Format::Compact, Some(_)) => {
                return Err(Error::config(
                    "settings: `field` does not apply to `format = \"compact\"` (the amount is read)",
                ));
            }
        };
        Ok(RollingStats { source })
    }

    fn init(&self) -> Stats {
        Stats {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    fn add(&self, acc: &mut Stats, event: &Event<'_>) -> Result<(), Error> {
        let value = self.value(event)?;
        acc.count += 1;
        acc.sum += value;
        acc.min = lower(acc.min, value);
        acc.max = higher(acc.max, value);
        Ok(())
    }

    fn merge(&self, acc: &mut Stats, other: Stats) {
        acc.count += other.count;
        acc.sum += other.sum;
        acc.min = lower(acc.min, other.min);
        acc.max = higher(acc.max, other.max);
    }

    /// Writes the result's JSON (see the module docs) directly: the same text
    /// serde_json writes for it through serde (a property test checks), without
    /// escaping field names that need none — which was, per result, the largest cost
    /// of the plugin.
    fn finish(&self, acc: Stats, window: &WindowInfo<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(b'{');
        window.write_json_fields(out);
        out.extend_from_slice(b",\"count\":");
        decimal::write_u64(out, acc.count);
        out.extend_from_slice(b",\"sum\":");
        Number(acc.sum).write_json(out)?;
        for (name, value) in [
            (&b",\"min\":"[..], acc.min),
            (b",\"max\":", acc.max),
            (b",\"mean\":", acc.sum / acc.count as f64),
        ] {
            out.extend_from_slice(name);
            if acc.count > 0 {
                Number(value).write_json(out)?;
            } else {
                out.extend_from_slice(b"null");
            }
        }
        out.push(b'}');
        Ok(())
    }
}

weir_sdk::export_aggregate!(RollingStats);

#[cfg(test)]
mod tests {
    use weir_sdk::{Batch, Firing};

    use super::*;

    #[test]
    fn lower_and_higher_are_min_and_max_where_an_accumulator_goes() {
        let values = [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1.0,
            7e300,
            f64::INFINITY,
            f64::NAN,
        ];
        for a in values.into_iter().filter(|a| !a.is_nan()) {
            for b in values {
                // `==`: which zero `f64::min` gives for -0 and 0 is not specified.
                assert_eq!(lower(a, b), a.min(b), "min({a}, {b})");
                assert_eq!(higher(a, b), a.max(b), "max({a}, {b})");
            }
        }
    }

    fn stats(settings: &str) -> RollingStats {
        RollingStats::new(Settings::from_json(settings)).expect("valid settings")
    }

    fn compact(amount: u32) -> Vec<u8> {
        let mut record = Vec::with_capacity(COMPACT_LEN);
        record.extend_from_slice(&7u64.to_le_bytes());
        record.extend_from_slice(&amount.to_le_bytes());
        record.extend_from_slice(&1u32.to_le_bytes());
        record
    }

    fn fold(aggregate: &RollingStats, values: &[&[u8]]) -> Result<Stats, Error> {
        let mut batch = Batch::default();
        for value in values {
            batch.push(Some(b"k"), value, 0);
        }
        let mut acc = aggregate.init();
        for event in batch.iter() {
            aggregate.add(&mut acc, &event)?;
        }
        Ok(acc)
    }

    #[test]
    fn compact_records_sum_their_cents() {
        let aggregate = stats(r#"{"format":"compact"}"#);
        let acc = fold(&aggregate, &[&compact(250), &compact(100), &compact(50)]).expect("adds");
        assert_eq!(
            (acc.count, acc.sum, acc.min, acc.max),
            (3, 400.0, 50.0, 250.0)
        );
        assert!(fold(&aggregate, &[&compact(1)[..15]]).is_err(), "15 bytes");
    }

    #[test]
    fn json_fields_and_bad_events() {
        let aggregate = stats(r#"{"field":"p.amount"}"#);
        let acc = fold(
            &aggregate,
            &[br#"{"p":{"amount":1.5}}"#, br#"{"p":{"amount":2}}"#],
        )
        .expect("adds");
        assert_eq!((acc.count, acc.sum), (2, 3.5));
        for bad in [&br#"{"p":{}}"#[..], br#"{"p":{"amount":"2"}}"#, b"nope"] {
            let error = fold(&aggregate, &[bad]).expect_err("bad event");
            assert!(error.message().len() > 3, "{error}");
        }
    }

    #[test]
    fn settings_are_checked() {
        for bad in [
            r#"{}"#,
            r#"{"format":"compact","field":"a"}"#,
            r#"{"field":"a..b"}"#,
            r#"{"fields":"a"}"#,
        ] {
            assert!(
                RollingStats::new(Settings::from_json(bad)).is_err(),
                "{bad}"
            );
        }
    }

    /// A window's result: the window's fields, then the statistics.
    struct Summary<'a> {
        window: WindowInfo<'a>,
        count: u64,
        sum: Number,
        min: Option<Number>,
        max: Option<Number>,
        mean: Option<Number>,
    }

    impl Serialize for Summary<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeStruct;
            let mut fields = serializer.serialize_struct("Summary", WindowInfo::FIELDS + 5)?;
            self.window.serialize_fields(&mut fields)?;
            fields.serialize_field("count", &self.count)?;
            fields.serialize_field("sum", &self.sum)?;
            fields.serialize_field("min", &self.min)?;
            fields.serialize_field("max", &self.max)?;
            fields.serialize_field("mean", &self.mean)?;
            fields.end()
        }
    }

    fn summary_json(acc: Stats, window: WindowInfo<'_>) -> Vec<u8> {
        let seen = acc.count > 0;
        let summary = Summary {
            window,
            count: acc.count,
            sum: Number(acc.sum),
            min: seen.then_some(Number(acc.min)),
            max: seen.then_some(Number(acc.max)),
            mean: seen.then(|| Number(acc.sum / acc.count as f64)),
        };
        serde_json::to_vec(&summary).expect("serialises")
    }

    proptest::proptest! {
        /// `finish` writes its JSON by hand: it must be what serde_json writes.
        #[test]
        fn finish_writes_what_serde_json_writes(
            amounts in proptest::collection::vec(-1e12f64..1e12, 0..5),
            halves in proptest::prelude::any::<bool>(),
            key in proptest::option::of("[a-z\"\\\\é-]{0,6}"),
            start in proptest::prelude::any::<i64>(),
            index in proptest::prelude::any::<u32>(),
        ) {
            let aggregate = stats(r#"{"format":"compact"}"#);
            let mut acc = aggregate.init();
            for amount in &amounts {
                let value = if halves { amount.trunc() + 0.5 } else { amount.trunc() };
                acc.count += 1;
                acc.sum += value;
                acc.min = acc.min.min(value);
                acc.max = acc.max.max(value);
            }
            let window = WindowInfo {
                key: key.as_deref().map(str::as_bytes),
                start,
                end: start.wrapping_add(1000),
                kind: Firing::Early,
                index,
            };
            let mut out = Vec::new();
            aggregate.finish(acc, &window, &mut out).expect("finishes");
            let expected = summary_json(acc, window);
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn merge_and_finish() {
        let aggregate = stats(r#"{"format":"compact"}"#);
        let mut acc = fold(&aggregate, &[&compact(10)]).expect("adds");
        aggregate.merge(
            &mut acc,
            fold(&aggregate, &[&compact(5), &compact(30)]).expect("adds"),
        );
        aggregate.merge(&mut acc, aggregate.init());
        let window = WindowInfo {
            key: Some(b"m-1"),
            start: 0,
            end: 60_000,
            kind: Firing::OnTime,
            index: 0,
        };
        let mut out = Vec::new();
        aggregate.finish(acc, &window, &mut out).expect("finishes");
        assert_eq!(
            std::str::from_utf8(&out).expect("UTF-8"),
            r#"{"key":"m-1","window_start":0,"window_end":60000,"firing":"on-time","firing_index":0,"count":3,"sum":45,"min":5,"max":30,"mean":15}"#
        );
        let mut out = Vec::new();
        aggregate
            .finish(aggregate.init(), &window, &mut out)
            .expect("finishes");
        assert!(
            std::str::from_utf8(&out)
                .expect("UTF-8")
                .ends_with(r#""count":0,"sum":0,"min":null,"max":null,"mean":null}"#)
        );
    }
}
