//! How search values are normalised, shared by indexing (write time) and query parsing (the
//! gateway) so both sides agree: the time range a date covers, the range a decimal's precision
//! implies, and the folded form string parameters match on. Pure functions; no clock, no IO.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The inclusive millisecond range (UTC, since the Unix epoch) a FHIR `date`, `dateTime` or
/// `instant` covers at its precision: `2024` is the whole year, `2024-02` the whole month
/// (29 days in a leap year), `2024-02-03` that day, `2024-02-03T10:00:00+09:00` that second
/// (`.000` to `.999`), and with fractional seconds the span of the digits given (`.5` is
/// 500–599 ms, `.123` and finer is that one millisecond).
///
/// A date, or a dateTime without a time, has no zone in FHIR; it is read as UTC. Text that
/// does not match the R4 regex of `date`/`dateTime`/`instant` (year 0001–9999, seconds
/// required with a time, a zone required with a time, hours 00–23, offsets up to ±14:00) or
/// that names a day the month does not have (`2023-02-29`) gives `None`. A leap second (`:60`)
/// is counted as Unix time counts it: as the first second of the next minute.
pub fn date_range(text: &str) -> Option<(i64, i64)> {
    let mut cursor = Cursor::new(text);
    let year = cursor.digits(4).filter(|&year| year >= 1)?;
    if cursor.at_end() {
        return Some((civil_ms(year, 1, 1), civil_ms(year + 1, 1, 1) - 1));
    }
    let month = cursor
        .after(b'-')?
        .digits(2)
        .filter(|m| (1..=12).contains(m))?;
    if cursor.at_end() {
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        return Some((
            civil_ms(year, month, 1),
            civil_ms(next_year, next_month, 1) - 1,
        ));
    }
    let day = cursor.after(b'-')?.digits(2)?;
    if !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let midnight = civil_ms(year, month, day);
    if cursor.at_end() {
        return Some((midnight, midnight + DAY_MS - 1));
    }
    let (offset_ms, span_ms) = time_of_day(cursor.after(b'T')?)?;
    let low = midnight + offset_ms;
    Some((low, low + span_ms - 1))
}

/// The time after `T`, through the zone and the end of the text: the milliseconds from
/// midnight UTC of the date (negative or past a day when the zone shifts it) to the first
/// millisecond covered, and how many milliseconds the precision covers.
fn time_of_day(cursor: &mut Cursor) -> Option<(i64, i64)> {
    let hour = cursor.digits(2).filter(|&h| h <= 23)?;
    let minute = cursor.after(b':')?.digits(2).filter(|&m| m <= 59)?;
    let second = cursor.after(b':')?.digits(2).filter(|&s| s <= 60)?;
    let (fraction_ms, span_ms) = if cursor.eat(b'.') {
        fraction(cursor)?
    } else {
        (0, 1000)
    };
    let zone_minutes = zone(cursor)?;
    if !cursor.at_end() {
        return None;
    }
    let local_ms = ((hour * 60 + minute) * 60 + second) * 1000 + fraction_ms;
    Some((local_ms - zone_minutes * 60_000, span_ms))
}

/// Fractional-second digits (at least one): the milliseconds they start at and how many
/// milliseconds their precision spans (100 for one digit, 10 for two, 1 for three or more).
fn fraction(cursor: &mut Cursor) -> Option<(i64, i64)> {
    let digits = cursor.digit_run();
    if digits.is_empty() {
        return None;
    }
    let mut fraction_ms = 0;
    let mut span_ms = 1000;
    for &digit in digits.iter().take(3) {
        span_ms /= 10;
        fraction_ms += i64::from(digit - b'0') * span_ms;
    }
    Some((fraction_ms, span_ms))
}

