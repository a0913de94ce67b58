//! What a network operator runs the gateway by: `/metrics` in the Prometheus text format with
//! route patterns (never ids), ingest counts by adapter and outcome; JSON logs without patient
//! data; and a graceful stop on SIGTERM that closes idle MLLP connections and exits 0.

mod common;

use common::{hl7v2_message, TestServer};
use serde_json::json;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn framed(message: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x0B];
    frame.extend_from_slice(message);
    frame.extend_from_slice(&[0x1C, 0x0D]);
    frame
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_ingest_by_outcome() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "id": "metrics-secret-id"});
    let created = server
        .send_json(reqwest::Method::PUT, "Patient/metrics-secret-id", &patient)
        .await;
    assert_eq!(created.status(), 201);
    for _ in 0..3 {
        let (status, _) = server.get_json("Patient/metrics-secret-id").await;
        assert_eq!(status, 200);
    }
    let (status, _) = server.get_json("Patient/absent").await;
    assert_eq!(status, 404);
    let (status, _) = server
        .post_bytes(
            "$ingest?source=hl7v2",
            "x-application/hl7-v2+er7",
            hl7v2_message("omg_o19_ct_order.hl7"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post_bytes(
            "$ingest?source=hl7v2",
            "x-application/hl7-v2+er7",
            hl7v2_message("mdm_t02_unsupported.hl7"),
        )
        .await;
    assert!(status >= 400);

    let root = server.base.trim_end_matches("/fhir").to_owned();
    let response = server
        .client
        .get(format!("{root}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("metrics text");
    let line = |needle: &str| {
        text.lines()
            .find(|line| line.starts_with(needle))
            .unwrap_or_else(|| panic!("no line {needle} in\n{text}"))
            .to_owned()
    };
    assert!(line(
        r#"tsunagi_http_requests_total{route="/fhir/{type}/{id}",method="GET",status="200"}"#
    )
    .ends_with(" 3"));
    assert!(line(
        r#"tsunagi_http_requests_total{route="/fhir/{type}/{id}",method="GET",status="404"}"#
    )
    .ends_with(" 1"));
    assert!(line(
        r#"tsunagi_http_requests_total{route="/fhir/{type}/{id}",method="PUT",status="201"}"#
    )
    .ends_with(" 1"));
    assert!(
        line(r#"tsunagi_ingest_messages_total{adapter="hl7v2",outcome="stored"}"#).ends_with(" 1")
    );
    assert!(
        line(r#"tsunagi_ingest_messages_total{adapter="hl7v2",outcome="refused"}"#).ends_with(" 1")
    );
    assert!(line(r#"tsunagi_store_connections{state="max"}"#).ends_with(" 8"));
    assert!(text.contains("tsunagi_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains("metrics-secret-id"),
        "an id leaked into the metrics"
    );
}

#[test]
fn sigterm_closes_idle_mllp_connections_and_exits_cleanly_with_json_logs() {
    let directory = tempfile::tempdir().expect("temp dir");
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port()
    };
    let (http_port, mllp_port) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{http_port}"),
            "--mllp",
            &format!("127.0.0.1:{mllp_port}"),
            "--log-format",
            "json",
            "--db",
        ])
        .arg(directory.path().join("tsunagi.db"))
        .env("TSUNAGI_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tsunagi serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", mllp_port)) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => panic!("MLLP never listened: {error}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(&framed(&hl7v2_message("omg_o19_ct_order.hl7")))
        .expect("send");
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(&[0x1C, 0x0D]) {
        assert_eq!(stream.read(&mut byte).expect("read the ACK"), 1);
        reply.push(byte[0]);
    }
    assert!(String::from_utf8_lossy(&reply).contains("MSA|AA|"));

    // The connection stays open and idle; SIGTERM must not wait for its idle timeout.
    let stopped_at = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(25),
            "still running 25 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert_eq!(
        stream.read(&mut byte).expect("read after stop"),
        0,
        "MLLP not closed"
    );

    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    assert!(!logs.trim().is_empty());
    for line in logs.lines() {
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("log line is not JSON ({error}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
    }
    assert!(logs.contains("MLLP listener stopped"), "{logs}");
    // The message's patient (made up, but patient data all the same) is not in the logs.
    for secret in ["YAMADA", "TARO", "P000123", "19700101"] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
