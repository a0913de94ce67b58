//! The HTTP edge's hardening against a real server: security headers on every answer, and
//! the rate limit per client (429 with `Retry-After`, health and metrics never limited). The
//! request timeout is tested as a unit in `http::timeout` (no endpoint is slow on purpose).

mod common;

use common::TestServer;
use serde_json::Value;

/// The server's root URL (where `/healthz` and `/metrics` live), from its FHIR base.
fn root_url(server: &TestServer, path: &str) -> String {
    let root = server.base.trim_end_matches("/fhir");
    format!("{root}{path}")
}

async fn get(server: &TestServer, url: &str) -> reqwest::Response {
    server.client.get(url).send().await.expect("GET sent")
}

fn assert_security_headers(response: &reqwest::Response) {
    let headers = response.headers();
    let expected = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in expected {
        assert_eq!(
            headers.get(name).and_then(|value| value.to_str().ok()),
            Some(value),
            "{name} on {} {}",
            response.status(),
            response.url()
        );
    }
}

#[tokio::test]
async fn security_headers_are_on_answers_errors_health_and_metrics() {
    let server = TestServer::start();
    let metadata = get(&server, &server.url("metadata")).await;
    assert_eq!(metadata.status().as_u16(), 200);
    assert_security_headers(&metadata);

    let missing = get(&server, &server.url("Patient/no-such-patient")).await;
    assert_eq!(missing.status().as_u16(), 404);
    assert_security_headers(&missing);
    let outcome: Value = missing.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");

    let no_route = get(&server, &root_url(&server, "/nowhere")).await;
    assert_eq!(no_route.status().as_u16(), 404);
    assert_security_headers(&no_route);

    for path in ["/metrics", "/healthz"] {
        let response = get(&server, &root_url(&server, path)).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_security_headers(&response);
    }
}

#[tokio::test]
async fn the_request_over_the_limit_gets_429_with_retry_after_and_health_is_never_limited() {
    let server = TestServer::start_with(|config| config.limits.rate_limit_per_minute = 5);
    // Probes and scrapes before, between and after do not use the client's tokens.
    for _ in 0..10 {
        let health = get(&server, &root_url(&server, "/healthz")).await;
        assert_eq!(health.status().as_u16(), 200);
    }
    for attempt in 1..=5 {
        let response = get(&server, &server.url("metadata")).await;
        assert_eq!(response.status().as_u16(), 200, "request {attempt}");
    }
    let refused = get(&server, &server.url("Patient?name=x")).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_security_headers(&refused);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in whole seconds");
    // 5 per minute: a token is back 12 s after the bucket ran dry.
    assert!((1..=12).contains(&retry_after), "Retry-After {retry_after}");
    let outcome: Value = refused.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "throttled");

    for path in ["/healthz", "/readyz"] {
        let response = get(&server, &root_url(&server, path)).await;
        assert_eq!(response.status().as_u16(), 200, "{path} is never limited");
    }
    let metrics = get(&server, &root_url(&server, "/metrics")).await;
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("tsunagi_http_requests_total")
                && line.contains("status=\"429\"")),
        "refusals are counted:\n{text}"
    );
}

#[tokio::test]
async fn the_default_limit_lets_a_busy_client_through() {
    let server = TestServer::start();
    for attempt in 0..200 {
        let response = get(&server, &server.url("metadata")).await;
        assert_eq!(response.status().as_u16(), 200, "request {attempt}");
    }
}
