//! Test support: a real gateway on a real loopback port over a real store, and the FHIR R4
//! example package fetched (once, cached) from the npm registry.
//!
//! The store is a SQLite file in a temp dir, or, with `TSUNAGI_TEST_STORE=postgres`, a schema
//! of its own in the PostgreSQL at `TSUNAGI_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the server stops. The same REST,
//! store and search tests thus run against both backends (`.ci/run` runs them twice).
#![allow(dead_code)]

pub mod examples;
pub mod media;
pub mod postgres_db;
pub mod replica;

use std::net::TcpListener;
use std::sync::Arc;
use tsunagi_gateway::config::Config;
use tsunagi_gateway::store::Store;
use tsunagi_gateway::Gateway;

/// A gateway serving HTTP on 127.0.0.1 in its own thread, over a SQLite file in a temp dir.
pub struct TestServer {
    /// `http://127.0.0.1:PORT/fhir`
    pub base: String,
    /// The MLLP listener's address (every test server runs one).
    pub mllp: std::net::SocketAddr,
    /// The HTTP client tests use.
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL schema this server owns (dropped with it), if any.
    _schema: Option<postgres_db::TestSchema>,
}

impl TestServer {
    /// Starts a server with default configuration.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Starts a server after `adjust` has changed the configuration.
    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let schema = postgres_db::TestSchema::for_test_store();
        let db = match &schema {
            Some(schema) => schema.url(),
            None => dir.path().join("tsunagi.db").display().to_string(),
        };
        Self::start_on(db, dir, schema, adjust)
    }

    /// Starts a server on the store `db` (a SQLite path or a PostgreSQL URL); several servers
    /// on one PostgreSQL URL are replicas of one regional instance.
    pub fn start_on_db(db: String, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(db, tempfile::tempdir().expect("temp dir"), None, adjust)
    }

    fn start_on(
        db: String,
        dir: tempfile::TempDir,
        schema: Option<postgres_db::TestSchema>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("local addr");
        let mllp_listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback for MLLP");
        let mllp = mllp_listener.local_addr().expect("MLLP local addr");
        let mut config = Config {
            listen: address.to_string(),
            db,
            workers: Some(2),
            ..Config::default()
        };
        adjust(&mut config);
        let base = config.base_url();
        let store: Arc<dyn Store> = tsunagi_gateway::store::open(&config)
            .expect("open store")
            .store;
        let gateway = Arc::new(Gateway::new(config, store).expect("gateway configuration"));
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mllp_gateway = Arc::clone(&gateway);
                actix_web::rt::spawn(async move {
                    let _ = tsunagi_gateway::mllp::serve(mllp_gateway, mllp_listener).await;
                });
                let server = tsunagi_gateway::http::start(gateway, listener).expect("start server");
                sender.send(server.handle()).expect("send handle");
                server.await.expect("server ran");
            })
        });
        let handle = receiver.recv().expect("server handle");
        TestServer {
            base,
            mllp,
            // Idle connections are dropped before the server's 5 s keep-alive could close one
            // under a request in flight.
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(1))
                .build()
                .expect("HTTP client"),
            handle,
            thread: Some(thread),
            _dir: dir,
            _schema: schema,
        }
    }

    /// `base/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// POSTs raw bytes with a content type to `path`; status and JSON body (`null` if none).
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Sends FHIR JSON with `method` to `path`.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .header("Content-Type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request sent")
    }

    /// GETs `path` and returns status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("GET sent");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Tests run inside a tokio runtime, where blocking on a future is not allowed: wait for
        // the stop signal on a plain thread.
        let stopping = self.handle.stop(false);
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(stopping)).join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// JSON with `meta.versionId` and `meta.lastUpdated` removed (and `meta` if that empties it).
pub fn without_version_meta(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(object) = value.as_object_mut() {
        let empty = object
            .get_mut("meta")
            .and_then(serde_json::Value::as_object_mut)
            .map(|meta| {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                meta.is_empty()
            })
            .unwrap_or(false);
        if empty {
            object.remove("meta");
        }
    }
    value
}

/// The bytes of a hand-written HL7 v2 message under `tests/data/hl7v2/`.
pub fn hl7v2_message(name: &str) -> Vec<u8> {
    let path = hl7v2_path(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The path of `gateway/tests/data/hl7v2/{name}`.
pub fn hl7v2_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hl7v2")
        .join(name)
}
