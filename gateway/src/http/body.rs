//! Reading request bodies under the configured size limit.

use crate::{Gateway, GatewayError};
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;

/// Reads the whole body, refusing it (413) as soon as it passes the gateway's `[limits]
/// max_body_bytes`, and before reading at all when `Content-Length` already says so.
pub async fn read_body(
    request: &HttpRequest,
    mut payload: Payload,
    gateway: &Gateway,
) -> Result<Bytes, GatewayError> {
    let limit = gateway.config().limits.max_body_bytes;
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            GatewayError::invalid(
                format!("the request body could not be read: {error}"),
                "body",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(GatewayError::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
