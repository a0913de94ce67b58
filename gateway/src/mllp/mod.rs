//! The MLLP listener: HL7 v2 senders connect over TCP, send framed messages and get an
//! original-mode ACK for each. `AA` is sent only after the message's data is committed; a
//! message that cannot be read or converted gets `AR`/`AE` with an ERR segment naming where.
//!
//! [`frame`] finds frames in the byte stream (limits, timeouts); [`session`] turns one message
//! into a store transaction and an ACK. Nothing here knows FHIR beyond calling the gateway.

pub mod frame;
pub mod session;

use crate::Gateway;
use frame::FrameLimits;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Accepts MLLP connections on `listener` until the runtime stops; each connection is served
/// on its own task, at most `mllp.max_connections` at once.
pub async fn serve(gateway: Arc<Gateway>, listener: std::net::TcpListener) -> std::io::Result<()> {
    let (_never, stop) = watch::channel(false);
    serve_until(gateway, listener, stop).await
}

/// [`serve`] until `stop` turns true; then accepts no new connection, lets every connection
/// finish the message it is working on (ACK sent), closes it, and returns once all are closed.
/// A frame still arriving is dropped unacknowledged: its sender sends it again.
pub async fn serve_until(
    gateway: Arc<Gateway>,
    listener: std::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let settings = &gateway.config().mllp;
    let limits = FrameLimits {
        max_frame_bytes: settings.max_frame_bytes,
        idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
        frame_timeout: Duration::from_secs(settings.frame_timeout_secs),
    };
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    loop {
        let next = async {
            let slot = Arc::clone(&slots).acquire_owned().await;
            (slot, listener.accept().await)
        };
        let (slot, accepted) = tokio::select! {
            _ = stopped(&mut stop) => break,
            next = next => next,
        };
        let Ok(slot) = slot else {
            return Ok(());
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and similar: wait a moment instead of spinning.
                tracing::warn!(%error, "MLLP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let gateway = Arc::clone(&gateway);
        let stop = stop.clone();
        tokio::spawn(async move {
            session::serve_connection(gateway, stream, peer, limits, stop).await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("MLLP listener stopped; waiting for open connections to finish");
    let all = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// Resolves once `stop` is true (or its sender is gone without saying so: never).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}
