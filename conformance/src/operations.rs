//! Request building: a TestScript operation (type, resource, params, url, targetId, sourceId,
//! headers, contentType/accept) becomes a method, a URL, headers and a body.

use tsunagi_profiles::{Format, Resource};

use crate::error::ConformanceError;
use crate::script::Operation;
use crate::state::State;

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, when the operation sends one.
    pub body: Option<Vec<u8>>,
}

/// The MIME type a TestScript format code stands for (`json`, `xml`, `ttl`), or the text itself
/// when it already is a MIME type. `none` gives `None`.
pub fn mime_type(code: &str) -> Option<String> {
    match code {
        "json" => Some("application/fhir+json".to_owned()),
        "xml" => Some("application/fhir+xml".to_owned()),
        "ttl" => Some("text/turtle".to_owned()),
        "none" | "" => None,
        other => Some(other.to_owned()),
    }
}

/// Builds the request for `operation`; `extra_headers` (from the command line) come first so
/// the operation's own `requestHeader`s can override them.
pub fn prepare(
    operation: &Operation,
    state: &State<'_>,
    extra_headers: &[(String, String)],
) -> Result<PreparedRequest, ConformanceError> {
    let code = operation.type_code.as_deref().unwrap_or("");
    let source = match &operation.source_id {
        Some(id) => Some(
            state
                .fixtures
                .get(id)
                .ok_or_else(|| ConformanceError::Fixture {
                    id: id.clone(),
                    message: "sourceId names no fixture that exists (yet)".to_owned(),
                })?,
        ),
        None => None,
    };
    let target = match &operation.target_id {
        Some(id) => Some(state.target(id).ok_or_else(|| ConformanceError::Fixture {
            id: id.clone(),
            message: "targetId names no resource on the server".to_owned(),
        })?),
        None => None,
    };
    let res_type = operation
        .resource
        .clone()
        .or_else(|| target.as_ref().map(|target| target.res_type.clone()))
        .or_else(|| source.and_then(|fixture| fixture.resource_type().map(str::to_owned)));
    let params = operation
        .params
        .as_deref()
        .map(|params| state.substitute(params))
        .transpose()?;
    let base = &state.base;
    let type_url = || match &res_type {
        Some(res_type) => format!("{base}/{res_type}"),
        None => base.clone(),
    };
    let url = if let Some(url) = &operation.url {
        let url = state.substitute(url)?;
        if url.starts_with("http://") || url.starts_with("https://") {
            url
        } else {
            format!("{base}/{}", url.trim_start_matches('/'))
        }
    } else if code == "capabilities" {
        format!("{base}/metadata")
    } else if matches!(code, "transaction" | "batch") {
        format!("{base}{}", params.as_deref().unwrap_or(""))
    } else if let Some(params) = &params {
        format!("{}{params}", type_url())
    } else if let Some(target) = &target {
        let instance = format!("{base}/{}/{}", target.res_type, target.id);
        match code {
            "vread" => {
                let version = target.version.as_deref().ok_or_else(|| {
                    ConformanceError::script("operation", "vread target has no known version")
                })?;
                format!("{instance}/_history/{version}")
            }
            "history" => format!("{instance}/_history"),
            _ if code.is_empty() || is_interaction(code) => instance,
            operation_name => format!("{instance}/${}", operation_name.trim_start_matches('$')),
        }
    } else {
        match code {
            "update" | "updateCreate" => {
                let id = source
                    .and_then(|fixture| fixture.resource.as_ref())
                    .and_then(|resource| resource.get("id"))
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| {
                        ConformanceError::script(
                            "operation",
                            "update without targetId, params or url needs a source with an id",
                        )
                    })?;
                format!("{}/{id}", type_url())
            }
            "history" => format!("{}/_history", type_url()),
            _ if code.is_empty() || is_interaction(code) => type_url(),
            operation_name => format!("{}/${}", type_url(), operation_name.trim_start_matches('$')),
        }
    };
    let method = match &operation.method {
        Some(method) => method.to_ascii_uppercase(),
        None => default_method(code, source.is_some()).to_owned(),
    };
    let mut headers: Vec<(String, String)> = extra_headers.to_vec();
    let accept = operation.accept.as_deref().unwrap_or("json");
    if let Some(accept) = mime_type(accept) {
        headers.push(("Accept".to_owned(), accept));
    }
    let mut body = None;
    if let Some(fixture) = source {
        let declared = operation.content_type.as_deref().and_then(mime_type);
        let content_type = declared
            .clone()
            .or_else(|| fixture.content_type.clone())
            .unwrap_or_else(|| "application/fhir+json".to_owned());
        let bytes = match &fixture.resource {
            Some(resource) if content_type.contains("xml") => {
                Resource::from_value(resource.clone())
                    .and_then(|resource| resource.serialize(Format::Xml, false))
                    .map_err(|error| ConformanceError::Fixture {
                        id: operation.source_id.clone().unwrap_or_default(),
                        message: format!("cannot be written as XML: {error}"),
                    })?
            }
            Some(resource) if content_type.contains("json") => resource.to_string().into_bytes(),
            _ => fixture.bytes.clone(),
        };
        if operation.content_type.as_deref() != Some("none") {
            headers.push(("Content-Type".to_owned(), content_type));
        }
        body = Some(bytes);
    }
    for (field, value) in &operation.request_headers {
        let value = state.substitute(value)?;
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case(field));
        headers.push((field.clone(), value));
    }
    Ok(PreparedRequest {
        method,
        url,
        headers,
        body,
    })
}

