//! FHIR search latency over a generated store of N resources, and the ingest rate that built it.
//!
//! What it does: generates N = `TSUNAGI_SEARCH_BENCH_N` (default 100,000) made-up resources —
//! per patient (Japanese kanji/kana names, every fifth one a Latin name) two imaging orders
//! (one active), a study per order (`basedOn`), a report on the first study with two results,
//! and two more observations: ten resources a patient — into a `SqliteStore` through
//! `Gateway::process_bundle` (transactions of 500 PUTs, parsed from JSON bytes as the HTTP edge
//! does), and reports the ingest rate with the search index written on every version. The
//! store is kept in `$TMPDIR/tsunagi-search-bench-v{DATA_VERSION}-{N}` and reused by later runs
//! with the same N (delete the folder to regenerate).
//!
//! Then, for each named query, it measures with criterion one client issuing it in a loop, and
//! prints p50/p99 latency and throughput with 8 tokio tasks issuing it in a loop for
//! `TSUNAGI_SEARCH_BENCH_SECS` seconds (default 5) against `Gateway::search` (first pages,
//! default page size 50). Queries that name a patient or an order pick a different one on each
//! call (a fixed pseudo-random sequence).
//!
//! Run with `cargo bench -p tsunagi-gateway --bench search` (set `TSUNAGI_SEARCH_BENCH_N` for
//! another size).

