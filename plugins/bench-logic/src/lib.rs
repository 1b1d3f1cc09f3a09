//! The filter and map of the boundary benchmark, written once and compiled twice: into
//! the `bench-filter` / `bench-map` Wasm plugins and into the native-Rust baseline
//! operators of `tests/benches/boundary.rs`. The benchmark's ratio then measures what
//! Wasm and the boundary cost, not two different implementations.
//!
//! Two workloads:
//! - compact: 16-byte records `id: u64 LE | amount_cents: u32 LE | merchant: u32 LE`
//!   (the generator's `compact` shape): the filter reads a field, the map rewrites it;
//! - JSON: ~100-byte transactions (the generator's `json` shape) that the filter
//!   parses and the map parses and re-serialises with two fields more.

use serde::{Deserialize, Serialize};

/// Which workload a benchmark operator runs (its `shape` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// 16-byte binary records.
    Compact,
    /// ~100-byte JSON transactions.
    Json,
}

/// Length of a compact record.
pub const COMPACT_LEN: usize = 16;

/// Cents at or above which the filter keeps a transaction (about 80% of generated
/// ones).
pub const MIN_CENTS: u32 = 10_000;

/// Compact filter: keeps records whose amount is at least [`MIN_CENTS`]. A record of
/// the wrong length is `None` (the plugin rejects it).
pub fn compact_keep(value: &[u8]) -> Option<bool> {
    let amount: [u8; 4] = value.get(8..12)?.try_into().ok()?;
    (value.len() == COMPACT_LEN).then(|| u32::from_le_bytes(amount) >= MIN_CENTS)
}

/// Compact map: converts the amount to another currency (×0.92, in integer cents)
/// in place. `None` for a record of the wrong length.
pub fn compact_rewrite(value: &[u8]) -> Option<[u8; COMPACT_LEN]> {
    let mut record: [u8; COMPACT_LEN] = value.try_into().ok()?;
    let amount = u32::from_le_bytes(record[8..12].try_into().ok()?);
    let converted = (u64::from(amount) * 92 / 100) as u32;
    record[8..12].copy_from_slice(&converted.to_le_bytes());
    Some(record)
}

/// A generated JSON transaction, borrowed from the input bytes.
#[derive(Debug, Deserialize, Serialize)]
pub struct Transaction<'a> {
    pub id: u64,
    #[serde(borrow)]
    pub card: &'a str,
    pub amount: f64,
    #[serde(borrow)]
    pub merchant: &'a str,
    #[serde(borrow)]
    pub country: &'a str,
    #[serde(borrow)]
    pub channel: &'a str,
}

/// The map's output: the transaction with its amount in EUR and a flag.
#[derive(Debug, Serialize)]
pub struct Converted<'a> {
    #[serde(flatten)]
    pub transaction: Transaction<'a>,
    pub amount_eur: f64,
    pub high_value: bool,
}

/// JSON filter: keeps transactions of at least 100.00.
///
/// # Errors
/// When the value is not a transaction.
pub fn json_keep(value: &[u8]) -> Result<bool, serde_json::Error> {
    let transaction: Transaction<'_> = serde_json::from_slice(value)?;
    Ok(transaction.amount >= f64::from(MIN_CENTS) / 100.0)
}

/// JSON map: parses the transaction and writes it with `amount_eur` and `high_value`.
///
/// # Errors
/// When the value is not a transaction.
pub fn json_rewrite(value: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let transaction: Transaction<'_> = serde_json::from_slice(value)?;
    let amount_eur = (transaction.amount * 92.0).round() / 100.0;
    let converted = Converted {
        high_value: transaction.amount >= 400.0,
        amount_eur,
        transaction,
    };
    serde_json::to_writer(out, &converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_filter_and_map() {
        let mut record = [0u8; COMPACT_LEN];
        record[8..12].copy_from_slice(&20_000u32.to_le_bytes());
        assert_eq!(compact_keep(&record), Some(true));
        let rewritten = compact_rewrite(&record).expect("16 bytes");
        assert_eq!(
            u32::from_le_bytes(rewritten[8..12].try_into().expect("4")),
            18_400
        );
        assert_eq!(compact_keep(&record[..15]), None);
        assert_eq!(compact_rewrite(&record[..15]), None);
    }

    #[test]
    fn json_filter_and_map() {
        let value = br#"{"id":7,"card":"card-0001","amount":250.5,"merchant":"m-001","country":"DE","channel":"web"}"#;
        assert!(json_keep(value).expect("valid"));
        let mut out = Vec::new();
        json_rewrite(value, &mut out).expect("valid");
        let parsed: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(parsed["amount_eur"], 230.46);
        assert_eq!(parsed["high_value"], false);
        assert_eq!(parsed["card"], "card-0001");
        assert!(json_keep(b"not json").is_err());
    }
}
