//! FHIRPath dates, date-times and times with partial precision: parsing (literals and FHIR
//! JSON text), comparison at the common precision, arithmetic with calendar durations, and
//! their text form.

use crate::search::values as calendar;
use std::cmp::Ordering;
use std::fmt;

/// A date or date-time to some precision (year at least). A Date has no time fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeValue {
    /// The year (0001-9999).
    pub year: i32,
    /// The month (1-12), when given.
    pub month: Option<u8>,
    /// The day of the month, when given.
    pub day: Option<u8>,
    /// The hour, when given.
    pub hour: Option<u8>,
    /// The minute, when given.
    pub minute: Option<u8>,
    /// The second, when given.
    pub second: Option<u8>,
    /// Milliseconds, when a fraction of a second was given.
    pub millis: Option<u16>,
    /// The time-zone offset in minutes east of UTC, when given.
    pub offset_minutes: Option<i16>,
}

/// A time of day to some precision (hour at least).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeValue {
    /// The hour.
    pub hour: u8,
    /// The minute, when given.
    pub minute: Option<u8>,
    /// The second, when given.
    pub second: Option<u8>,
    /// Milliseconds, when a fraction of a second was given.
    pub millis: Option<u16>,
}

/// Precision levels, coarse to fine (second and millisecond are one level for comparison).
pub(crate) const YEAR: u8 = 0;
pub(crate) const MONTH: u8 = 1;
pub(crate) const DAY: u8 = 2;
pub(crate) const HOUR: u8 = 3;
pub(crate) const MINUTE: u8 = 4;
pub(crate) const SECOND: u8 = 5;

/// A cursor over ASCII text reading fixed-width numbers.
struct Cursor<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<u32> {
        let slice = self.bytes.get(self.at..self.at + count)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += count;
        Some(
            slice
                .iter()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
        )
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }
}

fn small(value: u32, max: u32) -> Option<u8> {
    (value <= max).then(|| u8::try_from(value).ok()).flatten()
}

/// Parses `hh(:mm(:ss(.fff)?)?)?` into a time; `None` when malformed.
fn parse_time_parts(cursor: &mut Cursor<'_>) -> Option<TimeValue> {
    let hour = small(cursor.digits(2)?, 23)?;
    let mut time = TimeValue {
        hour,
        minute: None,
        second: None,
        millis: None,
    };
    if cursor.eat(b':') {
        time.minute = Some(small(cursor.digits(2)?, 59)?);
        if cursor.eat(b':') {
            time.second = Some(small(cursor.digits(2)?, 59)?);
            if cursor.eat(b'.') {
                let start = cursor.at;
                while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
                    cursor.at += 1;
                }
                let fraction = cursor.bytes.get(start..cursor.at)?;
                if fraction.is_empty() {
                    return None;
                }
                let mut millis = 0u16;
                for index in 0..3 {
                    let digit = fraction.get(index).map_or(0, |b| u16::from(b - b'0'));
                    millis = millis * 10 + digit;
                }
                time.millis = Some(millis);
            }
        }
    }
    Some(time)
}

/// Parses a time zone (`Z`, `+hh:mm`, `-hh:mm`) at the cursor, when there is one.
fn parse_offset(cursor: &mut Cursor<'_>) -> Option<Option<i16>> {
    if cursor.eat(b'Z') {
        return Some(Some(0));
    }
    let sign = match cursor.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some(None),
    };
    cursor.at += 1;
    let hours = cursor.digits(2)?;
    if !cursor.eat(b':') {
        return None;
    }
    let minutes = cursor.digits(2)?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    let total = i16::try_from(hours * 60 + minutes).ok()?;
    Some(Some(sign * total))
}

