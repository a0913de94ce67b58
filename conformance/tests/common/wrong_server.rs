//! A deliberately wrong FHIR server: R4 paths, wrong answers. Create answers 200 without
//! `Location` or `ETag`, PUT always 200, reads return another family name, search finds
//! nothing, the CapabilityStatement claims STU3 and XML only. One HTTP/1.1 request per
//! connection (`Connection: close`).

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running wrong server; it stops when the test's runtime ends.
pub struct WrongServer {
    /// `http://127.0.0.1:PORT/fhir`
    pub base: String,
}

impl WrongServer {
    /// Binds a loopback port and serves on the current tokio runtime.
    pub async fn start() -> WrongServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let Some((method, target, body)) = read_request(&mut socket).await else {
                        return;
                    };
                    let (status, headers, answer) = respond(&method, &target, &body);
                    let mut response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                        answer.len()
                    );
                    for (name, value) in headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str("\r\n");
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        WrongServer {
            base: format!("http://{address}/fhir"),
        }
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let length: usize = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some((method, target, body))
}

const FHIR_JSON: (&str, &str) = ("Content-Type", "application/fhir+json");

fn respond(
    method: &str,
    target: &str,
    body: &[u8],
) -> (u16, Vec<(&'static str, &'static str)>, String) {
    let path = target.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path
        .trim_start_matches("/fhir")
        .trim_matches('/')
        .split('/')
        .collect();
    let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let answer = |value: Value| value.to_string();
    match (method, parts.as_slice()) {
        ("GET", ["metadata"]) => (
            200,
            vec![FHIR_JSON],
            answer(
                json!({"resourceType": "CapabilityStatement", "status": "active",
                "date": "2026-01-01", "kind": "instance", "fhirVersion": "3.0.1", "format": ["xml"],
                "rest": [{"mode": "server"}]}),
            ),
        ),
        ("POST", [_]) if sent.get("resourceType").and_then(Value::as_str) == Some("Bundle") => (
            200,
            vec![FHIR_JSON],
            answer(json!({"resourceType": "Bundle", "type": "batch-response"})),
        ),
        ("POST", []) => (
            200,
            vec![FHIR_JSON],
            answer(json!({"resourceType": "Bundle", "type": "batch-response"})),
        ),
        ("POST", [res_type]) | ("PUT", [res_type, _]) | ("PUT", [res_type]) => {
            let mut stored = if sent.is_object() {
                sent
            } else {
                json!({"resourceType": res_type})
            };
            stored["id"] = json!("always-the-same");
            (200, vec![FHIR_JSON], answer(stored))
        }
        ("GET", [res_type]) => (
            200,
            vec![FHIR_JSON],
            answer(
                json!({"resourceType": "Bundle", "type": "searchset", "total": 0,
                "link": [{"relation": "self", "url": format!("http://wrong.invalid/fhir/{res_type}")}]}),
            ),
        ),
        ("GET", ["Patient", id]) | ("GET", ["Patient", id, ..]) => (
            200,
            vec![FHIR_JSON, ("ETag", "W/\"1\"")],
            answer(json!({"resourceType": "Patient", "id": id, "name": [{"family": "Wrong"}]})),
        ),
        ("DELETE", _) => (200, vec![], String::new()),
        _ => (
            500,
            vec![("Content-Type", "text/plain")],
            "not implemented".to_owned(),
        ),
    }
}
