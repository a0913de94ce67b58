//! The MLLP listener over real TCP: ACK after commit, AE/AR with an ERR segment, a connection
//! killed mid-frame stores nothing, duplicates are not applied twice, many senders at once.

mod common;

use common::{hl7v2_message as message, TestServer};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn framed(message: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x0B];
    frame.extend_from_slice(message);
    frame.extend_from_slice(&[0x1C, 0x0D]);
    frame
}

/// Reads one framed reply and returns its text without the framing.
async fn read_reply(stream: &mut TcpStream) -> String {
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut byte))
            .await
            .expect("an ACK within 20 s")
            .expect("read");
        assert_eq!(read, 1, "connection closed before the ACK ended: {reply:?}");
        reply.push(byte[0]);
        if reply.ends_with(&[0x1C, 0x0D]) {
            break;
        }
    }
    assert_eq!(reply.first(), Some(&0x0B), "reply starts with VT");
    String::from_utf8_lossy(&reply[1..reply.len() - 2]).into_owned()
}

async fn send(server: &TestServer, message: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.mllp).await.expect("connect");
    stream.write_all(&framed(message)).await.expect("send");
    read_reply(&mut stream).await
}

fn segment<'a>(ack: &'a str, id: &str) -> Option<&'a str> {
    ack.split('\r').find(|segment| segment.starts_with(id))
}

/// The `total` of a type's history: every version ever written.
async fn versions_of(server: &TestServer, res_type: &str) -> u64 {
    let (status, history) = server.get_json(&format!("{res_type}/_history")).await;
    assert_eq!(status, 200, "{history}");
    history["total"].as_u64().expect("total")
}

#[tokio::test]
async fn accepted_message_is_stored_before_its_ack() {
    let server = TestServer::start();
    let ack = send(&server, &message("omg_o19_ct_order.hl7")).await;
    let msa = segment(&ack, "MSA").expect("MSA segment");
    assert_eq!(msa, "MSA|AA|ORD0001", "{ack}");
    let msh = segment(&ack, "MSH").expect("MSH segment");
    let fields: Vec<&str> = msh.split('|').collect();
    assert_eq!(fields[2], "TSUNAGI", "sender and receiver swapped: {msh}");
    assert_eq!(fields[4], "HIS", "{msh}");
    assert!(fields[8].starts_with("ACK"), "{msh}");
    // The ACK came after the commit, so the order is readable at once.
    assert_eq!(versions_of(&server, "ServiceRequest").await, 1);
}

#[tokio::test]
async fn refused_messages_get_ae_or_ar_with_the_location_and_store_nothing() {
    let server = TestServer::start();
    let ack = send(&server, &message("orm_o01_missing_pid3.hl7")).await;
    let msa = segment(&ack, "MSA").expect("MSA");
    assert!(msa.starts_with("MSA|AE|ORD0009"), "{ack}");
    let err = segment(&ack, "ERR").expect("ERR segment");
    let err_fields: Vec<&str> = err.split('|').collect();
    assert!(err_fields[2].starts_with("PID^"), "ERR-2 names PID: {err}");
    assert_eq!(
        err_fields[2].split('^').nth(2),
        Some("3"),
        "ERR-2 field 3: {err}"
    );

    let ack = send(&server, &message("mdm_t02_unsupported.hl7")).await;
    assert!(
        segment(&ack, "MSA")
            .expect("MSA")
            .starts_with("MSA|AR|DOC0001"),
        "{ack}"
    );
    assert!(
        segment(&ack, "ERR").is_some_and(|err| err.contains("200")),
        "{ack}"
    );

    let ack = send(&server, b"this is not HL7").await;
    assert!(
        segment(&ack, "MSA").expect("MSA").starts_with("MSA|AR"),
        "{ack}"
    );
    assert!(segment(&ack, "ERR").is_some(), "{ack}");

    let (_, history) = server.get_json("_history").await;
    assert_eq!(history["total"], 0, "{history}");
}

#[tokio::test]
async fn a_connection_killed_mid_frame_stores_nothing() {
    let server = TestServer::start();
    let frame = framed(&message("oru_r01_ct_report.hl7"));
    {
        let mut stream = TcpStream::connect(server.mllp).await.expect("connect");
        stream
            .write_all(&frame[..frame.len() - 3])
            .await
            .expect("send most of a frame");
        // Dropping the stream closes the socket with the end block unsent.
    }
    // The same connection slot still works for the next sender.
    let ack = send(&server, &message("omg_o19_ct_order.hl7")).await;
    assert!(ack.contains("MSA|AA|ORD0001"), "{ack}");
    assert_eq!(versions_of(&server, "DiagnosticReport").await, 0);
    assert_eq!(versions_of(&server, "ServiceRequest").await, 1);
}

#[tokio::test]
async fn a_resent_message_is_acknowledged_but_not_applied_twice() {
    let server = TestServer::start();
    let report = message("oru_r01_ct_report.hl7");
    let mut stream = TcpStream::connect(server.mllp).await.expect("connect");
    for _ in 0..3 {
        stream.write_all(&framed(&report)).await.expect("send");
        let ack = read_reply(&mut stream).await;
        assert!(ack.contains("MSA|AA|RES0001"), "{ack}");
    }
    let (_, history) = server.get_json("_history").await;
    let first_total = history["total"].as_u64().expect("total");
    assert!(first_total >= 4, "{history}");
    stream.write_all(&framed(&report)).await.expect("send");
    read_reply(&mut stream).await;
    let (_, history) = server.get_json("_history").await;
    assert_eq!(
        history["total"].as_u64(),
        Some(first_total),
        "no new versions"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_senders_all_get_their_acks() {
    let server = TestServer::start();
    let template = String::from_utf8(message("omg_o19_ct_order.hl7")).expect("ASCII");
    let mut senders = Vec::new();
    for sender in 0..100 {
        let text = template
            .replace("ORD0001", &format!("ORD{sender:04}X"))
            .replace("ORD-1001", &format!("ORD-{sender:04}"))
            .replace("P000123", &format!("P{sender:06}"));
        let address = server.mllp;
        senders.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(address).await.expect("connect");
            stream
                .write_all(&framed(text.as_bytes()))
                .await
                .expect("send");
            let ack = read_reply(&mut stream).await;
            (sender, ack)
        }));
    }
    for task in senders {
        let (sender, ack) = task.await.expect("sender task");
        assert!(
            ack.contains(&format!("MSA|AA|ORD{sender:04}X")),
            "sender {sender}: {ack}"
        );
    }
    assert_eq!(versions_of(&server, "ServiceRequest").await, 100);
    assert_eq!(versions_of(&server, "Patient").await, 100);
}

#[tokio::test]
async fn an_oversized_frame_is_refused_and_the_connection_closed() {
    let server = TestServer::start_with(|config| config.mllp.max_frame_bytes = 64);
    let mut stream = TcpStream::connect(server.mllp).await.expect("connect");
    stream
        .write_all(&framed(&message("omg_o19_ct_order.hl7")))
        .await
        .expect("send");
    let ack = read_reply(&mut stream).await;
    assert!(ack.contains("MSA|AR"), "{ack}");
    assert!(ack.contains("64 bytes"), "{ack}");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("closed within 5 s")
        .expect("read");
    assert_eq!(read, 0, "nothing more after the refusal");
    assert_eq!(versions_of(&server, "ServiceRequest").await, 0);
}
