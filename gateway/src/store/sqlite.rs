//! The embedded store: one SQLite file in WAL mode (rusqlite, bundled SQLite).
//!
//! One writer connection serialises transactions (`BEGIN IMMEDIATE`, group-committed by its
//! own thread, see [`super::group_commit`]), so version numbers and conditional creates need no
//! retry loop; a small pool of read connections serves reads in parallel with the writer, as
//! WAL allows. Reads run on tokio's blocking pool.

use super::checkpoint::Checkpointer;
use super::group_commit::GroupWriter;
use super::pool::{run_blocking, Pool};
use super::search_sql::{select_ids_sql, Binds, Dialect, Selected};
use super::sqlite_search::{register_functions, sqlite_params, write_index};
use super::{
    Criteria, HistoryPage, HistoryQuery, HistoryScope, IndexEntry, NewVersion, SearchQuery, Store,
    StoreError, StoreTx, StoredVersion, TxWork, WriteMethod,
};
use crate::clock::Instant;
use crate::config::{SqliteConfig, Synchronous};
use crate::GatewayError;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, ToSql};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Schema versions this binary can apply, in order; index + 1 is the version number.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
];

/// The SQLite backend of [`Store`].
pub struct SqliteStore {
    writer: GroupWriter,
    readers: Arc<Pool<Connection>>,
    needs_reindex: bool,
    _checkpointer: Checkpointer,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and brings its schema up to date.
    pub fn open(path: &Path, config: &SqliteConfig) -> Result<Self, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Backend(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let writer = Connection::open(path).map_err(backend)?;
        configure(&writer, config)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        // Checkpoints run on their own thread (`checkpoint.rs`), not inside the writer's commits.
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(backend)?;
        let from_version = migrate(&writer)?;
        // Let the planner refresh its statistics where they are stale (sampled, so it stays
        // cheap on a large file); without them it can pick a by-resource index for a
        // by-target lookup.
        writer
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002")
            .map_err(backend)?;
        let has_resources: bool = writer
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM resource_current)",
                [],
                |row| row.get(0),
            )
            .map_err(backend)?;
        Ok(SqliteStore {
            needs_reindex: from_version < SEARCH_INDEX_VERSION && has_resources,
            writer: GroupWriter::start(writer)?,
            _checkpointer: Checkpointer::start(
                path,
                Duration::from_millis(config.busy_timeout_ms),
            )?,
            readers: Arc::new(reader_pool(path.to_path_buf(), config.clone())),
        })
    }

    /// True when this open added the search index tables to a database that already held
    /// resources: run [`crate::Gateway::reindex`] before serving searches.
    pub fn needs_reindex(&self) -> bool {
        self.needs_reindex
    }

    async fn with_reader<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = Arc::clone(&self.readers);
        run_blocking(move || {
            let mut connection = pool.take()?;
            read(connection.get()?)
        })
        .await
    }
}

fn configure(connection: &Connection, config: &SqliteConfig) -> Result<(), StoreError> {
    connection
        .busy_timeout(Duration::from_millis(config.busy_timeout_ms))
        .map_err(backend)?;
    let synchronous = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    connection
        .pragma_update(None, "synchronous", synchronous)
        .map_err(backend)?;
    // 32 MiB of page cache per connection (SQLite's default is 2 MiB): ids are random UUIDs,
    // so index inserts land on pages all over the B-trees, and re-reading them dominated ingest.
    connection
        .pragma_update(None, "cache_size", -32768)
        .map_err(backend)?;
    // Savepoints (one per group-committed job) journal into temp storage: keep it in memory.
    connection
        .pragma_update(None, "temp_store", "MEMORY")
        .map_err(backend)?;
    connection
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    register_functions(connection)
}

/// The schema version of the current search index tables (an older file is reindexed).
const SEARCH_INDEX_VERSION: i64 = 3;

/// Applies the missing migrations; returns the version the file had before.
fn migrate(connection: &Connection) -> Result<i64, StoreError> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS tsunagi_schema (version INTEGER NOT NULL)")
        .map_err(backend)?;
    let found: i64 = connection
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM tsunagi_schema",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let batch = format!(
            "BEGIN IMMEDIATE; {script}; INSERT INTO tsunagi_schema (version) VALUES ({version}); COMMIT;"
        );
        if let Err(error) = connection.execute_batch(&batch) {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(backend(error));
        }
    }
    Ok(found)
}

