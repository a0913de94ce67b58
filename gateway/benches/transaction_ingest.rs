//! Transaction ingest into the embedded store, in resources per second.
//!
//! What it measures: one 100-entry transaction Bundle (34 ServiceRequest, 33 ImagingStudy,
//! 33 DiagnosticReport, linked by `urn:uuid:` references) parsed from JSON bytes with
//! `parse_json_bundle` (the HTTP edge's Bundle parser: guards, syntax, and the strict R4 check
//! of the entries on two threads) and run through `Gateway::process_bundle` (`Prefer: return=minimal`)
//! against a `SqliteStore` on a file in a fresh temporary directory, as the HTTP edge would do
//! for a `POST /fhir` of the same Bundle, minus the socket. Building the Bundle's bytes is setup
//! and not timed; parsing, reference rewriting, the store transaction and the commit's fsync are.
//!
//! Why: ingest of linked imaging orders, studies and reports is Tsunagi's main write path, and
//! PEERS.md compares it with Helios (3.1k–6.3k resources/s) and raw SQLite WAL inserts
//! (≈ 20k resources/s) on the same machine. Two variants: `synchronous = FULL` (the default,
//! survives power loss) and `synchronous = NORMAL` (survives a process crash only).
//!
//! A third group, `bundle_parse`, times the parse of the same Bundle alone, two ways, to tell
//! where ingest time goes: `from_json` (guard, syntax and the strict R4 model check, as ingest
//! does) and `from_stored_json` (syntax only, the path for bytes the gateway wrote itself); the
//! difference is the R4 model check.
//!
//! Run with `cargo bench -p tsunagi-gateway --bench transaction_ingest`.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;
use std::time::Duration;
use support::imaging_bundle::{bundle_bytes, ingest_concurrently, ENTRIES};
use support::temp_dir::TempDir;
use tsunagi_gateway::config::{Config, SqliteConfig, Synchronous};
use tsunagi_gateway::fhir::bundle::parse_json_bundle;
use tsunagi_gateway::fhir::entry::PreferReturn;
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;
use tsunagi_profiles::{ParseLimits, Resource};

fn ingest(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start a tokio runtime");
    let limits = ParseLimits::default();
    let mut group = criterion.benchmark_group("transaction_ingest");
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    for (label, synchronous) in [("full", Synchronous::Full), ("normal", Synchronous::Normal)] {
        let directory = TempDir::fresh(&format!("ingest-{label}"));
        let sqlite = SqliteConfig {
            synchronous,
            ..SqliteConfig::default()
        };
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&directory.0.join("tsunagi.db"), &sqlite)
                .expect("open the SQLite store"),
        );
        let gateway = Gateway::new(Config::default(), store).expect("gateway");
        // A first Bundle checks the data is accepted, so a model or reference error fails loudly
        // here rather than being timed as a fast failure.
        let first = Resource::from_json(&bundle_bytes(0), &limits).expect("parse the Bundle");
        let response = runtime
            .block_on(gateway.process_bundle(first, PreferReturn::Minimal))
            .expect("the first transaction is accepted");
        assert_eq!(
            response["entry"].as_array().map(Vec::len),
            Some(ENTRIES),
            "the transaction-response has one entry per request"
        );
        let mut batch = 0;
        group.bench_function(format!("100_entries_sync_{label}"), |bencher| {
            bencher.iter_batched(
                || {
                    batch += 1;
                    bundle_bytes(batch)
                },
                |bytes| {
                    let bundle = parse_json_bundle(&bytes, &limits).expect("parse the Bundle");
                    runtime
                        .block_on(gateway.process_bundle(bundle, PreferReturn::Minimal))
                        .expect("the transaction is accepted")
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// Two clients at once, as hospitals send: each parses and commits its own 100-entry Bundle,
/// so one client's parse overlaps the other's store transaction on the second core.
fn ingest_two_clients(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("start a tokio runtime");
    let mut group = criterion.benchmark_group("transaction_ingest_two_clients");
    group.throughput(Throughput::Elements(2 * ENTRIES as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    let directory = TempDir::fresh("ingest-two-clients");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&directory.0.join("tsunagi.db"), &SqliteConfig::default())
            .expect("open the SQLite store"),
    );
    let gateway = Arc::new(Gateway::new(Config::default(), store).expect("gateway"));
    let mut batch = 1_000_000;
    group.bench_function("2x100_entries_sync_full", |bencher| {
        bencher.iter_batched(
            || {
                batch += 2;
                (bundle_bytes(batch), bundle_bytes(batch + 1))
            },
            |(first, second)| {
                ingest_concurrently(&runtime, &[Arc::clone(&gateway)], vec![first, second])
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn parse(criterion: &mut Criterion) {
    let limits = ParseLimits::default();
    let bytes = bundle_bytes(0);
    let mut group = criterion.benchmark_group("bundle_parse");
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("100_entries_parse_json_bundle", |bencher| {
        bencher.iter(|| parse_json_bundle(&bytes, &limits).expect("parse the Bundle"));
    });
    group.bench_function("100_entries_from_json", |bencher| {
        bencher.iter(|| Resource::from_json(&bytes, &limits).expect("parse the Bundle"));
    });
    group.bench_function("100_entries_from_stored_json", |bencher| {
        bencher.iter(|| Resource::from_stored_json(&bytes).expect("parse the Bundle"));
    });
    group.finish();
}

criterion_group!(benches, ingest, ingest_two_clients, parse);
criterion_main!(benches);