use criterion::{Criterion, SamplingMode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tsunagi_gateway::config::{Config, SqliteConfig};
use tsunagi_gateway::fhir::bundle::parse_json_bundle;
use tsunagi_gateway::fhir::entry::PreferReturn;
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;
use tsunagi_profiles::ParseLimits;

/// Bump when the generated data changes, so an old store is not reused.
const DATA_VERSION: u32 = 1;
/// Resources generated per patient.
const PER_PATIENT: usize = 10;
/// Patients per transaction Bundle (500 entries).
const PATIENTS_PER_BUNDLE: usize = 50;
/// Tasks issuing a query at once.
const CONCURRENCY: usize = 8;
/// JP Core patient id system with a made-up institution.
const PATIENT_ID_SYSTEM: &str = "urn:oid:1.2.392.100495.20.3.51.11318814790";
const NAME_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";

/// Family names: kanji, kana.
const FAMILIES: &[(&str, &str)] = &[
    ("山田", "やまだ"),
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
];
/// Given names: kanji, kana.
const GIVENS: &[(&str, &str)] = &[
    ("太郎", "たろう"),
    ("花子", "はなこ"),
    ("一郎", "いちろう"),
    ("結衣", "ゆい"),
    ("陽翔", "はると"),
    ("さくら", "さくら"),
    ("蓮", "れん"),
];
/// Latin names: family, given.
const LATIN: &[(&str, &str)] = &[
    ("Smith", "John"),
    ("García", "María"),
    ("Müller", "Jürgen"),
    ("Nguyen", "Anh"),
    ("Kim", "Minji"),
];
/// Imaging procedures: LOINC code, display, DICOM modality.
const PROCEDURES: &[(&str, &str, &str)] = &[
    ("24627-2", "CT Chest", "CT"),
    ("24558-9", "CT Abdomen", "CT"),
    ("24590-2", "MR Brain", "MR"),
    ("36643-5", "XR Chest 2 Views", "DX"),
    ("24531-6", "US Abdomen", "US"),
];

/// One named query: its label, the type searched, and its parameters for patient number `k`.
struct Query {
    label: &'static str,
    res_type: &'static str,
    params: fn(usize) -> Vec<(String, String)>,
}

fn pairs(items: &[(&str, String)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

fn queries() -> Vec<Query> {
    vec![
        Query {
            label: "ServiceRequest?patient=Patient/p{k}&status=active",
            res_type: "ServiceRequest",
            params: |k| {
                pairs(&[
                    ("patient", format!("Patient/p{k}")),
                    ("status", "active".into()),
                ])
            },
        },
        Query {
            label: "ImagingStudy?basedon=ServiceRequest/sr{k}-1",
            res_type: "ImagingStudy",
            params: |k| pairs(&[("basedon", format!("ServiceRequest/sr{k}-1"))]),
        },
        Query {
            label:
                "DiagnosticReport?patient.identifier={system}|{k}&_include=DiagnosticReport:result",
            res_type: "DiagnosticReport",
            params: |k| {
                pairs(&[
                    ("patient.identifier", format!("{PATIENT_ID_SYSTEM}|{k:08}")),
                    ("_include", "DiagnosticReport:result".into()),
                ])
            },
        },
        Query {
            label: "ServiceRequest?_revinclude=ImagingStudy:basedon",
            res_type: "ServiceRequest",
            params: |_| pairs(&[("_revinclude", "ImagingStudy:basedon".into())]),
        },
        Query {
            label: "Patient?name=やまだ",
            res_type: "Patient",
            params: |_| pairs(&[("name", "やまだ".into())]),
        },
        Query {
            label: "Patient?name=山田",
            res_type: "Patient",
            params: |_| pairs(&[("name", "山田".into())]),
        },
    ]
}

fn main() {
    let n: usize = env_number("TSUNAGI_SEARCH_BENCH_N", 100_000);
    let seconds: u64 = env_number("TSUNAGI_SEARCH_BENCH_SECS", 5) as u64;
    let patients = (n / PER_PATIENT).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start a tokio runtime");

    let dir = std::env::temp_dir().join(format!("tsunagi-search-bench-v{DATA_VERSION}-{n}"));
    let queries = queries();
    let mut gateway = None;
    if let Ok(figures) = std::fs::read_to_string(dir.join("complete")) {
        let reused = open(&dir);
        if runtime.block_on(totals_as_generated(&reused, &queries, patients)) {
            println!(
                "reusing {} — generated earlier: {}",
                dir.display(),
                figures.trim()
            );
            gateway = Some(reused);
        } else {
            println!(
                "{} answers unlike its data (indexing changed?): generating again",
                dir.display()
            );
        }
    }
    let gateway = gateway.unwrap_or_else(|| {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the benchmark's directory");
        let figures = runtime.block_on(generate(&dir.join("tsunagi.db"), patients));
        println!("{figures}");
        let fresh = open(&dir);
        assert!(
            runtime.block_on(totals_as_generated(&fresh, &queries, patients)),
            "the freshly generated store answers unlike its data"
        );
        std::fs::write(dir.join("complete"), &figures).expect("mark the store complete");
        fresh
    });

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds));
    {
        let mut group = criterion.benchmark_group(format!("search_one_client_n{n}"));
        // Some queries take a second at large N: the same iteration count in every sample.
        group.sampling_mode(SamplingMode::Flat);
        for query in &queries {
            let mut sequence = PatientSequence::new(1, patients);
            group.bench_function(query.label, |bencher| {
                bencher.iter(|| {
                    let params = (query.params)(sequence.next_patient());
                    runtime
                        .block_on(gateway.search(Some(query.res_type), &params, false))
                        .expect("search")
                });
            });
        }
        group.finish();
    }

    println!("\nconcurrency {CONCURRENCY}, {seconds} s per query, N = {n} ({patients} patients):");
    println!(
        "{:<90} {:>9} {:>9} {:>8} {:>7}",
        "query", "p50", "p99", "q/s", "calls"
    );
    for query in &queries {
        let (mut latencies, elapsed) = runtime.block_on(under_load(
            &gateway,
            query,
            patients,
            Duration::from_secs(seconds),
        ));
        latencies.sort_unstable();
        let count = latencies.len();
        let at = |percent: usize| latencies[(count * percent / 100).min(count - 1)];
        println!(
            "{:<90} {:>9} {:>9} {:>8.1} {count:>7}",
            query.label,
            format!("{:.2?}", at(50)),
            format!("{:.2?}", at(99)),
            count as f64 / elapsed.as_secs_f64()
        );
    }
    criterion.final_summary();
}

/// A gateway over the store in `dir`.
fn open(dir: &Path) -> Arc<Gateway> {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.join("tsunagi.db"), &SqliteConfig::default())
            .expect("open the SQLite store"),
    );
    Arc::new(Gateway::new(Config::default(), store).expect("gateway"))
}

/// Whether every query's total (for a patient in the middle) is what the generator wrote;
/// prints each.
async fn totals_as_generated(gateway: &Gateway, queries: &[Query], patients: usize) -> bool {
    let named_yamada = (0..patients)
        .filter(|k| k % 5 != 4 && (k / 5).is_multiple_of(FAMILIES.len()))
        .count() as u64;
    let expected = [1, 1, 1, 2 * patients as u64, named_yamada, named_yamada];
    let mut all_as_generated = true;
    for (query, expected) in queries.iter().zip(expected) {
        let params = (query.params)(patients / 2);
        let bundle = match gateway.search(Some(query.res_type), &params, false).await {
            Ok(bundle) => bundle,
            Err(error) => panic!("{}: {error}", query.label),
        };
        let entries = bundle["entry"].as_array().map_or(0, Vec::len);
        let total = bundle["total"].as_u64();
        println!(
            "{:<90} total {:>6} (generated {expected}), first page {entries} entries",
            query.label,
            total.map_or("-".into(), |total| total.to_string())
        );
        all_as_generated &= total == Some(expected);
    }
    all_as_generated
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}

