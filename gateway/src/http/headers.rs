//! The middleware that puts security headers on every response, errors and `/metrics`
//! included: the answers are data for programs, never pages to render, frame or cache.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The headers set on every response, overriding nothing a handler set itself.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    // Answers carry patient data, which must not sit in shared caches.
    ("cache-control", "no-store"),
];

/// Runs the request, then adds the security headers to its response. An error from further
/// in carries its response inside, which this middleware cannot reach: whoever makes one (the
/// request timeout) calls [`add_security_headers`] on it.
pub async fn secure(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    add_security_headers(response.headers_mut());
    Ok(response)
}

/// Adds each of [`SECURITY_HEADERS`] that `headers` does not already carry.
pub fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}
