//! The WAL checkpointer: a thread with its own connection that copies committed WAL frames
//! into the database file every [`INTERVAL`], so the writer thread never stalls on a
//! checkpoint in the middle of a commit (SQLite's automatic checkpoint runs inside the commit
//! that crosses the threshold). Passive checkpoints never wait for readers or the writer.
//! Dropping the [`Checkpointer`] stops the thread after one last checkpoint.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the WAL is checkpointed.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// Owns the checkpointer thread; dropping it stops the thread.
pub struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode).
    pub fn start(path: &Path, busy_timeout: Duration) -> Result<Checkpointer, StoreError> {
        let connection =
            Connection::open(path).map_err(|error| StoreError::Backend(error.to_string()))?;
        connection
            .busy_timeout(busy_timeout)
            .map_err(|error| StoreError::Backend(error.to_string()))?;
        let (stop, stopped) = channel::<()>();
        std::thread::Builder::new()
            .name("tsunagi-sqlite-checkpoint".into())
            .spawn(move || loop {
                let last = matches!(
                    stopped.recv_timeout(INTERVAL),
                    Err(RecvTimeoutError::Disconnected) | Ok(())
                );
                // A failed checkpoint (busy, IO) is retried at the next tick; the WAL keeps
                // every frame until then, so nothing is lost.
                let _ = connection.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                if last {
                    break;
                }
            })
            .map_err(|error| {
                StoreError::Backend(format!("cannot start the checkpointer: {error}"))
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}