/// Patient numbers in a fixed pseudo-random order (xorshift), so calls do not repeat one key.
struct PatientSequence {
    state: u64,
    patients: usize,
}

impl PatientSequence {
    fn new(seed: u64, patients: usize) -> Self {
        PatientSequence {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            patients,
        }
    }

    fn next_patient(&mut self) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % self.patients as u64) as usize
    }
}

/// `CONCURRENCY` tasks issue `query` until `duration` has passed (a call under way then is
/// finished); every call's latency, and how long it all took.
async fn under_load(
    gateway: &Arc<Gateway>,
    query: &Query,
    patients: usize,
    duration: Duration,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|task| {
            let gateway = Arc::clone(gateway);
            let (res_type, make) = (query.res_type, query.params);
            tokio::spawn(async move {
                let mut sequence = PatientSequence::new(task as u64 + 100, patients);
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let params = make(sequence.next_patient());
                    let started = Instant::now();
                    gateway
                        .search(Some(res_type), &params, false)
                        .await
                        .expect("search");
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("query task"));
    }
    (all, started.elapsed())
}

/// Writes `patients` × `PER_PATIENT` resources; returns a line with the ingest figures.
async fn generate(db: &Path, patients: usize) -> String {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(db, &SqliteConfig::default()).expect("open the SQLite store"));
    let gateway = Gateway::new(Config::default(), store).expect("gateway");
    let limits = ParseLimits::default();
    let started = Instant::now();
    let mut ingesting = Duration::ZERO;
    let mut written = 0;
    let mut reported = 0;
    for first in (0..patients).step_by(PATIENTS_PER_BUNDLE) {
        let last = (first + PATIENTS_PER_BUNDLE).min(patients);
        let bytes = bundle_bytes(first..last);
        let ingest_started = Instant::now();
        let bundle = parse_json_bundle(&bytes, &limits).expect("parse the Bundle");
        gateway
            .process_bundle(bundle, PreferReturn::Minimal)
            .await
            .expect("the transaction is accepted");
        ingesting += ingest_started.elapsed();
        written += (last - first) * PER_PATIENT;
        if written * 10 / (patients * PER_PATIENT) > reported {
            reported = written * 10 / (patients * PER_PATIENT);
            eprintln!(
                "generated {written} resources in {:.1?} ({:.0}/s)",
                started.elapsed(),
                written as f64 / ingesting.as_secs_f64()
            );
        }
    }
    let size = std::fs::metadata(db).map_or(0, |meta| meta.len());
    format!(
        "ingest: {written} resources ({patients} patients) in {:.1?}; {:.0} resources/s parsing and committing \
         500-entry transactions with the search index (synchronous=FULL), {:.0}/s counting Bundle generation; \
         database {} MB",
        started.elapsed(),
        written as f64 / ingesting.as_secs_f64(),
        written as f64 / started.elapsed().as_secs_f64(),
        size >> 20
    )
}

fn name(representation: &str, family: &str, given: &str) -> Value {
    json!({
        "extension": [{ "url": NAME_REPRESENTATION, "valueCode": representation }],
        "use": "official",
        "text": format!("{family} {given}"),
        "family": family,
        "given": [given]
    })
}

fn put(resource: Value) -> Value {
    let url = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or_default(),
        resource["id"].as_str().unwrap_or_default()
    );
    json!({ "resource": resource, "request": { "method": "PUT", "url": url } })
}

/// A transaction Bundle with the resources of patients `range`.
fn bundle_bytes(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut entries = Vec::with_capacity(range.len() * PER_PATIENT);
    for k in range {
        entries.extend(patient_resources(k).into_iter().map(put));
    }
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
    serde_json::to_vec(&bundle).expect("serialise the Bundle")
}

