//! Crash safety: SIGKILL the real `tsunagi` process while transactions stream in. After a
//! restart on the same SQLite file, every transaction that was answered 200 is there in full
//! and no transaction is there in part.

mod common;

use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ENTRIES_PER_TRANSACTION: usize = 20;

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn start(db: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db"])
        .arg(db)
        .env("TSUNAGI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tsunagi")
}

async fn wait_until_healthy(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            if response.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("tsunagi did not become healthy on port {port}");
}

fn transaction(number: usize) -> Value {
    let entries: Vec<Value> = (0..ENTRIES_PER_TRANSACTION)
        .map(|entry| {
            let id = format!("tx{number}-e{entry}");
            json!({
                "resource": {"resourceType": "Observation", "id": id, "status": "final",
                             "code": {"text": format!("transaction {number} entry {entry}")}},
                "request": {"method": "PUT", "url": format!("Observation/{id}")}
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_transactions_loses_no_acknowledged_write_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("crash.db");
    let port = free_port();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut server = start(&db, port);
    wait_until_healthy(&client, port).await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let mut streams = Vec::new();
    for stream in 0..3usize {
        let (client, acknowledged, sent, stop) = (
            client.clone(),
            acknowledged.clone(),
            sent.clone(),
            stop.clone(),
        );
        streams.push(tokio::spawn(async move {
            let mut number = stream;
            while !stop.load(Ordering::Relaxed) {
                {
                    let mut highest = sent.lock().unwrap();
                    *highest = (*highest).max(number + 1);
                }
                let response = client
                    .post(format!("http://127.0.0.1:{port}/fhir"))
                    .header("Content-Type", "application/fhir+json")
                    .body(transaction(number).to_string())
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.lock().unwrap().push(number)
                    }
                    Ok(response) => panic!("transaction {number} answered {}", response.status()),
                    Err(_) => break, // the server is gone
                }
                number += 3;
            }
        }));
    }
    // Let a good number of transactions land, then kill mid-stream.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 30 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL"); // std's Child::kill sends SIGKILL on Unix
    let _ = server.wait();
    stop.store(true, Ordering::Relaxed);
    for stream in streams {
        let _ = stream.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent = *sent.lock().unwrap();
    assert!(
        acknowledged.len() >= 30,
        "only {} transactions landed before the kill",
        acknowledged.len()
    );

    let mut server = start(&db, port);
    wait_until_healthy(&client, port).await;
    let mut partial = Vec::new();
    let mut lost = Vec::new();
    for number in 0..sent + 3 {
        let mut present = 0;
        for entry in 0..ENTRIES_PER_TRANSACTION {
            let url = format!("http://127.0.0.1:{port}/fhir/Observation/tx{number}-e{entry}");
            let status = client
                .get(url)
                .send()
                .await
                .expect("read after restart")
                .status();
            if status == 200 {
                present += 1;
            } else {
                assert_eq!(status, 404);
            }
        }
        if present != 0 && present != ENTRIES_PER_TRANSACTION {
            partial.push((number, present));
        }
        if acknowledged.contains(&number) && present != ENTRIES_PER_TRANSACTION {
            lost.push(number);
        }
    }
    server.kill().expect("stop");
    let _ = server.wait();
    assert!(
        partial.is_empty(),
        "transactions stored in part: {partial:?}"
    );
    assert!(lost.is_empty(), "acknowledged transactions lost: {lost:?}");
}
