//! A store written by an older Tsunagi (schema version 2: index rows keyed by type and id) is
//! upgraded on open: the index tables are rebuilt in the version 3 layout (keyed by the
//! version's write sequence), the store reports that it needs a reindex, and after
//! `Gateway::reindex` searches find the resources the old file held.

use std::sync::Arc;
use tsunagi_gateway::config::{Config, SqliteConfig};
use tsunagi_gateway::search::{parse_search, SearchRequest};
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;
use tsunagi_profiles::search::SearchParameters;

/// The version 1 and 2 schema scripts as they shipped, applied by hand to make an old file.
const OLD_SCHEMAS: &[&str] = &[
    include_str!("../src/store/schema_v1.sql"),
    include_str!("../src/store/schema_v2.sql"),
];

fn old_file(path: &std::path::Path) {
    let connection = rusqlite::Connection::open(path).expect("open");
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE tsunagi_schema (version INTEGER NOT NULL)",
        )
        .expect("schema table");
    for (index, script) in OLD_SCHEMAS.iter().enumerate() {
        connection.execute_batch(script).expect("old schema");
        connection
            .execute(
                "INSERT INTO tsunagi_schema (version) VALUES (?1)",
                [index as i64 + 1],
            )
            .expect("schema version");
    }
    let body = r#"{"resourceType":"Patient","id":"old-1","meta":{"versionId":"1","lastUpdated":"2025-01-01T00:00:00.000Z"},"name":[{"family":"Furui","given":["Kazuko"]}],"gender":"female"}"#;
    connection
        .execute(
            "INSERT INTO resource_version (res_type, res_id, version, last_updated, method, body) VALUES ('Patient', 'old-1', 1, 1735689600000, 'PUT', ?1)",
            [body.as_bytes()],
        )
        .expect("version");
    connection
        .execute(
            "INSERT INTO resource_current (res_type, res_id, version, seq, deleted) VALUES ('Patient', 'old-1', 1, last_insert_rowid(), 0)",
            [],
        )
        .expect("current");
    // A v2 index row, which the upgrade must drop with its table.
    connection
        .execute(
            "INSERT INTO search_string (res_type, res_id, param, folded, exact) VALUES ('Patient', 'old-1', 'family', 'furui', 'Furui')",
            [],
        )
        .expect("old index row");
}

fn request(query: &[(&str, &str)]) -> SearchRequest {
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    parse_search(SearchParameters::r4(), "Patient", &pairs, false).expect("query parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_file_is_upgraded_and_reindexed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tsunagi.db");
    old_file(&path);
    let store = SqliteStore::open(&path, &SqliteConfig::default()).expect("upgrade on open");
    assert!(
        store.needs_reindex(),
        "an old file with resources needs a reindex"
    );
    let store: Arc<dyn Store> = Arc::new(store);
    let gateway = Gateway::new(Config::default(), Arc::clone(&store)).expect("gateway");
    let find = |query: &'static [(&'static str, &'static str)]| {
        let store = Arc::clone(&store);
        async move {
            tsunagi_gateway::search::find_all(store.as_ref(), "Patient", &request(query))
                .await
                .expect("search runs")
        }
    };
    // Before the reindex the new tables are empty: nothing is found, nothing fails.
    assert!(find(&[("family", "furui")]).await.is_empty());
    let reindexed = gateway.reindex(&mut |_| {}).await.expect("reindex");
    assert_eq!(reindexed, 1);
    assert_eq!(find(&[("family", "furui")]).await, ["old-1"]);
    assert_eq!(
        find(&[("gender", "female"), ("given", "kazu")]).await,
        ["old-1"]
    );
    // Reopening the upgraded file needs no second reindex.
    drop(gateway);
    drop(store);
    let reopened = SqliteStore::open(&path, &SqliteConfig::default()).expect("reopen");
    assert!(!reopened.needs_reindex());
}