/// Days in `month` of `year` (proleptic Gregorian).
fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl DateTimeValue {
    /// Parses a date or date-time (`2014`, `2014-01-05`, `2014-01-05T10:30:00.000+09:00`,
    /// `2014-01-05T`); `None` when malformed.
    pub fn parse(text: &str) -> Option<DateTimeValue> {
        let mut cursor = Cursor {
            bytes: text.as_bytes(),
            at: 0,
        };
        let year = i32::try_from(cursor.digits(4)?).ok()?;
        let mut value = DateTimeValue {
            year,
            month: None,
            day: None,
            hour: None,
            minute: None,
            second: None,
            millis: None,
            offset_minutes: None,
        };
        if cursor.eat(b'-') {
            let month = small(cursor.digits(2)?, 12).filter(|m| *m >= 1)?;
            value.month = Some(month);
            if cursor.eat(b'-') {
                let day = small(cursor.digits(2)?, 31).filter(|d| *d >= 1)?;
                if day > days_in_month(year, month) {
                    return None;
                }
                value.day = Some(day);
            }
        }
        if cursor.eat(b'T') {
            if !cursor.done() && cursor.peek() != Some(b'Z') && cursor.peek() != Some(b'+') {
                value.day?;
                let time = parse_time_parts(&mut cursor)?;
                value.hour = Some(time.hour);
                value.minute = time.minute;
                value.second = time.second;
                value.millis = time.millis;
            }
            value.offset_minutes = parse_offset(&mut cursor)?;
        } else if value.day.is_some() && !cursor.done() {
            // A zone right after a date (`2014-01-05Z`) is not FHIRPath.
            return None;
        }
        cursor.done().then_some(value)
    }

    /// Whether it has time fields (a DateTime rather than a Date).
    pub fn has_time(&self) -> bool {
        self.hour.is_some()
    }

    /// Its precision level (`YEAR` … `SECOND`).
    pub(crate) fn precision(&self) -> u8 {
        if self.second.is_some() {
            SECOND
        } else if self.minute.is_some() {
            MINUTE
        } else if self.hour.is_some() {
            HOUR
        } else if self.day.is_some() {
            DAY
        } else if self.month.is_some() {
            MONTH
        } else {
            YEAR
        }
    }

    /// The value shifted to UTC when it has an hour and a zone (fields kept at their
    /// precision); otherwise unchanged.
    fn normalized(&self) -> DateTimeValue {
        let (Some(offset), Some(_)) = (self.offset_minutes, self.hour) else {
            return *self;
        };
        let millis = self.epoch_millis() - i64::from(offset) * 60_000;
        let mut shifted = DateTimeValue::from_epoch_millis(millis, self);
        shifted.offset_minutes = Some(0);
        shifted
    }

    /// Milliseconds since 1970 of the fields given (missing ones at their minimum; the zone
    /// ignored).
    fn epoch_millis(&self) -> i64 {
        let days = days_from_civil(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1));
        let seconds = i64::from(self.hour.unwrap_or(0)) * 3600
            + i64::from(self.minute.unwrap_or(0)) * 60
            + i64::from(self.second.unwrap_or(0));
        days * 86_400_000 + seconds * 1000 + i64::from(self.millis.unwrap_or(0))
    }

    /// The instant `millis` with the precision (present fields) of `shape`.
    fn from_epoch_millis(millis: i64, shape: &DateTimeValue) -> DateTimeValue {
        let days = millis.div_euclid(86_400_000);
        let rest = millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let keep = |present: bool, value: i64| present.then(|| u8::try_from(value).ok()).flatten();
        DateTimeValue {
            year,
            month: shape.month.map(|_| month),
            day: shape.day.map(|_| day),
            hour: keep(shape.hour.is_some(), rest / 3_600_000),
            minute: keep(shape.minute.is_some(), rest / 60_000 % 60),
            second: keep(shape.second.is_some(), rest / 1000 % 60),
            millis: shape
                .millis
                .map(|_| u16::try_from(rest % 1000).unwrap_or(0)),
            offset_minutes: shape.offset_minutes,
        }
    }

    /// Compares at the common precision: `None` when equal so far but the precisions differ.
    pub fn compare(&self, other: &DateTimeValue) -> Option<Ordering> {
        if self.hour.is_some()
            && other.hour.is_some()
            && self.offset_minutes.is_some() != other.offset_minutes.is_some()
        {
            return None;
        }
        let (left, right) = if self.offset_minutes.is_some() || other.offset_minutes.is_some() {
            (self.normalized(), other.normalized())
        } else {
            (*self, *other)
        };
        let fields = |v: &DateTimeValue| {
            [
                Some(i64::from(v.year)),
                v.month.map(i64::from),
                v.day.map(i64::from),
                v.hour.map(i64::from),
                v.minute.map(i64::from),
                v.second
                    .map(|s| i64::from(s) * 1000 + i64::from(v.millis.unwrap_or(0))),
            ]
        };
        compare_fields(&fields(&left), &fields(&right))
    }

    /// Adds `amount` of a calendar `unit` (`year` … `millisecond`); `None` on overflow or a
    /// unit that is no duration.
    pub(crate) fn add(&self, amount: i64, unit: DurationUnit) -> Option<DateTimeValue> {
        let precision = self.precision();
        let (amount, unit) = unit.at_precision(amount, precision);
        match unit {
            DurationUnit::Year | DurationUnit::Month => {
                let months = if unit == DurationUnit::Year {
                    amount.checked_mul(12)?
                } else {
                    amount
                };
                let total =
                    i64::from(self.year) * 12 + i64::from(self.month.unwrap_or(1)) - 1 + months;
                let year = i32::try_from(total.div_euclid(12)).ok()?;
                let month = u8::try_from(total.rem_euclid(12) + 1).ok()?;
                if !(1..=9999).contains(&year) {
                    return None;
                }
                let mut result = *self;
                result.year = year;
                result.month = self.month.map(|_| month);
                result.day = self.day.map(|d| d.min(days_in_month(year, month)));
                Some(result)
            }
            _ => {
                let millis = amount.checked_mul(unit.millis())?;
                let shifted = self.epoch_millis().checked_add(millis)?;
                let result = DateTimeValue::from_epoch_millis(shifted, self);
                (1..=9999).contains(&result.year).then_some(result)
            }
        }
    }
}

