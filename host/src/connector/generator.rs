//! [`GeneratorSource`]: card transactions made up from a seed, for demos and
//! benchmarks. The same [`GeneratorSpec`] always yields the same events.
//!
//! Event `i` (counted from 0) has timestamp `start_ms + i * step_ms - d(i)` and key
//! `card-NNNN` (at least 4 digits) for a card drawn among `keys`, where the disorder
//! `d(i)` is 0, or with `disorder_ms` a pseudo-random `0..=disorder_ms` drawn from the
//! seed and `i` alone (so that benchmarks and tests get out-of-order input that is
//! still deterministic, and `seek` still costs nothing). Its value depends on
//! the [`ValueShape`]:
//! - [`ValueShape::Json`], about 100 bytes:
//!   `{"id":17,"card":"card-0042","amount":123.45,"merchant":"m-007","country":"DE","channel":"web"}`;
//! - [`ValueShape::Compact`], exactly [`COMPACT_LEN`] = 16 bytes, all little-endian:
//!
//!   | bytes  | field          | type  |
//!   |--------|----------------|-------|
//!   | 0..8   | `id` (= `i`)   | `u64` |
//!   | 8..12  | `amount_cents` | `u32` |
//!   | 12..16 | `merchant`     | `u32` |
//!
//!   [`encode_compact`] and [`decode_compact`] write and read this layout, so that
//!   benchmarks and plugins agree on it.
//!
//! Amounts are 0..50 000 cents, merchants 0..1000. The draws come from SplitMix64, a
//! counter-based generator: each event takes a fixed number of draws, so the source can
//! [`seek`](GeneratorSource::seek) to any sequence number at no cost.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use weir_batch::{Batch, BatchParts};

use super::json_text::{write_u64, write_u64_padded};
use super::{ConnectorError, Source, SourcePosition};
use crate::runtime::dead_letter::DeadLetter;

/// Bytes of a [`ValueShape::Compact`] value.
pub const COMPACT_LEN: usize = 16;

/// Exclusive bound of amounts, in cents.
const AMOUNT_CENTS: u64 = 50_000;
/// Number of distinct merchants.
const MERCHANTS: u64 = 1000;
const COUNTRIES: [&[u8]; 6] = [b"DE", b"FR", b"US", b"GB", b"NL", b"ES"];
const CHANNELS: [&[u8]; 3] = [b"web", b"pos", b"app"];
/// Separates the disorder draws from the value draws of the same seed.
const DISORDER_SALT: u64 = 0x5EED_D150_4DE4_0000;

/// The value of a compact event: `id`, `amount_cents` and `merchant` in little-endian,
/// 16 bytes in all (see the module docs).
pub fn encode_compact(id: u64, amount_cents: u32, merchant: u32) -> [u8; COMPACT_LEN] {
    let mut bytes = [0; COMPACT_LEN];
    bytes[..8].copy_from_slice(&id.to_le_bytes());
    bytes[8..12].copy_from_slice(&amount_cents.to_le_bytes());
    bytes[12..].copy_from_slice(&merchant.to_le_bytes());
    bytes
}

/// `(id, amount_cents, merchant)` of a compact value; `None` unless `bytes` is exactly
/// [`COMPACT_LEN`] long.
pub fn decode_compact(bytes: &[u8]) -> Option<(u64, u32, u32)> {
    let bytes: &[u8; COMPACT_LEN] = bytes.try_into().ok()?;
    let (id, rest) = bytes.split_first_chunk::<8>()?;
    let (amount, merchant) = rest.split_first_chunk::<4>()?;
    let merchant: &[u8; 4] = merchant.try_into().ok()?;
    Some((
        u64::from_le_bytes(*id),
        u32::from_le_bytes(*amount),
        u32::from_le_bytes(*merchant),
    ))
}

/// The form of generated values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueShape {
    /// A JSON object of about 100 bytes.
    #[default]
    Json,
    /// 16 bytes: id, amount in cents, merchant (see the module docs).
    Compact,
}

impl ValueShape {
    /// PRNG draws per event: card, amount, merchant, and for JSON country and channel.
    fn draws(self) -> u64 {
        match self {
            ValueShape::Json => 5,
            ValueShape::Compact => 3,
        }
    }
}

/// What a [`GeneratorSource`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorSpec {
    /// Events in all; `None` for an unbounded source.
    pub count: Option<u64>,
    /// Events per second; `None` for as fast as the pipeline takes them.
    pub rate: Option<f64>,
    /// Seed of the pseudo-random draws.
    pub seed: u64,
    /// Distinct keys (cards), at least 1.
    pub keys: u64,
    pub shape: ValueShape,
    /// Timestamp of the first event, in ms since the Unix epoch.
    pub start_ms: i64,
    /// Milliseconds between consecutive events' timestamps.
    pub step_ms: i64,
    /// Each event's time is its in-order time minus a pseudo-random `0..=disorder_ms`.
    pub disorder_ms: i64,
}