/// The FHIR RESTful interactions of the operation-type code system (anything else is taken as
/// the name of an extended `$operation`).
fn is_interaction(code: &str) -> bool {
    matches!(
        code,
        "read"
            | "vread"
            | "update"
            | "updateCreate"
            | "patch"
            | "delete"
            | "deleteCondSingle"
            | "deleteCondMultiple"
            | "history"
            | "create"
            | "search"
            | "batch"
            | "transaction"
            | "capabilities"
    )
}

fn default_method(code: &str, has_body: bool) -> &'static str {
    match code {
        "read" | "vread" | "search" | "history" | "capabilities" => "GET",
        "create" | "batch" | "transaction" => "POST",
        "update" | "updateCreate" => "PUT",
        "patch" => "PATCH",
        "delete" | "deleteCondSingle" | "deleteCondMultiple" => "DELETE",
        _ if has_body => "POST",
        _ => "GET",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixture;
    use crate::script::TestScript;
    use crate::state::ServerId;
    use serde_json::json;
    use std::collections::HashMap;

    fn script() -> TestScript {
        TestScript::from_value(json!({"resourceType": "TestScript", "name": "t",
            "variable": [{"name": "pid", "defaultValue": "p-7"}]}))
        .unwrap()
    }

    fn operation(code: &str) -> Operation {
        Operation {
            type_code: Some(code.to_owned()),
            ..Operation::default()
        }
    }

    #[test]
    fn urls_methods_and_bodies_follow_the_operation() {
        let script = script();
        let overrides = HashMap::new();
        let mut state = State {
            script: &script,
            base: "http://h/fhir".to_owned(),
            fixtures: HashMap::new(),
            overrides: &overrides,
            last_request: None,
            last_response: None,
            server_ids: HashMap::new(),
        };
        state.fixtures.insert(
            "pat".to_owned(),
            Fixture::from_resource(json!({"resourceType": "Patient", "id": "local-id"})),
        );
        state.server_ids.insert(
            "pat".to_owned(),
            ServerId {
                res_type: "Patient".to_owned(),
                id: "srv-1".to_owned(),
                version: Some("3".to_owned()),
            },
        );
        let url = |operation: Operation| prepare(&operation, &state, &[]).unwrap();

        let read = url(Operation {
            target_id: Some("pat".to_owned()),
            ..operation("read")
        });
        assert_eq!(
            (read.method.as_str(), read.url.as_str()),
            ("GET", "http://h/fhir/Patient/srv-1")
        );
        let vread = url(Operation {
            target_id: Some("pat".to_owned()),
            ..operation("vread")
        });
        assert_eq!(vread.url, "http://h/fhir/Patient/srv-1/_history/3");
        let search = url(Operation {
            resource: Some("Patient".to_owned()),
            params: Some("?_id=${pid}".to_owned()),
            ..operation("search")
        });
        assert_eq!(search.url, "http://h/fhir/Patient?_id=p-7");
        let update = url(Operation {
            source_id: Some("pat".to_owned()),
            content_type: Some("json".to_owned()),
            ..operation("update")
        });
        assert_eq!(
            (update.method.as_str(), update.url.as_str()),
            ("PUT", "http://h/fhir/Patient/local-id")
        );
        assert!(update.headers.contains(&(
            "Content-Type".to_owned(),
            "application/fhir+json".to_owned()
        )));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(update.body.as_deref().unwrap()).unwrap()
                ["id"],
            "local-id"
        );
        let xml = url(Operation {
            resource: Some("Patient".to_owned()),
            source_id: Some("pat".to_owned()),
            content_type: Some("xml".to_owned()),
            ..operation("create")
        });
        assert_eq!(xml.method, "POST");
        let xml_text = String::from_utf8(xml.body.unwrap()).unwrap();
        assert!(
            xml_text.contains("<Patient xmlns=\"http://hl7.org/fhir\">"),
            "{xml_text}"
        );
        let everything = url(Operation {
            target_id: Some("pat".to_owned()),
            ..operation("everything")
        });
        assert_eq!(everything.url, "http://h/fhir/Patient/srv-1/$everything");
        assert_eq!(url(operation("capabilities")).url, "http://h/fhir/metadata");
        let by_url = url(Operation {
            url: Some("$ingest?source=hl7v2".to_owned()),
            method: Some("post".to_owned()),
            request_headers: vec![("Accept".to_owned(), "application/fhir+xml".to_owned())],
            ..Operation::default()
        });
        assert_eq!(
            (by_url.method.as_str(), by_url.url.as_str()),
            ("POST", "http://h/fhir/$ingest?source=hl7v2")
        );
        let accepts: Vec<&(String, String)> = by_url
            .headers
            .iter()
            .filter(|(name, _)| name == "Accept")
            .collect();
        assert_eq!(
            accepts,
            [&("Accept".to_owned(), "application/fhir+xml".to_owned())]
        );
        assert!(prepare(
            &Operation {
                target_id: Some("nothing".to_owned()),
                ..operation("read")
            },
            &state,
            &[]
        )
        .is_err());
    }
}
