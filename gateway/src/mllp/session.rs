//! One MLLP connection: read a frame, turn the message into a store transaction, answer with
//! an ACK in the sender's character set, repeat.

use super::frame::{framed, FrameError, FrameLimits, FrameReader};
use crate::clock::Instant;
use crate::ingest::SourceFormat;
use crate::outcome::Severity;
use crate::{Gateway, GatewayError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tsunagi_adapters::hl7v2::er7::{
    build_ack, build_reject_for_unparsable, AckCode, AckError, Location, Message,
};
use tsunagi_adapters::hl7v2::{convert_message, Hl7Error};

/// Serves one sender until it disconnects, idles out, breaks the framing or `stop` turns
/// true while no message is being worked on.
pub async fn serve_connection(
    gateway: Arc<Gateway>,
    stream: TcpStream,
    peer: SocketAddr,
    limits: FrameLimits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut frames = FrameReader::new(reader, limits);
    loop {
        let next = tokio::select! {
            _ = super::stopped(&mut stop) => break,
            next = frames.next_frame() => next,
        };
        let message = match next {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(error) => {
                log_frame_error(&error, peer);
                if let FrameError::TooLarge { limit } = error {
                    // The rest of the stream cannot be trusted to be in step; refuse and close.
                    let reply = oversized_reply(limit);
                    let _ = writer.write_all(&framed(&reply)).await;
                }
                break;
            }
        };
        let reply = acknowledge(&gateway, &message).await;
        if let Err(error) = writer.write_all(&framed(&reply)).await {
            tracing::info!(%peer, %error, "MLLP sender went away before its ACK");
            break;
        }
    }
    let _ = writer.shutdown().await;
}

fn log_frame_error(error: &FrameError, peer: SocketAddr) {
    match error {
        FrameError::Idle(_) => tracing::debug!(%peer, %error, "MLLP connection closed"),
        _ => tracing::warn!(%peer, %error, "MLLP connection closed"),
    }
}

/// Converts, stores and acknowledges one message; never fails (every failure is an ACK).
pub async fn acknowledge(gateway: &Gateway, bytes: &[u8]) -> Vec<u8> {
    let settings = gateway.source();
    let now = Instant::now().to_hl7();
    let control_id = next_control_id();
    let message = match Message::parse(bytes, &settings.hl7.decode) {
        Ok(message) => message,
        Err(error) => {
            gateway.metrics().record_ingest("hl7v2", "refused");
            tracing::warn!(%error, "MLLP message rejected: unreadable");
            return build_reject_for_unparsable(bytes, &error, &now, &control_id);
        }
    };
    let reply = |code: AckCode, location: Option<&Location>, hl7_code: &str, text: &str| {
        let ack_error = AckError {
            location,
            hl7_error_code: hl7_code,
            severity: 'E',
            text,
        };
        build_ack(&message, code, Some(&ack_error), &now, &control_id)
    };
    let conversion = match convert_message(&message, bytes, &settings.context) {
        Ok(conversion) => conversion,
        Err(error) => {
            gateway.metrics().record_ingest("hl7v2", "refused");
            tracing::warn!(%error, "MLLP message refused: not convertible");
            let code = match error {
                Hl7Error::UnsupportedMessageType { .. } => AckCode::Reject,
                _ => AckCode::Error,
            };
            let text = error.to_string();
            return reply(code, error.location(), error.hl7_error_code(), &text);
        }
    };
    let accepted = || build_ack(&message, AckCode::Accept, None, &now, &control_id);
    if let Some(binary_id) = conversion.source_binary_id.as_deref() {
        match gateway.read("Binary", binary_id).await {
            Ok(_) => {
                tracing::info!("MLLP duplicate message acknowledged without applying it again");
                return accepted();
            }
            Err(GatewayError::NotFound(_) | GatewayError::Gone(_)) => {}
            Err(error) => return reply(AckCode::Error, None, "207", &error.to_string()),
        }
    }
    match gateway.ingest(&conversion, SourceFormat::Hl7v2).await {
        Ok(ingested) => {
            if !ingested.validation.is_empty() {
                tracing::info!(
                    issues = ingested.validation.len(),
                    "MLLP message stored with validation issues"
                );
            }
            accepted()
        }
        Err(error) if error.validation_outcome().is_some() => {
            // Counts only: validation messages can quote the message's values.
            let issues = error.issues();
            let errors = issues
                .iter()
                .filter(|issue| issue.severity <= Severity::Error)
                .count();
            tracing::warn!(errors, "MLLP message refused: validation");
            let first = issues
                .iter()
                .find(|issue| issue.severity <= Severity::Error)
                .map(|issue| format!("{}: {}", issue.expression.join(", "), issue.diagnostics))
                .unwrap_or_else(|| error.to_string());
            let text = match errors {
                0 | 1 => format!("not stored, the FHIR validation failed: {first}"),
                more => format!(
                    "not stored, the FHIR validation failed: {first} (and {} more errors)",
                    more - 1
                ),
            };
            reply(AckCode::Error, None, validation_error_code(&error), &text)
        }
        Err(error @ GatewayError::Conversion { .. }) => {
            tracing::warn!(%error, "MLLP message refused");
            reply(AckCode::Error, None, "102", &error.to_string())
        }
        Err(error) => {
            tracing::error!(%error, "MLLP message not stored");
            reply(AckCode::Error, None, "207", &error.to_string())
        }
    }
}

/// HL7 table 0357 code for a refused validation: 101 when a required element is missing,
/// 103 for a code outside its value set, 102 (data type error) otherwise.
fn validation_error_code(error: &GatewayError) -> &'static str {
    use tsunagi_profiles::validate::{IssueType, Severity as Found};
    let first = error.validation_outcome().and_then(|outcome| {
        outcome
            .issues
            .iter()
            .find(|issue| issue.severity <= Found::Error)
    });
    match first.map(|issue| issue.kind) {
        Some(IssueType::Required) => "101",
        Some(IssueType::CodeInvalid) => "103",
        _ => "102",
    }
}

/// The reply to a frame over the size limit, whose message we did not read.
fn oversized_reply(limit: usize) -> Vec<u8> {
    format!(
        "MSH|^~\\&|TSUNAGI||||{}||ACK|{}|P|2.5\rMSA|AR|\rERR||||E|||message over the MLLP frame limit of {limit} bytes\r",
        Instant::now().to_hl7(),
        next_control_id()
    )
    .into_bytes()
}

/// A control id for our ACKs, unique within this process and across restarts.
fn next_control_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let sequence = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("TS{}{sequence:06}", Instant::now().millis)
}
