//! The ingest pipeline shared by every edge (`$convert`, `$ingest`, MLLP, `tsunagi convert`):
//! legacy bytes → adapter ([`tsunagi_adapters`]) → R4 check → one store transaction.
//!
//! The adapters are pure; this module supplies what they need from the configuration (the
//! sending institution, its timezone, the default HL7 v2 character set) and maps their errors
//! and conversion reports onto [`GatewayError`] and OperationOutcome issues in one place.

use crate::config::SourceConfig;
use crate::outcome::{Issue, Severity};
use crate::GatewayError;
use tsunagi_adapters::dicom::{DicomOptions, ScanError};
use tsunagi_adapters::hl7v2::er7::{Charset, DecodeOptions};
use tsunagi_adapters::hl7v2::{Hl7Error, Hl7Options};
use tsunagi_adapters::report::{Report, Severity as ReportSeverity};
use tsunagi_adapters::{Conversion, SourceContext};
use tsunagi_profiles::{ParseLimits, Resource};

/// Legacy formats the edges accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// HL7 v2 ER7 messages (single, several, batch files, MLLP frames).
    Hl7v2,
    /// DICOM Part 10 files (one file, or a zip of files, folders and DICOMDIRs).
    Dicom,
}

impl SourceFormat {
    /// The format's name, as `--from` and `source=` take it.
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Hl7v2 => "hl7v2",
            SourceFormat::Dicom => "dicom",
        }
    }

    /// The format named by a `source=` parameter or `--from` flag.
    pub fn named(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "hl7v2" | "hl7" | "v2" => Some(SourceFormat::Hl7v2),
            "dicom" | "dcm" => Some(SourceFormat::Dicom),
            _ => None,
        }
    }

    /// Detects the format from the content type, then the first bytes.
    pub fn detect(content_type: Option<&str>, bytes: &[u8]) -> Option<Self> {
        let mime = content_type
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        match mime.as_deref() {
            Some("x-application/hl7-v2+er7" | "application/hl7-v2") => {
                return Some(SourceFormat::Hl7v2)
            }
            Some("application/dicom" | "application/zip") => return Some(SourceFormat::Dicom),
            _ => {}
        }
        if tsunagi_adapters::dicom::read::is_part10(bytes) {
            return Some(SourceFormat::Dicom);
        }
        let start = bytes
            .iter()
            .position(|byte| !matches!(byte, 0x0B | 0xEF | 0xBB | 0xBF | b'\r' | b'\n' | b' '))
            .unwrap_or(bytes.len());
        let head = &bytes[start..];
        ["MSH", "FHS", "BHS"]
            .iter()
            .any(|segment| head.starts_with(segment.as_bytes()))
            .then_some(SourceFormat::Hl7v2)
    }
}

/// What the adapters are told about the sender, built once from `[source]`.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// Institution, identifier systems and timezone for every adapter.
    pub context: SourceContext,
    /// HL7 v2 decoding options (default character set, limits).
    pub hl7: Hl7Options,
    /// DICOM options (the DICOMweb base for Endpoint resources, scan limits).
    pub dicom: DicomOptions,
}

impl SourceSettings {
    /// Settings from a validated `[source]` section.
    pub fn from_config(source: &SourceConfig) -> Self {
        let identifier_base = source
            .identifier_base
            .clone()
            .unwrap_or_else(|| format!("urn:tsunagi:id:{}", source.institution));
        let context = SourceContext {
            institution: source.institution.clone(),
            institution_code: source.institution_code.clone(),
            identifier_base,
            timezone: normalise_offset(&source.timezone),
        };
        let decode = DecodeOptions {
            default_charset: source
                .hl7v2_default_charset
                .as_deref()
                .and_then(charset_named),
            ..DecodeOptions::default()
        };
        SourceSettings {
            context,
            hl7: Hl7Options { decode },
            dicom: DicomOptions {
                dicomweb_base: source.dicomweb_base.clone(),
                ..DicomOptions::default()
            },
        }
    }
}

/// Minutes east of UTC for `Z`, `+09:00`, `+0900`, `-05:00`; `None` for anything else.
pub fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    if text == "Z" {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}