/// The ten resources of patient number `k`.
fn patient_resources(k: usize) -> Vec<Value> {
    let patient = format!("p{k}");
    let subject = json!({ "reference": format!("Patient/{patient}") });
    let names = if k % 5 == 4 {
        let (family, given) = LATIN[(k / 5) % LATIN.len()];
        vec![json!({ "use": "official", "family": family, "given": [given] })]
    } else {
        let (family_kanji, family_kana) = FAMILIES[(k / 5) % FAMILIES.len()];
        let (given_kanji, given_kana) = GIVENS[k % GIVENS.len()];
        vec![
            name("IDE", family_kanji, given_kanji),
            name("SYL", family_kana, given_kana),
        ]
    };
    let month = k % 12 + 1;
    let day = k % 28 + 1;
    let at = |hour: usize| format!("2025-{month:02}-{day:02}T{hour:02}:15:00+09:00");
    let mut resources = vec![json!({
        "resourceType": "Patient",
        "id": patient,
        "identifier": [{ "system": PATIENT_ID_SYSTEM, "value": format!("{k:08}") }],
        "active": true,
        "name": names,
        "gender": if k.is_multiple_of(2) { "male" } else { "female" },
        "birthDate": format!("{}-{month:02}-{day:02}", 1930 + k % 90),
        "address": [{ "state": "東京都", "city": "千代田区", "postalCode": "100-0001", "country": "JP" }]
    })];
    for (n, status) in [(1, "active"), (2, "completed")] {
        let (code, display, modality) = PROCEDURES[(k + n) % PROCEDURES.len()];
        let order = format!("sr{k}-{n}");
        resources.push(json!({
            "resourceType": "ServiceRequest",
            "id": order,
            "identifier": [{ "system": "urn:oid:1.2.392.100495.20.3.11.11318814790", "value": format!("ORD-{k:08}-{n}") }],
            "status": status,
            "intent": "order",
            "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
            "subject": subject,
            "authoredOn": at(8 + n)
        }));
        let study_uid = format!("1.2.392.200036.9116.2.6.1.48.{k}.{n}");
        resources.push(json!({
            "resourceType": "ImagingStudy",
            "id": format!("is{k}-{n}"),
            "identifier": [{ "system": "urn:dicom:uid", "value": format!("urn:oid:{study_uid}") }],
            "status": "available",
            "modality": [{ "system": DCM, "code": modality }],
            "subject": subject,
            "started": at(10 + n),
            "basedOn": [{ "reference": format!("ServiceRequest/{order}") }],
            "numberOfSeries": 1,
            "numberOfInstances": 1,
            "series": [{
                "uid": format!("{study_uid}.1"),
                "number": 1,
                "modality": { "system": DCM, "code": modality },
                "numberOfInstances": 1,
                "instance": [{
                    "uid": format!("{study_uid}.1.1"),
                    "sopClass": { "system": "urn:ietf:rfc:3986", "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2" },
                    "number": 1
                }]
            }]
        }));
    }
    let vitals = [
        ("29463-7", "Body weight", 40.0 + (k % 60) as f64, "kg", "kg"),
        (
            "8310-5",
            "Body temperature",
            36.0 + (k % 20) as f64 / 10.0,
            "Cel",
            "℃",
        ),
        (
            "8867-4",
            "Heart rate",
            50.0 + (k % 50) as f64,
            "/min",
            "beats/minute",
        ),
        (
            "8480-6",
            "Systolic blood pressure",
            100.0 + (k % 60) as f64,
            "mm[Hg]",
            "mmHg",
        ),
    ];
    for (index, (code, display, value, unit_code, unit)) in vitals.into_iter().enumerate() {
        resources.push(json!({
            "resourceType": "Observation",
            "id": format!("obs{k}-{}", index + 1),
            "status": "final",
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs" }] }],
            "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
            "subject": subject,
            "effectiveDateTime": at(9),
            "valueQuantity": { "value": value, "unit": unit, "system": UCUM, "code": unit_code }
        }));
    }
    let (code, display, _) = PROCEDURES[(k + 1) % PROCEDURES.len()];
    resources.push(json!({
        "resourceType": "DiagnosticReport",
        "id": format!("dr{k}"),
        "basedOn": [{ "reference": format!("ServiceRequest/sr{k}-1") }],
        "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD" }] }],
        "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
        "subject": subject,
        "effectiveDateTime": at(11),
        "issued": at(15),
        "imagingStudy": [{ "reference": format!("ImagingStudy/is{k}-1") }],
        "result": [
            { "reference": format!("Observation/obs{k}-1") },
            { "reference": format!("Observation/obs{k}-2") }
        ],
        "conclusion": "異常なし"
    }));
    debug_assert_eq!(resources.len(), PER_PATIENT);
    resources
}
