//! A referral package end to end: hospital A builds and signs the package of one referral
//! (1 patient, 2 imaging studies of 500 instances each, 3 reports with 2 results each), it
//! crosses as bytes, and hospital B parses, verifies, matches and stores it.
//!
//! What it measures, per package: `build_sign` (collect + document + ES256 signature at A),
//! `receive` (parse the bytes + verify the chain and signature + match + one store
//! transaction at B, on a fresh SQLite store each time), and `end_to_end` (both). The socket is
//! left out: the bytes are what a POST would carry. The package size is printed once.
//!
//! Run with `cargo bench -p tsunagi-gateway --bench referral_package`.

mod support;

#[path = "../src/referral/test_pki.rs"]
mod test_pki;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Value};
use std::sync::Arc;
use support::temp_dir::TempDir;
use tsunagi_gateway::config::Config;
use tsunagi_gateway::fhir::entry::PreferReturn;
use tsunagi_gateway::Gateway;
use tsunagi_profiles::{parse_json_value, ParseLimits, Resource};

const INSTANCES_PER_STUDY: usize = 500;
const CODE_SYSTEM: &str = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// A's store content: the referral and everything it reaches.
fn hospital_a_records() -> Value {
    let mut resources = vec![
        json!({"resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "urn:tsunagi:id:bench-a/patient-id", "value": "BENCH-0001"}],
            "name": [{"family": "試験", "given": ["花子"], "extension": [{"url":
                "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE"}]}],
            "gender": "female", "birthDate": "1980-01-02",
            "managingOrganization": {"reference": "Organization/a"}}),
        json!({"resourceType": "Organization", "id": "a", "name": "A病院",
            "identifier": [{"system": CODE_SYSTEM, "value": "1311111111"}]}),
        json!({"resourceType": "Organization", "id": "b", "name": "B病院",
            "identifier": [{"system": CODE_SYSTEM, "value": "1322222222"}]}),
        json!({"resourceType": "Practitioner", "id": "d1",
            "identifier": [{"system": "urn:tsunagi:id:bench-a/practitioner-id", "value": "D1"}],
            "name": [{"family": "医師", "given": ["一郎"]}]}),
        json!({"resourceType": "Endpoint", "id": "pacs", "status": "active",
            "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                "code": "dicom-wado-rs"},
            "payloadType": [{"text": "DICOM"}], "address": "https://pacs.a.example/dicom-web"}),
        json!({"resourceType": "ServiceRequest", "id": "referral", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "requester": {"reference": "Practitioner/d1"},
            "performer": [{"reference": "Organization/b"}],
            "basedOn": [{"reference": "ServiceRequest/ct"}, {"reference": "ServiceRequest/us"}],
            "reasonCode": [{"text": "セカンドオピニオン"}]}),
    ];
    for (order, modality, sop_class) in [
        ("ct", "CT", "1.2.840.10008.5.1.4.1.1.2"),
        ("us", "US", "1.2.840.10008.5.1.4.1.1.6.1"),
    ] {
        resources.push(
            json!({"resourceType": "ServiceRequest", "id": order, "status": "completed",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "code": {"text": format!("{modality} exam")}}),
        );
        let instances: Vec<Value> = (0..INSTANCES_PER_STUDY)
            .map(|number| {
                json!({"uid": format!("2.25.{}{number:04}", 1000 + order.len()),
                "sopClass": {"system": "urn:ietf:rfc:3986", "code": format!("urn:oid:{sop_class}")},
                "number": number + 1})
            })
            .collect();
        resources.push(json!({"resourceType": "ImagingStudy", "id": format!("{order}-study"),
            "status": "available", "subject": {"reference": "Patient/p1"},
            "basedOn": [{"reference": format!("ServiceRequest/{order}")}],
            "endpoint": [{"reference": "Endpoint/pacs"}],
            "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality}],
            "numberOfSeries": 1, "numberOfInstances": INSTANCES_PER_STUDY,
            "series": [{"uid": format!("2.25.77{}", order.len()), "modality": {
                "system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality},
                "instance": instances}]}));
    }
    for (report, order) in [("r1", "ct"), ("r2", "us"), ("r3", "ct")] {
        for result in 1..=2 {
            resources.push(
                json!({"resourceType": "Observation", "id": format!("{report}-o{result}"),
                "status": "final", "code": {"text": "所見"}, "subject": {"reference": "Patient/p1"},
                "valueString": "特記すべき所見なし"}),
            );
        }
        resources.push(
            json!({"resourceType": "DiagnosticReport", "id": report, "status": "final",
            "code": {"text": "読影レポート"}, "subject": {"reference": "Patient/p1"},
            "basedOn": [{"reference": format!("ServiceRequest/{order}")}],
            "result": [{"reference": format!("Observation/{report}-o1")},
                {"reference": format!("Observation/{report}-o2")}],
            "conclusion": "異常なし"}),
        );
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let url = format!(
                "{}/{}",
                resource["resourceType"].as_str().unwrap(),
                resource["id"].as_str().unwrap()
            );
            json!({"resource": resource, "request": {"method": "PUT", "url": url}})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

fn gateway(dir: &TempDir, name: &str, adjust: impl FnOnce(&mut Config)) -> Gateway {
    let mut config = Config {
        db: dir.0.join(format!("{name}.db")).display().to_string(),
        ..Config::default()
    };
    config.source.institution = format!("bench-{name}");
    adjust(&mut config);
    let store = tsunagi_gateway::store::open(&config).expect("store").store;
    Gateway::new(config, store).expect("gateway")
}

fn bench(c: &mut Criterion) {
    let dir = TempDir::fresh("referral");
    let (ca_key, ca_cert) = test_pki::test_ca();
    let (key, cert) = test_pki::issue_cert(
        &ca_key,
        &ca_cert,
        "Bench Hospital A",
        test_pki::KeyKind::EcP256,
        30,
    );
    let write = |name: &str, pem: &[u8]| {
        let path = dir.0.join(name);
        std::fs::write(&path, pem).expect("write PEM");
        path.display().to_string()
    };
    let (key, cert, ca) = (
        write("a.key", &key),
        write("a.pem", &cert),
        write("ca.pem", &ca_cert),
    );
    let runtime = actix_web::rt::System::new();
    let a = gateway(&dir, "a", |config| {
        config.source.institution_code = Some("1311111111".into());
        config.referral.signing_key = Some(key);
        config.referral.certificate_chain = Some(cert);
    });
    let records = Resource::from_value(hospital_a_records()).expect("records");
    runtime
        .block_on(a.process_bundle(records, PreferReturn::Minimal))
        .expect("store A's records");
    let limits = ParseLimits {
        max_bytes: 64 * 1024 * 1024,
        max_depth: 64,
    };
    let package = runtime
        .block_on(tsunagi_gateway::referral::build_signed(&a, "referral"))
        .expect("package");
    let bytes = serde_json::to_vec(&package.bundle).expect("bytes");
    eprintln!(
        "referral_package: {} entries, {} bytes ({:.1} KiB)",
        package.bundle["entry"].as_array().map_or(0, Vec::len),
        bytes.len(),
        bytes.len() as f64 / 1024.0
    );
    let serial = std::sync::atomic::AtomicUsize::new(0);
    let fresh_b = || {
        let n = serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Arc::new(gateway(&dir, &format!("b{n}"), |config| {
            config.referral.trusted_certificates = vec![ca.clone()];
            config.limits.max_body_bytes = 64 * 1024 * 1024;
        }))
    };

    let mut group = c.benchmark_group("referral_package");
    group.sample_size(10);
    group.bench_function("build_sign", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(tsunagi_gateway::referral::build_signed(&a, "referral"))
                .expect("package")
        })
    });
    group.bench_function("receive", |bencher| {
        bencher.iter_batched(
            fresh_b,
            |b| {
                let bundle = parse_json_value(&bytes, &limits).expect("parse");
                runtime
                    .block_on(tsunagi_gateway::referral::receive::receive(&b, &bundle))
                    .expect("received")
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("end_to_end", |bencher| {
        bencher.iter_batched(
            fresh_b,
            |b| {
                let package = runtime
                    .block_on(tsunagi_gateway::referral::build_signed(&a, "referral"))
                    .expect("package");
                let wire = serde_json::to_vec(&package.bundle).expect("bytes");
                let bundle = parse_json_value(&wire, &limits).expect("parse");
                runtime
                    .block_on(tsunagi_gateway::referral::receive::receive(&b, &bundle))
                    .expect("received")
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
