//! One radiology order followed through three messages (OMG^O19 order, SS-MIX2 OMI^Z23
//! performed notification, ORU^R01 report), converted separately as they would arrive: the
//! Bundles must agree on every shared id and their references must point at those ids.

use serde_json::Value;
use std::path::Path;
use tsunagi_adapters::hl7v2::{convert, Hl7Options};
use tsunagi_adapters::identity::resource_id;
use tsunagi_adapters::SourceContext;

const INSTITUTION: &str = "linking-hospital";

fn bundle(case: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/hl7v2/{case}.hl7"));
    let bytes = std::fs::read(path).expect("golden input");
    let ctx = SourceContext::new(INSTITUTION, "+09:00");
    let conversion = convert(&bytes, &ctx, &Hl7Options::default()).expect("converts");
    assert!(
        !conversion.report.has_errors(),
        "{case}: {:?}",
        conversion.report
    );
    conversion.bundle()
}

fn resources<'a>(bundle: &'a Value, resource_type: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| &entry["resource"])
        .filter(|resource| resource["resourceType"] == resource_type)
        .collect()
}

fn only<'a>(bundle: &'a Value, resource_type: &str) -> &'a Value {
    let found = resources(bundle, resource_type);
    assert_eq!(found.len(), 1, "one {resource_type} expected");
    found[0]
}

fn reference(resource_type: &str, id: &str) -> Value {
    Value::String(format!("{resource_type}/{id}"))
}

#[test]
fn order_study_and_report_join_up() {
    let order = bundle("omg_o19_jis");
    let performed = bundle("omi_z23_jis");
    let report = bundle("oru_r01_radiology");

    // The ids every message must agree on, computed from the business keys.
    let patient_id = resource_id(INSTITUTION, "Patient", "P000123");
    let order_id = resource_id(INSTITUTION, "ServiceRequest", "ORD20240001");
    let study_id = resource_id(
        INSTITUTION,
        "ImagingStudy",
        "1.2.392.200036.9999.1.20240105.1",
    );

    for bundle in [&order, &performed, &report] {
        assert_eq!(only(bundle, "Patient")["id"], patient_id.as_str());
    }
    let service_request = only(&order, "ServiceRequest");
    assert_eq!(service_request["id"], order_id.as_str());
    assert_eq!(
        service_request["subject"]["reference"],
        reference("Patient", &patient_id)
    );
    assert_eq!(only(&performed, "ServiceRequest")["id"], order_id.as_str());

    let study = only(&performed, "ImagingStudy");
    assert_eq!(study["id"], study_id.as_str());
    assert_eq!(
        study["basedOn"][0]["reference"],
        reference("ServiceRequest", &order_id)
    );
    assert_eq!(
        study["subject"]["reference"],
        reference("Patient", &patient_id)
    );
    assert_eq!(
        study["identifier"][0]["value"],
        "urn:oid:1.2.392.200036.9999.1.20240105.1"
    );

    let diagnostic_report = only(&report, "DiagnosticReport");
    assert_eq!(
        diagnostic_report["basedOn"][0]["reference"],
        reference("ServiceRequest", &order_id)
    );
    assert_eq!(
        diagnostic_report["imagingStudy"][0]["reference"],
        reference("ImagingStudy", &study_id)
    );
    assert_eq!(
        diagnostic_report["subject"]["reference"],
        reference("Patient", &patient_id)
    );
    for observation in resources(&report, "Observation") {
        assert_eq!(
            observation["subject"]["reference"],
            reference("Patient", &patient_id)
        );
        let id = observation["id"].as_str().expect("id");
        assert!(
            diagnostic_report["result"]
                .as_array()
                .expect("results")
                .contains(&serde_json::json!({ "reference": format!("Observation/{id}") })),
            "every Observation is a result of the report"
        );
    }
    // The report does not create the ServiceRequest or the ImagingStudy (that would overwrite
    // the richer ones from the order messages); it only points at them.
    assert!(resources(&report, "ServiceRequest").is_empty());
    assert!(resources(&report, "ImagingStudy").is_empty());

    // Each message is kept as its own Binary, so the three do not overwrite each other.
    let binaries: Vec<&Value> = [&order, &performed, &report]
        .iter()
        .map(|bundle| &only(bundle, "Binary")["id"])
        .collect();
    assert_ne!(binaries[0], binaries[1]);
    assert_ne!(binaries[1], binaries[2]);
}

#[test]
fn converting_twice_is_byte_identical() {
    for case in ["omg_o19_jis", "omi_z23_jis", "oru_r01_radiology"] {
        let first = serde_json::to_vec(&bundle(case)).expect("json");
        let second = serde_json::to_vec(&bundle(case)).expect("json");
        assert_eq!(first, second, "{case}");
    }
}

#[test]
fn a_different_message_reusing_a_control_id_gets_its_own_binary() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hl7v2/orm_o01_nw.hl7");
    let original = std::fs::read(path).expect("input");
    let text = String::from_utf8(original.clone()).expect("ascii");
    // Same MSH-10, different content (a changed note).
    let altered = text
        .replace("first morning sample", "second morning sample")
        .into_bytes();
    let ctx = SourceContext::new(INSTITUTION, "+09:00");
    let first = convert(&original, &ctx, &Hl7Options::default()).expect("converts");
    let second = convert(&altered, &ctx, &Hl7Options::default()).expect("converts");
    let resend = convert(&original, &ctx, &Hl7Options::default()).expect("converts");
    let binary = |bundle: &Value| only(bundle, "Binary")["id"].clone();
    let (first, second, resend) = (first.bundle(), second.bundle(), resend.bundle());
    assert_ne!(binary(&first), binary(&second));
    assert_eq!(binary(&first), binary(&resend));
    // The order itself is the same resource in both.
    assert_eq!(
        only(&first, "ServiceRequest")["id"],
        only(&second, "ServiceRequest")["id"]
    );
}
