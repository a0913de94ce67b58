//! Sending a prepared request with reqwest and reading the answer into a response fixture,
//! with a per-request timeout and a cap on the body size.

use std::time::Duration;

use crate::error::ConformanceError;
use crate::fixtures::{parse_resource, Fixture, MAX_BODY_BYTES};
use crate::operations::PreparedRequest;

/// An HTTP client for the server under test.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
}

impl Client {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Client, ConformanceError> {
        let inner = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Idle connections are dropped before a server's keep-alive could close one under
            // a request in flight.
            .pool_idle_timeout(Duration::from_secs(1))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ConformanceError::Http(error.to_string()))?;
        Ok(Client { inner })
    }

    /// Sends `request`; the answer as a response fixture (status, headers, body, and the body
    /// parsed as a resource when it is FHIR JSON or XML).
    pub async fn send(&self, request: &PreparedRequest) -> Result<Fixture, ConformanceError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| ConformanceError::Http(format!("bad method {}", request.method)))?;
        let mut builder = self.inner.request(method, &request.url);
        for (field, value) in &request.headers {
            builder = builder.header(field.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|error| ConformanceError::Http(describe(&error)))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| ConformanceError::Http(describe(&error)))?
        {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ConformanceError::Http(format!(
                    "response body larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let content_type = headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.clone());
        Ok(Fixture {
            resource: parse_resource(&bytes, content_type.as_deref()),
            bytes,
            content_type,
            headers,
            status: Some(status),
            method: Some(request.method.clone()),
            url: Some(request.url.clone()),
        })
    }
}

/// The request as a fixture (for `requestId` and request-direction asserts).
pub fn request_fixture(request: &PreparedRequest) -> Fixture {
    let content_type = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.clone());
    let bytes = request.body.clone().unwrap_or_default();
    Fixture {
        resource: parse_resource(&bytes, content_type.as_deref()),
        bytes,
        content_type,
        headers: request
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect(),
        status: None,
        method: Some(request.method.clone()),
        url: Some(request.url.clone()),
    }
}

/// reqwest's error with its causes (its own message alone says only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}
