//! Two `tsunagi serve` processes on one PostgreSQL database; one is killed with SIGKILL in
//! the middle of a write load. The other keeps serving, and every write either replica
//! acknowledged before or after the kill is there afterwards.
//!
//! Needs the PostgreSQL at `TSUNAGI_TEST_POSTGRES`: skips with the reason without one, fails
//! under `CI`.

mod common;

use common::postgres_db::schema_or_skip;
use common::replica::Replica;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_replica_under_load_loses_nothing_acknowledged() {
    let Some(schema) = schema_or_skip("killing_one_replica_under_load_loses_nothing_acknowledged")
    else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let mut doomed = Replica::start(&schema.url());
    let survivor = Replica::start(&schema.url());
    doomed.wait_ready(&client).await;
    survivor.wait_ready(&client).await;

    const WRITES: usize = 400;
    const KILL_AT: usize = WRITES / 2;
    let mut acknowledged = Vec::new();
    let mut refused_after_kill = 0;
    let mut acknowledged_after_kill = 0;
    for round in 0..WRITES / 8 {
        if round * 8 == KILL_AT {
            doomed.child.kill().expect("SIGKILL the first replica");
            doomed.child.wait().expect("reap it");
        }
        let killed = round * 8 >= KILL_AT;
        // Eight writes in flight at once, spread over both replicas.
        let sends = (0..8).map(|n| {
            let index = round * 8 + n;
            let base = if n % 2 == 0 {
                &doomed.base
            } else {
                &survivor.base
            };
            let id = format!("load-{index}");
            let body = json!({
                "resourceType": "Observation",
                "id": id,
                "status": "final",
                "code": {"text": format!("reading {index}")}
            });
            let request = client
                .put(format!("{base}/fhir/Observation/{id}"))
                .header("Content-Type", "application/fhir+json")
                .body(body.to_string())
                .send();
            async move { (id, request.await) }
        });
        for (id, result) in futures_util::future::join_all(sends).await {
            match result {
                Ok(response) if response.status() == 201 => {
                    acknowledged.push(id);
                    if killed {
                        acknowledged_after_kill += 1;
                    }
                }
                Ok(response) => panic!("write {id} answered {}", response.status()),
                Err(_) if killed => refused_after_kill += 1,
                Err(error) => panic!("write {id} failed before the kill: {error}"),
            }
        }
    }
    // Half the writes after the kill went to the dead replica and could not be sent; the
    // survivor acknowledged all of its own.
    assert_eq!(refused_after_kill, (WRITES - KILL_AT) / 2);
    assert_eq!(acknowledged_after_kill, (WRITES - KILL_AT) / 2);
    assert_eq!(acknowledged.len(), KILL_AT + (WRITES - KILL_AT) / 2);
    for id in &acknowledged {
        let response = client
            .get(format!("{}/fhir/Observation/{id}", survivor.base))
            .send()
            .await
            .expect("read sent");
        assert_eq!(response.status(), 200, "acknowledged {id} is missing");
    }
    // A replica started again on the same database serves the same data.
    let restarted = Replica::start(&schema.url());
    restarted.wait_ready(&client).await;
    let search = client
        .get(format!(
            "{}/fhir/Observation?_summary=count",
            restarted.base
        ))
        .send()
        .await
        .expect("search sent")
        .json::<serde_json::Value>()
        .await
        .expect("search JSON");
    assert_eq!(search["total"], acknowledged.len());
}