/// A zone, `Z` or `±hh:mm` up to `±14:00`, as minutes east of UTC.
fn zone(cursor: &mut Cursor) -> Option<i64> {
    if cursor.eat(b'Z') {
        return Some(0);
    }
    let sign = if cursor.eat(b'+') {
        1
    } else if cursor.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = cursor.digits(2)?;
    let minutes = cursor.after(b':')?.digits(2).filter(|&m| m <= 59)?;
    if hours > 14 || (hours == 14 && minutes != 0) {
        return None;
    }
    Some(sign * (hours * 60 + minutes))
}

/// A forward-only reader over ASCII text.
struct Cursor<'a> {
    /// The text being read.
    bytes: &'a [u8],
    /// Index of the next unread byte.
    position: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            position: 0,
        }
    }

    /// Whether everything has been read.
    fn at_end(&self) -> bool {
        self.position == self.bytes.len()
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.position) == Some(&byte);
        if found {
            self.position += 1;
        }
        found
    }

    /// Consumes `byte`, which must come next, for chaining.
    fn after(&mut self, byte: u8) -> Option<&mut Self> {
        self.eat(byte).then_some(self)
    }

    /// Exactly `count` ASCII digits as a number.
    fn digits(&mut self, count: usize) -> Option<i64> {
        let end = self.position.checked_add(count)?;
        let run = self.bytes.get(self.position..end)?;
        if !run.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.position = end;
        Some(run.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
    }

    /// Every ASCII digit from here on (possibly none).
    fn digit_run(&mut self) -> &'a [u8] {
        let bytes: &'a [u8] = self.bytes;
        let rest = bytes.get(self.position..).unwrap_or_default();
        let length = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.position += length;
        rest.get(..length).unwrap_or_default()
    }
}

