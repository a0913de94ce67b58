//! MLLP round trip, in messages per second: 8 senders, each on its own connection, send
//! ORU^R01 results (10 OBX each, every one a new report for a new order) and wait for each
//! ACK, which the gateway sends only after the message's transaction has committed
//! (`synchronous = FULL`: fsync per commit). Everything runs on this machine over loopback TCP.
//!
//! What is timed: framing, decoding, conversion to FHIR, the R4 check, the store transaction,
//! the commit, the ACK, and the wire in both directions.
//!
//! Run with `cargo bench -p tsunagi-gateway --bench mllp_roundtrip`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagi_gateway::config::{Config, SqliteConfig};
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;

/// Concurrent senders.
const SENDERS: u64 = 8;

/// A made-up ORU^R01 with 10 OBX; `{n}` makes the message, order and report unique.
fn message(n: u64) -> Vec<u8> {
    let mut text = format!(
        "MSH|^~\\&|LAB|HOSPA|TSUNAGI|HOSPB|20261120150000||ORU^R01^ORU_R01|BENCH{n}|P|2.5\r\
         PID|||P{patient:06}^^^HOSPA^PI||SUZUKI^HANAKO^^^^^A||19800214|F\r\
         ORC|RE|ORD-B{n}|FIL-B{n}||CM\r\
         OBR|1|ORD-B{n}|FIL-B{n}|24321-2^Basic metabolic panel^LN|||20261120100000|||||||||||||||20261120150000||CH|F\r",
        patient = n % 5000
    );
    let tests = [
        ("2345-7", "Glucose", "98", "mg/dL", "70-99"),
        ("2160-0", "Creatinine", "0.92", "mg/dL", "0.57-1.00"),
        ("3094-0", "Urea nitrogen", "14", "mg/dL", "6-24"),
        ("2951-2", "Sodium", "140", "mmol/L", "134-144"),
        ("2823-3", "Potassium", "4.2", "mmol/L", "3.5-5.2"),
        ("2075-0", "Chloride", "101", "mmol/L", "96-106"),
        ("2028-9", "Carbon dioxide", "24", "mmol/L", "20-29"),
        ("17861-6", "Calcium", "9.6", "mg/dL", "8.7-10.2"),
        ("2885-2", "Protein", "7.1", "g/dL", "6.0-8.5"),
        ("1751-7", "Albumin", "4.5", "g/dL", "3.9-4.9"),
    ];
    for (index, (code, name, value, unit, range)) in tests.iter().enumerate() {
        text.push_str(&format!(
            "OBX|{}|NM|{code}^{name}^LN||{value}|{unit}^{unit}^UCUM|{range}|N|||F|||20261120100000\r",
            index + 1
        ));
    }
    text.into_bytes()
}

fn framed(message: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(message.len() + 3);
    frame.push(0x0B);
    frame.extend_from_slice(message);
    frame.extend_from_slice(&[0x1C, 0x0D]);
    frame
}

/// Sends `count` messages on one connection, each after the previous ACK.
async fn sender(address: SocketAddr, count: u64, next: Arc<AtomicU64>) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut reply = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    for _ in 0..count {
        let n = next.fetch_add(1, Ordering::Relaxed);
        stream.write_all(&framed(&message(n))).await.expect("send");
        reply.clear();
        while !reply.ends_with(&[0x1C, 0x0D]) {
            let read = stream.read(&mut chunk).await.expect("read the ACK");
            assert!(read > 0, "connection closed before the ACK");
            reply.extend_from_slice(&chunk[..read]);
        }
        assert!(
            reply.windows(7).any(|window| window == b"MSA|AA|"),
            "not accepted: {}",
            String::from_utf8_lossy(&reply)
        );
    }
}

fn roundtrip(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("start a tokio runtime");
    let directory = std::env::temp_dir().join(format!("tsunagi-bench-mllp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&directory.join("tsunagi.db"), &SqliteConfig::default())
            .expect("open the SQLite store"),
    );
    let gateway = Arc::new(Gateway::new(Config::default(), store).expect("gateway"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    runtime.spawn(tsunagi_gateway::mllp::serve(Arc::clone(&gateway), listener));
    let next = Arc::new(AtomicU64::new(1));

    let mut group = criterion.benchmark_group("mllp_roundtrip");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("oru_r01_10obx_8_senders_sync_full", |bencher| {
        bencher.iter_custom(|iterations| {
            let per_sender = iterations.div_ceil(SENDERS).max(1);
            let started = Instant::now();
            runtime.block_on(async {
                let tasks: Vec<_> = (0..SENDERS)
                    .map(|_| tokio::spawn(sender(address, per_sender, Arc::clone(&next))))
                    .collect();
                for task in tasks {
                    task.await.expect("sender finished");
                }
            });
            // Time per message actually sent, scaled to the iterations asked for.
            started
                .elapsed()
                .mul_f64(iterations as f64 / (per_sender * SENDERS) as f64)
        });
    });
    group.finish();
    drop(gateway);
    let _ = std::fs::remove_dir_all(&directory);
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
