//! `POST [base]/Patient/$match` (R4 `Patient-match`): the stored Patients that may be the one
//! sent, as a searchset Bundle with a score and match-grade per entry, best first.
//!
//! The body is a `Parameters` (JSON or XML per `Content-Type`, under the body size and depth
//! limits) with `resource` (the Patient, required), `onlyCertainMatches` (boolean, default
//! false) and `count` (integer, default [`DEFAULT_COUNT`], at most [`MAX_COUNT`]: more is
//! served as [`MAX_COUNT`]). Scoring is described in [`crate::matching`], candidate search in
//! [`crate::match_service`].

use super::body::read_body;
use super::negotiate::request_format;
use super::respond::{off_worker, value_response};
use super::routes::{answer, header_text};
use crate::match_service::RESOURCE_PARAMETER;
use crate::{Gateway, GatewayError};
use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use tsunagi_profiles::{parse_json_value, parse_xml_value, Format};

/// Matches returned when `count` is not sent.
pub const DEFAULT_COUNT: usize = 10;

/// The most matches one request returns.
pub const MAX_COUNT: usize = 100;

/// `POST [base]/Patient/$match`.
pub async fn match_patients(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let body = read_body(&http_request, payload, &gateway).await?;
        let format = request_format(header_text(&http_request, header::CONTENT_TYPE), &body)?;
        let limits = gateway.parse_limits();
        let parameters = off_worker(body.len(), move || {
            Ok(match format {
                Format::Json => parse_json_value(&body, &limits)?,
                Format::Xml => parse_xml_value(&body, &limits)?,
            })
        })
        .await?;
        let input = MatchInput::of(&parameters)?;
        let matches = gateway
            .match_patients(input.resource, input.only_certain, input.count)
            .await?;
        Ok(value_response(
            200,
            gateway.match_bundle(matches),
            context.negotiated,
        ))
    })
    .await
}

/// The parameters of a `$match` request.
struct MatchInput<'a> {
    resource: &'a Value,
    only_certain: bool,
    count: usize,
}

impl<'a> MatchInput<'a> {
    fn of(parameters: &'a Value) -> Result<Self, GatewayError> {
        if parameters.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
            return Err(GatewayError::invalid(
                "$match takes a Parameters resource with a 'resource' parameter",
                "resourceType",
            ));
        }
        let list = parameters
            .get("parameter")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let named = |name: &str| {
            list.iter()
                .find(|parameter| parameter.get("name").and_then(Value::as_str) == Some(name))
        };
        let resource = named("resource")
            .and_then(|parameter| parameter.get("resource"))
            .ok_or_else(|| {
                GatewayError::invalid(
                    "$match needs a 'resource' parameter holding the Patient to match",
                    RESOURCE_PARAMETER,
                )
            })?;
        let only_certain = match named("onlyCertainMatches") {
            None => false,
            Some(parameter) => parameter
                .get("valueBoolean")
                .and_then(Value::as_bool)
                .ok_or_else(|| {
                    GatewayError::invalid(
                        "onlyCertainMatches must be a valueBoolean",
                        "Parameters.parameter[onlyCertainMatches]",
                    )
                })?,
        };
        let count = match named("count") {
            None => DEFAULT_COUNT,
            Some(parameter) => parameter
                .get("valueInteger")
                .or_else(|| parameter.get("valuePositiveInt"))
                .and_then(Value::as_u64)
                .filter(|count| *count > 0)
                .map(|count| usize::try_from(count).unwrap_or(MAX_COUNT).min(MAX_COUNT))
                .ok_or_else(|| {
                    GatewayError::invalid(
                        "count must be a valueInteger of at least 1",
                        "Parameters.parameter[count]",
                    )
                })?,
        };
        Ok(MatchInput {
            resource,
            only_certain,
            count,
        })
    }
}
