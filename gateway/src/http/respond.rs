//! Turning results into HTTP responses: headers (ETag, Last-Modified, Location), the body in
//! the negotiated format, and errors as OperationOutcome.

use crate::fhir::entry::{EntryOutcome, PreferReturn};
use crate::fhir::ids::etag;
use crate::outcome::{operation_outcome, Issue};
use crate::store::StoredVersion;
use crate::GatewayError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde_json::Value;
use tsunagi_profiles::{Format, Resource};

/// How this request wants its answer.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated {
    /// Body format.
    pub format: Format,
    /// Indent JSON.
    pub pretty: bool,
}

fn content_type(format: Format) -> HeaderValue {
    HeaderValue::from_static(match format {
        Format::Json => "application/fhir+json; charset=utf-8",
        Format::Xml => "application/fhir+xml; charset=utf-8",
    })
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON value (a resource) as a response body.
pub fn value_response(code: u16, value: Value, negotiated: Negotiated) -> HttpResponse {
    let body = Resource::from_checked_value(value)
        .map_err(GatewayError::from)
        .and_then(|resource| Ok(resource.serialize(negotiated.format, negotiated.pretty)?));
    match body {
        Ok(body) => HttpResponse::build(status(code))
            .insert_header((header::CONTENT_TYPE, content_type(negotiated.format)))
            .body(body),
        Err(error) => error_response(&error, negotiated),
    }
}

/// A stored version as the body, with its ETag and Last-Modified.
pub fn stored_response(code: u16, stored: &StoredVersion, negotiated: Negotiated) -> HttpResponse {
    match &stored.body {
        None => {
            let mut builder = HttpResponse::build(status(code));
            version_headers(&mut builder, stored);
            builder.finish()
        }
        Some(body) if is_plain_json(negotiated) => {
            versioned_body(code, stored, negotiated, Ok(body.clone()))
        }
        Some(body) => versioned_body(code, stored, negotiated, render(body, negotiated)),
    }
}

/// Documents above this size are parsed and rendered on the blocking pool, so one large
/// document cannot stall the other connections of an HTTP worker.
pub const LARGE_DOCUMENT: usize = 256 * 1024;

/// Runs `work` on the blocking pool when `size` is large, inline otherwise.
pub async fn off_worker<T: Send + 'static>(
    size: usize,
    work: impl FnOnce() -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    if size < LARGE_DOCUMENT {
        return work();
    }
    actix_web::web::block(work).await.map_err(|error| {
        GatewayError::Store(crate::store::StoreError::Backend(format!(
            "worker pool failed: {error}"
        )))
    })?
}

/// [`stored_response`], rendering large XML or pretty JSON off the HTTP worker.
pub async fn stored_response_offloaded(
    code: u16,
    stored: &StoredVersion,
    negotiated: Negotiated,
) -> HttpResponse {
    match &stored.body {
        Some(body) if !is_plain_json(negotiated) => {
            let body = body.clone();
            let rendered = off_worker(body.len(), move || render(&body, negotiated)).await;
            versioned_body(code, stored, negotiated, rendered)
        }
        _ => stored_response(code, stored, negotiated),
    }
}

/// True when the stored bytes can be sent as they are.
fn is_plain_json(negotiated: Negotiated) -> bool {
    negotiated.format == Format::Json && !negotiated.pretty
}

/// Stored JSON re-written in the negotiated format.
fn render(body: &[u8], negotiated: Negotiated) -> Result<Bytes, GatewayError> {
    let resource = Resource::from_stored_json(body)?;
    Ok(resource
        .serialize(negotiated.format, negotiated.pretty)?
        .into())
}

/// A body with the version's ETag and Last-Modified, or the error that stopped it.
fn versioned_body(
    code: u16,
    stored: &StoredVersion,
    negotiated: Negotiated,
    body: Result<Bytes, GatewayError>,
) -> HttpResponse {
    match body {
        Ok(body) => {
            let mut builder = HttpResponse::build(status(code));
            version_headers(&mut builder, stored);
            builder
                .insert_header((header::CONTENT_TYPE, content_type(negotiated.format)))
                .body(body)
        }
        Err(error) => error_response(&error, negotiated),
    }
}

fn version_headers(builder: &mut HttpResponseBuilder, stored: &StoredVersion) {
    builder
        .insert_header((header::ETAG, etag(stored.version)))
        .insert_header((header::LAST_MODIFIED, stored.last_updated.to_http()));
}

/// The answer to a write: status, Location/ETag/Last-Modified, and the body `Prefer` asks for.
pub fn write_response(
    outcome: &EntryOutcome,
    base_url: &str,
    prefer: PreferReturn,
    negotiated: Negotiated,
) -> HttpResponse {
    let Some(stored) = &outcome.stored else {
        return match prefer {
            PreferReturn::OperationOutcome => note_response(200, outcome, negotiated),
            _ => HttpResponse::build(status(outcome.status)).finish(),
        };
    };
    let location = format!(
        "{base_url}/{}/_history/{}",
        stored.reference(),
        stored.version
    );
    match prefer {
        _ if stored.is_deleted() && prefer != PreferReturn::OperationOutcome => {
            let mut builder = HttpResponse::build(status(outcome.status));
            version_headers(&mut builder, stored);
            builder.finish()
        }
        PreferReturn::Representation => {
            let mut response = stored_response(outcome.status, stored, negotiated);
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        PreferReturn::Minimal => {
            let mut builder = HttpResponse::build(status(outcome.status));
            version_headers(&mut builder, stored);
            builder.insert_header((header::LOCATION, location)).finish()
        }
        PreferReturn::OperationOutcome => {
            let code = if outcome.status == 204 {
                200
            } else {
                outcome.status
            };
            let mut response = note_response(code, outcome, negotiated);
            let headers = response.headers_mut();
            for (name, value) in [
                (header::LOCATION, location),
                (header::ETAG, etag(stored.version)),
                (header::LAST_MODIFIED, stored.last_updated.to_http()),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
            response
        }
    }
}

fn note_response(code: u16, outcome: &EntryOutcome, negotiated: Negotiated) -> HttpResponse {
    let note = outcome
        .note
        .clone()
        .unwrap_or_else(|| crate::fhir::entry::status_text(outcome.status));
    let mut issues = vec![Issue::information(note)];
    issues.extend(outcome.issues.iter().cloned());
    value_response(code, operation_outcome(&issues), negotiated)
}

/// An error as an OperationOutcome with its status. Server faults are logged (no patient data:
/// store and serialisation errors carry none).
pub fn error_response(error: &GatewayError, negotiated: Negotiated) -> HttpResponse {
    let code = error.status();
    if code >= 500 {
        tracing::error!(status = code, error = %error, "request failed");
    } else {
        tracing::debug!(status = code, "request refused");
    }
    let outcome = operation_outcome(&error.issues());
    let body = Resource::from_checked_value(outcome.clone())
        .and_then(|resource| resource.serialize(negotiated.format, negotiated.pretty))
        .unwrap_or_else(|_| outcome.to_string().into_bytes());
    HttpResponse::build(status(code))
        .insert_header((header::CONTENT_TYPE, content_type(negotiated.format)))
        .body(body)
}
