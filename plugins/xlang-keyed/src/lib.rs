//! `xlang-keyed`: the keyed aggregate that Weir writes in every plugin language — here
//! in Rust, and the same logic in `plugins-py/xlang_keyed`, `plugins-js/xlang-keyed`
//! and `plugins-c/xlang-keyed`; `tests/tests/languages.rs` checks they agree.
//!
//! A keyed process function (world `keyed-process`) over a stream keyed by user. Each
//! event carries an integer `amount` from 0 to 2^53 - 1 (as in `xlang-map`). Per key
//! and per bucket of `bucket_ms` of event time, the host keeps one state, `totals`:
//! 16 bytes, the count and the sum as little-endian `i64`s (the same bytes in every
//! language, so a plugin can be replaced by its port without losing state). Each
//! event updates them and emits the running totals on the main output:
//!
//! `{"key":"u1","count":2,"sum":350}`
//!
//! and sets an event-time timer at the end of its bucket (`t - t mod bucket_ms +
//! bucket_ms`). When the watermark passes it, the bucket's totals go to the `totals`
//! output at that time and the state is cleared:
//!
//! `{"key":"u1","bucket_end":10000,"count":2,"sum":350}`
//!
//! An event without a valid amount is dead-lettered with the reason [`REASON`]
//! before any state is touched.
//!
//! Settings: `bucket_ms` (default 10000, at least 1).

use serde::{Deserialize, Serialize};
use weir_sdk::{
    Error, Event, EventExt, KeyedContext, KeyedProcessor, Output, Raw, Settings, StateRegistry,
    Timer, ValueState,
};

/// Why an event is dead-lettered, the same text in every language.
pub const REASON: &str = "expected a JSON object with an integer `amount` from 0 to 2^53-1";

/// Largest amount: what every language reads exactly (JavaScript's safe integers).
const MAX_AMOUNT: u64 = (1 << 53) - 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_bucket_ms")]
    bucket_ms: i64,
}

fn default_bucket_ms() -> i64 {
    10_000
}

struct Totals {
    bucket_ms: i64,
    /// Count and sum of the key's current bucket: two little-endian `i64`s.
    totals: ValueState<Vec<u8>, Raw>,
}

#[derive(Serialize)]
struct Running<'a> {
    key: &'a str,
    count: i64,
    sum: i64,
}

#[derive(Serialize)]
struct Bucket<'a> {
    key: &'a str,
    bucket_end: i64,
    count: i64,
    sum: i64,
}

impl Totals {
    fn read(&self, ctx: &KeyedContext<'_>) -> Result<(i64, i64), Error> {
        let Some(bytes) = self.totals.get(ctx)? else {
            return Ok((0, 0));
        };
        let word = |at: usize| -> Result<i64, Error> {
            let slice = bytes
                .get(at..at + 8)
                .ok_or_else(|| Error::internal("state `totals` is not 16 bytes"))?;
            let mut word = [0; 8];
            word.copy_from_slice(slice);
            Ok(i64::from_le_bytes(word))
        };
        Ok((word(0)?, word(8)?))
    }
}

impl KeyedProcessor for Totals {
    const OUTPUTS: &'static [&'static str] = &["totals"];

    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        if config.bucket_ms < 1 {
            return Err(Error::config("settings: `bucket_ms` must be at least 1"));
        }
        Ok(Totals {
            bucket_ms: config.bucket_ms,
            totals: states.raw_value("totals").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let amount = event
            .json::<serde_json::Map<String, serde_json::Value>>()
            .ok()
            .and_then(|object| object.get("amount").and_then(|amount| amount.as_u64()))
            .filter(|amount| *amount <= MAX_AMOUNT);
        let Some(amount) = amount else {
            out.reject(event, REASON);
            return Ok(());
        };
        let (count, sum) = self.read(ctx)?;
        let (count, sum) = (count + 1, sum.saturating_add(amount as i64));
        let mut bytes = count.to_le_bytes().to_vec();
        bytes.extend_from_slice(&sum.to_le_bytes());
        self.totals.set(ctx, &bytes)?;
        let at = event.timestamp;
        ctx.register_event_timer(at - at.rem_euclid(self.bucket_ms) + self.bucket_ms)?;
        let key = String::from_utf8_lossy(event.key.unwrap_or_default());
        out.emit_json(
            event,
            &Running {
                key: &key,
                count,
                sum,
            },
        );
        Ok(())
    }

    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let (count, sum) = self.read(ctx)?;
        self.totals.clear(ctx)?;
        let key = String::from_utf8_lossy(timer.key);
        let bucket = Bucket {
            key: &key,
            bucket_end: timer.at,
            count,
            sum,
        };
        out.emit_new_json_to("totals", Some(timer.key), &bucket, timer.at)
    }
}

weir_sdk::export_keyed_processor!(Totals);
