//! `POST [base]/ServiceRequest/{id}/$referral-package` (build, sign and optionally queue a
//! referral package) and `POST [base]/$receive-referral` (verify and store one).
//!
//! `$referral-package` without `destination` answers 200 with the signed document Bundle;
//! with `destination=NAME` (query, or a Parameters body with `destination`) it stores the
//! package and a delivery Task and answers 202 with the Task (`Content-Location` names it).
//! The package is always JSON: its signature covers the canonical JSON.

use super::body::read_body;
use super::respond::{value_response, Negotiated};
use super::routes::{answer, header_text};
use crate::fhir::ids::check_id;
use crate::{Gateway, GatewayError};
use actix_web::http::header;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use tsunagi_profiles::{parse_json_value, Format};

/// `POST [base]/ServiceRequest/{id}/$referral-package[?destination=NAME]`.
pub async fn referral_package(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let id = path.into_inner();
        check_id(&id, "url")?;
        let body = read_body(&http_request, payload, &gateway).await?;
        let from_query = context
            .params
            .iter()
            .find(|(name, _)| name == "destination")
            .map(|(_, value)| value.clone());
        let destination = match from_query {
            Some(destination) => Some(destination),
            None if body.iter().all(u8::is_ascii_whitespace) => None,
            None => destination_parameter(
                &parse_json_value(&body, &gateway.parse_limits()).map_err(GatewayError::from)?,
            )?,
        };
        let json = Negotiated {
            format: Format::Json,
            pretty: context.negotiated.pretty,
        };
        match destination {
            None => {
                let package = crate::referral::build_signed(&gateway, &id).await?;
                Ok(value_response(200, package.bundle, json))
            }
            Some(destination) => {
                let (_, task_id) = crate::referral::send(&gateway, &id, &destination).await?;
                let task = gateway.read("Task", &task_id).await?;
                let task = crate::fhir::bundle::body_value(&task).unwrap_or(Value::Null);
                let mut response = value_response(202, task, context.negotiated);
                if let Ok(location) =
                    header::HeaderValue::from_str(&format!("{}/Task/{task_id}", gateway.base_url()))
                {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_LOCATION, location);
                }
                Ok(response)
            }
        }
    })
    .await
}

/// `POST [base]/$receive-referral` with a signed document Bundle (JSON).
pub async fn receive_referral(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let content_type = header_text(&http_request, header::CONTENT_TYPE).unwrap_or("");
        if content_type.contains("xml") {
            return Err(GatewayError::UnsupportedMediaType(format!(
                "{content_type}: a signed referral package is JSON (its signature covers the JSON)"
            )));
        }
        let body = read_body(&http_request, payload, &gateway).await?;
        let bundle =
            parse_json_value(&body, &gateway.parse_limits()).map_err(GatewayError::from)?;
        let received = crate::referral::receive::receive(&gateway, &bundle).await?;
        Ok(value_response(
            received.status,
            received.body,
            context.negotiated,
        ))
    })
    .await
}

/// `destination` of a Parameters body (valueString or valueCode).
fn destination_parameter(parameters: &Value) -> Result<Option<String>, GatewayError> {
    if parameters["resourceType"] != "Parameters" {
        return Err(GatewayError::invalid(
            "the body of $referral-package is a Parameters resource (or empty)",
            "Parameters",
        ));
    }
    Ok(parameters["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|parameter| parameter["name"] == "destination")
        .and_then(|parameter| {
            parameter
                .get("valueString")
                .or_else(|| parameter.get("valueCode"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned))
}
