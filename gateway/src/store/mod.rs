//! Persistence: the [`Store`] trait every backend implements, and its value types.
//!
//! The store keeps every version of every resource (a delete is a version without a body), a
//! pointer to each resource's current version, and the index rows conditional operations match
//! on. FHIR rules (version numbering, If-Match, Bundles) live above, in [`crate::fhir`], and run
//! inside [`Store::transact`] against the small [`StoreTx`] interface, so each backend only
//! implements storage.

mod checkpoint;
mod group_commit;
mod open;
mod pool;
mod postgres;
pub mod query;
pub mod residual;
mod search_sql;
mod sqlite;
mod sqlite_search;

pub use open::{describe, is_postgres_url, open, Opened};
pub use postgres::PostgresStore;
pub use query::{Clause, Condition, IndexKind, Prefix, SortKey, StringMatch, UriMatch};
pub use residual::{CompositePart, Residual};
pub use search_sql::approximate_range;
pub use sqlite::SqliteStore;
pub use tsunagi_profiles::search::IndexEntry;

use crate::clock::Instant;
use crate::GatewayError;
use bytes::Bytes;
use std::sync::{Arc, Mutex};

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    /// Resource type, e.g. `Patient`.
    pub res_type: String,
    /// Logical id.
    pub id: String,
    /// Version number, 1-based and gapless per resource.
    pub version: u64,
    /// When this version was written.
    pub last_updated: Instant,
    /// The interaction that wrote it.
    pub method: WriteMethod,
    /// The resource JSON with `meta.versionId`/`meta.lastUpdated` set; `None` for a delete.
    pub body: Option<Bytes>,
}

impl StoredVersion {
    /// True when this version records a delete.
    pub fn is_deleted(&self) -> bool {
        self.body.is_none()
    }

    /// `Type/id`.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.res_type, self.id)
    }
}

/// The interaction that produced a version (history's `request.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    /// create
    Post,
    /// update
    Put,
    /// patch
    Patch,
    /// delete
    Delete,
}

impl WriteMethod {
    /// The HTTP verb.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMethod::Post => "POST",
            WriteMethod::Put => "PUT",
            WriteMethod::Patch => "PATCH",
            WriteMethod::Delete => "DELETE",
        }
    }

    /// Parses the HTTP verb as stored.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "POST" => Some(WriteMethod::Post),
            "PUT" => Some(WriteMethod::Put),
            "PATCH" => Some(WriteMethod::Patch),
            "DELETE" => Some(WriteMethod::Delete),
            _ => None,
        }
    }
}

/// A version to write inside a transaction.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The version itself (its `body` is `None` for a delete).
    pub stored: StoredVersion,
    /// Identifier index rows for the new current version (empty for a delete).
    pub identifiers: Vec<IdentifierKey>,
    /// Search index entries of the new current version (empty for a delete).
    pub search: Vec<IndexEntry>,
}

/// One `identifier` of a resource as indexed: system (`""` when absent) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierKey {
    /// `Identifier.system`, or empty.
    pub system: String,
    /// `Identifier.value`.
    pub value: String,
}

/// What a conditional operation matches on. All criteria must hold (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    /// `_id` values; the resource's id must be one of each list (comma = OR).
    pub ids: Vec<Vec<String>>,
    /// `identifier` tokens; one of each list must match (comma = OR).
    pub identifiers: Vec<Vec<TokenMatch>>,
    /// Search clauses over the index tables (all must hold).
    pub clauses: Vec<Clause>,
}

/// A search over the current, live resources of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// The resource type.
    pub res_type: String,
    /// What the resources must meet.
    pub criteria: Criteria,
    /// The order (then newest first).
    pub sort: Vec<SortKey>,
    /// At most this many ids.
    pub limit: usize,
}

/// One `identifier` search token: `system|value`, `|value`, `system|` or `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMatch {
    /// `None`: any system; `Some("")`: no system.
    pub system: Option<String>,
    /// `None`: any value.
    pub value: Option<String>,
}

/// Which history to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryScope {
    /// All resources.
    System,
    /// One resource type.
    Type(String),
    /// One resource.
    Instance(String, String),
}

/// A page request for history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only versions written at or after this moment.
    pub since: Option<Instant>,
    /// Page size.
    pub count: usize,
    /// Versions to skip (newest first).
    pub offset: usize,
    /// Upper bound of the write sequence seen by the first page, so later writes do not shift
    /// pages; `None` on a first page.
    pub snapshot: Option<i64>,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// The versions on this page.
    pub versions: Vec<StoredVersion>,
    /// Number of versions in the whole (snapshotted) history.
    pub total: u64,
    /// The snapshot the page was taken at (pass it on to the next pages).
    pub snapshot: i64,
}

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database is locked by another writer for longer than the busy timeout.
    #[error("the store is busy, retry later: {0}")]
    Busy(String),
    /// A uniqueness rule was broken (e.g. the same version written twice).
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The database file's schema is newer than this binary.
    #[error("database schema version {found} is newer than this gateway supports ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this binary knows.
        supported: i64,
    },
    /// Another writer changed the same resource first (a shared store runs the transaction
    /// again; this reaches a client only when the retries ran out).
    #[error("a concurrent writer changed the same data first: {0}")]
    Race(String),
    /// The search cannot be answered by this backend (named in the message).
    #[error("{0}")]
    Unsupported(String),
    /// Anything else the database reported.
    #[error("store failure: {0}")]
    Backend(String),
}

