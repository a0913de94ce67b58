//! Referral delivery over TLS with a client certificate (mTLS): a real TLS server (openssl)
//! that demands a certificate from the network's CA; the sender presents the destination's
//! configured client certificate, and without it, or without trusting the server's CA, the
//! attempt fails (to be retried) instead of delivering.

#[path = "../src/referral/test_pki.rs"]
mod test_pki;

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use tsunagi_gateway::referral::delivery::Senders;
use tsunagi_gateway::referral::outbox::Attempt;
use tsunagi_gateway::referral::settings::{DestinationConfig, DestinationKind, ReferralConfig};

/// What the server saw of one connection: the client certificate's subject, or why the
/// handshake failed.
type Seen = Result<String, String>;

/// A TLS server on loopback answering each request 201; it reports every connection.
fn tls_server(dir: &Path, connections: usize) -> (u16, mpsc::Receiver<Seen>) {
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor
        .set_private_key_file(dir.join("server.key"), SslFiletype::PEM)
        .unwrap();
    acceptor
        .set_certificate_chain_file(dir.join("server.pem"))
        .unwrap();
    acceptor.set_ca_file(dir.join("ca.pem")).unwrap();
    acceptor.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let acceptor = acceptor.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (report, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { continue };
            let outcome = match acceptor.accept(stream) {
                Ok(mut tls) => {
                    let subject = tls
                        .ssl()
                        .peer_certificate()
                        .map(|certificate| format!("{:?}", certificate.subject_name()))
                        .unwrap_or_default();
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 8192];
                    // Read the head and the body the Content-Length announces.
                    loop {
                        match tls.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                        let text = String::from_utf8_lossy(&request);
                        if let Some(head_end) = text.find("\r\n\r\n") {
                            let length = text[..head_end]
                                .lines()
                                .find_map(|line| {
                                    line.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if request.len() >= head_end + 4 + length {
                                break;
                            }
                        }
                    }
                    let body = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"stored"}]}"#;
                    let _ = write!(
                        tls,
                        "HTTP/1.1 201 Created\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.shutdown();
                    Ok(subject)
                }
                Err(error) => Err(error.to_string()),
            };
            let _ = report.send(outcome);
        }
    });
    (port, seen)
}

fn write(dir: &Path, name: &str, pem: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

fn senders(port: u16, client: Option<(&str, &str)>, ca: Option<&str>) -> Senders {
    let mut config = ReferralConfig {
        send_timeout_secs: 5,
        ..ReferralConfig::default()
    };
    config.destinations.insert(
        "hospital-b".into(),
        DestinationConfig {
            url: format!("https://localhost:{port}/fhir"),
            kind: DestinationKind::Fhir,
            client_certificate: client.map(|(certificate, _)| certificate.to_owned()),
            client_key: client.map(|(_, key)| key.to_owned()),
            ca_certificate: ca.map(str::to_owned),
        },
    );
    Senders::from_config(&config).expect("senders")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_go_over_mutual_tls_only_with_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_key, ca_cert) = test_pki::test_ca();
    let (server_key, server_cert) =
        test_pki::issue_tls_cert(&ca_key, &ca_cert, "hospital-b-server", true);
    let (client_key, client_cert) =
        test_pki::issue_tls_cert(&ca_key, &ca_cert, "hospital-a-client", false);
    let ca = write(dir.path(), "ca.pem", &ca_cert);
    write(dir.path(), "server.key", &server_key);
    write(dir.path(), "server.pem", &server_cert);
    let client_key = write(dir.path(), "client.key", &client_key);
    let client_cert = write(dir.path(), "client.pem", &client_cert);
    let package = json!({"resourceType": "Bundle", "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": "1^2026^x"}});
    let (port, seen) = tls_server(dir.path(), 3);

    // With the client certificate and the server's CA: delivered, the server saw who sent it.
    let with_certificate = senders(port, Some((&client_cert, &client_key)), Some(&ca));
    match with_certificate.send("hospital-b", &package).await {
        Attempt::Delivered(answer) => assert!(answer.starts_with("HTTP 201"), "{answer}"),
        other => panic!("expected delivery, got {other:?}"),
    }
    let subject = seen.recv().unwrap().expect("handshake");
    assert!(subject.contains("hospital-a-client"), "{subject}");

    // Without a client certificate: the server refuses the handshake; the attempt fails.
    let anonymous = senders(port, None, Some(&ca));
    let attempt = anonymous.send("hospital-b", &package).await;
    assert!(matches!(attempt, Attempt::Failed(_)), "{attempt:?}");
    assert!(
        seen.recv().unwrap().is_err(),
        "the server refused the anonymous client"
    );

    // Not trusting the server's CA: the client refuses the server; nothing is delivered.
    let untrusting = senders(port, Some((&client_cert, &client_key)), None);
    let attempt = untrusting.send("hospital-b", &package).await;
    assert!(matches!(attempt, Attempt::Failed(_)), "{attempt:?}");
}
