//! [`GatewayError`]: every failure the gateway can answer with, and the one place that maps it
//! to an HTTP status and an OperationOutcome.

use crate::outcome::Issue;
use crate::store::StoreError;
use tsunagi_profiles::validate::Outcome;
use tsunagi_profiles::ModelError;

/// A failed interaction. `status()` and `issue()`/`issues()` are the only mapping to the wire.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The body is not acceptable FHIR (syntax, structure, limits, DOCTYPE).
    #[error("{source}")]
    Model {
        /// What the model reported.
        source: ModelError,
        /// Where in the request (e.g. `Bundle.entry[1].resource`), when not the whole body.
        location: Option<String>,
    },
    /// The request body is larger than the configured limit.
    #[error("request body over the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request is well-formed FHIR but breaks a REST rule (id mismatch, bad URL, …).
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// Where, as a FHIRPath-like expression or a request part (`url`, `header If-Match`).
        location: Option<String>,
    },
    /// A search/history/conditional parameter that is unknown or not supported here.
    #[error("unknown or unsupported parameter '{name}': {reason}")]
    UnknownParameter {
        /// The parameter as sent.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// `Content-Type` names a format this endpoint does not take.
    #[error("unsupported content type '{0}'")]
    UnsupportedMediaType(String),
    /// `Accept`/`_format` asks for a format we cannot produce.
    #[error("cannot produce any of the requested formats: {0}")]
    NotAcceptable(String),
    /// The resource type in the URL is not an R4 resource type.
    #[error("'{0}' is not a FHIR R4 resource type")]
    UnknownResourceType(String),
    /// No such resource, version or route.
    #[error("{0} not found")]
    NotFound(String),
    /// The resource was deleted.
    #[error("{0} was deleted")]
    Gone(String),
    /// `If-Match` named a version that is not the current one.
    #[error(
        "version conflict on {resource}: If-Match wants version {expected}, current is {current}"
    )]
    VersionConflict {
        /// `Type/id`.
        resource: String,
        /// The version the client expected.
        expected: String,
        /// The current version (or "none").
        current: String,
    },
    /// A conditional operation or reference matched more than one resource.
    #[error("{0}")]
    MultipleMatches(String),
    /// A conditional reference or conditional patch matched no resource.
    #[error("{0}")]
    NoMatch(String),
    /// The write conflicts with the stored state (e.g. two entries for one resource).
    #[error("{0}")]
    Conflict(String),
    /// Syntactically fine but semantically unusable (e.g. a patch that breaks the resource).
    #[error("{0}")]
    Unprocessable(String),
    /// A limit on counts was exceeded (e.g. Bundle entries).
    #[error("{0}")]
    TooCostly(String),
    /// The HTTP method is not defined for this URL.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// A legacy export (HL7 v2 …) could not be converted into FHIR: unreadable bytes, an
    /// unsupported message type, or a mapping error. The location names the segment/field.
    #[error("{message}")]
    Conversion {
        /// What went wrong, for a person.
        message: String,
        /// Where in the source, e.g. `PID (segment 2) field 3`.
        location: Option<String>,
        /// The source is readable but of a kind Tsunagi does not convert.
        unsupported: bool,
    },
    /// A resource breaks its type's definition or a profile it must conform to, and validation
    /// of its type is `enforce` (`[validation]`). Every issue found is answered, not just one.
    #[error("{res_type} does not conform: {}", first_error(outcome))]
    Validation {
        /// The resource type validated.
        res_type: String,
        /// What the validator found (errors and warnings).
        outcome: Outcome,
    },
    /// Handling the request took longer than `[limits] request_timeout_secs`; it was stopped.
    #[error("the request took longer than {limit_secs} s and was stopped")]
    Timeout {
        /// The configured limit in seconds.
        limit_secs: u64,
    },
    /// This client sent more requests than `[limits] rate_limit_per_minute` allows.
    #[error("too many requests from this client; retry after {retry_after_secs} s")]
    TooManyRequests {
        /// Whole seconds until the client may send again (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A referral package could not be built, sent or received.
    #[error(transparent)]
    Referral(#[from] crate::referral::error::ReferralError),
    /// An error inside entry `index` of a batch or transaction Bundle.
    #[error("Bundle.entry[{index}]: {source}")]
    InEntry {
        /// Zero-based entry index.
        index: usize,
        /// The entry's own error.
        source: Box<GatewayError>,
    },
}

impl GatewayError {
    /// An [`GatewayError::Invalid`] with a location.
    pub fn invalid(message: impl Into<String>, location: impl Into<String>) -> Self {
        GatewayError::Invalid {
            message: message.into(),
            location: Some(location.into()),
        }
    }

    /// Wraps an error as belonging to Bundle entry `index`.
    pub fn in_entry(self, index: usize) -> Self {
        match self {
            already @ GatewayError::InEntry { .. } => already,
            other => GatewayError::InEntry {
                index,
                source: Box::new(other),
            },
        }
    }

    /// The validator's findings when this is a refused validation (also inside a Bundle
    /// entry).
    pub fn validation_outcome(&self) -> Option<&Outcome> {
        match self {
            GatewayError::Validation { outcome, .. } => Some(outcome),
            GatewayError::InEntry { source, .. } => source.validation_outcome(),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::Model { source, .. } => match source {
                ModelError::TooLarge { .. } => 413,
                ModelError::Serialize { .. } => 500,
                _ => 400,
            },
            GatewayError::BodyTooLarge { .. } => 413,
            GatewayError::Invalid { .. } | GatewayError::UnknownParameter { .. } => 400,
            GatewayError::TooCostly(_) => 400,
            GatewayError::UnsupportedMediaType(_) => 415,
            GatewayError::NotAcceptable(_) => 406,
            GatewayError::UnknownResourceType(_) | GatewayError::NotFound(_) => 404,
            GatewayError::Gone(_) => 410,
            GatewayError::VersionConflict { .. }
            | GatewayError::MultipleMatches(_)
            | GatewayError::NoMatch(_) => 412,
            GatewayError::Conflict(_) => 409,
            GatewayError::Unprocessable(_)
            | GatewayError::Conversion { .. }
            | GatewayError::Validation { .. } => 422,
            GatewayError::MethodNotAllowed(_) => 405,
            GatewayError::Timeout { .. } => 503,
            GatewayError::TooManyRequests { .. } => 429,
            GatewayError::Referral(referral) => referral.status(),
            GatewayError::Store(StoreError::Busy(_) | StoreError::Race(_)) => 503,
            GatewayError::Store(StoreError::Conflict(_)) => 409,
            GatewayError::Store(StoreError::Unsupported(_)) => 400,
            GatewayError::Store(_) => 500,
            GatewayError::InEntry { source, .. } => source.status(),
        }
    }

    /// Every OperationOutcome issue of this error: one for most errors, each finding for a
    /// validation failure (inside a Bundle entry, located under `Bundle.entry[i].resource`).
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            GatewayError::Validation { outcome, .. } => reported_issues(outcome),
            GatewayError::InEntry { index, source } => match source.as_ref() {
                GatewayError::Validation { outcome, .. } => reported_issues(outcome)
                    .into_iter()
                    .map(|issue| in_entry_resource(issue, *index))
                    .collect(),
                _ => vec![self.issue()],
            },
            _ => vec![self.issue()],
        }
    }

    /// The OperationOutcome issue describing this error (the first one for a validation
    /// failure; [`GatewayError::issues`] has them all).
    pub fn issue(&self) -> Issue {
        match self {
            GatewayError::Validation { .. } => {
                let mut issues = self.issues();
                let first = issues
                    .iter()
                    .position(|issue| issue.severity <= crate::outcome::Severity::Error)
                    .unwrap_or(0);
                if issues.is_empty() {
                    Issue::error("invalid", self.to_string())
                } else {
                    issues.swap_remove(first)
                }
            }
            GatewayError::Model { source, location } => {
                let code = match source {
                    ModelError::TooLarge { .. } | ModelError::TooDeep { .. } => "too-costly",
                    ModelError::XmlDoctype { .. } | ModelError::XmlForeignNamespace { .. } => {
                        "security"
                    }
                    ModelError::Syntax { .. } | ModelError::Structure { .. } => "structure",
                    ModelError::ResourceType(_) => "invalid",
                    ModelError::Serialize { .. } => "exception",
                };
                let issue = Issue::error(code, source.to_string());
                match location {
                    Some(location) => issue.at(location.clone()),
                    None => issue,
                }
            }
            GatewayError::BodyTooLarge { .. } | GatewayError::TooCostly(_) => {
                Issue::error("too-costly", self.to_string())
            }
            GatewayError::Invalid { location, .. } => {
                let issue = Issue::error("invalid", self.to_string());
                match location {
                    Some(location) => issue.at(location.clone()),
                    None => issue,
                }
            }
            GatewayError::UnknownParameter { name, .. } => {
                Issue::error("not-supported", self.to_string()).at(name.clone())
            }
            GatewayError::UnsupportedMediaType(_) => {
                Issue::error("not-supported", self.to_string()).at("header Content-Type")
            }
            GatewayError::NotAcceptable(_) => Issue::error("not-supported", self.to_string()),
            GatewayError::UnknownResourceType(_) => Issue::error("not-supported", self.to_string()),
            GatewayError::MethodNotAllowed(_) => Issue::error("not-supported", self.to_string()),
            GatewayError::Referral(referral) => referral.issue(),
            GatewayError::Timeout { .. } => Issue::error("timeout", self.to_string()),
            GatewayError::TooManyRequests { .. } => Issue::error("throttled", self.to_string()),
            GatewayError::NotFound(_) => Issue::error("not-found", self.to_string()),
            GatewayError::Gone(_) => Issue::error("deleted", self.to_string()),
            GatewayError::VersionConflict { .. } => Issue::error("conflict", self.to_string()),
            GatewayError::MultipleMatches(_) => Issue::error("multiple-matches", self.to_string()),
            GatewayError::NoMatch(_) => Issue::error("not-found", self.to_string()),
            GatewayError::Conflict(_) => Issue::error("conflict", self.to_string()),
            GatewayError::Unprocessable(_) => Issue::error("processing", self.to_string()),
            GatewayError::Conversion {
                location,
                unsupported,
                ..
            } => {
                let code = if *unsupported {
                    "not-supported"
                } else {
                    "invalid"
                };
                let issue = Issue::error(code, self.to_string());
                match location {
                    Some(location) => issue.at(location.clone()),
                    None => issue,
                }
            }
            GatewayError::Store(StoreError::Busy(_) | StoreError::Race(_)) => {
                Issue::error("transient", self.to_string())
            }
            GatewayError::Store(StoreError::Unsupported(_)) => {
                Issue::error("not-supported", self.to_string())
            }
            GatewayError::Store(_) => Issue::error("exception", self.to_string()),
            GatewayError::InEntry { index, source } => {
                let inner = source.issue();
                let prefix = format!("Bundle.entry[{index}]");
                let mut expression: Vec<String> = inner
                    .expression
                    .iter()
                    .map(|location| {
                        // Header names and query parameters are not paths inside the entry.
                        if location.starts_with("Bundle.entry[") || location.contains(' ') {
                            location.clone()
                        } else {
                            format!("{prefix}.{location}")
                        }
                    })
                    .collect();
                if expression.is_empty() {
                    expression.push(prefix);
                }
                Issue {
                    diagnostics: self.to_string(),
                    expression,
                    ..inner
                }
            }
        }
    }
}

