//! A small, strict RFC 3339 parser: `2024-05-01T12:30:00Z`, `2024-05-01T12:30:00.250+02:00`.
//!
//! Accepted, exactly: `YYYY-MM-DD`, a `T` (or `t`, or one space, as RFC 3339 §5.6
//! allows), `hh:mm:ss`, an optional fraction `.d+` (any number of digits, truncated
//! to milliseconds), then `Z` (or `z`) or an offset `+hh:mm` / `-hh:mm`. Fields must
//! have exactly their number of digits and be in range (the day within its month,
//! leap years included). A leap second (`:60`) is accepted and counts as the start of
//! the next second (`23:59:60Z` = `00:00:00Z` of the next day): no leap-second table.
//!
//! Laws (tested below): the result is the number of milliseconds since
//! 1970-01-01T00:00:00Z of the instant named; an offset moves it by that offset.
//!
//! ```
//! use weir_host::time::rfc3339::parse_rfc3339;
//! assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Ok(1_500));
//! assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Ok(0));
//! assert!(parse_rfc3339("1970-01-01 00:00:00").is_err(), "an offset is required");
//! ```

use weir_batch::Timestamp;

/// Milliseconds since the Unix epoch of the RFC 3339 date-time `text`.
///
/// # Errors
/// What is wrong with `text`, in words.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
    parse(text.as_bytes()).map_err(|why| format!("`{text}` is not an RFC 3339 date-time: {why}"))
}

fn parse(bytes: &[u8]) -> Result<Timestamp, &'static str> {
    let mut at = Cursor { bytes, at: 0 };
    let year = at.digits(4, "expected a 4-digit year")?;
    at.expect(b'-', "expected `-` after the year")?;
    let month = at.digits(2, "expected a 2-digit month")?;
    at.expect(b'-', "expected `-` after the month")?;
    let day = at.digits(2, "expected a 2-digit day")?;
    if !(1..=12).contains(&month) {
        return Err("the month is out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("the day is out of range for its month");
    }
    match at.next() {
        Some(b'T' | b't' | b' ') => {}
        _ => return Err("expected `T` between the date and the time"),
    }
    let hour = at.digits(2, "expected a 2-digit hour")?;
    at.expect(b':', "expected `:` after the hour")?;
    let minute = at.digits(2, "expected 2-digit minutes")?;
    at.expect(b':', "expected `:` after the minutes")?;
    let second = at.digits(2, "expected 2-digit seconds")?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err("the time is out of range");
    }
    let mut millis = 0;
    if at.peek() == Some(b'.') {
        at.at += 1;
        let mut count = 0;
        while let Some(digit) = at.peek().filter(u8::is_ascii_digit) {
            if count < 3 {
                millis = millis * 10 + i64::from(digit - b'0');
            }
            count += 1;
            at.at += 1;
        }
        if count == 0 {
            return Err("expected digits after `.`");
        }
        for _ in count..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match at.next() {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = at.digits(2, "expected a 2-digit offset hour")?;
            at.expect(b':', "expected `:` in the offset")?;
            let minutes = at.digits(2, "expected 2-digit offset minutes")?;
            if hours > 23 || minutes > 59 {
                return Err("the offset is out of range");
            }
            let minutes = hours * 60 + minutes;
            if sign == b'-' { -minutes } else { minutes }
        }
        _ => return Err("expected `Z` or an offset like `+02:00` after the time"),
    };
    if at.at != bytes.len() {
        return Err("unexpected text after the offset");
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8, why: &'static str) -> Result<(), &'static str> {
        match self.next() {
            Some(byte) if byte == wanted => Ok(()),
            _ => Err(why),
        }
    }

    /// Exactly `count` ASCII digits, as a number.
    fn digits(&mut self, count: usize, why: &'static str) -> Result<i64, &'static str> {
        let mut value = 0;
        for _ in 0..count {
            match self.next() {
                Some(digit @ b'0'..=b'9') => value = value * 10 + i64::from(digit - b'0'),
                _ => return Err(why),
            }
        }
        Ok(value)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_instants() {
        for (text, expected) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2023-11-14T22:13:20Z", 1_700_000_000_000),
            ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
            ("2023-11-14T22:13:20.1239999Z", 1_700_000_000_123),
            ("2023-11-14t22:13:20.5z", 1_700_000_000_500),
            ("2023-11-14 22:13:20Z", 1_700_000_000_000),
            ("2023-11-15T00:13:20+02:00", 1_700_000_000_000),
            ("2023-11-14T20:43:20-01:30", 1_700_000_000_000),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("1969-12-31T23:59:59.999Z", -1),
            ("0000-01-01T00:00:00Z", -62_167_219_200_000),
            ("2016-12-31T23:59:60Z", 1_483_228_800_000),
        ] {
            assert_eq!(parse_rfc3339(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn malformed_text_is_refused_with_a_reason() {
        for (text, why) in [
            ("2023-11-14T22:13:20", "expected `Z`"),
            ("2023-11-14", "expected `T`"),
            ("2023-1-14T22:13:20Z", "2-digit month"),
            ("2023-13-14T22:13:20Z", "month is out of range"),
            ("2023-02-29T22:13:20Z", "day is out of range"),
            ("2023-11-31T22:13:20Z", "day is out of range"),
            ("2023-11-14T24:00:00Z", "time is out of range"),
            ("2023-11-14T22:13:20.Z", "digits after `.`"),
            ("2023-11-14T22:13:20+0200", "`:` in the offset"),
            ("2023-11-14T22:13:20Zx", "unexpected text"),
            ("1700000000000", "`-` after the year"),
            ("", "4-digit year"),
        ] {
            let error = parse_rfc3339(text).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_with_a_reference_formatter(millis in -62_000_000_000_000i64..250_000_000_000_000, offset in -23 * 60i64..=23 * 60) {
            // Format `millis` shifted by `offset` minutes as local time with that offset.
            let local = millis + offset * 60_000;
            let days = local.div_euclid(86_400_000);
            let in_day = local.rem_euclid(86_400_000);
            let (year, month, day) = civil_from_days(days);
            let sign = if offset < 0 { '-' } else { '+' };
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}{sign}{:02}:{:02}",
                in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000,
                offset.abs() / 60, offset.abs() % 60,
            );
            prop_assert_eq!(parse_rfc3339(&text), Ok(millis), "{}", text);
        }
    }

    /// The inverse of `days_from_civil` (Hinnant), for the property above.
    fn civil_from_days(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }
}
