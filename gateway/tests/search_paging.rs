//! Acceptance: paging through a search returns every match exactly once while another task
//! keeps writing — creating new matching resources and updating existing ones — between the
//! pages. The match list is fixed by the first page (`next` links carry `_getpages`), so the
//! 1,000 resources that matched then come back once each, in `_count=7` pages, and resources
//! created later do not appear. Run once in the default order and once sorted by
//! `-_lastUpdated`, the order every update changes.

mod common;

use common::TestServer;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tsunagi_gateway::config::Synchronous;

/// Resources matching the search before paging starts.
const MATCHING: usize = 1_000;
/// The page size.
const PAGE: usize = 7;
/// The code every matching Observation carries.
const CODE_SYSTEM: &str = "http://example.org/tsunagi/paging";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_by_seven_returns_each_match_once_while_writes_continue() {
    let server = Arc::new(TestServer::start_with(|config| {
        config.sqlite.synchronous = Synchronous::Normal;
    }));
    // Each run has its own code: the first run's writer adds matches of its own code only.
    for (label, sort) in [("plain", ""), ("sorted", "&_sort=-_lastUpdated")] {
        seed(&server, label).await;
        let query = format!("Observation?code={CODE_SYSTEM}|{label}{sort}&_count={PAGE}");
        let report = page_while_writing(&server, &query, label).await;
        eprintln!("{query}: {report}");
    }
}

/// Creates `MATCHING` Observations `{label}-0000`… with code `CODE_SYSTEM|label`, in
/// transactions of 200 PUTs.
async fn seed(server: &TestServer, label: &str) {
    for first in (0..MATCHING).step_by(200) {
        let entries: Vec<Value> = (first..(first + 200).min(MATCHING))
            .map(|n| {
                let id = format!("{label}-{n:04}");
                json!({
                    "resource": observation(&id, label, n as f64),
                    "request": { "method": "PUT", "url": format!("Observation/{id}") }
                })
            })
            .collect();
        let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
        let (status, body) = server
            .post_bytes("", "application/fhir+json", bundle.to_string())
            .await;
        assert_eq!(status, 200, "seeding failed: {body}");
    }
}

fn observation(id: &str, label: &str, value: f64) -> Value {
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": { "coding": [{ "system": CODE_SYSTEM, "code": label }] },
        "valueQuantity": { "value": value, "unit": "1", "system": "http://unitsofmeasure.org", "code": "1" }
    })
}

/// Pages through `query` (whose first page must list `MATCHING` matches) while a writer task
/// creates and updates matching Observations, at least one write between two pages. Panics
/// unless every one of the first page's matches is seen exactly once and nothing else is.
async fn page_while_writing(server: &Arc<TestServer>, query: &str, label: &str) -> String {
    let (status, first) = server.get_json(query).await;
    assert_eq!(status, 200, "{query}: {first}");
    assert_eq!(
        first["total"].as_u64(),
        Some(MATCHING as u64),
        "{query}: total"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(write_until_stopped(
        Arc::clone(server),
        label.to_owned(),
        Arc::clone(&stop),
        Arc::clone(&writes),
    ));

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut page = first;
    let mut pages = 0;
    loop {
        pages += 1;
        let entries = page["entry"].as_array().cloned().unwrap_or_default();
        assert!(
            entries.len() <= PAGE,
            "page {pages} has {} entries",
            entries.len()
        );
        for entry in &entries {
            assert_eq!(entry["search"]["mode"], "match", "{entry}");
            let id = entry["resource"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *seen.entry(id).or_default() += 1;
        }
        let next = page["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|link| link["relation"] == "next")
            .and_then(|link| link["url"].as_str())
            .map(str::to_owned);
        let Some(next) = next else { break };
        assert!(
            next.contains("_getpages="),
            "a next link must name the remembered search: {next}"
        );
        // At least one write lands between any two pages.
        let before = writes.load(Ordering::SeqCst);
        while writes.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let response = server.client.get(&next).send().await.expect("page sent");
        let status = response.status().as_u16();
        page = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "page {}: {page}", pages + 1);
    }
    stop.store(true, Ordering::SeqCst);
    let (created, updated) = writer.await.expect("writer task");

    let repeated: Vec<_> = seen.iter().filter(|(_, &count)| count > 1).collect();
    assert!(
        repeated.is_empty(),
        "{query}: seen more than once: {repeated:?}"
    );
    let missing: Vec<String> = (0..MATCHING)
        .map(|n| format!("{label}-{n:04}"))
        .filter(|id| !seen.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "{query}: never seen: {missing:?}");
    let extra: Vec<&String> = seen
        .keys()
        .filter(|id| !id.starts_with(&format!("{label}-")) || id.len() != label.len() + 5)
        .collect();
    assert!(
        extra.is_empty(),
        "{query}: created after the first page yet listed: {extra:?}"
    );
    assert_eq!(pages, MATCHING.div_ceil(PAGE), "{query}: pages");
    assert!(
        created > 0 && updated > 0,
        "the writer created {created} and updated {updated}"
    );
    format!(
        "{pages} pages, {} distinct matches; meanwhile {created} created, {updated} updated",
        seen.len()
    )
}

/// Alternately creates a new matching Observation and updates an existing one (changing its
/// value, so its `_lastUpdated` moves) until `stop`; returns (created, updated).
async fn write_until_stopped(
    server: Arc<TestServer>,
    label: String,
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
) -> (usize, usize) {
    let (mut created, mut updated) = (0, 0);
    let mut turn = 0usize;
    while !stop.load(Ordering::SeqCst) {
        turn += 1;
        let status = if turn.is_multiple_of(2) {
            let id = format!("{label}-new-{turn}");
            let response = server
                .send_json(
                    reqwest::Method::POST,
                    "Observation",
                    &observation(&id, &label, -1.0),
                )
                .await;
            created += 1;
            response.status().as_u16()
        } else {
            // Stride through the seeded ids so updates hit pages not read yet and pages read.
            let n = (turn * 389) % MATCHING;
            let id = format!("{label}-{n:04}");
            let response = server
                .send_json(
                    reqwest::Method::PUT,
                    &format!("Observation/{id}"),
                    &observation(&id, &label, 10_000.0 + turn as f64),
                )
                .await;
            updated += 1;
            response.status().as_u16()
        };
        assert!(
            status == 200 || status == 201,
            "write {turn} answered {status}"
        );
        writes.fetch_add(1, Ordering::SeqCst);
    }
    (created, updated)
}
