//! `POST [base]/$validate` and `POST [base]/{type}/$validate` (R4 `Resource-validate`).
//!
//! The body is the resource itself (JSON or XML per `Content-Type`, under the body size and
//! depth limits) or a `Parameters` with `resource` and optional `profile` (valueUri or
//! valueCanonical); `?profile=URL` adds profiles too. The resource is checked against its type,
//! its `meta.profile`, the requested profiles and the server's `[validation]
//! required_profiles` for its type. `mode` (create, update, delete) is accepted and ignored:
//! every request is a plain validation of the resource sent. The answer is always 200 with the
//! validator's OperationOutcome (at least one issue; a raw body's issues carry line and
//! column); an unparseable body gives one `fatal` issue. Nothing is stored.

use super::body::read_body;
use super::negotiate::request_format;
use super::respond::{off_worker, value_response};
use super::routes::{answer, header_text};
use crate::{Gateway, GatewayError};
use actix_web::http::header;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use std::sync::Arc;
use tsunagi_profiles::{is_resource_type, parse_json_value, parse_xml_value, Format, ModelError};

/// `POST [base]/$validate`: the resource's own type decides.
pub async fn validate_system(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
) -> HttpResponse {
    validate(request, gateway, payload, None).await
}

/// `POST [base]/{type}/$validate`: the resource must be of `{type}`.
pub async fn validate_type(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
    payload: Payload,
) -> HttpResponse {
    validate(request, gateway, payload, Some(path.into_inner())).await
}

async fn validate(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
    path_type: Option<String>,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        if let Some(res_type) = &path_type {
            if !is_resource_type(res_type) {
                return Err(GatewayError::UnknownResourceType(res_type.clone()));
            }
        }
        let body = read_body(&http_request, payload, &gateway).await?;
        let format = request_format(header_text(&http_request, header::CONTENT_TYPE), &body)?;
        let profiles: Vec<String> = context
            .params
            .iter()
            .filter(|(name, _)| name == "profile")
            .map(|(_, value)| value.clone())
            .collect();
        let gateway: Arc<Gateway> = gateway.into_inner();
        // Validation is CPU-bound whatever the size: always off the HTTP worker.
        let outcome = off_worker(usize::MAX, move || {
            validate_body(&gateway, &body, format, path_type.as_deref(), profiles)
        })
        .await?;
        Ok(value_response(200, outcome, context.negotiated))
    })
    .await
}

/// Validates a request body; the OperationOutcome, or the error for a body that breaks the
/// limits or names another type than the URL.
fn validate_body(
    gateway: &Gateway,
    body: &[u8],
    format: Format,
    path_type: Option<&str>,
    mut profiles: Vec<String>,
) -> Result<Value, GatewayError> {
    let validation = gateway.validation();
    let validator = validation.validator();
    let limits = gateway.parse_limits();
    let parsed = match format {
        Format::Json => parse_json_value(body, &limits),
        Format::Xml => parse_xml_value(body, &limits),
    };
    let value = match parsed {
        Ok(value) => value,
        Err(
            error @ (ModelError::TooLarge { .. }
            | ModelError::TooDeep { .. }
            | ModelError::XmlDoctype { .. }
            | ModelError::XmlForeignNamespace { .. }),
        ) => return Err(error.into()),
        // The validator parses it again and reports the fatal issue with its position.
        Err(_) => {
            let outcome = validator.validate_bytes(body, format, &Default::default());
            return Ok(outcome.to_operation_outcome());
        }
    };
    let type_of = |value: &Value| {
        value
            .get("resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let sent_type = type_of(&value);
    if sent_type.as_deref() == Some("Parameters") && path_type != Some("Parameters") {
        let (resource, named) = parameters_input(&value)?;
        profiles.extend(named);
        let res_type = type_of(resource).unwrap_or_default();
        check_type(path_type, &res_type, "Parameters.parameter.resource")?;
        let options = validation.options(&res_type, &profiles);
        return Ok(validator
            .validate(resource, &options)
            .to_operation_outcome());
    }
    let res_type = sent_type.unwrap_or_default();
    check_type(path_type, &res_type, "resourceType")?;
    let options = validation.options(&res_type, &profiles);
    Ok(validator
        .validate_bytes(body, format, &options)
        .to_operation_outcome())
}

/// A resource of another type than the URL's is a client error (400), not a finding.
fn check_type(path_type: Option<&str>, res_type: &str, location: &str) -> Result<(), GatewayError> {
    match path_type {
        Some(expected) if !res_type.is_empty() && res_type != expected => {
            Err(GatewayError::invalid(
                format!("the resource is a {res_type} but the URL names {expected}/$validate"),
                location,
            ))
        }
        _ => Ok(()),
    }
}

/// The `resource` parameter and the `profile` ones of a `$validate` Parameters.
fn parameters_input(parameters: &Value) -> Result<(&Value, Vec<String>), GatewayError> {
    let list = parameters
        .get("parameter")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let named = |name: &'static str| {
        list.iter()
            .filter(move |parameter| parameter.get("name").and_then(Value::as_str) == Some(name))
    };
    let resource = named("resource")
        .find_map(|parameter| parameter.get("resource"))
        .ok_or_else(|| {
            GatewayError::invalid(
                "a $validate Parameters needs a 'resource' parameter holding the resource",
                "Parameters.parameter",
            )
        })?;
    let profiles = named("profile")
        .filter_map(|parameter| {
            parameter
                .get("valueUri")
                .or_else(|| parameter.get("valueCanonical"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    Ok((resource, profiles))
}