/// The work run inside one store transaction. A backend shared by several gateways (PostgreSQL)
/// runs it again, from the start and in a new transaction, when a concurrent writer won a race
/// on the same resource; so it must not keep state from one run to the next.
pub type TxWork = Box<dyn FnMut(&mut dyn StoreTx) -> Result<(), GatewayError> + Send>;

/// Storage as the FHIR layer sees it.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The current version of a resource (which may be a delete), if it ever existed.
    async fn read(&self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError>;
    /// One version of a resource.
    async fn vread(
        &self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError>;
    /// A page of history, newest first.
    async fn history(
        &self,
        scope: &HistoryScope,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError>;
    /// Runs `work` in one all-or-nothing transaction: commits when it returns `Ok`, rolls
    /// back when it returns `Err` (and then returns that error). See [`TxWork`] on reruns.
    async fn transact_boxed(&self, work: TxWork) -> Result<(), GatewayError>;
    /// True when other gateway processes write to the same store: a cached version must be
    /// checked against [`Store::current_version`] before it is served.
    fn shared(&self) -> bool {
        false
    }
    /// The current version number of a resource (a delete included), if it ever existed.
    async fn current_version(&self, res_type: &str, id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.read(res_type, id).await?.map(|stored| stored.version))
    }
    /// How full the store's connection pool is, when it has one (for `/metrics`).
    fn pool_stats(&self) -> Option<crate::metrics::PoolStats> {
        None
    }
    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Ids of the current, live resources meeting a search, in its order.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<String>, StoreError>;
    /// The current versions of the given resources that exist and are live, in no set order.
    async fn read_many(&self, refs: &[(String, String)]) -> Result<Vec<StoredVersion>, StoreError>;
    /// [`Store::search`] and [`Store::read_many`] of the matches at positions `page` at once
    /// (a backend may answer both from one snapshot and one trip to its worker).
    async fn search_with_page(
        &self,
        query: &SearchQuery,
        page: std::ops::Range<usize>,
    ) -> Result<(Vec<String>, Vec<StoredVersion>), StoreError> {
        let ids = self.search(query).await?;
        let refs: Vec<(String, String)> = ids
            .get(page.start.min(ids.len())..page.end.min(ids.len()))
            .unwrap_or_default()
            .iter()
            .map(|id| (query.res_type.clone(), id.clone()))
            .collect();
        let versions = self.read_many(&refs).await?;
        Ok((ids, versions))
    }
    /// `(target type, target id)` of the references the given resources hold under reference
    /// parameter `param` (`None`: any), optionally only to `target_type`.
    async fn references_from(
        &self,
        res_type: &str,
        ids: &[String],
        param: Option<&str>,
        target_type: Option<&str>,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// Ids of live `source_type` resources whose parameter `param` references any of `targets`.
    async fn references_to(
        &self,
        source_type: &str,
        param: &str,
        targets: &[(String, String)],
    ) -> Result<Vec<String>, StoreError>;
    /// Up to `limit` `(type, id)` of current, live resources after `after` in (type, id) order
    /// (for re-indexing in batches).
    async fn current_after(
        &self,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError>;
}

impl dyn Store {
    /// Runs `work` in one transaction and returns what it produced (see [`TxWork`] on reruns).
    pub async fn transact<T: Send + 'static>(
        &self,
        mut work: impl FnMut(&mut dyn StoreTx) -> Result<T, GatewayError> + Send + 'static,
    ) -> Result<T, GatewayError> {
        let slot = Arc::new(Mutex::new(None));
        let filled = Arc::clone(&slot);
        self.transact_boxed(Box::new(move |tx| {
            let produced = work(tx)?;
            if let Ok(mut slot) = filled.lock() {
                *slot = Some(produced);
            }
            Ok(())
        }))
        .await?;
        let produced = slot.lock().ok().and_then(|mut slot| slot.take());
        produced.ok_or_else(|| StoreError::Backend("transaction produced no result".into()).into())
    }
}

/// What FHIR logic may do inside a transaction. Reads see the transaction's own writes.
pub trait StoreTx {
    /// The current version of a resource (a delete included), if it ever existed.
    fn current(&mut self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError>;
    /// One version of a resource.
    fn version(
        &mut self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError>;
    /// Ids of live (not deleted) resources of `res_type` matching `criteria`, at most `limit`.
    fn find(
        &mut self,
        res_type: &str,
        criteria: &Criteria,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Writes a new version and makes it current. The version must be current + 1.
    fn write(&mut self, version: NewVersion) -> Result<(), StoreError>;
    /// Replaces the search index entries of the current version (re-indexing).
    fn reindex(
        &mut self,
        res_type: &str,
        id: &str,
        search: &[IndexEntry],
    ) -> Result<(), StoreError>;
}