/// Compares two field lists coarse to fine: the first difference decides; a field present on
/// one side only makes the result unknown.
fn compare_fields(left: &[Option<i64>], right: &[Option<i64>]) -> Option<Ordering> {
    for (l, r) in left.iter().zip(right) {
        match (l, r) {
            (Some(l), Some(r)) => match l.cmp(r) {
                Ordering::Equal => {}
                unequal => return Some(unequal),
            },
            (None, None) => return Some(Ordering::Equal),
            _ => return None,
        }
    }
    Some(Ordering::Equal)
}

impl TimeValue {
    /// Parses `hh(:mm(:ss(.fff)?)?)?`; `None` when malformed.
    pub fn parse(text: &str) -> Option<TimeValue> {
        let mut cursor = Cursor {
            bytes: text.as_bytes(),
            at: 0,
        };
        let time = parse_time_parts(&mut cursor)?;
        cursor.done().then_some(time)
    }

    /// Its precision level (`HOUR` … `SECOND`).
    pub(crate) fn precision(&self) -> u8 {
        if self.second.is_some() {
            SECOND
        } else if self.minute.is_some() {
            MINUTE
        } else {
            HOUR
        }
    }

    /// Compares at the common precision: `None` when equal so far but the precisions differ.
    pub fn compare(&self, other: &TimeValue) -> Option<Ordering> {
        let fields = |v: &TimeValue| {
            [
                Some(i64::from(v.hour)),
                v.minute.map(i64::from),
                v.second
                    .map(|s| i64::from(s) * 1000 + i64::from(v.millis.unwrap_or(0))),
            ]
        };
        compare_fields(&fields(self), &fields(other))
    }

    /// Adds a duration of hours or finer, wrapping around midnight.
    pub(crate) fn add(&self, amount: i64, unit: DurationUnit) -> Option<TimeValue> {
        let (amount, unit) = unit.at_precision(amount, self.precision());
        if matches!(
            unit,
            DurationUnit::Year | DurationUnit::Month | DurationUnit::Week | DurationUnit::Day
        ) {
            return None;
        }
        let start = i64::from(self.hour) * 3_600_000
            + i64::from(self.minute.unwrap_or(0)) * 60_000
            + i64::from(self.second.unwrap_or(0)) * 1000
            + i64::from(self.millis.unwrap_or(0));
        let total = start
            .checked_add(amount.checked_mul(unit.millis())?)?
            .rem_euclid(86_400_000);
        Some(TimeValue {
            hour: u8::try_from(total / 3_600_000).ok()?,
            minute: self
                .minute
                .map(|_| u8::try_from(total / 60_000 % 60).unwrap_or(0)),
            second: self
                .second
                .map(|_| u8::try_from(total / 1000 % 60).unwrap_or(0)),
            millis: self
                .millis
                .map(|_| u16::try_from(total % 1000).unwrap_or(0)),
        })
    }
}

