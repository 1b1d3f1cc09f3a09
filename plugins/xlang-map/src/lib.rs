//! `xlang-map`: the map operator that Weir writes in every plugin language — here in
//! Rust, and the same logic in `plugins-py/xlang_map`, `plugins-js/xlang-map` and
//! `plugins-c/xlang-map`. `tests/tests/languages.rs` checks that all four give the
//! same outputs, byte for byte, and `tests/benches/languages.rs` compares their speed.
//!
//! Each event is a JSON object with a string `user` and an integer `amount` from 0 to
//! 2^53 - 1 (a JSON number written without fraction or exponent); it becomes
//!
//! `{"user":"u1","amount":250,"fee":7,"total":257}`
//!
//! with `fee = amount * fee_percent / 100` rounded down (on the exact product). Any
//! other event goes to the dead-letter output with the reason
//! [`REASON`]. Keys, times and headers pass through.
//!
//! Settings: `fee_percent` (an integer from 0 to 100, default 3).

use serde::{Deserialize, Serialize};
use weir_sdk::{Error, Event, EventExt, Map};

/// Why an event is dead-lettered, the same text in every language.
pub const REASON: &str =
    "expected a JSON object with a string `user` and an integer `amount` from 0 to 2^53-1";

/// Largest amount: what every language reads exactly (JavaScript's safe integers).
const MAX_AMOUNT: u64 = (1 << 53) - 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fee {
    #[serde(default)]
    fee_percent: Percent,
}

/// A whole percentage from 0 to 100 (settings outside that range are refused).
#[derive(Deserialize, Clone, Copy)]
#[serde(try_from = "u64")]
struct Percent(u64);

impl Default for Percent {
    fn default() -> Self {
        Percent(3)
    }
}

impl TryFrom<u64> for Percent {
    type Error = &'static str;

    fn try_from(percent: u64) -> Result<Self, Self::Error> {
        if percent <= 100 {
            Ok(Percent(percent))
        } else {
            Err("`fee_percent` must be from 0 to 100")
        }
    }
}

#[derive(Serialize)]
struct Charged<'a> {
    user: &'a str,
    amount: u64,
    fee: u64,
    total: u64,
}

impl Map for Fee {
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error> {
        let object: serde_json::Map<String, serde_json::Value> =
            event.json().map_err(|_| Error::invalid_input(REASON))?;
        let user = object.get("user").and_then(|user| user.as_str());
        let amount = object
            .get("amount")
            .and_then(|amount| amount.as_u64())
            .filter(|amount| *amount <= MAX_AMOUNT);
        let (Some(user), Some(amount)) = (user, amount) else {
            return Err(Error::invalid_input(REASON));
        };
        // amount < 2^53 and fee_percent <= 100: the product fits in u64.
        let fee = amount * self.fee_percent.0 / 100;
        let charged = Charged {
            user,
            amount,
            fee,
            total: amount + fee,
        };
        serde_json::to_writer(value, &charged).map_err(Error::internal)
    }
}

weir_sdk::export_map!(Fee);
