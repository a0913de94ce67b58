//! The shared store: PostgreSQL, for a regional instance where several gateway replicas serve
//! one database (the `postgres` crate over a small pool, on tokio's blocking threads).
//!
//! Replicas coordinate only through the database:
//! - a version is written as `current + 1` under `UNIQUE (res_type, res_id, version)`; the
//!   replica that loses a race gets a unique violation, rolls back and runs the whole
//!   transaction again (with the FHIR rules, so a stale `If-Match` then fails as it should);
//! - conditional operations take a transaction-scoped advisory lock on their criteria before
//!   they look, so two replicas creating the same identifier end with one resource;
//! - schema migrations run under a session advisory lock, so replicas starting together apply
//!   each one once; a schema newer than the binary stops the start.
//!
//! The statements come from the same builder as SQLite's ([`super::search_sql`]); the tables
//! are the same (`schema_v1.sql` here).

mod index_rows;
mod reads;
mod tx;

use super::pool::{run_blocking, Lent, Pool};
use super::search_sql::BindValue;
use super::{
    HistoryPage, HistoryQuery, HistoryScope, SearchQuery, Store, StoreError, StoredVersion, TxWork,
};
use crate::config::PostgresConfig;
use crate::GatewayError;
use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Schema versions this binary can apply, in order; index + 1 is the version number.
const MIGRATIONS: &[&str] = &[include_str!("schema_v1.sql")];

/// The PostgreSQL backend of [`Store`].
pub struct PostgresStore {
    pool: Arc<Pool<PgConnection>>,
    max_retries: u32,
}

/// One database connection and the statements prepared on it.
pub(super) struct PgConnection {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl PgConnection {
    /// The statement for `sql`, prepared on this connection once.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, libpq options allowed), applies the
    /// missing schema migrations and checks that the schema is not newer than this binary.
    /// Safe to call from async code: the connecting runs on its own thread.
    pub fn open(url: &str, config: &PostgresConfig) -> Result<Self, StoreError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| Self::open_blocking(url, config))
                .join()
                .unwrap_or_else(|_| Err(StoreError::Backend("opening the store panicked".into())))
        })
    }

    fn open_blocking(url: &str, config: &PostgresConfig) -> Result<Self, StoreError> {
        let mut settings: postgres::Config = url
            .parse()
            .map_err(|error| StoreError::Backend(format!("invalid PostgreSQL URL: {error}")))?;
        settings.connect_timeout(Duration::from_secs(config.connect_timeout_secs.max(1)));
        settings.application_name("tsunagi");
        let statement_timeout = config.statement_timeout_ms;
        let opener = move || -> Result<PgConnection, StoreError> {
            let mut client = settings.connect(NoTls).map_err(connect_error)?;
            client
                .batch_execute(&format!(
                    "SET statement_timeout = {statement_timeout}; SET TIME ZONE 'UTC'"
                ))
                .map_err(backend)?;
            Ok(PgConnection {
                client,
                prepared: HashMap::new(),
            })
        };
        let mut first = opener()?;
        migrate(&mut first.client)?;
        drop(first);
        let pool = Pool::new(
            config.max_connections,
            Duration::from_secs(config.connect_timeout_secs.max(1)),
            Box::new(opener),
        );
        Ok(PostgresStore {
            pool: Arc::new(pool),
            max_retries: config.max_retries,
        })
    }

    /// The schema version of the database at `url` and the newest this binary knows.
    pub fn schema_versions(&self) -> Result<(i64, i64), StoreError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut lent = self.pool.take()?;
                    let found = schema_version(&mut lent.get()?.client);
                    release(lent);
                    Ok((found?, MIGRATIONS.len() as i64))
                })
                .join()
                .unwrap_or_else(|_| Err(StoreError::Backend("reading the schema panicked".into())))
        })
    }

    async fn with_connection<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = Arc::clone(&self.pool);
        run_blocking(move || {
            let mut lent = pool.take()?;
            let result = job(lent.get()?);
            release(lent);
            result
        })
        .await
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // A `postgres::Client` blocks on its own runtime when it closes, which is not allowed
        // on an async thread: close the idle connections on a thread of their own.
        let idle = self.pool.drain_idle();
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

/// Returns a connection to the pool, or drops it when the server closed it.
fn release(mut lent: Lent<'_, PgConnection>) {
    let closed = lent
        .get()
        .map_or(true, |connection| connection.client.is_closed());
    if closed {
        lent.discard();
    }
}

/// Applies the missing migrations under a session advisory lock (replicas starting together
/// wait for each other); refuses a schema newer than this binary.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    const LOCK: &str =
        "SELECT pg_advisory_lock(hashtextextended('tsunagi-migrate:' || current_schema(), 0))";
    const UNLOCK: &str =
        "SELECT pg_advisory_unlock(hashtextextended('tsunagi-migrate:' || current_schema(), 0))";
    client.batch_execute(LOCK).map_err(backend)?;
    let result = apply_migrations(client);
    let unlocked = client.batch_execute(UNLOCK).map_err(backend);
    result.and(unlocked)
}