/// The error and warning issues of a validation (information is left out of write answers).
pub fn reported_issues(outcome: &Outcome) -> Vec<Issue> {
    outcome
        .issues
        .iter()
        .filter(|found| found.severity <= tsunagi_profiles::validate::Severity::Warning)
        .map(Issue::from)
        .collect()
}

/// The first error of a validation, as `expression: message`.
fn first_error(outcome: &Outcome) -> String {
    outcome
        .issues
        .iter()
        .find(|found| found.severity <= tsunagi_profiles::validate::Severity::Error)
        .map(|found| format!("{}: {}", found.expression, found.message))
        .unwrap_or_else(|| "no error reported".into())
}

/// A validator location (`Patient.gender`) as the place in Bundle entry `index`
/// (`Bundle.entry[3].resource.gender`).
pub fn in_entry_resource(mut issue: Issue, index: usize) -> Issue {
    let resource = format!("Bundle.entry[{index}].resource");
    issue.expression = issue
        .expression
        .iter()
        .map(|location| match location.find(['.', '[']) {
            Some(cut) => format!("{resource}{}", &location[cut..]),
            None => resource.clone(),
        })
        .collect();
    if issue.expression.is_empty() {
        issue.expression.push(resource);
    }
    issue.diagnostics = format!("Bundle.entry[{index}]: {}", issue.diagnostics);
    issue
}

impl From<ModelError> for GatewayError {
    fn from(source: ModelError) -> Self {
        GatewayError::Model {
            source,
            location: None,
        }
    }
}
