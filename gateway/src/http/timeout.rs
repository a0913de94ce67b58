//! The middleware that stops a request whose handling takes longer than `[limits]
//! request_timeout_secs` and answers 503 with an OperationOutcome (`timeout`).
//!
//! Stopping drops the handler's future at its next await point: work it has already moved to
//! the blocking pool (large documents, validation, store calls) runs on to its end, and a write
//! that was under way may still be committed. The client learns only that the answer did not
//! come in time, and should read before it retries a write.

use super::headers::add_security_headers;
use super::respond::error_response;
use super::routes::negotiated_of;
use crate::GatewayError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use std::time::Duration;

/// The longest a request may be handled, held as app data (`App::app_data`); an app
/// without it does not limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

/// Runs the request for at most its app's [`RequestTimeout`]; past it, answers 503 instead.
///
/// The request went into the handler's future, which is dropped, so the 503 leaves as an
/// error holding its finished response (with the security headers already on it): the server
/// sends that response as it is.
pub async fn limit_time(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(&RequestTimeout(limit)) = request.app_data::<RequestTimeout>() else {
        return next.call(request).await;
    };
    // Cloning the request here would break routing further in: take what the answer needs.
    let negotiated = negotiated_of(request.request());
    match tokio::time::timeout(limit, next.call(request)).await {
        Ok(response) => response,
        Err(_) => {
            let error = GatewayError::Timeout {
                limit_secs: limit.as_secs(),
            };
            let mut response = error_response(&error, negotiated);
            add_security_headers(response.headers_mut());
            Err(InternalError::from_response(error, response).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::http::header::HeaderMap;
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    /// Status, headers and body of the answer the server sends for a request that timed out.
    async fn timed_out_answer(error: actix_web::Error) -> (u16, HeaderMap, Vec<u8>) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, headers, body.to_vec())
    }

    async fn slow() -> HttpResponse {
        tokio::time::sleep(Duration::from_secs(5)).await;
        HttpResponse::Ok().body("late")
    }

    async fn fast() -> HttpResponse {
        HttpResponse::Ok().body("in time")
    }

    #[actix_web::test]
    async fn a_slow_handler_is_stopped_with_503_timeout_and_a_fast_one_answers() {
        let app = test::init_service(
            App::new()
                .app_data(RequestTimeout(Duration::from_millis(50)))
                .wrap(from_fn(limit_time))
                .route("/slow", web::get().to(slow))
                .route("/fast", web::get().to(fast)),
        )
        .await;

        let request = test::TestRequest::get().uri("/fast").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 200);

        let started = std::time::Instant::now();
        let request = test::TestRequest::get().uri("/slow").to_request();
        let error = test::try_call_service(&app, request).await.err().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the handler was not stopped"
        );
        let (status, headers, body) = timed_out_answer(error).await;
        assert_eq!(status, 503);
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
        let outcome: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["code"], "timeout");

        let request = test::TestRequest::get().uri("/fast").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(test::read_body(response).await, "in time");
    }

    #[actix_web::test]
    async fn the_timeout_answer_follows_the_requested_format() {
        let app = test::init_service(
            App::new()
                .app_data(RequestTimeout(Duration::from_millis(20)))
                .wrap(from_fn(limit_time))
                .route("/slow", web::get().to(slow)),
        )
        .await;
        let request = test::TestRequest::get()
            .uri("/slow?_format=xml")
            .to_request();
        let error = test::try_call_service(&app, request).await.err().unwrap();
        let (status, _, body) = timed_out_answer(error).await;
        assert_eq!(status, 503);
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("<OperationOutcome"), "{text}");
        assert!(text.contains("<code value=\"timeout\"/>"), "{text}");
    }
}
