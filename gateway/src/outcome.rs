//! OperationOutcome: the FHIR resource every error (and `Prefer: return=OperationOutcome`)
//! answers with.

use serde_json::{json, Value};

/// How bad an issue is (R4 `issue.severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The interaction failed.
    Error,
    /// Worth knowing; nothing failed.
    Warning,
    /// Plain information, e.g. "created".
    Information,
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Severity.
    pub severity: Severity,
    /// R4 `IssueType` code, e.g. `invalid`, `not-found`, `conflict`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub diagnostics: String,
    /// FHIRPath-style locations, e.g. `Bundle.entry[2].request.url`.
    pub expression: Vec<String>,
}

impl Issue {
    /// An error issue.
    pub fn error(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Error,
            code,
            diagnostics: diagnostics.into(),
            expression: Vec::new(),
        }
    }

    /// An informational issue.
    pub fn information(diagnostics: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Information,
            code: "informational",
            diagnostics: diagnostics.into(),
            expression: Vec::new(),
        }
    }

    /// Adds a location.
    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression.push(expression.into());
        self
    }
}

/// Builds the OperationOutcome JSON for `issues`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|issue| {
            let mut entry = json!({
                "severity": match issue.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Information => "information",
                },
                "code": issue.code,
                "diagnostics": issue.diagnostics,
            });
            if !issue.expression.is_empty() {
                entry["expression"] = json!(issue.expression);
            }
            entry
        })
        .collect();
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}
