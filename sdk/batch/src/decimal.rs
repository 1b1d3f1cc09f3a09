//! Integers in decimal text, fast on both sides of the Wasm boundary: the host writes
//! window bounds into result headers and JSON, the guest SDK writes them into results.
//!
//! Digits come two at a time from a table, and the 64-bit value is cut into parts of
//! eight digits with one 64-bit division each; the rest is 32-bit arithmetic. That
//! matters most inside Wasm: `wasm32` has no 64-bit multiply-high, so a 64-bit
//! division by a constant is a real `div` instruction there (tens of cycles), and the
//! digit-by-digit loop paid one per digit — a 13-digit timestamp took 13.
//!
//! ```
//! use weir_batch::decimal;
//!
//! let mut text = [0u8; decimal::MAX_LEN];
//! assert_eq!(decimal::format_i64(-1_700_000_000_000, &mut text), b"-1700000000000");
//! let mut out = b"n=".to_vec();
//! decimal::write_u64(&mut out, 42);
//! assert_eq!(out, b"n=42");
//! ```

/// The longest decimal text of an `i64` or `u64` (20 characters).
pub const MAX_LEN: usize = 20;

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the two digits of `n < 100` at `text[at..at + 2]`.
#[inline(always)]
fn pair(text: &mut [u8; MAX_LEN], at: usize, n: u32) {
    let n = n as usize * 2;
    text[at] = PAIRS[n];
    text[at + 1] = PAIRS[n + 1];
}

/// Writes the eight digits of `n < 10^8`, zero-padded, ending at `end`.
#[inline(always)]
fn eight(text: &mut [u8; MAX_LEN], end: usize, n: u32) {
    let (high, low) = (n / 10_000, n % 10_000);
    pair(text, end - 8, high / 100);
    pair(text, end - 6, high % 100);
    pair(text, end - 4, low / 100);
    pair(text, end - 2, low % 100);
}

/// `value` in decimal, written at the end of `text`; the written part.
pub fn format_u64(value: u64, text: &mut [u8; MAX_LEN]) -> &[u8] {
    let mut end = MAX_LEN;
    let mut n = value;
    while n >= 100_000_000 {
        let (rest, low) = (n / 100_000_000, (n % 100_000_000) as u32);
        eight(text, end, low);
        end -= 8;
        n = rest;
    }
    let mut n = n as u32;
    while n >= 100 {
        pair(text, end - 2, n % 100);
        end -= 2;
        n /= 100;
    }
    if n >= 10 {
        pair(text, end - 2, n);
        end -= 2;
    } else {
        end -= 1;
        text[end] = b'0' + n as u8;
    }
    &text[end..]
}

/// `value` in decimal (with a `-` when negative), written at the end of `text`.
pub fn format_i64(value: i64, text: &mut [u8; MAX_LEN]) -> &[u8] {
    let digits = format_u64(value.unsigned_abs(), text).len();
    if value >= 0 {
        return &text[MAX_LEN - digits..];
    }
    // |i64::MIN| has 19 digits: the sign always fits.
    let at = MAX_LEN - digits - 1;
    text[at] = b'-';
    &text[at..]
}

/// Appends `value` in decimal.
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    let mut text = [0; MAX_LEN];
    out.extend_from_slice(format_u64(value, &mut text));
}

/// Appends `value` in decimal, with a `-` when negative.
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    let mut text = [0; MAX_LEN];
    out.extend_from_slice(format_i64(value, &mut text));
}

/// Appends `value` in decimal with at least `width` digits (zero-padded; at most
/// [`MAX_LEN`]).
pub fn write_u64_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut text = [0; MAX_LEN];
    let digits = format_u64(value, &mut text).len();
    let zeros = width.min(MAX_LEN).saturating_sub(digits);
    out.extend(std::iter::repeat_n(b'0', zeros));
    out.extend_from_slice(&text[MAX_LEN - digits..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges() -> Vec<u64> {
        let mut values = vec![0, u64::MAX, u64::MAX - 1];
        let mut power = 1u64;
        for _ in 0..20 {
            values.extend([power.saturating_sub(1), power, power.saturating_add(1)]);
            power = power.saturating_mul(10);
        }
        values
    }

    #[test]
    fn unsigned_values_read_as_rust_prints_them() {
        let mut text = [0; MAX_LEN];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let random = (0..10_000).map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed >> (seed % 64)
        });
        for value in edges().into_iter().chain(random) {
            assert_eq!(format_u64(value, &mut text), value.to_string().as_bytes());
        }
    }

    #[test]
    fn signed_values_read_as_rust_prints_them() {
        let mut text = [0; MAX_LEN];
        for value in edges() {
            for signed in [value as i64, (value as i64).wrapping_neg()] {
                assert_eq!(format_i64(signed, &mut text), signed.to_string().as_bytes());
            }
        }
        for value in [i64::MIN, i64::MAX, -1, -10, 1_700_000_000_000] {
            assert_eq!(format_i64(value, &mut text), value.to_string().as_bytes());
        }
    }

    #[test]
    fn padded_values_keep_their_width() {
        for (value, width, expected) in [
            (7, 3, "007"),
            (1234, 2, "1234"),
            (0, 0, "0"),
            (0, 4, "0000"),
            (u64::MAX, 25, "18446744073709551615"),
        ] {
            let mut out = Vec::new();
            write_u64_padded(&mut out, value, width);
            assert_eq!(out, expected.as_bytes(), "{value} in {width}");
        }
    }
}