fn apply_migrations(client: &mut Client) -> Result<(), StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS tsunagi_schema (version INTEGER NOT NULL)")
        .map_err(backend)?;
    let found = schema_version(client)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index + 1;
        let batch = format!(
            "BEGIN; {script}; INSERT INTO tsunagi_schema (version) VALUES ({version}); COMMIT;"
        );
        if let Err(error) = client.batch_execute(&batch) {
            let _ = client.batch_execute("ROLLBACK");
            return Err(backend(error));
        }
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    Ok(())
}

fn schema_version(client: &mut Client) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::int8 FROM tsunagi_schema",
            &[],
        )
        .map_err(backend)?;
    row.try_get(0).map_err(backend)
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn read(&self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError> {
        let (res_type, id) = (res_type.to_owned(), id.to_owned());
        self.with_connection(move |connection| reads::current(connection, &res_type, &id))
            .await
    }

    async fn vread(
        &self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let (res_type, id) = (res_type.to_owned(), id.to_owned());
        self.with_connection(move |connection| reads::version(connection, &res_type, &id, version))
            .await
    }

    async fn history(
        &self,
        scope: &HistoryScope,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        let (scope, query) = (scope.clone(), query.clone());
        self.with_connection(move |connection| reads::history(connection, &scope, &query))
            .await
    }

    async fn transact_boxed(&self, work: TxWork) -> Result<(), GatewayError> {
        let pool = Arc::clone(&self.pool);
        let max_retries = self.max_retries;
        tokio::task::spawn_blocking(move || tx::run(&pool, work, max_retries))
            .await
            .map_err(|error| StoreError::Backend(format!("store task failed: {error}")))?
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            connection.client.batch_execute("SELECT 1").map_err(backend)
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<String>, StoreError> {
        let query = query.clone();
        self.with_connection(move |connection| {
            reads::find(
                connection,
                &query.res_type,
                &query.criteria,
                &query.sort,
                query.limit,
            )
        })
        .await
    }

    async fn read_many(&self, refs: &[(String, String)]) -> Result<Vec<StoredVersion>, StoreError> {
        let refs = refs.to_vec();
        self.with_connection(move |connection| reads::live(connection, &refs))
            .await
    }

    async fn references_from(
        &self,
        res_type: &str,
        ids: &[String],
        param: Option<&str>,
        target_type: Option<&str>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (res_type, ids) = (res_type.to_owned(), ids.to_vec());
        let (param, target_type) = (param.map(str::to_owned), target_type.map(str::to_owned));
        self.with_connection(move |connection| {
            reads::references_from(connection, &res_type, &ids, param, target_type)
        })
        .await
    }

    async fn references_to(
        &self,
        source_type: &str,
        param: &str,
        targets: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        let (source_type, param, targets) =
            (source_type.to_owned(), param.to_owned(), targets.to_vec());
        self.with_connection(move |connection| {
            reads::references_to(connection, &source_type, &param, &targets)
        })
        .await
    }

    async fn current_after(
        &self,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.with_connection(move |connection| reads::current_after(connection, after, limit))
            .await
    }

    fn shared(&self) -> bool {
        true
    }

    fn pool_stats(&self) -> Option<crate::metrics::PoolStats> {
        Some(self.pool.stats())
    }

    async fn current_version(&self, res_type: &str, id: &str) -> Result<Option<u64>, StoreError> {
        let (res_type, id) = (res_type.to_owned(), id.to_owned());
        self.with_connection(move |connection| reads::current_version(connection, &res_type, &id))
            .await
    }
}

impl ToSql for BindValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            // PostgreSQL text cannot hold NUL; no stored value has one, so the search value
            // only has to keep matching nothing.
            BindValue::Text(text) if text.contains('\0') => {
                text.replace('\0', "\u{FFFD}").as_str().to_sql(ty, out)
            }
            BindValue::Text(text) => text.as_str().to_sql(ty, out),
            BindValue::Int(number) => number.to_sql(ty, out),
            BindValue::Real(number) => number.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty) || <i64 as ToSql>::accepts(ty) || <f64 as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn connect_error(error: postgres::Error) -> StoreError {
    StoreError::Backend(format!("cannot connect to PostgreSQL: {error}"))
}

/// Maps a database error to [`StoreError`].
pub(super) fn backend(error: postgres::Error) -> StoreError {
    let text = match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    };
    match error.code() {
        Some(code)
            if *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Race(text)
        }
        Some(code)
            if *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::QUERY_CANCELED
                || *code == SqlState::TOO_MANY_CONNECTIONS =>
        {
            StoreError::Busy(text)
        }
        _ => StoreError::Backend(text),
    }
}
