//! Test support: the real gateway on a loopback port over a SQLite file in a temp dir, and a
//! small, deliberately wrong FHIR server (raw HTTP/1.1 over tokio TCP).
#![allow(dead_code)]

/// The R4 example package, fetched once into the shared fixture cache (the gateway's helper).
#[allow(dead_code)]
#[path = "../../../gateway/tests/common/examples.rs"]
pub mod examples;
pub mod junit_shape;
pub mod wrong_server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tsunagi_conformance::{Engine, EngineOptions};
use tsunagi_gateway::config::Config;
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;
use tsunagi_profiles::validate::Validator;

/// A real gateway serving HTTP on 127.0.0.1 in its own thread.
pub struct GatewayServer {
    /// `http://127.0.0.1:PORT/fhir`
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl GatewayServer {
    /// Starts a gateway with the default configuration.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let config = Config {
            listen: listener.local_addr().expect("local addr").to_string(),
            db: dir.path().join("tsunagi.db").display().to_string(),
            workers: Some(2),
            ..Config::default()
        };
        let base = config.base_url();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&PathBuf::from(&config.db), &config.sqlite).expect("open store"),
        );
        let gateway = Arc::new(Gateway::new(config, store).expect("gateway configuration"));
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = tsunagi_gateway::http::start(gateway, listener).expect("start server");
                sender.send(server.handle()).expect("send handle");
                server.await.expect("server ran");
            })
        });
        let handle = receiver.recv().expect("server handle");
        GatewayServer {
            base,
            handle,
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for GatewayServer {
    fn drop(&mut self) {
        let stopping = self.handle.stop(false);
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(stopping)).join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `conformance/suites/<name>`.
pub fn suite_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("suites")
        .join(name)
}

/// An engine for `base` with the built-in definitions.
pub fn engine(base: &str) -> Engine {
    engine_with(base, Vec::new())
}

/// An engine for `base` that also looks up `Type/id` fixtures in `fixture_dirs`.
pub fn engine_with(base: &str, fixture_dirs: Vec<PathBuf>) -> Engine {
    Engine::new(
        EngineOptions {
            base: base.to_owned(),
            headers: Vec::new(),
            fixture_dirs,
            variables: Default::default(),
            timeout: Duration::from_secs(20),
        },
        Arc::new(Validator::r4_core()),
    )
    .expect("engine")
}

/// Runs every TestScript under `dir` and returns the results in file order.
pub async fn run_suite(engine: &Engine, dir: &Path) -> Vec<tsunagi_conformance::ScriptResult> {
    let files = tsunagi_conformance::collect_scripts(&[dir.to_owned()]).expect("scripts");
    assert!(!files.is_empty(), "no TestScripts under {}", dir.display());
    let mut results = Vec::new();
    for file in files {
        results.push(engine.run_file(&file).await);
    }
    results
}
