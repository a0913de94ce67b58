//! What validation finds: issues with severity, code, FHIRPath location and message, and their
//! OperationOutcome form.

use serde_json::{json, Value};

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The content cannot be processed at all.
    Fatal,
    /// The content breaks a rule.
    Error,
    /// The content is questionable.
    Warning,
    /// A remark.
    Information,
}

impl Severity {
    /// The OperationOutcome code of the severity.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// The kind of issue (a code of `http://hl7.org/fhir/issue-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueType {
    /// Malformed content (JSON shape, unknown element).
    Structure,
    /// A required element is missing.
    Required,
    /// A value is wrong for its type or constraint.
    Value,
    /// An invariant failed.
    Invariant,
    /// A code is not in its value set.
    CodeInvalid,
    /// A definition (profile, value set, extension) was not found.
    NotFound,
    /// Content that is not allowed here.
    BusinessRule,
    /// Anything else that is invalid.
    Invalid,
    /// Unsafe content (scripts in narrative).
    Security,
    /// Remarks.
    Informational,
}

impl IssueType {
    /// The issue-type code.
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::Invariant => "invariant",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::NotFound => "not-found",
            IssueType::BusinessRule => "business-rule",
            IssueType::Invalid => "invalid",
            IssueType::Security => "security",
            IssueType::Informational => "informational",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issue {
    /// How serious it is.
    pub severity: Severity,
    /// What kind of issue it is.
    pub kind: IssueType,
    /// Where: a FHIRPath location such as `Patient.name[0].given[1]`.
    pub expression: String,
    /// What is wrong, in words.
    pub message: String,
    /// The line and column in the source text, when known.
    pub position: Option<(u32, u32)>,
    /// The invariant key or profile the issue comes from, when any.
    pub source: Option<String>,
}

/// All issues of one validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The issues, in the order found.
    pub issues: Vec<Issue>,
}

impl Outcome {
    /// Issues of severity error or fatal.
    pub fn error_count(&self) -> usize {
        self.issues
            .iter()
            .filter(|issue| issue.severity <= Severity::Error)
            .count()
    }

    /// Whether the resource is valid (no error or fatal issue).
    pub fn is_valid(&self) -> bool {
        self.error_count() == 0
    }

    /// Issues of one severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(move |issue| issue.severity == severity)
    }

    /// The outcome as an OperationOutcome resource; an outcome with no issues says so in one
    /// informational issue, as `$validate` must return at least one.
    pub fn to_operation_outcome(&self) -> Value {
        let mut issues: Vec<Value> = self.issues.iter().map(issue_json).collect();
        if issues.is_empty() {
            issues.push(json!({
                "severity": "information",
                "code": "informational",
                "diagnostics": "No issues found"
            }));
        }
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}

fn issue_json(issue: &Issue) -> Value {
    let mut json = json!({
        "severity": issue.severity.code(),
        "code": issue.kind.code(),
        "details": {"text": issue.message},
        "expression": [issue.expression],
    });
    if let Some((line, column)) = issue.position {
        json["diagnostics"] = Value::String(format!("[{line},{column}]"));
        json["extension"] = json!([
            {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line", "valueInteger": line},
            {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col", "valueInteger": column}
        ]);
    }
    if let Some(source) = &issue.source {
        json["details"]["text"] = Value::String(format!("{} [{source}]", issue.message));
    }
    json
}
