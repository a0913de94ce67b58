//! `POST [base]/$convert` and `POST [base]/$ingest`: a legacy export as the raw request body.
//!
//! `$convert` answers with what the adapter made and stores nothing: for one message its
//! transaction Bundle (or, with `report=true`, a Parameters with `bundle` and `outcome`); for a
//! body holding several messages a `collection` Bundle with one entry per message, in order,
//! each a transaction Bundle or the OperationOutcome saying why that message failed.
//!
//! `$ingest` converts, checks and stores each message as its own transaction and answers with
//! a Parameters: one `message` parameter per message with parts `index`, `response` (the
//! transaction-response Bundle, when stored) and `outcome` (the conversion report, or why the
//! message was not stored). A body with one message that cannot be stored answers with the
//! error's status and OperationOutcome instead.

use super::body::read_body;
use super::respond::{off_worker, value_response};
use super::routes::{answer, header_text, Context};
use crate::ingest::{report_issues, SourceFormat};
use crate::outcome::{operation_outcome, Issue};
use crate::{Gateway, GatewayError};
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::sync::Arc;
use tsunagi_adapters::dicom::convert_bytes;
use tsunagi_adapters::hl7v2::convert_all;
use tsunagi_adapters::Conversion;

/// One message of a body: its 1-based position and what converting it gave.
type Converted = (usize, Result<Conversion, GatewayError>);

/// `POST [base]/$convert?source=hl7v2`.
pub async fn convert(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let (_, messages) = read_and_convert(&http_request, &context, &gateway, payload).await?;
        let with_report = param(&context, "report") == Some("true");
        let body = if messages.len() == 1 {
            let conversion = messages
                .into_iter()
                .next()
                .map(|(_, result)| result)
                .ok_or_else(|| GatewayError::Unprocessable("no message".into()))??;
            if with_report {
                    json!({"resourceType": "Parameters", "parameter": [
                        {"name": "bundle", "resource": conversion.bundle()},
                        {"name": "outcome", "resource": operation_outcome(&report_issues(&conversion.report))},
                    ]})
            } else {
                conversion.bundle()
            }
        } else {
            let entries: Vec<Value> = messages
                .iter()
                .map(|(_, result)| match result {
                    Ok(conversion) => json!({"resource": conversion.bundle()}),
                    Err(error) => json!({"resource": operation_outcome(&error.issues())}),
                })
                .collect();
            json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
        };
        Ok(value_response(200, body, context.negotiated))
    })
    .await
}

/// `POST [base]/$ingest?source=hl7v2`.
pub async fn ingest(
    request: HttpRequest,
    gateway: Data<Gateway>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let (format, messages) =
            read_and_convert(&http_request, &context, &gateway, payload).await?;
        let single = messages.len() == 1;
        let mut parameters = Vec::with_capacity(messages.len());
        for (index, converted) in messages {
            let mut parts = vec![json!({"name": "index", "valueInteger": index})];
            let stored = match converted {
                Ok(conversion) => gateway.ingest(&conversion, format).await.map(|ingested| {
                    let mut issues = report_issues(&conversion.report);
                    issues.extend(ingested.validation);
                    (ingested.response, issues)
                }),
                Err(error) => {
                    gateway.metrics().record_ingest(format.name(), "refused");
                    Err(error)
                }
            };
            match stored {
                Ok((response, issues)) => {
                    parts.push(json!({"name": "response", "resource": response}));
                    let issues = if issues.is_empty() {
                        vec![Issue::information(
                            "stored; the conversion reported nothing",
                        )]
                    } else {
                        issues
                    };
                    parts.push(json!({"name": "outcome", "resource": operation_outcome(&issues)}));
                }
                Err(error) if single => return Err(error),
                Err(error) => {
                    parts.push(
                        json!({"name": "outcome", "resource": operation_outcome(&error.issues())}),
                    );
                }
            }
            parameters.push(json!({"name": "message", "part": parts}));
        }
        let body = json!({"resourceType": "Parameters", "parameter": parameters});
        Ok(value_response(200, body, context.negotiated))
    })
    .await
}

/// Reads the body under the size limit, picks the source format and converts every message
/// in it (off the HTTP worker when the body is large). A DICOM body (one Part 10 file, or a
/// zip of files, folders and DICOMDIRs) is one unit: one Bundle for all its studies.
async fn read_and_convert(
    request: &HttpRequest,
    context: &Context,
    gateway: &Data<Gateway>,
    payload: Payload,
) -> Result<(SourceFormat, Vec<Converted>), GatewayError> {
    let body: Bytes = read_body(request, payload, gateway).await?;
    let content_type = header_text(request, header::CONTENT_TYPE);
    let format = match param(context, "source") {
        Some(name) => SourceFormat::named(name).ok_or_else(|| GatewayError::UnknownParameter {
            name: "source".into(),
            reason: format!("'{name}' is not a supported source format (hl7v2, dicom)"),
        })?,
        None => SourceFormat::detect(content_type, &body).ok_or_else(|| {
            GatewayError::UnsupportedMediaType(format!(
                "{} (give ?source=hl7v2 or ?source=dicom, or send an HL7 v2 message or DICOM file)",
                content_type.unwrap_or("no content type")
            ))
        })?,
    };
    let gateway: Arc<Gateway> = gateway.clone().into_inner();
    let messages = off_worker(body.len(), move || {
        let settings = gateway.source();
        let converted: Vec<Converted> = match format {
            SourceFormat::Hl7v2 => convert_all(&body, &settings.context, &settings.hl7)
                .into_iter()
                .map(|(raw, result)| (raw.ordinal, result.map_err(GatewayError::from)))
                .collect(),
            SourceFormat::Dicom => {
                let converted = convert_bytes(&body, "body", &settings.context, &settings.dicom)?;
                vec![(1, Ok(converted.conversion))]
            }
        };
        Ok(converted)
    })
    .await?;
    if messages.is_empty() {
        return Err(GatewayError::Conversion {
            message: "the body holds no HL7 v2 message (no MSH segment)".into(),
            location: Some("body".into()),
            unsupported: false,
        });
    }
    Ok((format, messages))
}

fn param<'a>(context: &'a Context, name: &str) -> Option<&'a str> {
    context
        .params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}
