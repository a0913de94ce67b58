//! The conversion report every adapter returns beside its Bundle: what was not mapped, what
//! was unusable, what was missing. Nothing in the source is dropped silently; it is either in
//! the Bundle or named here. The report is format-neutral: the gateway turns entries into
//! OperationOutcome issues, HL7 ACK error segments or `--report` files.

use serde_json::{Map, Value};

/// How serious an entry is. The gateway refuses to store a conversion with any `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The conversion is not trustworthy as a whole (e.g. a required key is missing).
    Error,
    /// A present source value could not be used (bad date, unknown code, invalid number).
    Warning,
    /// Something worth knowing that loses nothing the mapping promises (e.g. a field that
    /// has no mapping yet and is kept only in the raw message).
    Information,
}

impl Severity {
    /// The lower-case name used in JSON reports (`error`, `warning`, `information`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// What kind of problem an entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportCode {
    /// Present in the source, but the mapping has no place for it.
    Unmapped,
    /// Present but not valid for its data type (date, number, identifier …).
    Invalid,
    /// Absent although the mapping needs it.
    Missing,
    /// Valid in the source but not representable in the target (e.g. a data type FHIR R4
    /// Observation cannot hold).
    Unsupported,
    /// Only part of the value could be kept (extra repetitions, lost precision).
    Truncated,
    /// A code outside the table the mapping knows; kept as text where possible.
    UnknownCode,
    /// The same business key occurred twice in one message.
    Duplicate,
}

impl ReportCode {
    /// The lower-case name used in JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportCode::Unmapped => "unmapped",
            ReportCode::Invalid => "invalid",
            ReportCode::Missing => "missing",
            ReportCode::Unsupported => "unsupported",
            ReportCode::Truncated => "truncated",
            ReportCode::UnknownCode => "unknown-code",
            ReportCode::Duplicate => "duplicate",
        }
    }
}

/// One finding about the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// How serious it is.
    pub severity: Severity,
    /// What kind of finding it is.
    pub code: ReportCode,
    /// Where in the source, in the adapter's own notation; empty when it concerns the whole
    /// input. HL7 v2 uses `SEG[i]-f(r).c.s`: the segment id, its 1-based position in the
    /// message, then field, repetition (only when > 1), component and subcomponent, e.g.
    /// `OBX[5]-5.2` or `PID[2]-3(2).1`.
    pub location: String,
    /// A short human-readable explanation (no patient data beyond the offending value).
    pub message: String,
}

/// Every finding of one conversion, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The findings, in source order within each mapping step.
    pub entries: Vec<ReportEntry>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// Adds an entry.
    pub fn push(
        &mut self,
        severity: Severity,
        code: ReportCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.entries.push(ReportEntry {
            severity,
            code,
            location: location.into(),
            message: message.into(),
        });
    }

    /// Adds an error entry.
    pub fn error(
        &mut self,
        code: ReportCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, code, location, message);
    }

    /// Adds a warning entry.
    pub fn warning(
        &mut self,
        code: ReportCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, code, location, message);
    }

    /// Adds an information entry.
    pub fn information(
        &mut self,
        code: ReportCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Information, code, location, message);
    }

    /// True when any entry is an error: the gateway must not store such a conversion.
    pub fn has_errors(&self) -> bool {
        self.entries
            .iter()
            .any(|entry| entry.severity == Severity::Error)
    }

    /// How many entries have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.severity == severity)
            .count()
    }

    /// The report as JSON for `--report` files and API answers:
    /// `{"errors": n, "warnings": n, "information": n, "entries": [{"severity", "code",
    /// "location", "message"}…]}`.
    pub fn to_json(&self) -> Value {
        let entries = self
            .entries
            .iter()
            .map(|entry| {
                let mut object = Map::with_capacity(4);
                object.insert("severity".into(), entry.severity.as_str().into());
                object.insert("code".into(), entry.code.as_str().into());
                object.insert("location".into(), entry.location.clone().into());
                object.insert("message".into(), entry.message.clone().into());
                Value::Object(object)
            })
            .collect();
        let mut report = Map::with_capacity(4);
        report.insert("errors".into(), self.count(Severity::Error).into());
        report.insert("warnings".into(), self.count(Severity::Warning).into());
        report.insert(
            "information".into(),
            self.count(Severity::Information).into(),
        );
        report.insert("entries".into(), Value::Array(entries));
        Value::Object(report)
    }
}

/// What an adapter produces from one input unit (one HL7 message, one DICOM study …).
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The transaction Bundle as compact UTF-8 JSON, keys in FHIR element order: a FHIR R4
    /// `Bundle` of type `transaction`, every entry a `PUT` to a deterministic id.
    pub bundle_json: Vec<u8>,
    /// Every unmapped field, warning and error, with its location.
    pub report: Report,
    /// The id of the `Binary` that holds the raw source (duplicate detection at the MLLP
    /// edge), when there is one.
    pub source_binary_id: Option<String>,
}

impl Conversion {
    /// The Bundle as a serde_json Value (parses `bundle_json`; for tests and callers that need
    /// a tree). `bundle_json` is always valid JSON; were it not, this would be `Null`.
    pub fn bundle(&self) -> Value {
        serde_json::from_slice(&self.bundle_json).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_and_detected() {
        let mut report = Report::new();
        assert!(!report.has_errors());
        report.information(ReportCode::Unmapped, "ZE1[12]", "segment not mapped");
        report.warning(ReportCode::Invalid, "PID[2]-7", "bad date");
        assert!(!report.has_errors());
        report.error(ReportCode::Missing, "PID[2]-3", "PID-3 missing");
        assert!(report.has_errors());
        let json = report.to_json();
        assert_eq!(json["errors"], 1);
        assert_eq!(json["warnings"], 1);
        assert_eq!(json["information"], 1);
        assert_eq!(json["entries"][1]["code"], "invalid");
        assert_eq!(json["entries"][1]["location"], "PID[2]-7");
        assert_eq!(json["entries"][2]["severity"], "error");
    }
}