/// Read-only connections; a reader waits for a free one as long as the busy timeout.
fn reader_pool(path: PathBuf, config: SqliteConfig) -> Pool<Connection> {
    let wait = Duration::from_millis(config.busy_timeout_ms);
    Pool::new(
        config.max_readers,
        wait,
        Box::new(move || {
            let connection = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(backend)?;
            connection.busy_timeout(wait).map_err(backend)?;
            register_functions(&connection)?;
            Ok(connection)
        }),
    )
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn read(&self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError> {
        let (res_type, id) = (res_type.to_owned(), id.to_owned());
        self.with_reader(move |connection| select_current(connection, &res_type, &id))
            .await
    }

    async fn vread(
        &self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let (res_type, id) = (res_type.to_owned(), id.to_owned());
        self.with_reader(move |connection| select_version(connection, &res_type, &id, version))
            .await
    }

    async fn history(
        &self,
        scope: &HistoryScope,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        let (scope, query) = (scope.clone(), query.clone());
        self.with_reader(move |connection| select_history(connection, &scope, &query))
            .await
    }

    fn pool_stats(&self) -> Option<crate::metrics::PoolStats> {
        Some(self.readers.stats())
    }

    async fn transact_boxed(&self, work: TxWork) -> Result<(), GatewayError> {
        self.writer.transact(work).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_reader(|connection| {
            connection
                .query_row("SELECT 1", [], |_| Ok(()))
                .map_err(backend)
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<String>, StoreError> {
        let query = query.clone();
        self.with_reader(move |connection| {
            find_ordered(
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
        self.with_reader(move |connection| {
            let refs = refs
                .iter()
                .map(|(res_type, id)| (res_type.as_str(), id.as_str()));
            select_live(connection, refs)
        })
        .await
    }

    async fn search_with_page(
        &self,
        query: &SearchQuery,
        page: std::ops::Range<usize>,
    ) -> Result<(Vec<String>, Vec<StoredVersion>), StoreError> {
        let query = query.clone();
        self.with_reader(move |connection| {
            // One read transaction, so the page is read from the snapshot the matches came from.
            connection.execute_batch("BEGIN").map_err(backend)?;
            let result = find_ordered(
                connection,
                &query.res_type,
                &query.criteria,
                &query.sort,
                query.limit,
            )
            .and_then(|ids| {
                let page = page.start.min(ids.len())..page.end.min(ids.len());
                let refs = ids[page]
                    .iter()
                    .map(|id| (query.res_type.as_str(), id.as_str()));
                let versions = select_live(connection, refs)?;
                Ok((ids, versions))
            });
            let _ = connection.execute_batch("COMMIT");
            result
        })
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
        self.with_reader(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT s.target_type, s.target_id FROM resource_current c
                     JOIN search_reference s ON s.seq = c.seq
                     WHERE c.res_type = ?1 AND c.res_id = ?2 AND (?3 IS NULL OR s.param = ?3)
                       AND (?4 IS NULL OR s.target_type = ?4)
                       AND s.target_type IS NOT NULL AND s.target_id IS NOT NULL",
                )
                .map_err(backend)?;
            let mut found = Vec::new();
            for id in &ids {
                let rows = statement
                    .query_map(params![res_type, id, param, target_type], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .and_then(|rows| rows.collect::<Result<Vec<(String, String)>, _>>())
                    .map_err(backend)?;
                found.extend(rows);
            }
            Ok(found)
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
        self.with_reader(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    // Index rows exist only for live current versions (a delete removes them),
                    // so the version row names the resource.
                    "SELECT DISTINCT v.res_id FROM search_reference s
                     JOIN resource_version v ON v.seq = s.seq
                     WHERE s.res_type = ?1 AND s.param = ?2 AND s.target_id = ?4
                       AND s.target_type = ?3",
                )
                .map_err(backend)?;
            let mut found = Vec::new();
            for (target_type, target_id) in &targets {
                let rows = statement
                    .query_map(params![source_type, param, target_type, target_id], |row| {
                        row.get(0)
                    })
                    .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
                    .map_err(backend)?;
                found.extend(rows);
            }
            Ok(found)
        })
        .await
    }

    async fn current_after(
        &self,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.with_reader(move |connection| {
            let (res_type, id) = after.unwrap_or_default();
            let mut statement = connection
                .prepare_cached(
                    "SELECT res_type, res_id FROM resource_current
                     WHERE deleted = 0 AND (res_type, res_id) > (?1, ?2)
                     ORDER BY res_type, res_id LIMIT ?3",
                )
                .map_err(backend)?;
            statement
                .query_map(params![res_type, id, limit as i64], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .and_then(|rows| rows.collect())
                .map_err(backend)
        })
        .await
    }
}

/// [`StoreTx`] over a connection inside an open transaction.
pub(super) struct SqliteTx<'a> {
    pub(super) connection: &'a Connection,
}

impl StoreTx for SqliteTx<'_> {
    fn current(&mut self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError> {
        select_current(self.connection, res_type, id)
    }

    fn version(
        &mut self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        select_version(self.connection, res_type, id, version)
    }

    fn find(
        &mut self,
        res_type: &str,
        criteria: &Criteria,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        find_ids(self.connection, res_type, criteria, limit)
    }

    fn write(&mut self, new: NewVersion) -> Result<(), StoreError> {
        let stored = &new.stored;
        let connection = self.connection;
        let current: Option<(u64, i64)> = connection
            .prepare_cached(
                "SELECT version, seq FROM resource_current WHERE res_type = ?1 AND res_id = ?2",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![stored.res_type, stored.id], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()
            })
            .map_err(backend)?;
        let previous = current.map(|(version, _)| version);
        if stored.version == 1 && previous.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} already exists",
                stored.reference()
            )));
        }
        if stored.version != previous.unwrap_or(0) + 1 {
            return Err(StoreError::Conflict(format!(
                "{} version {} does not follow {}",
                stored.reference(),
                stored.version,
                previous.unwrap_or(0)
            )));
        }
        connection
            .prepare_cached(
                "INSERT INTO resource_version (res_type, res_id, version, last_updated, method, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    stored.res_type,
                    stored.id,
                    stored.version,
                    stored.last_updated.millis,
                    stored.method.as_str(),
                    stored.body.as_deref(),
                ])
            })
            .map_err(backend)?;
        let seq = connection.last_insert_rowid();
        connection
            .prepare_cached(
                "INSERT INTO resource_current (res_type, res_id, version, seq, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (res_type, res_id) DO UPDATE
                 SET version = excluded.version, seq = excluded.seq, deleted = excluded.deleted",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    stored.res_type,
                    stored.id,
                    stored.version,
                    seq,
                    stored.is_deleted()
                ])
            })
            .map_err(backend)?;
        if previous.is_some() {
            connection
                .prepare_cached("DELETE FROM identifier_index WHERE res_type = ?1 AND res_id = ?2")
                .and_then(|mut statement| statement.execute(params![stored.res_type, stored.id]))
                .map_err(backend)?;
        }
        let mut insert = connection
            .prepare_cached(
                "INSERT INTO identifier_index (res_type, res_id, system, value) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?;
        for key in &new.identifiers {
            insert
                .execute(params![stored.res_type, stored.id, key.system, key.value])
                .map_err(backend)?;
        }
        write_index(
            connection,
            &stored.res_type,
            seq,
            current.map(|(_, seq)| seq),
            &new.search,
        )
    }

    fn reindex(
        &mut self,
        res_type: &str,
        id: &str,
        search: &[IndexEntry],
    ) -> Result<(), StoreError> {
        let seq: Option<i64> = self
            .connection
            .prepare_cached(
                "SELECT seq FROM resource_current WHERE res_type = ?1 AND res_id = ?2 AND deleted = 0",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![res_type, id], |row| row.get(0))
                    .optional()
            })
            .map_err(backend)?;
        match seq {
            Some(seq) => write_index(self.connection, res_type, seq, Some(seq), search),
            None => Ok(()),
        }
    }
}

