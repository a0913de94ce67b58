//! `tsunagi serve` as a separate process on a free loopback port, as replicas run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A gateway process on a free loopback port.
pub struct Replica {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Replica {
    /// Starts `tsunagi serve --db db` (2 workers, warnings only in the log).
    pub fn start(db: &str) -> Replica {
        Replica::start_on(free_port(), db, &[])
    }

    /// Starts `tsunagi serve` on `port` over `db` with `extra` arguments (e.g. `--config`).
    pub fn start_on(port: u16, db: &str, extra: &[&str]) -> Replica {
        let child = Command::new(env!("CARGO_BIN_EXE_tsunagi"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db",
                db,
            ])
            .args(extra)
            .env("TSUNAGI_WORKERS", "2")
            .env("TSUNAGI_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tsunagi serve");
        Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits (at most 30 s) until `/readyz` answers 200.
    pub async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|response| response.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free right now (for a server started later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}
