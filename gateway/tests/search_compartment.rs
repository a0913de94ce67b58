//! The patient compartment over real HTTP: `Patient/{id}/{type}` searches only that patient's
//! resources (by the R4 CompartmentDefinition's parameters), `Patient/{id}/$everything` returns
//! the patient and everything in the compartment, paged, filtered by `_type` and `_since`; and
//! `tsunagi reindex` rebuilds the index of a stored database.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn put(server: &TestServer, resource: Value) {
    let path = format!(
        "{}/{}",
        resource["resourceType"].as_str().expect("type"),
        resource["id"].as_str().expect("id")
    );
    let response = server.send_json(Method::PUT, &path, &resource).await;
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

async fn seed(server: &TestServer) {
    for id in ["p1", "p2"] {
        put(
            server,
            json!({"resourceType": "Patient", "id": id, "name": [{"family": id}]}),
        )
        .await;
    }
    put(
        server,
        json!({"resourceType": "ServiceRequest", "id": "o1", "status": "active",
        "intent": "order", "subject": {"reference": "Patient/p1"}}),
    )
    .await;
    put(
        server,
        json!({"resourceType": "ServiceRequest", "id": "o2", "status": "completed",
        "intent": "order", "subject": {"reference": "Patient/p1"}}),
    )
    .await;
    put(
        server,
        json!({"resourceType": "ServiceRequest", "id": "o3", "status": "active",
        "intent": "order", "subject": {"reference": "Patient/p2"}}),
    )
    .await;
    put(
        server,
        json!({"resourceType": "ImagingStudy", "id": "s1", "status": "available",
        "subject": {"reference": "Patient/p1"}, "basedOn": [{"reference": "ServiceRequest/o1"}]}),
    )
    .await;
    put(
        server,
        json!({"resourceType": "Organization", "id": "org", "name": "Not in a compartment"}),
    )
    .await;
}

/// Every `type/id` of the match entries over all pages.
async fn all_pages(server: &TestServer, path: &str) -> BTreeSet<String> {
    let (status, mut bundle) = server.get_json(path).await;
    assert_eq!(status, 200, "{bundle}");
    let mut found = BTreeSet::new();
    loop {
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let resource = &entry["resource"];
            let key = format!(
                "{}/{}",
                resource["resourceType"].as_str().unwrap_or(""),
                resource["id"].as_str().unwrap_or("")
            );
            assert!(found.insert(key.clone()), "{key} twice");
        }
        let next = bundle["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|link| link["relation"] == "next")
            .and_then(|link| link["url"].as_str())
            .map(str::to_owned);
        let Some(next) = next else { break };
        let response = server.client.get(next).send().await.expect("next page");
        assert_eq!(response.status(), 200);
        bundle = response.json().await.expect("JSON");
    }
    found
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compartment_search_and_everything() {
    let server = TestServer::start();
    seed(&server).await;
    assert_eq!(
        all_pages(&server, "Patient/p1/ServiceRequest").await,
        set(&["ServiceRequest/o1", "ServiceRequest/o2"])
    );
    assert_eq!(
        all_pages(&server, "Patient/p1/ServiceRequest?status=active").await,
        set(&["ServiceRequest/o1"])
    );
    assert_eq!(
        all_pages(&server, "Patient/p1/$everything?_count=2").await,
        set(&[
            "Patient/p1",
            "ServiceRequest/o1",
            "ServiceRequest/o2",
            "ImagingStudy/s1"
        ])
    );
    assert_eq!(
        all_pages(&server, "Patient/p1/$everything?_type=ImagingStudy").await,
        set(&["ImagingStudy/s1"])
    );
    assert_eq!(
        all_pages(&server, "Patient/p1/$everything?_since=2999-01-01").await,
        BTreeSet::new()
    );
    let (status, _) = server.get_json("Patient/nobody/$everything").await;
    assert_eq!(status, 404);
    let (status, outcome) = server.get_json("Patient/p1/Organization").await;
    assert_eq!(status, 400, "{outcome}");
}

#[test]
fn reindex_rebuilds_a_stored_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("tsunagi.db");
    let dicom =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/tests/data/dicom/cd-ct");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tsunagi"))
            .args(args)
            .env("TSUNAGI_DB", &db)
            .output()
            .expect("tsunagi runs")
    };
    let ingested = run(&[
        "ingest",
        "--from",
        "dicom",
        dicom.to_str().expect("UTF-8"),
        "--quiet",
    ]);
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );
    let reindexed = run(&["reindex"]);
    let stderr = String::from_utf8_lossy(&reindexed.stderr);
    assert!(reindexed.status.success(), "{stderr}");
    assert!(stderr.contains("4 resources indexed"), "{stderr}");
}