/// The current, live versions of `refs` (missing and deleted ones left out).
fn select_live<'r>(
    connection: &Connection,
    refs: impl Iterator<Item = (&'r str, &'r str)>,
) -> Result<Vec<StoredVersion>, StoreError> {
    let mut found = Vec::new();
    for (res_type, id) in refs {
        if let Some(stored) = select_current(connection, res_type, id)? {
            if !stored.is_deleted() {
                found.push(stored);
            }
        }
    }
    Ok(found)
}

const VERSION_COLUMNS: &str = "v.res_type, v.res_id, v.version, v.last_updated, v.method, v.body";

fn version_from_row(row: &Row<'_>) -> rusqlite::Result<StoredVersion> {
    let method: String = row.get(4)?;
    let body: Option<Vec<u8>> = row.get(5)?;
    Ok(StoredVersion {
        res_type: row.get(0)?,
        id: row.get(1)?,
        version: row.get(2)?,
        last_updated: Instant {
            millis: row.get(3)?,
        },
        method: WriteMethod::parse(&method).unwrap_or(WriteMethod::Put),
        body: body.map(Into::into),
    })
}

fn select_current(
    connection: &Connection,
    res_type: &str,
    id: &str,
) -> Result<Option<StoredVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM resource_current c JOIN resource_version v ON v.seq = c.seq
         WHERE c.res_type = ?1 AND c.res_id = ?2"
    );
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    statement
        .query_row(params![res_type, id], version_from_row)
        .optional()
        .map_err(backend)
}

