//! Which backend a configuration names, and opening it: a `postgres://` (or `postgresql://`)
//! URL is the shared PostgreSQL store, anything else a SQLite file path.

use super::{PostgresStore, SqliteStore, Store, StoreError};
use crate::config::Config;
use std::path::Path;
use std::sync::Arc;

/// An opened store.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// True when an older SQLite file gained the search index tables and holds resources: run
    /// [`crate::Gateway::reindex`] before serving searches.
    pub needs_reindex: bool,
}

/// True when `db` names a PostgreSQL database.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `db` fit for logs: a URL's password is replaced by `***`.
pub fn describe(db: &str) -> String {
    if !is_postgres_url(db) {
        return db.to_owned();
    }
    let Some((scheme, rest)) = db.split_once("://") else {
        return db.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return db.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => db.to_owned(),
    }
}

/// Opens the store `config.db` names, creating it or applying missing migrations.
pub fn open(config: &Config) -> Result<Opened, StoreError> {
    if is_postgres_url(&config.db) {
        let store = PostgresStore::open(&config.db, &config.postgres)?;
        return Ok(Opened {
            store: Arc::new(store),
            needs_reindex: false,
        });
    }
    let store = SqliteStore::open(Path::new(&config.db), &config.sqlite)?;
    let needs_reindex = store.needs_reindex();
    Ok(Opened {
        store: Arc::new(store),
        needs_reindex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_told_from_paths() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://h/db"));
        assert!(!is_postgres_url("./tsunagi-data/postgres.db"));
    }

    #[test]
    fn passwords_never_reach_the_log() {
        let shown = describe("postgres://tsunagi:s3cret@db.example.jp:5432/tsunagi");
        assert_eq!(shown, "postgres://tsunagi:***@db.example.jp:5432/tsunagi");
        assert!(!shown.contains("s3cret"));
        assert_eq!(
            describe("postgres://tsunagi@db/t"),
            "postgres://tsunagi@db/t"
        );
        assert_eq!(describe("/data/tsunagi.db"), "/data/tsunagi.db");
    }
}
