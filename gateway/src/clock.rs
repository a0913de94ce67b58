//! Timestamps in the forms FHIR and HTTP use.

use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// One moment, kept as milliseconds since the Unix epoch (what the store orders by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub millis: i64,
}

impl Instant {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        Instant { millis }
    }

    /// FHIR `instant` text in UTC with milliseconds, e.g. `2026-11-25T17:24:18.123Z`.
    pub fn to_fhir(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.datetime().format(&format).unwrap_or_default()
    }

    /// HL7 v2 `DTM` text in UTC, e.g. `20261125172418+0000` (MSH-7 of the ACKs we send).
    pub fn to_hl7(self) -> String {
        let format = format_description!("[year][month][day][hour][minute][second]+0000");
        self.datetime().format(&format).unwrap_or_default()
    }

    /// HTTP-date text (RFC 7231 IMF-fixdate), e.g. `Wed, 25 Nov 2026 17:24:18 GMT`.
    pub fn to_http(self) -> String {
        let format = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        self.datetime().format(&format).unwrap_or_default()
    }

    /// Parses a FHIR `instant`/`dateTime` with a zone (e.g. `_since=2026-01-02T03:04:05Z`), or a
    /// bare date taken as midnight UTC.
    pub fn parse_fhir(text: &str) -> Option<Self> {
        // An unencoded '+' in a query string arrives as a space ("…T09:00:00 09:00").
        let repaired = text.trim().replace(' ', "+");
        let text = repaired.as_str();
        if let Ok(datetime) = OffsetDateTime::parse(text, &Rfc3339) {
            return Some(Self::from_datetime(datetime));
        }
        let date_format = format_description!("[year]-[month]-[day]");
        time::Date::parse(text, &date_format)
            .ok()
            .map(|date| Self::from_datetime(date.midnight().assume_utc()))
    }

    fn from_datetime(datetime: OffsetDateTime) -> Self {
        Instant {
            millis: (datetime.unix_timestamp_nanos() / 1_000_000) as i64,
        }
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.millis) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fhir_and_http_forms() {
        let moment = Instant {
            millis: 1_795_628_658_123,
        };
        assert_eq!(moment.to_fhir(), "2026-11-25T17:44:18.123Z");
        assert_eq!(moment.to_http(), "Wed, 25 Nov 2026 17:44:18 GMT");
    }

    #[test]
    fn parses_zoned_instants_and_bare_dates() {
        let parsed = Instant::parse_fhir("2026-11-25T18:44:18.123+01:00").unwrap();
        assert_eq!(parsed.millis, 1_795_628_658_123);
        assert_eq!(
            Instant::parse_fhir("1970-01-02").unwrap().millis,
            86_400_000
        );
        assert!(
            Instant::parse_fhir("2026-11-25T18:44:18").is_none(),
            "a zone is required"
        );
        assert!(Instant::parse_fhir("yesterday").is_none());
        assert_eq!(
            Instant::parse_fhir("2026-11-26T02:44:18.123 09:00").unwrap(),
            parsed,
            "an unencoded '+' decoded as a space is repaired"
        );
    }
}
