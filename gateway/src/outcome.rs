//! OperationOutcome: the FHIR resource every error (and `Prefer: return=OperationOutcome`)
//! answers with.

use serde_json::{json, Value};

/// How bad an issue is (R4 `issue.severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The content could not be processed at all (e.g. an unparseable resource).
    Fatal,
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

    /// A warning issue.
    pub fn warning(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Warning,
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

impl From<&tsunagi_profiles::validate::Issue> for Issue {
    /// A validator finding as an outcome issue: its FHIRPath location, its message and the
    /// invariant or profile it comes from.
    fn from(found: &tsunagi_profiles::validate::Issue) -> Self {
        use tsunagi_profiles::validate::Severity as Found;
        let severity = match found.severity {
            Found::Fatal => Severity::Fatal,
            Found::Error => Severity::Error,
            Found::Warning => Severity::Warning,
            Found::Information => Severity::Information,
        };
        let diagnostics = match &found.source {
            Some(source) => format!("{} [{source}]", found.message),
            None => found.message.clone(),
        };
        Issue {
            severity,
            code: found.kind.code(),
            diagnostics,
            expression: (!found.expression.is_empty())
                .then(|| found.expression.clone())
                .into_iter()
                .collect(),
        }
    }
}

/// Builds the OperationOutcome JSON for `issues`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|issue| {
            let mut entry = json!({
                "severity": match issue.severity {
                    Severity::Fatal => "fatal",
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
