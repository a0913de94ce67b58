//! One FHIR interaction as data: what a single HTTP request or one Bundle entry asks for.

use super::ids::check_id;
use crate::outcome::Issue;
use crate::store::StoredVersion;
use crate::GatewayError;
use serde_json::Value;
use tsunagi_profiles::{is_resource_type, Resource};

/// The HTTP verb of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// read / vread
    Get,
    /// create
    Post,
    /// update
    Put,
    /// patch
    Patch,
    /// delete
    Delete,
}

impl Method {
    /// Parses a Bundle `request.method` code.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    /// Position in the R4 transaction processing order: DELETE, POST, PUT/PATCH, GET.
    pub fn transaction_order(self) -> u8 {
        match self {
            Method::Delete => 0,
            Method::Post => 1,
            Method::Put | Method::Patch => 2,
            Method::Get => 3,
        }
    }
}

/// What an interaction is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `Type` (create).
    Type(String),
    /// `Type/id`.
    Instance(String, String),
    /// `Type/id/_history/vid`.
    Version(String, String, u64),
    /// `Type?criteria` (conditional update/delete/patch).
    Conditional(String, String),
}

impl Target {
    /// The resource type aimed at.
    pub fn resource_type(&self) -> &str {
        match self {
            Target::Type(res_type)
            | Target::Instance(res_type, _)
            | Target::Version(res_type, _, _)
            | Target::Conditional(res_type, _) => res_type,
        }
    }

    /// Parses a relative request URL (`Patient/1`, `Patient?identifier=…`, …); `location` names
    /// where it came from for errors.
    pub fn parse(url: &str, location: &str) -> Result<Self, GatewayError> {
        let (path, query) = match url.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (url, None),
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let res_type = segments[0];
        if !is_resource_type(res_type) {
            return Err(GatewayError::invalid(
                format!("'{res_type}' in '{url}' is not an R4 resource type"),
                location,
            ));
        }
        let res_type = res_type.to_owned();
        match (segments.as_slice(), query) {
            ([_], None) => Ok(Target::Type(res_type)),
            ([_], Some(query)) => Ok(Target::Conditional(res_type, query.to_owned())),
            ([_, id], None) => {
                check_id(id, location)?;
                Ok(Target::Instance(res_type, (*id).to_owned()))
            }
            ([_, id, "_history", version], None) => {
                check_id(id, location)?;
                let version = version.parse().map_err(|_| {
                    GatewayError::invalid(format!("'{version}' is not a version number"), location)
                })?;
                Ok(Target::Version(res_type, (*id).to_owned(), version))
            }
            _ => Err(GatewayError::invalid(
                format!("'{url}' is not a request URL this server handles"),
                location,
            )),
        }
    }
}

/// One interaction to run.
#[derive(Debug, Clone)]
pub struct EntryRequest {
    /// The verb.
    pub method: Method,
    /// What it is aimed at.
    pub target: Target,
    /// The resource sent (create/update).
    pub resource: Option<Resource>,
    /// The JSON Patch document sent (patch).
    pub patch: Option<Value>,
    /// `If-Match` version.
    pub if_match: Option<u64>,
    /// `If-None-Exist` criteria (conditional create).
    pub if_none_exist: Option<String>,
    /// Id chosen in advance (a transaction resolving `urn:uuid` references).
    pub assigned_id: Option<String>,
}

impl EntryRequest {
    /// A request with only verb and target set.
    pub fn new(method: Method, target: Target) -> Self {
        EntryRequest {
            method,
            target,
            resource: None,
            patch: None,
            if_match: None,
            if_none_exist: None,
            assigned_id: None,
        }
    }
}

/// What an interaction produced.
#[derive(Debug, Clone)]
pub struct EntryOutcome {
    /// HTTP status.
    pub status: u16,
    /// The version written or read (for Location, ETag, Last-Modified and the body); `None` when
    /// nothing was there (e.g. deleting a resource that does not exist).
    pub stored: Option<StoredVersion>,
    /// A note for the client (e.g. "matched an existing resource; nothing created").
    pub note: Option<String>,
    /// True when this interaction wrote a new version (the cache must learn it).
    pub wrote: bool,
    /// Validation errors and warnings about the resource sent (mode `warn`), answered with
    /// `Prefer: return=OperationOutcome` and in Bundle `entry.response.outcome`.
    pub issues: Vec<Issue>,
}

/// What the client asked a write to answer with (`Prefer: return=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreferReturn {
    /// Headers only.
    Minimal,
    /// The resource as stored (the default).
    #[default]
    Representation,
    /// An OperationOutcome describing what happened.
    OperationOutcome,
}

/// The reason phrase for a status used in Bundle `response.status`.
pub fn status_text(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        _ => "",
    };
    format!("{status} {reason}").trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_urls_parse_into_targets() {
        assert_eq!(
            Target::parse("Patient", "u").unwrap(),
            Target::Type("Patient".into())
        );
        assert_eq!(
            Target::parse("Patient/a-1", "u").unwrap(),
            Target::Instance("Patient".into(), "a-1".into())
        );
        assert_eq!(
            Target::parse("Patient/a/_history/3", "u").unwrap(),
            Target::Version("Patient".into(), "a".into(), 3)
        );
        assert_eq!(
            Target::parse("Patient?identifier=x", "u").unwrap(),
            Target::Conditional("Patient".into(), "identifier=x".into())
        );
        assert!(Target::parse("Patientz/1", "u").is_err());
        assert!(Target::parse("Patient/1/2", "u").is_err());
        assert!(Target::parse("Patient/bad_id", "u").is_err());
    }

    #[test]
    fn transaction_order_is_delete_post_put_get() {
        let mut methods = [
            Method::Get,
            Method::Put,
            Method::Post,
            Method::Delete,
            Method::Patch,
        ];
        methods.sort_by_key(|method| method.transaction_order());
        assert_eq!(
            methods,
            [
                Method::Delete,
                Method::Post,
                Method::Put,
                Method::Patch,
                Method::Get
            ]
        );
    }
}
