//! The middleware that counts every request and its latency by route pattern (never by path:
//! paths carry ids) in [`crate::metrics::Metrics`].

use crate::Gateway;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;
use std::time::Instant;

/// Runs the request, then records route pattern, method, status and duration.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let gateway = request.app_data::<Data<Gateway>>().cloned();
    let response = next.call(request).await;
    if let Some(gateway) = gateway {
        let status = match &response {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        gateway
            .metrics()
            .record_request(&route, &method, status, started.elapsed().as_secs_f64());
    }
    response
}
