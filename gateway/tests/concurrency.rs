//! Optimistic locking under real concurrency: two updates carrying the same If-Match version
//! race; exactly one wins and the other gets 412, every round.

mod common;

use common::TestServer;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_updates_with_the_same_if_match_one_wins_one_gets_412() {
    let server = TestServer::start();
    let put = |version: u64, family: String| {
        server
            .client
            .put(server.url("Patient/race"))
            .header("Content-Type", "application/fhir+json")
            .header("If-Match", format!("W/\"{version}\""))
            .body(
                json!({"resourceType": "Patient", "id": "race", "name": [{"family": family}]})
                    .to_string(),
            )
            .send()
    };
    let created = server
        .send_json(
            reqwest::Method::PUT,
            "Patient/race",
            &json!({"resourceType": "Patient", "id": "race"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    for round in 1..=25u64 {
        let (first, second) = tokio::join!(
            put(round, format!("A{round}")),
            put(round, format!("B{round}"))
        );
        let mut statuses = [
            first.unwrap().status().as_u16(),
            second.unwrap().status().as_u16(),
        ];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
    }
    let (_, current) = server.get_json("Patient/race").await;
    assert_eq!(current["meta"]["versionId"], "26");
    let (_, history) = server.get_json("Patient/race/_history?_count=100").await;
    let versions: Vec<u64> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            entry["resource"]["meta"]["versionId"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(
        versions,
        (1..=26).rev().collect::<Vec<u64>>(),
        "versions are gapless"
    );
    let _: Value = current;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_creates_make_one_resource() {
    let server = TestServer::start();
    let create = || {
        server
            .client
            .post(server.url("Patient"))
            .header("Content-Type", "application/fhir+json")
            .header("If-None-Exist", "identifier=urn:example:mrn|RACE-1")
            .body(json!({"resourceType": "Patient", "identifier": [{"system": "urn:example:mrn", "value": "RACE-1"}]}).to_string())
            .send()
    };
    let results = futures_util::future::join_all((0..8).map(|_| create())).await;
    let mut ids = Vec::new();
    let mut created = 0;
    for result in results {
        let response = result.unwrap();
        if response.status() == 201 {
            created += 1;
        } else {
            assert_eq!(response.status(), 200);
        }
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "every request answered with the same resource"
    );
}
