//! Delivery of queued packages: a worker in every `serve` process picks due delivery Tasks,
//! claims one, POSTs its package to the destination (mTLS when configured) and records the
//! answer; failures wait with exponential backoff. The receiver recognizes a package it has
//! seen, so an attempt whose answer was lost may safely be repeated.

use super::outbox::{claim, due_tasks, record, Attempt, DeliveryTask};
use super::receive::identifier_query;
use super::settings::{DestinationConfig, DestinationKind, ReferralConfig};
use crate::clock::Instant;
use crate::fhir::bundle::body_value;
use crate::Gateway;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Most tasks looked at per round.
const BATCH: usize = 20;
/// Longest receiver answer kept in the Task, in characters.
const MAX_ANSWER_CHARS: usize = 2000;

/// One HTTP client per destination (its own client certificate and CAs).
pub struct Senders {
    clients: BTreeMap<String, (DestinationConfig, reqwest::Client)>,
}

/// A destination's client could not be built (unreadable certificate or key).
#[derive(Debug, thiserror::Error)]
#[error("referral destination '{name}': {message}")]
pub struct SenderError {
    /// The destination's name.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

impl Senders {
    /// Builds the clients of every configured destination.
    pub fn from_config(config: &ReferralConfig) -> Result<Senders, SenderError> {
        let mut clients = BTreeMap::new();
        for (name, destination) in &config.destinations {
            let client = client_for(destination, config.send_timeout_secs).map_err(|message| {
                SenderError {
                    name: name.clone(),
                    message,
                }
            })?;
            clients.insert(name.clone(), (destination.clone(), client));
        }
        Ok(Senders { clients })
    }

