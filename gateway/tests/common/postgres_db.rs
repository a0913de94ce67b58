//! PostgreSQL for tests: a schema of its own per test server (or per replica group), created
//! in the database at `TSUNAGI_TEST_POSTGRES` and dropped afterwards, so runs never collide.

use std::sync::atomic::{AtomicU64, Ordering};

/// The database tests use unless `TSUNAGI_TEST_POSTGRES` names another.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server URL tests use.
pub fn server_url() -> String {
    std::env::var("TSUNAGI_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// True when `TSUNAGI_TEST_STORE=postgres`: every test server runs on PostgreSQL.
pub fn test_store_is_postgres() -> bool {
    std::env::var("TSUNAGI_TEST_STORE").is_ok_and(|store| store == "postgres")
}

/// A schema created for one test and dropped when this is dropped.
pub struct TestSchema {
    server: String,
    name: String,
}

impl TestSchema {
    /// A new schema when the test store is PostgreSQL; `None` for SQLite. Panics when
    /// PostgreSQL was asked for and cannot be reached: a test must not pass on the wrong store.
    pub fn for_test_store() -> Option<Self> {
        test_store_is_postgres().then(|| {
            Self::create().unwrap_or_else(|reason| {
                panic!("TSUNAGI_TEST_STORE=postgres but {}: {reason}", server_url())
            })
        })
    }

    /// Creates a fresh schema, or says why it cannot.
    pub fn create() -> Result<Self, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tsunagi_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            uuid::Uuid::new_v4().simple()
        );
        let server = server_url();
        run_sql(&server, &format!("CREATE SCHEMA {name}"))?;
        Ok(TestSchema { server, name })
    }

    /// The URL of the schema (its `search_path` is set by the connection options).
    pub fn url(&self) -> String {
        let separator = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-csearch_path%3D{}",
            self.server, self.name
        )
    }

    /// Runs `sql` in this schema.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        run_sql(&self.url(), sql)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = run_sql(
            &self.server,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

/// Runs `sql` on a new connection, on a thread of its own (the blocking client may not run
/// on an async test's thread).
pub fn run_sql(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .map_err(|error| format!("cannot connect: {error}"))?;
        client
            .batch_execute(&sql)
            .map_err(|error| format!("{sql}: {error}"))
    })
    .join()
    .unwrap_or_else(|_| Err("the SQL thread panicked".into()))
}

/// A PostgreSQL schema for a test that needs one whatever the test store: `None` (with the
/// reason printed) when no server answers and `CI` is unset; a failing test under `CI`.
pub fn schema_or_skip(test: &str) -> Option<TestSchema> {
    match TestSchema::create() {
        Ok(schema) => Some(schema),
        Err(reason) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL at {} ({reason})",
                server_url()
            );
            None
        }
        Err(reason) => panic!(
            "{test}: CI is set but PostgreSQL at {} is unusable: {reason}",
            server_url()
        ),
    }
}