/// The calendar duration units date arithmetic accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DurationUnit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl DurationUnit {
    /// The unit a quantity's unit names: calendar words (singular or plural) and the UCUM
    /// codes `wk d h min s ms`.
    pub(crate) fn from_unit(unit: &str) -> Option<DurationUnit> {
        Some(match unit {
            // UCUM `a` and `mo` are not calendar durations: date arithmetic refuses them.
            "year" | "years" => DurationUnit::Year,
            "month" | "months" => DurationUnit::Month,
            "week" | "weeks" | "wk" => DurationUnit::Week,
            "day" | "days" | "d" => DurationUnit::Day,
            "hour" | "hours" | "h" => DurationUnit::Hour,
            "minute" | "minutes" | "min" => DurationUnit::Minute,
            "second" | "seconds" | "s" => DurationUnit::Second,
            "millisecond" | "milliseconds" | "ms" => DurationUnit::Millisecond,
            _ => return None,
        })
    }

    fn millis(self) -> i64 {
        match self {
            DurationUnit::Year => 31_536_000_000,
            DurationUnit::Month => 2_592_000_000,
            DurationUnit::Week => 604_800_000,
            DurationUnit::Day => 86_400_000,
            DurationUnit::Hour => 3_600_000,
            DurationUnit::Minute => 60_000,
            DurationUnit::Second => 1000,
            DurationUnit::Millisecond => 1,
        }
    }

    /// A duration finer than the value's precision, converted (truncating) to the finest unit
    /// the value has: `@2014 + 25 months` adds 2 years.
    fn at_precision(self, amount: i64, precision: u8) -> (i64, DurationUnit) {
        let coarsest = match precision {
            YEAR => DurationUnit::Year,
            MONTH => DurationUnit::Month,
            DAY => DurationUnit::Day,
            HOUR => DurationUnit::Hour,
            MINUTE => DurationUnit::Minute,
            _ => return (amount, self),
        };
        if self.rank() <= coarsest.rank() {
            return (amount, self);
        }
        if self == DurationUnit::Month && coarsest == DurationUnit::Year {
            return (amount / 12, DurationUnit::Year);
        }
        let millis = amount.saturating_mul(self.millis());
        (millis / coarsest.millis(), coarsest)
    }

    fn rank(self) -> u8 {
        self as u8
    }
}

/// Days since 1970-01-01 of a civil date (the search module's calendar arithmetic).
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    calendar::days_from_civil(i64::from(year), i64::from(month), i64::from(day))
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let (year, month, day) = calendar::civil_from_days(days);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

impl fmt::Display for DateTimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
        }
        if let Some(day) = self.day {
            write!(f, "-{day:02}")?;
        }
        if let Some(hour) = self.hour {
            write!(
                f,
                "T{}",
                TimeValue {
                    hour,
                    minute: self.minute,
                    second: self.second,
                    millis: self.millis,
                }
            )?;
        }
        match self.offset_minutes {
            Some(0) => f.write_str("Z"),
            Some(offset) => {
                let sign = if offset < 0 { '-' } else { '+' };
                let offset = offset.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", offset / 60, offset % 60)
            }
            None => Ok(()),
        }
    }
}

impl fmt::Display for TimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.hour)?;
        if let Some(minute) = self.minute {
            write!(f, ":{minute:02}")?;
        }
        if let Some(second) = self.second {
            write!(f, ":{second:02}")?;
        }
        if let Some(millis) = self.millis {
            write!(f, ".{millis:03}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(text: &str) -> DateTimeValue {
        DateTimeValue::parse(text).expect(text)
    }

    #[test]
    fn partial_dates_parse_and_print_back() {
        for text in [
            "2014",
            "2014-01",
            "2014-01-05",
            "2014-01-05T10",
            "2014-01-05T10:30:00.123+09:00",
            "2014-01-05T10:30Z",
        ] {
            assert_eq!(dt(text).to_string(), text);
        }
        assert!(DateTimeValue::parse("2014-13").is_none());
        assert!(DateTimeValue::parse("2014-02-30").is_none());
        assert_eq!(dt("2015T").precision(), YEAR);
        assert_eq!(
            TimeValue::parse("10:30").map(|t| t.to_string()),
            Some("10:30".into())
        );
    }

    #[test]
    fn comparison_is_unknown_across_precisions() {
        assert_eq!(dt("2014").compare(&dt("2015-01")), Some(Ordering::Less));
        assert_eq!(dt("2014").compare(&dt("2014-01")), None);
        assert_eq!(
            dt("2014-01-05T10:00:00+02:00").compare(&dt("2014-01-05T08:00:00Z")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            dt("2014-01-05T10:00:00").compare(&dt("2014-01-05T10:00:00.000")),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn calendar_arithmetic_clamps_and_truncates() {
        assert_eq!(
            dt("2014-01-31").add(1, DurationUnit::Month),
            Some(dt("2014-02-28"))
        );
        assert_eq!(dt("2014").add(25, DurationUnit::Month), Some(dt("2016")));
        assert_eq!(
            dt("2014-12-31T23:00").add(2, DurationUnit::Hour),
            Some(dt("2015-01-01T01:00"))
        );
        assert_eq!(
            dt("1973-12-25").add(7, DurationUnit::Day),
            Some(dt("1974-01-01"))
        );
    }
}