/// The offset in FHIR's form (`+09:00`, `Z` for UTC) for the adapters.
fn normalise_offset(text: &str) -> String {
    match parse_offset(text) {
        Some(0) | None => "Z".into(),
        Some(minutes) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let minutes = minutes.abs();
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

/// The HL7 v2 character set a configuration value names.
pub fn charset_named(name: &str) -> Option<Charset> {
    match name
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
        .as_str()
    {
        "ascii" => Some(Charset::Ascii),
        "latin1" | "8859/1" | "iso_8859_1" => Some(Charset::Latin1),
        "utf8" | "utf_8" => Some(Charset::Utf8),
        "iso2022jp" | "iso_2022_jp" | "jis" => Some(Charset::Iso2022Jp),
        "shift_jis" | "shiftjis" | "sjis" | "cp932" => Some(Charset::ShiftJis),
        _ => None,
    }
}

impl From<Hl7Error> for GatewayError {
    fn from(error: Hl7Error) -> Self {
        let location = error.location().map(ToString::to_string);
        let unsupported = matches!(error, Hl7Error::UnsupportedMessageType { .. });
        GatewayError::Conversion {
            message: error.to_string(),
            location,
            unsupported,
        }
    }
}

impl From<ScanError> for GatewayError {
    fn from(error: ScanError) -> Self {
        GatewayError::Conversion {
            message: error.to_string(),
            location: Some("body".into()),
            unsupported: false,
        }
    }
}

/// The conversion report as OperationOutcome issues, each located in the source.
pub fn report_issues(report: &Report) -> Vec<Issue> {
    report
        .entries
        .iter()
        .map(|entry| {
            let (severity, code) = match entry.severity {
                ReportSeverity::Error => (Severity::Error, "invalid"),
                ReportSeverity::Warning => (Severity::Warning, "value"),
                ReportSeverity::Information => (Severity::Information, "informational"),
            };
            let issue = Issue {
                severity,
                code,
                diagnostics: entry.message.clone(),
                expression: Vec::new(),
            };
            if entry.location.is_empty() {
                issue
            } else {
                issue.at(entry.location.clone())
            }
        })
        .collect()
}

/// The converted transaction Bundle, checked against the R4 model and ready for the store.
/// A report with errors is refused: storing half of a message would lose the rest silently.
pub fn checked_bundle(conversion: &Conversion) -> Result<Resource, GatewayError> {
    if let Some(first) = conversion
        .report
        .entries
        .iter()
        .find(|entry| matches!(entry.severity, ReportSeverity::Error))
    {
        return Err(GatewayError::Conversion {
            message: format!("the message was not stored: {}", first.message),
            location: (!first.location.is_empty()).then(|| first.location.clone()),
            unsupported: false,
        });
    }
    // Our own output, so the size limit is the converter's, not a client body's.
    let limits = ParseLimits {
        max_bytes: usize::MAX,
        ..ParseLimits::default()
    };
    Resource::from_json(&conversion.bundle_json, &limits).map_err(|source| GatewayError::Model {
        source,
        location: Some("converted Bundle".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_every_accepted_form() {
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("+09:00"), Some(540));
        assert_eq!(parse_offset("+0900"), Some(540));
        assert_eq!(parse_offset("-05:30"), Some(-330));
        assert_eq!(parse_offset("09:00"), None);
        assert_eq!(parse_offset("+9"), None);
        assert_eq!(parse_offset("+15:00"), None);
        assert_eq!(normalise_offset("+0900"), "+09:00");
        assert_eq!(normalise_offset("-0000"), "Z");
    }

    #[test]
    fn charsets_by_configured_name() {
        assert_eq!(charset_named("Shift_JIS"), Some(Charset::ShiftJis));
        assert_eq!(charset_named("cp932"), Some(Charset::ShiftJis));
        assert_eq!(charset_named("ISO-2022-JP"), Some(Charset::Iso2022Jp));
        assert_eq!(charset_named("utf-8"), Some(Charset::Utf8));
        assert_eq!(charset_named("ebcdic"), None);
    }

    #[test]
    fn detection_by_content_type_and_bytes() {
        assert_eq!(
            SourceFormat::detect(Some("application/hl7-v2; charset=utf-8"), b"x"),
            Some(SourceFormat::Hl7v2)
        );
        assert_eq!(
            SourceFormat::detect(None, b"\x0bMSH|^~\\&|A"),
            Some(SourceFormat::Hl7v2)
        );
        assert_eq!(
            SourceFormat::detect(None, b"\xef\xbb\xbfMSH|^~\\&|A"),
            Some(SourceFormat::Hl7v2)
        );
        assert_eq!(SourceFormat::detect(Some("text/plain"), b"{\"a\":1}"), None);
    }
}
