//! HL7 v2 date/time values (DT, TS, DTM: `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`) as
//! FHIR `date`, `dateTime` and `instant`. FHIR needs seconds whenever a time is given and an
//! offset on every time, so minute- and hour-precision values get `:00` padding and values
//! without an offset get the configured one (`SourceContext::timezone`).

/// How much of a date/time the source gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// `YYYY`
    Year,
    /// `YYYYMM`
    Month,
    /// `YYYYMMDD`
    Day,
    /// `YYYYMMDDHH`
    Hour,
    /// `YYYYMMDDHHMM`
    Minute,
    /// `YYYYMMDDHHMMSS[.S…]`
    Second,
}

/// A syntactically and calendrically valid v2 date/time, borrowed from the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V2DateTime<'a> {
    digits: &'a str,
    fraction: Option<&'a str>,
    offset: Option<&'a str>,
    precision: Precision,
}

/// Why a v2 date/time was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmError {
    /// Not of the form `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]`.
    Syntax,
    /// Well-formed but not a real date or time (month 13, 30 February, hour 24 …).
    OutOfRange,
}

impl std::fmt::Display for DtmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DtmError::Syntax => {
                "not an HL7 v2 date/time (YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ])"
            }
            DtmError::OutOfRange => "not a valid calendar date or time",
        })
    }
}

impl<'a> V2DateTime<'a> {
    /// Parses a DTM/TS/DT value (surrounding spaces allowed).
    pub fn parse(text: &'a str) -> Result<Self, DtmError> {
        let text = text.trim();
        let (body, offset) = match text.find(['+', '-']) {
            Some(at) => (&text[..at], Some(&text[at..])),
            None => (text, None),
        };
        let (digits, fraction) = match body.split_once('.') {
            Some((digits, fraction)) => (digits, Some(fraction)),
            None => (body, None),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DtmError::Syntax);
        }
        let precision = match digits.len() {
            4 => Precision::Year,
            6 => Precision::Month,
            8 => Precision::Day,
            10 => Precision::Hour,
            12 => Precision::Minute,
            14 => Precision::Second,
            _ => return Err(DtmError::Syntax),
        };
        if let Some(fraction) = fraction {
            let valid = precision == Precision::Second
                && (1..=4).contains(&fraction.len())
                && fraction.bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(DtmError::Syntax);
            }
        }
        if let Some(offset) = offset {
            let bytes = offset.as_bytes();
            if bytes.len() != 5 || !bytes[1..].iter().all(u8::is_ascii_digit) {
                return Err(DtmError::Syntax);
            }
            if number(&offset[1..3]) > 14 || number(&offset[3..5]) > 59 {
                return Err(DtmError::OutOfRange);
            }
        }
        let value = V2DateTime {
            digits,
            fraction,
            offset,
            precision,
        };
        value.check_ranges()?;
        Ok(value)
    }

    /// How much the source gave.
    pub fn precision(self) -> Precision {
        self.precision
    }

    fn check_ranges(&self) -> Result<(), DtmError> {
        let year = number(&self.digits[0..4]);
        if year == 0 {
            return Err(DtmError::OutOfRange);
        }
        if self.precision >= Precision::Month {
            let month = number(&self.digits[4..6]);
            if !(1..=12).contains(&month) {
                return Err(DtmError::OutOfRange);
            }
            if self.precision >= Precision::Day {
                let day = number(&self.digits[6..8]);
                if day == 0 || day > days_in_month(year, month) {
                    return Err(DtmError::OutOfRange);
                }
            }
        }
        let limits = [(8, 23), (10, 59), (12, 59)];
        for (start, max) in limits {
            if self.digits.len() > start && number(&self.digits[start..start + 2]) > max {
                return Err(DtmError::OutOfRange);
            }
        }
        Ok(())
    }

    /// The FHIR `date` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`): any time part is dropped.
    pub fn to_date(self) -> String {
        let mut out = String::with_capacity(10);
        self.push_date(&mut out);
        out
    }

    /// The FHIR `dateTime`: the date forms as given, or a full time with seconds (padded) and
    /// the source's offset, else `default_offset`.
    pub fn to_date_time(self, default_offset: &str) -> String {
        if self.precision <= Precision::Day {
            return self.to_date();
        }
        let mut out = String::with_capacity(32);
        self.push_date(&mut out);
        self.push_time(&mut out, default_offset);
        out
    }

    /// The FHIR `instant` (always to the second, with an offset); `None` when the source has
    /// less than minute precision, because inventing a time of day would be a guess.
    pub fn to_instant(self, default_offset: &str) -> Option<String> {
        (self.precision >= Precision::Minute).then(|| self.to_date_time(default_offset))
    }

    /// Like [`to_instant`](Self::to_instant) but a date-only value becomes midnight: for
    /// elements FHIR requires (e.g. `Provenance.recorded`). The caller reports the padding.
    pub fn to_instant_padded(self, default_offset: &str) -> String {
        if self.precision >= Precision::Hour {
            return self.to_date_time(default_offset);
        }
        let mut out = String::with_capacity(32);
        out.push_str(&self.digits[0..4]);
        out.push('-');
        out.push_str(self.digits.get(4..6).unwrap_or("01"));
        out.push('-');
        out.push_str(self.digits.get(6..8).unwrap_or("01"));
        out.push_str("T00:00:00");
        self.push_offset(&mut out, default_offset);
        out
    }

    fn push_date(&self, out: &mut String) {
        out.push_str(&self.digits[0..4]);
        if self.precision >= Precision::Month {
            out.push('-');
            out.push_str(&self.digits[4..6]);
        }
        if self.precision >= Precision::Day {
            out.push('-');
            out.push_str(&self.digits[6..8]);
        }
    }

    fn push_time(&self, out: &mut String, default_offset: &str) {
        out.push('T');
        out.push_str(&self.digits[8..10]);
        out.push(':');
        out.push_str(self.digits.get(10..12).unwrap_or("00"));
        out.push(':');
        out.push_str(self.digits.get(12..14).unwrap_or("00"));
        if let Some(fraction) = self.fraction {
            out.push('.');
            out.push_str(fraction);
        }
        self.push_offset(out, default_offset);
    }

    fn push_offset(&self, out: &mut String, default_offset: &str) {
        match self.offset {
            Some(offset) => {
                out.push_str(&offset[0..3]);
                out.push(':');
                out.push_str(&offset[3..5]);
            }
            None => out.push_str(default_offset),
        }
    }
}