/// Whether `year` is a Gregorian leap year.
fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds from the epoch to midnight UTC starting the given proleptic Gregorian day.
fn civil_ms(year: i64, month: i64, day: i64) -> i64 {
    days_from_civil(year, month, day) * DAY_MS
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`: years are counted from March so the leap day ends the year).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01, the inverse
/// of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The millisecond instant formatted back as a FHIR `instant` in UTC, e.g.
/// `2024-02-03T01:00:00.000Z` (for `_lastUpdated` and `meta.lastUpdated`). Instants outside
/// the years 0001–9999 still format (with more digits or a sign) but are not valid FHIR.
pub fn format_instant(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
    let of_day = ms.rem_euclid(DAY_MS);
    let (hour, minute) = (of_day / 3_600_000, of_day / 60_000 % 60);
    let (second, milli) = (of_day / 1000 % 60, of_day % 1000);
    let sign = if year < 0 { "-" } else { "" };
    let year = year.unsigned_abs();
    format!("{sign}{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

/// A decimal's value and the range its precision implies (FHIR search, number: the implicit
/// range is half a unit of the last digit written either side): `100` → (100, 99.5, 100.5),
/// `100.00` → (100, 99.995, 100.005), `1.0e2` → (100, 95, 105), `1e2` → (100, 50, 150).
///
/// The spec counts significant figures as the digits written, leading zeros excluded, so `1e2`
/// has one; its R4 example table nevertheless gives `[95 … 105)` for `1e2`, which is the range
/// of two significant figures. The rule is followed here, not that example. Text that is not
/// a FHIR decimal (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) or whose value or bounds
/// do not fit an `f64` gives `None`. Bounds are the nearest `f64` to the exact decimal bounds.
pub fn number_range(text: &str) -> Option<(f64, f64, f64)> {
    let decimal = Decimal::parse(text)?;
    let value: f64 = text.parse().ok()?;
    // Exact bounds: (10·M ± 5) × 10^(exponent − fraction digits − 1), M the digits written.
    let scale = decimal
        .exponent
        .checked_sub(i64::try_from(decimal.fraction_digits).ok()?)?
        .checked_sub(1)?;
    let away_from_zero = format!("{}5e{scale}", decimal.digits);
    let toward_zero = match decrement(&decimal.digits) {
        Some(smaller) => format!("{smaller}5e{scale}"),
        None => format!("-5e{scale}"),
    };
    let away: f64 = away_from_zero.parse().ok()?;
    let toward: f64 = toward_zero.parse().ok()?;
    let (low, high) = if decimal.negative {
        (-away, -toward)
    } else {
        (toward, away)
    };
    [value, low, high]
        .iter()
        .all(|n| n.is_finite())
        .then_some((value, low, high))
}

/// The parts of a FHIR decimal that its precision depends on.
struct Decimal {
    /// Whether it starts with `-`.
    negative: bool,
    /// Every digit written before the exponent, integer and fraction parts joined.
    digits: String,
    /// How many of `digits` follow the decimal point.
    fraction_digits: usize,
    /// The exponent (`0` when none is written).
    exponent: i64,
}

impl Decimal {
    /// Splits text matching the FHIR decimal regex; `None` for anything else.
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, parse_exponent(exponent)?),
            None => (unsigned, 0),
        };
        let (integer, fraction) = match mantissa.split_once('.') {
            Some((integer, fraction)) if all_digits(fraction) => (integer, fraction),
            Some(_) => return None,
            None => (mantissa, ""),
        };
        let integer_ok = integer == "0" || (!integer.starts_with('0') && all_digits(integer));
        integer_ok.then(|| Decimal {
            negative,
            digits: format!("{integer}{fraction}"),
            fraction_digits: fraction.len(),
            exponent,
        })
    }
}

/// An exponent: an optional sign and at least one digit.
fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !all_digits(digits) {
        return None;
    }
    text.parse().ok()
}

/// Whether `text` is one or more ASCII digits.
fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The decimal digit string one less than `digits`; `None` when it is zero.
fn decrement(digits: &str) -> Option<String> {
    let mut bytes = digits.as_bytes().to_vec();
    let last_nonzero = bytes.iter().rposition(|&b| b != b'0')?;
    for byte in bytes.iter_mut().skip(last_nonzero + 1) {
        *byte = b'9';
    }
    if let Some(byte) = bytes.get_mut(last_nonzero) {
        *byte -= 1;
    }
    String::from_utf8(bytes).ok()
}

/// The case- and accent-insensitive form string parameters match on: NFKC (folds half-width
/// katakana and full-width Latin), lower case (final sigma as sigma), and combining marks
/// removed from Latin, Greek and Cyrillic letters only — Japanese kana keep their dakuten and
/// handakuten (が stays が, never か) and kanji are unchanged. Runs of whitespace become one
/// space and the ends are trimmed. The result is NFC.
pub fn fold_string(text: &str) -> String {
    let lowered: String = text.nfkc().flat_map(char::to_lowercase).collect();
    let mut stripped = String::with_capacity(lowered.len());
    let mut after_strippable_letter = false;
    for c in lowered.chars() {
        decompose_canonical(c, |part| {
            if is_combining_mark(part) {
                if !after_strippable_letter {
                    stripped.push(part);
                }
            } else {
                after_strippable_letter = is_latin_greek_or_cyrillic(part);
                stripped.push(if part == 'ς' { 'σ' } else { part });
            }
        });
    }
    let composed: String = stripped.nfc().collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `c` is in a Latin, Greek or Cyrillic block (the scripts whose accents search
/// ignores).
fn is_latin_greek_or_cyrillic(c: char) -> bool {
    matches!(c,
        'a'..='z' | 'A'..='Z'
        | '\u{00C0}'..='\u{024F}' // Latin-1 Supplement letters, Latin Extended-A and -B
        | '\u{0250}'..='\u{02AF}' // IPA Extensions
        | '\u{0370}'..='\u{03FF}' // Greek and Coptic
        | '\u{0400}'..='\u{052F}' // Cyrillic and Cyrillic Supplement
        | '\u{1C80}'..='\u{1C8F}' // Cyrillic Extended-C
        | '\u{1E00}'..='\u{1FFF}' // Latin Extended Additional, Greek Extended
        | '\u{2C60}'..='\u{2C7F}' // Latin Extended-C
        | '\u{2DE0}'..='\u{2DFF}' // Cyrillic Extended-A
        | '\u{A640}'..='\u{A69F}' // Cyrillic Extended-B
        | '\u{A720}'..='\u{A7FF}' // Latin Extended-D
        | '\u{AB30}'..='\u{AB6F}' // Latin Extended-E
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Milliseconds of a UTC date and time, built independently of `date_range`.
    fn utc(year: i64, month: i64, day: i64, h: i64, m: i64, s: i64, ms: i64) -> i64 {
        civil_ms(year, month, day) + ((h * 60 + m) * 60 + s) * 1000 + ms
    }

    #[test]
    fn days_from_civil_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(civil_ms(2024, 2, 3), 1_706_918_400_000);
    }

    #[test]
    fn civil_from_days_inverts_days_from_civil_over_every_day() {
        for days in days_from_civil(1, 1, 1)..=days_from_civil(9999, 12, 31) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            assert!((1..=days_in_month(year, month)).contains(&day));
        }
    }

    #[test]
    fn year_month_and_day_precision() {
        let year_2024 = (
            utc(2024, 1, 1, 0, 0, 0, 0),
            utc(2024, 12, 31, 23, 59, 59, 999),
        );
        assert_eq!(date_range("2024"), Some(year_2024));
        let december = (
            utc(2023, 12, 1, 0, 0, 0, 0),
            utc(2023, 12, 31, 23, 59, 59, 999),
        );
        assert_eq!(date_range("2023-12"), Some(december));
        let day = (
            utc(2024, 2, 3, 0, 0, 0, 0),
            utc(2024, 2, 3, 23, 59, 59, 999),
        );
        assert_eq!(date_range("2024-02-03"), Some(day));
        assert_eq!(date_range("0001").map(|r| r.0), Some(-62_135_596_800_000));
    }

    #[test]
    fn february_follows_leap_years() {
        let last_ms = |text| date_range(text).map(|r| format_instant(r.1));
        assert_eq!(
            last_ms("2024-02").as_deref(),
            Some("2024-02-29T23:59:59.999Z")
        );
        assert_eq!(
            last_ms("2023-02").as_deref(),
            Some("2023-02-28T23:59:59.999Z")
        );
        assert_eq!(
            last_ms("1900-02").as_deref(),
            Some("1900-02-28T23:59:59.999Z")
        );
        assert_eq!(
            last_ms("2000-02").as_deref(),
            Some("2000-02-29T23:59:59.999Z")
        );
        assert!(date_range("2024-02-29").is_some());
        assert!(date_range("2023-02-29").is_none());
        assert!(date_range("1900-02-29").is_none());
        assert!(date_range("2024-04-31").is_none());
        assert_eq!(date_range("2024-366"), None);
    }

    #[test]
    fn seconds_and_fractions_set_the_span() {
        let second = utc(2024, 2, 3, 10, 0, 0, 0);
        assert_eq!(
            date_range("2024-02-03T10:00:00Z"),
            Some((second, second + 999))
        );
        let tenth = date_range("2024-02-03T10:00:00.5Z");
        assert_eq!(tenth, Some((second + 500, second + 599)));
        let hundredth = date_range("2024-02-03T10:00:00.12Z");
        assert_eq!(hundredth, Some((second + 120, second + 129)));
        let milli = date_range("2024-02-03T10:00:00.123Z");
        assert_eq!(milli, Some((second + 123, second + 123)));
        let micro = date_range("2024-02-03T10:00:00.123456Z");
        assert_eq!(micro, Some((second + 123, second + 123)));
    }

    #[test]
    fn zone_offsets_shift_to_utc() {
        let utc_second = utc(2024, 2, 3, 1, 0, 0, 0);
        let tokyo = date_range("2024-02-03T10:00:00+09:00");
        assert_eq!(tokyo, Some((utc_second, utc_second + 999)));
        let zulu = date_range("2024-02-03T10:00:00Z").map(|r| r.0);
        assert_eq!(tokyo.map(|r| r.0 + 9 * 3_600_000), zulu);
        let west = date_range("2024-02-03T20:30:00-05:30").map(|r| r.0);
        assert_eq!(west, Some(utc(2024, 2, 4, 2, 0, 0, 0)));
        assert!(date_range("2024-02-03T10:00:00+14:00").is_some());
        assert!(date_range("2024-02-03T10:00:00-00:00").is_some());
        assert!(date_range("2024-02-03T10:00:00+14:01").is_none());
        assert!(date_range("2024-02-03T10:00:00+15:00").is_none());
        assert!(date_range("2024-02-03T10:00:00+09:60").is_none());
        assert!(date_range("2024-02-03T10:00:00+0900").is_none());
    }

    #[test]
    fn leap_second_is_the_next_minutes_first_second() {
        let leap = date_range("2016-12-31T23:59:60Z");
        let new_year = utc(2017, 1, 1, 0, 0, 0, 0);
        assert_eq!(leap, Some((new_year, new_year + 999)));
    }

    #[test]
    fn refuses_what_the_fhir_regexes_refuse() {
        for text in [
            "",
            "-2024",
            "-0001",
            "0000",
            "202",
            "20245",
            "+2024",
            "2024-",
            "2024-1",
            "2024-13",
            "2024-00",
            "2024-02-00",
            "2024-02-32",
            "2024-02-3",
            "2024-02-03T",
            "2024-02-03T24:00:00Z",
            "2024-02-03T10:00Z",
            "2024-02-03T10:00:00",
            "2024-02-03T10:60:00Z",
            "2024-02-03T10:00:61Z",
            "2024-02-03T10:00:00.Z",
            "2024-02-03t10:00:00Z",
            "2024-02-03 10:00:00Z",
            "2024-02-03T10:00:00ZZ",
            "2024-02-03T10:00:00z",
            " 2024",
            "2024 ",
            "２０２４",
            "2024-02-03T10:00:00+09",
            "2024-02-03T1O:00:00Z",
        ] {
            assert_eq!(date_range(text), None, "{text:?}");
        }
    }

    #[test]
    fn format_instant_writes_fhir_instants() {
        assert_eq!(format_instant(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_instant(-1), "1969-12-31T23:59:59.999Z");
        let tokyo = date_range("2024-02-03T10:00:00.250+09:00").map(|r| format_instant(r.0));
        assert_eq!(tokyo.as_deref(), Some("2024-02-03T01:00:00.250Z"));
        assert_eq!(format_instant(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert!(format_instant(i64::MIN).starts_with('-'));
        assert!(format_instant(i64::MAX).ends_with('Z'));
    }

    #[test]
    fn number_ranges_follow_the_digits_written() {
        assert_eq!(number_range("100"), Some((100.0, 99.5, 100.5)));
        assert_eq!(number_range("100.00"), Some((100.0, 99.995, 100.005)));
        assert_eq!(number_range("1e2"), Some((100.0, 50.0, 150.0)));
        assert_eq!(number_range("1.0e2"), Some((100.0, 95.0, 105.0)));
        assert_eq!(number_range("1.00E2"), Some((100.0, 99.5, 100.5)));
        assert_eq!(number_range("2.0"), Some((2.0, 1.95, 2.05)));
        assert_eq!(number_range("0.001"), Some((0.001, 0.0005, 0.0015)));
        assert_eq!(number_range("-2.5"), Some((-2.5, -2.55, -2.45)));
        assert_eq!(number_range("0"), Some((0.0, -0.5, 0.5)));
        assert_eq!(number_range("-0.0"), Some((-0.0, -0.05, 0.05)));
        assert_eq!(number_range("10"), Some((10.0, 9.5, 10.5)));
        assert_eq!(number_range("1e-2"), Some((0.01, 0.005, 0.015)));
        assert_eq!(number_range("1E+2"), Some((100.0, 50.0, 150.0)));
    }

    #[test]
    fn number_range_refuses_non_decimals() {
        for text in [
            "",
            "-",
            "+1",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "1.5.2",
            "abc",
            "NaN",
            "inf",
            "1_000",
            " 1",
            "1 ",
            "１",
            "0x10",
            "1e2.5",
            "--1",
            "1e99999999999999999999",
            "1e400",
        ] {
            assert_eq!(number_range(text), None, "{text:?}");
        }
    }

    #[test]
    fn decrement_borrows() {
        assert_eq!(decrement("100").as_deref(), Some("099"));
        assert_eq!(decrement("1").as_deref(), Some("0"));
        assert_eq!(decrement("120").as_deref(), Some("119"));
        assert_eq!(decrement("000"), None);
    }

    #[test]
    fn fold_string_ignores_case_and_latin_accents() {
        assert_eq!(fold_string("José"), "jose");
        assert_eq!(fold_string("JOSÉ"), "jose");
        assert_eq!(fold_string("Jose\u{301}"), "jose");
        assert_eq!(fold_string("Müller-Lüdenscheidt"), "muller-ludenscheidt");
        assert_eq!(fold_string("Ἀθῆναι"), "αθηναι");
        assert_eq!(fold_string("ΟΔΌΣ"), fold_string("οδός"));
        assert_eq!(fold_string("Ёлка"), "елка");
        assert_eq!(fold_string("İstanbul"), "istanbul");
    }

    #[test]
    fn fold_string_folds_widths_but_keeps_kana_marks() {
        assert_eq!(fold_string("ＹＡＭＡＤＡ"), "yamada");
        assert_eq!(fold_string("ﾔﾏﾀﾞ"), "ヤマダ");
        assert_eq!(fold_string("ﾊﾟﾝ"), "パン");
        assert_eq!(fold_string("がっこう"), "がっこう");
        assert_eq!(fold_string("か\u{3099}"), "が");
        assert_eq!(fold_string("山田　太郎"), "山田 太郎");
        assert_ne!(fold_string("ガ"), fold_string("カ"));
    }

    #[test]
    fn fold_string_collapses_whitespace() {
        assert_eq!(fold_string("  Yamada \t\n Taro  "), "yamada taro");
        assert_eq!(fold_string(""), "");
        assert_eq!(fold_string(" \u{3000} "), "");
    }

    /// Text shaped like a FHIR date, dateTime or instant, with out-of-range fields too.
    const DATE_SHAPED: &str = "[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}\
                               (\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?";

    /// Text shaped like a FHIR decimal, or any printable text.
    const NUMBER_SHAPED: &str = "-?[0-9]{1,20}(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?|\\PC{0,30}";

    proptest! {
        #[test]
        fn date_range_never_panics_and_is_ordered(text in "\\PC{0,40}") {
            if let Some((low, high)) = date_range(&text) {
                prop_assert!(low <= high);
            }
        }

        #[test]
        fn date_shaped_text_is_ordered(text in DATE_SHAPED) {
            if let Some((low, high)) = date_range(&text) {
                prop_assert!(low <= high);
                prop_assert!(high - low < 366 * DAY_MS);
            }
        }

        #[test]
        fn instants_round_trip(ms in civil_ms(1, 1, 1)..civil_ms(10_000, 1, 1)) {
            let text = format_instant(ms);
            prop_assert_eq!(date_range(&text), Some((ms, ms)));
        }

        #[test]
        fn number_range_never_panics_and_holds_its_value(text in NUMBER_SHAPED) {
            if let Some((value, low, high)) = number_range(&text) {
                prop_assert!(low <= value && value <= high, "{} {} {}", low, value, high);
            }
        }

        #[test]
        fn fold_string_is_idempotent(text in "\\PC{0,40}") {
            let once = fold_string(&text);
            prop_assert_eq!(fold_string(&once), once.clone());
        }
    }
}