impl GeneratorSpec {
    /// Checks that the spec makes sense: `keys` at least 1, `disorder_ms` not
    /// negative, and `rate`, when given, a positive number of events per second.
    ///
    /// # Errors
    /// What is wrong, in words.
    pub fn validate(&self) -> Result<(), String> {
        if self.keys == 0 {
            return Err("keys must be at least 1".to_owned());
        }
        if self.disorder_ms < 0 {
            return Err(format!(
                "disorder_ms must not be negative, not {}",
                self.disorder_ms
            ));
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(format!(
                "rate must be a positive number of events per second, not {rate}"
            ));
        }
        Ok(())
    }
}

impl Default for GeneratorSpec {
    fn default() -> Self {
        GeneratorSpec {
            count: Some(1000),
            rate: None,
            seed: 42,
            keys: 100,
            shape: ValueShape::Json,
            start_ms: 1_700_000_000_000,
            step_ms: 1,
            disorder_ms: 0,
        }
    }
}

/// A source of deterministic events described by a [`GeneratorSpec`] (see the module
/// docs for the events).
#[derive(Debug)]
pub struct GeneratorSource {
    spec: GeneratorSpec,
    /// Events produced so far: the sequence number of the next event.
    sequence: u64,
    rng: SplitMix64,
    /// Reused for each event's key and JSON value.
    key: Vec<u8>,
    value: Vec<u8>,
    /// When pacing started, and the sequence number it started at.
    paced_from: Option<(Instant, u64)>,
}

impl GeneratorSource {
    /// A generator of `spec`'s events, from the first. A spec that fails
    /// [`GeneratorSpec::validate`] is made usable rather than refused, with a warning:
    /// `keys` 0 counts as 1, a negative `disorder_ms` as 0, and a `rate` that is not a
    /// positive number means no pacing.
    /// [`GeneratorSource::try_new`] refuses such a spec instead.
    pub fn new(mut spec: GeneratorSpec) -> Self {
        if let Err(problem) = spec.validate() {
            tracing::warn!("generator(seed={}): {problem}; using it anyway", spec.seed);
        }
        spec.keys = spec.keys.max(1);
        spec.disorder_ms = spec.disorder_ms.max(0);
        spec.rate = spec.rate.filter(|rate| rate.is_finite() && *rate > 0.0);
        let mut source = GeneratorSource {
            rng: SplitMix64 { state: spec.seed },
            spec,
            sequence: 0,
            key: Vec::with_capacity(24),
            value: Vec::with_capacity(128),
            paced_from: None,
        };
        source.seek(0);
        source
    }

    /// A generator of `spec`'s events, from the first, if `spec` makes sense.
    ///
    /// # Errors
    /// When the spec fails [`GeneratorSpec::validate`] (`keys` 0, or a `rate` that is
    /// not a positive number).
    pub fn try_new(spec: GeneratorSpec) -> Result<Self, ConnectorError> {
        match spec.validate() {
            Ok(()) => Ok(Self::new(spec)),
            Err(problem) => Err(ConnectorError::new(
                format!("generator(seed={})", spec.seed),
                problem,
            )),
        }
    }

    /// Events produced so far, which is also the sequence number of the next event.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Continues from sequence number `sequence`, as if that many events had been
    /// produced (to resume from a checkpoint). Costs nothing.
    pub fn seek(&mut self, sequence: u64) {
        self.sequence = sequence;
        self.rng = SplitMix64::at(
            self.spec.seed,
            sequence.wrapping_mul(self.spec.shape.draws()),
        );
        self.paced_from = None;
    }

    /// The spec this source generates.
    pub fn spec(&self) -> &GeneratorSpec {
        &self.spec
    }

