//! Fixtures: the resources and messages a TestScript sends and compares against. Static ones
//! come from the script (`#contained`), from files next to it, or from fixture folders
//! (`Patient/example` → `Patient-example.json`); dynamic ones are the requests and responses
//! kept under `requestId` / `responseId`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tsunagi_profiles::ParseLimits;

use crate::error::ConformanceError;
use crate::script::TestScript;

/// Largest fixture file or response body read (32 MiB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A fixture: a resource, raw bytes, or a whole HTTP request or response.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    /// The FHIR resource (JSON form) when the content is one.
    pub resource: Option<Value>,
    /// The content as bytes (a file's bytes, a request or response body).
    pub bytes: Vec<u8>,
    /// The content's MIME type, when known.
    pub content_type: Option<String>,
    /// HTTP headers (names in lower case) of a request or response fixture.
    pub headers: Vec<(String, String)>,
    /// The HTTP status of a response fixture.
    pub status: Option<u16>,
    /// The HTTP method of a request fixture.
    pub method: Option<String>,
    /// The URL of a request fixture (or of the request a response answers).
    pub url: Option<String>,
}

impl Fixture {
    /// A fixture holding a resource.
    pub fn from_resource(resource: Value) -> Fixture {
        Fixture {
            resource: Some(resource),
            content_type: Some("application/fhir+json".to_owned()),
            ..Fixture::default()
        }
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `resourceType` of the resource, when there is one.
    pub fn resource_type(&self) -> Option<&str> {
        self.resource
            .as_ref()?
            .get("resourceType")
            .and_then(Value::as_str)
    }
}

/// Parses `bytes` as a FHIR resource by `content_type` (JSON unless it names XML); `None` when
/// the type is neither or the bytes do not parse.
pub fn parse_resource(bytes: &[u8], content_type: Option<&str>) -> Option<Value> {
    let limits = ParseLimits::default();
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    if content_type.contains("xml") {
        tsunagi_profiles::parse_xml_value(bytes, &limits).ok()
    } else if content_type.contains("json") {
        tsunagi_profiles::parse_json_value(bytes, &limits).ok()
    } else {
        None
    }
}

/// Loads every fixture of `script` that names a resource: `#id` (contained), a file relative to
/// `script_dir`, or `Type/id` found as `Type-id.json` (or `.xml`) in `script_dir` or one of
/// `search_dirs`.
pub fn load_static(
    script: &TestScript,
    script_dir: &Path,
    search_dirs: &[PathBuf],
) -> Result<HashMap<String, Fixture>, ConformanceError> {
    let mut fixtures = HashMap::new();
    for definition in &script.fixtures {
        let Some(reference) = &definition.reference else {
            continue;
        };
        let fixture = load_one(script, reference, script_dir, search_dirs).map_err(|message| {
            ConformanceError::Fixture {
                id: definition.id.clone(),
                message,
            }
        })?;
        fixtures.insert(definition.id.clone(), fixture);
    }
    Ok(fixtures)
}

fn load_one(
    script: &TestScript,
    reference: &str,
    script_dir: &Path,
    search_dirs: &[PathBuf],
) -> Result<Fixture, String> {
    if let Some(local) = reference.strip_prefix('#') {
        return script
            .resource
            .get("contained")
            .and_then(Value::as_array)
            .and_then(|contained| {
                contained
                    .iter()
                    .find(|resource| resource.get("id").and_then(Value::as_str) == Some(local))
            })
            .map(|resource| Fixture::from_resource(resource.clone()))
            .ok_or_else(|| format!("no contained resource with id {local}"));
    }
    if reference.contains("://") {
        return Err(format!("{reference}: remote fixtures are not fetched"));
    }
    let direct = script_dir.join(reference);
    if direct.is_file() {
        return read_file(&direct);
    }
    if let Some((res_type, id)) = reference.split_once('/') {
        if tsunagi_profiles::is_resource_type(res_type) && !id.contains('/') {
            let dirs = std::iter::once(script_dir).chain(search_dirs.iter().map(PathBuf::as_path));
            for dir in dirs {
                for extension in ["json", "xml"] {
                    let candidate = dir.join(format!("{res_type}-{id}.{extension}"));
                    if candidate.is_file() {
                        return read_file(&candidate);
                    }
                }
            }
            return Err(format!(
                "{reference}: no {res_type}-{id}.json in the script's folder or the fixture folders"
            ));
        }
    }
    Err(format!("{reference}: no such file next to the script"))
}

/// Reads a fixture file: `.json`/`.xml` as a FHIR resource, anything else as raw bytes with the
/// MIME type its extension implies (`.hl7` → `x-application/hl7-v2+er7`, `.jsonpatch` →
/// `application/json-patch+json`).
pub fn read_file(path: &Path) -> Result<Fixture, String> {
    let size = std::fs::metadata(path)
        .map_err(|error| format!("{}: {error}", path.display()))?
        .len();
    if size > MAX_BODY_BYTES as u64 {
        return Err(format!(
            "{}: {size} bytes, more than {MAX_BODY_BYTES}",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let content_type = match extension.as_str() {
        "json" => "application/fhir+json",
        "xml" => "application/fhir+xml",
        "hl7" | "er7" => "x-application/hl7-v2+er7",
        "jsonpatch" => "application/json-patch+json",
        "dcm" => "application/dicom",
        "zip" => "application/zip",
        "csv" => "text/csv",
        _ => "application/octet-stream",
    };
    let resource = if matches!(extension.as_str(), "json" | "xml") {
        Some(
            parse_resource(&bytes, Some(content_type))
                .ok_or_else(|| format!("{}: not a FHIR resource", path.display()))?,
        )
    } else {
        None
    };
    Ok(Fixture {
        resource,
        bytes,
        content_type: Some(content_type.to_owned()),
        ..Fixture::default()
    })
}