    /// POSTs `package` to destination `name`.
    pub async fn send(&self, name: &str, package: &Value) -> Attempt {
        let Some((destination, client)) = self.clients.get(name) else {
            return Attempt::Refused(format!("no destination named '{name}' is configured"));
        };
        let base = destination.url.trim_end_matches('/');
        let mut request = match destination.kind {
            DestinationKind::Tsunagi => client.post(format!("{base}/$receive-referral")),
            DestinationKind::Fhir => {
                let request = client.post(format!("{base}/Bundle"));
                match identifier_query(package) {
                    Some(query) => request.header("If-None-Exist", query),
                    None => request,
                }
            }
        };
        request = request
            .header("Content-Type", "application/fhir+json")
            .header("Accept", "application/fhir+json")
            .body(package.to_string());
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Attempt::Failed(describe_send_error(&error)),
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("Location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let summary = answer_summary(status, location.as_deref(), &text);
        match status {
            200..=299 => Attempt::Delivered(summary),
            408 | 425 | 429 | 500..=599 => Attempt::Failed(summary),
            _ => Attempt::Refused(summary),
        }
    }
}

/// The reqwest client of one destination.
fn client_for(
    destination: &DestinationConfig,
    timeout_secs: u64,
) -> Result<reqwest::Client, String> {
    let read =
        |path: &str| std::fs::read(path).map_err(|error| format!("cannot read {path}: {error}"));
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs.max(1)))
        .connect_timeout(Duration::from_secs(timeout_secs.clamp(1, 10)))
        .redirect(reqwest::redirect::Policy::none());
    match (&destination.client_certificate, &destination.client_key) {
        (Some(certificate), Some(key)) => {
            let identity = reqwest::Identity::from_pkcs8_pem(&read(certificate)?, &read(key)?)
                .map_err(|error| format!("client certificate/key not usable: {error}"))?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err("client_certificate and client_key go together".into()),
    }
    if let Some(ca) = &destination.ca_certificate {
        for certificate in reqwest::Certificate::from_pem_bundle(&read(ca)?)
            .map_err(|error| format!("CA certificate not usable: {error}"))?
        {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}

/// A send error in words (without the package).
fn describe_send_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut message = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// The receiver's answer in a line: status, Location, and the first diagnostics it gave.
fn answer_summary(status: u16, location: Option<&str>, body: &str) -> String {
    let mut summary = format!("HTTP {status}");
    if let Some(location) = location {
        summary.push_str(&format!(", Location {location}"));
    }
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let outcome = parsed
        .as_ref()
        .and_then(|value| match value["resourceType"].as_str() {
            Some("OperationOutcome") => Some(value.clone()),
            Some("Parameters") => value["parameter"]
                .as_array()?
                .iter()
                .find(|parameter| parameter["name"] == "outcome")
                .map(|parameter| parameter["resource"].clone()),
            _ => None,
        });
    if let Some(document) = parsed.as_ref().and_then(|value| {
        value["parameter"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == "document")?["valueReference"]["reference"]
            .as_str()
            .map(str::to_owned)
    }) {
        summary.push_str(&format!(", stored as {document}"));
    }
    let diagnostics: Vec<&str> = outcome
        .as_ref()
        .and_then(|outcome| outcome["issue"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|issue| issue["diagnostics"].as_str())
        .collect();
    if !diagnostics.is_empty() {
        summary.push_str(": ");
        summary.push_str(&diagnostics.join("; "));
    }
    summary.chars().take(MAX_ANSWER_CHARS).collect()
}

/// Runs deliveries until `stop` turns true: every `poll_interval_ms`, each due task is
/// claimed, sent and recorded.
pub async fn run(gateway: Arc<Gateway>, senders: Arc<Senders>, mut stop: watch::Receiver<bool>) {
    let config = gateway.config().referral.clone();
    let interval = Duration::from_millis(config.poll_interval_ms.max(50));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(error) = deliver_due(&gateway, &senders, &config).await {
            tracing::warn!(%error, "referral delivery round failed; retrying later");
        }
    }
}

/// One round: every task due now.
pub async fn deliver_due(
    gateway: &Gateway,
    senders: &Senders,
    config: &ReferralConfig,
) -> Result<usize, crate::GatewayError> {
    let lease = config.send_timeout_secs.saturating_add(30);
    let mut delivered = 0;
    for task in due_tasks(gateway, Instant::now(), BATCH).await? {
        let Some(claimed) = claim(gateway, &task, lease).await? else {
            continue;
        };
        let attempt = attempt(gateway, senders, &claimed).await;
        let retry = (claimed.attempts() < config.max_attempts)
            .then(|| config.backoff_secs(claimed.attempts()));
        match &attempt {
            Attempt::Delivered(_) => {
                delivered += 1;
                tracing::info!(task = claimed.id(), "referral package delivered");
            }
            Attempt::Refused(why) => {
                tracing::warn!(task = claimed.id(), reason = %why, "referral package refused")
            }
            Attempt::Failed(why) => {
                tracing::warn!(task = claimed.id(), attempts = claimed.attempts(), reason = %why, "referral delivery failed")
            }
        }
        record(gateway, &claimed, &attempt, retry).await?;
    }
    Ok(delivered)
}

/// Sends the package of a claimed task.
async fn attempt(gateway: &Gateway, senders: &Senders, task: &DeliveryTask) -> Attempt {
    let (Some(destination), Some(package_id)) = (task.destination(), task.package_id()) else {
        return Attempt::Refused("the task names no destination or package".into());
    };
    let package = match gateway.read("Bundle", package_id).await {
        Ok(stored) => body_value(&stored),
        Err(error) => return Attempt::Refused(format!("the package cannot be read: {error}")),
    };
    let Some(mut package) = package else {
        return Attempt::Refused("the package was deleted".into());
    };
    if let Some(object) = package.as_object_mut() {
        // The stored copy carries this server's version; the signed content excludes meta.
        object.remove("meta");
    }
    senders.send(destination, &package).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_summarized_with_their_diagnostics() {
        let body = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":"not trusted"}]}"#;
        assert_eq!(answer_summary(403, None, body), "HTTP 403: not trusted");
        let parameters = r#"{"resourceType":"Parameters","parameter":[
            {"name":"document","valueReference":{"reference":"Bundle/b1"}},
            {"name":"outcome","resource":{"resourceType":"OperationOutcome","issue":[{"diagnostics":"stored 9"}]}}]}"#;
        assert_eq!(
            answer_summary(201, Some("x"), parameters),
            "HTTP 201, Location x, stored as Bundle/b1: stored 9"
        );
        assert_eq!(answer_summary(502, None, "<html>"), "HTTP 502");
    }

    #[test]
    fn a_half_configured_client_certificate_is_refused() {
        let destination = DestinationConfig {
            url: "https://b.example/fhir".into(),
            kind: DestinationKind::Tsunagi,
            client_certificate: Some("c.pem".into()),
            client_key: None,
            ca_certificate: None,
        };
        assert!(client_for(&destination, 5)
            .unwrap_err()
            .contains("go together"));
    }
}
