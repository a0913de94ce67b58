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

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tsunagi_gateway::config::{Config, SqliteConfig, Synchronous};
use tsunagi_gateway::fhir::bundle::parse_json_bundle;
use tsunagi_gateway::fhir::entry::PreferReturn;
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;
use tsunagi_profiles::{ParseLimits, Resource};

/// Entries per transaction Bundle.
const ENTRIES: usize = 100;
/// ServiceRequests per Bundle; each but the last gets one ImagingStudy and one report.
const ORDERS: usize = 34;
/// ImagingStudies (and DiagnosticReports) per Bundle.
const STUDIES: usize = 33;

/// Imaging procedures the made-up orders cycle through: LOINC code, display, DICOM modality,
/// SNOMED CT body site code and display.
const PROCEDURES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "24627-2",
        "CT Chest",
        "CT",
        "51185008",
        "Thoracic structure",
    ),
    ("24558-9", "CT Abdomen", "CT", "818983003", "Abdomen"),
    ("24590-2", "MR Brain", "MR", "12738006", "Brain structure"),
    (
        "36643-5",
        "XR Chest 2 Views",
        "DX",
        "51185008",
        "Thoracic structure",
    ),
    ("24531-6", "US Abdomen", "US", "818983003", "Abdomen"),
];

/// A removable temporary directory holding one benchmark's database.
struct TempDir(PathBuf);

impl TempDir {
    fn fresh(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "tsunagi-bench-ingest-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the benchmark's temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn full_url() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

fn entry(full_url: &str, resource: Value) -> Value {
    let res_type = resource["resourceType"].clone();
    json!({
        "fullUrl": full_url,
        "resource": resource,
        "request": { "method": "POST", "url": res_type }
    })
}

/// The JSON bytes of transaction Bundle number `batch`; every identifier in it is unique
/// across batches.
fn bundle_bytes(batch: u64) -> Vec<u8> {
    let mut entries = Vec::with_capacity(ENTRIES);
    let mut orders = Vec::with_capacity(ORDERS);
    let mut studies = Vec::with_capacity(STUDIES);
    for index in 0..ORDERS {
        let serial = batch * ORDERS as u64 + index as u64;
        let (code, display, _, _, _) = PROCEDURES[index % PROCEDURES.len()];
        let url = full_url();
        entries.push(entry(
            &url,
            json!({
                "resourceType": "ServiceRequest",
                "identifier": [{
                    "type": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "PLAC"
                    }] },
                    "system": "urn:oid:1.2.392.200119.6.102.11310001",
                    "value": format!("ORD-{serial:010}")
                }],
                "status": "active",
                "intent": "order",
                "category": [{ "coding": [{
                    "system": "http://snomed.info/sct",
                    "code": "363679005",
                    "display": "Imaging"
                }] }],
                "priority": "routine",
                "code": {
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }],
                    "text": display
                },
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "authoredOn": "2026-11-03T09:15:00+09:00",
                "requester": { "display": "Dr. Haruto Sato" },
                "reasonCode": [{ "text": "Persistent cough for three weeks" }]
            }),
        ));
        orders.push(url);
    }
    for index in 0..STUDIES {
        let serial = batch * STUDIES as u64 + index as u64;
        let (code, display, modality, site, site_display) = PROCEDURES[index % PROCEDURES.len()];
        let study_uid = format!("1.2.392.200036.9116.2.6.1.48.{serial}");
        let url = full_url();
        entries.push(entry(
            &url,
            json!({
                "resourceType": "ImagingStudy",
                "identifier": [
                    { "system": "urn:dicom:uid", "value": format!("urn:oid:{study_uid}") },
                    {
                        "type": { "coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "ACSN"
                        }] },
                        "system": "urn:oid:1.2.392.200119.6.102.11310002",
                        "value": format!("ACC-{serial:010}")
                    }
                ],
                "status": "available",
                "modality": [{
                    "system": "http://dicom.nema.org/resources/ontology/DCM",
                    "code": modality
                }],
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "started": "2026-11-04T10:02:31+09:00",
                "basedOn": [{ "reference": orders[index] }],
                "numberOfSeries": 1,
                "numberOfInstances": 1,
                "procedureCode": [{
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }]
                }],
                "series": [{
                    "uid": format!("{study_uid}.1"),
                    "number": 1,
                    "modality": {
                        "system": "http://dicom.nema.org/resources/ontology/DCM",
                        "code": modality
                    },
                    "description": display,
                    "numberOfInstances": 1,
                    "bodySite": {
                        "system": "http://snomed.info/sct",
                        "code": site,
                        "display": site_display
                    },
                    "started": "2026-11-04T10:02:31+09:00",
                    "instance": [{
                        "uid": format!("{study_uid}.1.1"),
                        "sopClass": {
                            "system": "urn:ietf:rfc:3986",
                            "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2"
                        },
                        "number": 1
                    }]
                }]
            }),
        ));
        studies.push(url);
    }
    for index in 0..STUDIES {
        let serial = batch * STUDIES as u64 + index as u64;
        let (code, display, _, _, _) = PROCEDURES[index % PROCEDURES.len()];
        entries.push(entry(
            &full_url(),
            json!({
                "resourceType": "DiagnosticReport",
                "identifier": [{
                    "system": "urn:oid:1.2.392.200119.6.102.11310003",
                    "value": format!("RPT-{serial:010}")
                }],
                "basedOn": [{ "reference": orders[index] }],
                "status": "final",
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                    "code": "RAD",
                    "display": "Radiology"
                }] }],
                "code": {
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }],
                    "text": format!("{display} report")
                },
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "effectiveDateTime": "2026-11-04T10:02:31+09:00",
                "issued": "2026-11-04T14:40:12.000+09:00",
                "resultsInterpreter": [{ "display": "Dr. Yui Tanaka" }],
                "imagingStudy": [{ "reference": studies[index] }],
                "conclusion": "No acute abnormality. Small stable nodule, follow-up in 12 months.",
                "conclusionCode": [{ "coding": [{
                    "system": "http://snomed.info/sct",
                    "code": "17621005",
                    "display": "Normal"
                }] }]
            }),
        ));
    }
    debug_assert_eq!(entries.len(), ENTRIES);
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": entries
    });
    serde_json::to_vec(&bundle).expect("serialise the Bundle")
}

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
        let directory = TempDir::fresh(label);
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
    let directory = TempDir::fresh("two-clients");
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
                runtime.block_on(async {
                    let clients = [first, second].map(|bytes| {
                        let gateway = Arc::clone(&gateway);
                        tokio::spawn(async move {
                            let bundle = parse_json_bundle(&bytes, &ParseLimits::default())
                                .expect("parse the Bundle");
                            gateway
                                .process_bundle(bundle, PreferReturn::Minimal)
                                .await
                                .expect("the transaction is accepted")
                        })
                    });
                    for client in clients {
                        client.await.expect("client task");
                    }
                })
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