    /// Appends the next `events` events to a new batch.
    fn generate(&mut self, events: usize) -> Batch {
        let value_bytes = match self.spec.shape {
            ValueShape::Json => 112,
            ValueShape::Compact => COMPACT_LEN,
        };
        let mut batch = Batch::from_parts(BatchParts {
            timestamps: Vec::with_capacity(events),
            values: Vec::with_capacity(events * value_bytes),
            value_ends: Vec::with_capacity(events),
            keys: Vec::with_capacity(events * 9),
            key_ends: Vec::with_capacity(events),
            keyless: Vec::new(),
            headers: Vec::new(),
        });
        let step = self.spec.step_ms;
        let mut in_order = self
            .spec
            .start_ms
            .wrapping_add((self.sequence as i64).wrapping_mul(step));
        for _ in 0..events {
            let id = self.sequence;
            let timestamp = in_order.wrapping_sub(self.disorder(id));
            let card = self.rng.below(self.spec.keys);
            let amount = self.rng.below(AMOUNT_CENTS);
            let merchant = self.rng.below(MERCHANTS);
            self.key.clear();
            self.key.extend_from_slice(b"card-");
            write_u64_padded(&mut self.key, card, 4);
            match self.spec.shape {
                ValueShape::Compact => {
                    let value = encode_compact(id, amount as u32, merchant as u32);
                    batch.push(Some(&self.key), &value, timestamp);
                }
                ValueShape::Json => {
                    let country = COUNTRIES[self.rng.below(COUNTRIES.len() as u64) as usize];
                    let channel = CHANNELS[self.rng.below(CHANNELS.len() as u64) as usize];
                    let value = &mut self.value;
                    value.clear();
                    value.extend_from_slice(br#"{"id":"#);
                    write_u64(value, id);
                    value.extend_from_slice(br#","card":""#);
                    value.extend_from_slice(&self.key);
                    value.extend_from_slice(br#"","amount":"#);
                    write_u64(value, amount / 100);
                    value.push(b'.');
                    write_u64_padded(value, amount % 100, 2);
                    value.extend_from_slice(br#","merchant":"m-"#);
                    write_u64_padded(value, merchant, 3);
                    value.extend_from_slice(br#"","country":""#);
                    value.extend_from_slice(country);
                    value.extend_from_slice(br#"","channel":""#);
                    value.extend_from_slice(channel);
                    value.extend_from_slice(br#""}"#);
                    batch.push(Some(&self.key), value, timestamp);
                }
            }
            self.sequence = self.sequence.wrapping_add(1);
            in_order = in_order.wrapping_add(step);
        }
        batch
    }

    /// How far event `sequence` is moved back in time: a function of the seed and the
    /// sequence number only, apart from the draws of the values.
    fn disorder(&self, sequence: u64) -> i64 {
        if self.spec.disorder_ms <= 0 {
            return 0;
        }
        let mut rng = SplitMix64::at(self.spec.seed ^ DISORDER_SALT, sequence);
        // The remainder is at most `disorder_ms`, an i64.
        rng.below(self.spec.disorder_ms as u64 + 1) as i64
    }

    /// Waits until the next event is due at `rate` events per second.
    async fn pace(&mut self, rate: f64) {
        let (since, first) = *self
            .paced_from
            .get_or_insert_with(|| (Instant::now(), self.sequence));
        let elapsed_events = self.sequence.wrapping_sub(first) as f64;
        match Duration::try_from_secs_f64(elapsed_events / rate)
            .ok()
            .and_then(|wait| since.checked_add(wait))
        {
            Some(due) => tokio::time::sleep_until(due).await,
            // Due later than any instant the clock can name: never.
            None => std::future::pending().await,
        }
    }
}

#[async_trait]
impl Source for GeneratorSource {
    fn describe(&self) -> String {
        format!("generator(seed={})", self.spec.seed)
    }

    /// Produces up to `max_events` events; with a rate, batches are cut to a hundredth
    /// of a second's worth of events (at least one) and released when their first event
    /// is due, so that latency stays near 10 ms.
    async fn next_batch(
        &mut self,
        max_events: usize,
        _dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        let mut events = max_events.max(1) as u64;
        if let Some(count) = self.spec.count {
            let remaining = count.saturating_sub(self.sequence);
            if remaining == 0 {
                return Ok(None);
            }
            events = events.min(remaining);
        }
        if let Some(rate) = self.spec.rate {
            events = events.min(((rate / 100.0) as u64).max(1));
            self.pace(rate).await;
        }
        // `events` is at most `max_events`, so it fits in a usize.
        Ok(Some(self.generate(events as usize)))
    }

    fn position(&self) -> Option<SourcePosition> {
        Some(SourcePosition::Generator {
            sequence: self.sequence,
        })
    }

    async fn seek(&mut self, position: &SourcePosition) -> Result<(), ConnectorError> {
        match *position {
            SourcePosition::Generator { sequence } => {
                GeneratorSource::seek(self, sequence);
                Ok(())
            }
            SourcePosition::File { .. } | SourcePosition::Kafka { .. } => Err(ConnectorError::new(
                self.describe(),
                format!("cannot continue from {position:?}: not a generator position"),
            )),
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator whose state after
/// `n` draws is `seed + n * GAMMA`.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// The generator of `seed` after `draws` draws.
    fn at(seed: u64, draws: u64) -> Self {
        SplitMix64 {
            state: seed.wrapping_add(draws.wrapping_mul(Self::GAMMA)),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A draw in `0..bound` (`bound` > 0), by modulo.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

#[cfg(test)]
#[path = "generator_tests.rs"]
mod tests;
