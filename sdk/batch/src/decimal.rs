//! Integers in decimal text, fast on both sides of the Wasm boundary: the host writes
//! window bounds into result headers and JSON, the guest SDK writes them into results.
//!
//! The length comes first, from the bit length (no division), so [`put_u64`] and
//! [`put_i64`] write the text in place, left-aligned, where it is wanted (a header's
//! inline bytes) and never move it. Digits come two at a time from a table,
//! and the 64-bit value is cut into parts of eight digits with one 64-bit division
//! each; the rest is 32-bit arithmetic. That matters most inside Wasm: `wasm32` has no
//! 64-bit multiply-high, so a 64-bit division by a constant stays a division there
//! (tens of cycles), and a digit-by-digit loop pays one per digit — thirteen for a
//! timestamp.
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

/// 10^i for every `i` below [`MAX_LEN`].
const POWERS: [u64; MAX_LEN] = {
    let mut powers = [1u64; MAX_LEN];
    let mut i = 1;
    while i < MAX_LEN {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// The number of decimal digits of `n` (1 for 0), without a division: from its bit
/// length, `log10(2) ≈ 1233 / 4096` gives the count or one less, and one comparison
/// decides.
#[inline]
pub fn digits(n: u64) -> usize {
    let bits = (u64::BITS - (n | 1).leading_zeros()) as usize;
    let guess = (bits * 1233) >> 12;
    (guess + usize::from(n >= POWERS[guess])).max(1)
}

/// Writes the two digits of `n < 100` at `text[at..at + 2]`.
#[inline(always)]
fn pair(text: &mut [u8], at: usize, n: u32) {
    let n = n as usize * 2;
    text[at..at + 2].copy_from_slice(&PAIRS[n..n + 2]);
}

/// Writes the eight digits of `n < 10^8`, zero-padded, ending at `end`.
#[inline(always)]
fn eight(text: &mut [u8], end: usize, n: u32) {
    let (high, low) = (n / 10_000, n % 10_000);
    pair(text, end - 8, high / 100);
    pair(text, end - 6, high % 100);
    pair(text, end - 4, low / 100);
    pair(text, end - 2, low % 100);
}

/// Writes every digit of `n` so that the last one is at `text[end - 1]`.
#[inline(always)]
fn fill(text: &mut [u8], mut end: usize, mut n: u64) {
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
    } else {
        text[end - 1] = b'0' + n as u8;
    }
}

/// Writes `value` in decimal at the start of `out`; its length.
///
/// # Panics
/// If `out` is shorter than the text ([`MAX_LEN`] always suffices).
#[inline]
pub fn put_u64(value: u64, out: &mut [u8]) -> usize {
    let len = digits(value);
    fill(out, len, value);
    len
}

/// Writes `value` in decimal (with a `-` when negative) at the start of `out`; its
/// length.
///
/// # Panics
/// If `out` is shorter than the text ([`MAX_LEN`] always suffices).
#[inline]
pub fn put_i64(value: i64, out: &mut [u8]) -> usize {
    let sign = usize::from(value < 0);
    if sign == 1 {
        out[0] = b'-';
    }
    sign + put_u64(value.unsigned_abs(), &mut out[sign..])
}

/// `value` in decimal, written into `text`; the written part.
pub fn format_u64(value: u64, text: &mut [u8; MAX_LEN]) -> &[u8] {
    let len = put_u64(value, text);
    &text[..len]
}

/// `value` in decimal (with a `-` when negative), written into `text`.
pub fn format_i64(value: i64, text: &mut [u8; MAX_LEN]) -> &[u8] {
    let len = put_i64(value, text);
    &text[..len]
}

/// Appends `value` in decimal, written in place (room for the longest text, then cut
/// to length: no copy of a variable length, which would be a `memmove` call).
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    let at = out.len();
    out.resize(at + MAX_LEN, 0);
    let len = put_u64(value, &mut out[at..]);
    out.truncate(at + len);
}

/// Appends `value` in decimal, with a `-` when negative (see [`write_u64`]).
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    let at = out.len();
    out.resize(at + MAX_LEN, 0);
    let len = put_i64(value, &mut out[at..]);
    out.truncate(at + len);
}

/// Appends `value` in decimal with at least `width` digits (zero-padded; at most
/// [`MAX_LEN`]).
pub fn write_u64_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut text = [0; MAX_LEN];
    let digits = format_u64(value, &mut text).len();
    let zeros = width.min(MAX_LEN).saturating_sub(digits);
    out.extend(std::iter::repeat_n(b'0', zeros));
    out.extend_from_slice(&text[..digits]);
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
            assert_eq!(digits(value), value.to_string().len(), "{value}");
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
    fn written_values_append_after_what_is_there() {
        let mut out = b"[".to_vec();
        let mut expected = String::from("[");
        for value in edges() {
            write_u64(&mut out, value);
            write_i64(&mut out, (value as i64).wrapping_neg());
            expected.push_str(&format!("{value}{}", (value as i64).wrapping_neg()));
        }
        assert_eq!(String::from_utf8(out).expect("ASCII"), expected);
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