fn number(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

// `u32::is_multiple_of` needs Rust 1.87; the workspace declares 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_time(text: &str) -> String {
        V2DateTime::parse(text).unwrap().to_date_time("+09:00")
    }

    #[test]
    fn each_precision_becomes_the_right_fhir_form() {
        assert_eq!(date_time("2011"), "2011");
        assert_eq!(date_time("201112"), "2011-12");
        assert_eq!(date_time("20111220"), "2011-12-20");
        assert_eq!(date_time("2011122022"), "2011-12-20T22:00:00+09:00");
        assert_eq!(date_time("201112202244"), "2011-12-20T22:44:00+09:00");
        assert_eq!(date_time("20111220224447"), "2011-12-20T22:44:47+09:00");
    }

    #[test]
    fn ss_mix2_four_digit_fractions_and_source_offsets_are_kept() {
        assert_eq!(
            date_time("20111220224447.3399"),
            "2011-12-20T22:44:47.3399+09:00"
        );
        assert_eq!(date_time("198908181126+0215"), "1989-08-18T11:26:00+02:15");
        assert_eq!(
            date_time("20110531140551-0500"),
            "2011-05-31T14:05:51-05:00"
        );
        assert_eq!(
            V2DateTime::parse("20110531140551")
                .unwrap()
                .to_date_time("Z"),
            "2011-05-31T14:05:51Z"
        );
    }

    #[test]
    fn dates_drop_the_time_and_the_offset() {
        let value = V2DateTime::parse("19850101000000+0700").unwrap();
        assert_eq!(value.to_date(), "1985-01-01");
        assert_eq!(
            V2DateTime::parse("20080106").unwrap().to_date(),
            "2008-01-06"
        );
    }

    #[test]
    fn instants_need_minutes_unless_padded() {
        let day = V2DateTime::parse("20111220").unwrap();
        assert_eq!(day.to_instant("+09:00"), None);
        assert_eq!(day.to_instant_padded("+09:00"), "2011-12-20T00:00:00+09:00");
        let month = V2DateTime::parse("201112").unwrap();
        assert_eq!(month.to_instant_padded("Z"), "2011-12-01T00:00:00Z");
        let minute = V2DateTime::parse("201112202244").unwrap();
        assert_eq!(
            minute.to_instant("+09:00").as_deref(),
            Some("2011-12-20T22:44:00+09:00")
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for text in [
            "",
            "201",
            "2011122",
            "20111220T1200",
            "2011-12-20",
            "20111220224447.12345",
            "201112202244.5",
            "20111220+09",
            "20111220+0a00",
            "abcd",
        ] {
            assert_eq!(V2DateTime::parse(text), Err(DtmError::Syntax), "{text:?}");
        }
    }

    #[test]
    fn impossible_calendar_values_are_refused() {
        for text in [
            "0000",
            "201113",
            "20110230",
            "20110229",
            "2011122024",
            "201112202360",
            "20111220224460",
            "20111220+1500",
            "20111220+0960",
        ] {
            assert_eq!(
                V2DateTime::parse(text),
                Err(DtmError::OutOfRange),
                "{text:?}"
            );
        }
        assert!(V2DateTime::parse("20120229").is_ok(), "leap year");
        assert!(V2DateTime::parse("20000229").is_ok(), "400-year leap year");
        assert!(
            V2DateTime::parse("19000229").is_err(),
            "century without leap day"
        );
    }
}