fn select_version(
    connection: &Connection,
    res_type: &str,
    id: &str,
    version: u64,
) -> Result<Option<StoredVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM resource_version v
         WHERE v.res_type = ?1 AND v.res_id = ?2 AND v.version = ?3"
    );
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    statement
        .query_row(params![res_type, id, version], version_from_row)
        .optional()
        .map_err(backend)
}

fn select_history(
    connection: &Connection,
    scope: &HistoryScope,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    let snapshot = match query.snapshot {
        Some(snapshot) => snapshot,
        None => connection
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM resource_version",
                [],
                |row| row.get(0),
            )
            .map_err(backend)?,
    };
    let mut filters = vec!["v.seq <= ?".to_string()];
    let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(snapshot)];
    match scope {
        HistoryScope::System => {}
        HistoryScope::Type(res_type) => {
            filters.push("v.res_type = ?".into());
            values.push(Box::new(res_type.clone()));
        }
        HistoryScope::Instance(res_type, id) => {
            filters.push("v.res_type = ? AND v.res_id = ?".into());
            values.push(Box::new(res_type.clone()));
            values.push(Box::new(id.clone()));
        }
    }
    if let Some(since) = query.since {
        filters.push("v.last_updated >= ?".into());
        values.push(Box::new(since.millis));
    }
    let filter = filters.join(" AND ");
    let arguments: Vec<&dyn ToSql> = values.iter().map(|value| value.as_ref()).collect();
    let total: u64 = connection
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM resource_version v WHERE {filter}"
        ))
        .and_then(|mut statement| statement.query_row(&arguments[..], |row| row.get(0)))
        .map_err(backend)?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM resource_version v WHERE {filter}
         ORDER BY v.seq DESC LIMIT {} OFFSET {}",
        query.count, query.offset
    );
    let mut statement = connection.prepare(&sql).map_err(backend)?;
    let versions = statement
        .query_map(&arguments[..], version_from_row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    Ok(HistoryPage {
        versions,
        total,
        snapshot,
    })
}

fn find_ids(
    connection: &Connection,
    res_type: &str,
    criteria: &Criteria,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut ids = find_ordered(connection, res_type, criteria, &[], limit)?;
    ids.sort();
    Ok(ids)
}

/// Ids of live `res_type` resources meeting `criteria`, in `sort` order, at most `limit`.
fn find_ordered(
    connection: &Connection,
    res_type: &str,
    criteria: &Criteria,
    sort: &[super::SortKey],
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut binds = Binds::new(Dialect::Sqlite);
    let sql = select_ids_sql(
        res_type,
        criteria,
        sort,
        Some(limit),
        Selected::Ids,
        &mut binds,
    );
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    let arguments = sqlite_params(&binds);
    statement
        .query_map(&arguments[..], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(backend)
}

pub(super) fn backend(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            StoreError::Busy(error.to_string())
        }
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        _ => StoreError::Backend(error.to_string()),
    }
}
