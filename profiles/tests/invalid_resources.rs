//! Hand-made invalid resources (made-up people), each breaking one rule, give exactly the
//! expected error at the expected FHIRPath location — and nothing else at error level.

use std::sync::Arc;

use serde_json::{json, Value};
use tsunagi_profiles::package::Registry;
use tsunagi_profiles::validate::{IssueType, Severity, ValidateOptions, Validator};

fn errors(
    validator: &Validator,
    resource: &Value,
    profiles: &[&str],
) -> Vec<(String, IssueType, String)> {
    let options = ValidateOptions {
        profiles: profiles.iter().map(|p| (*p).to_owned()).collect(),
        ..ValidateOptions::default()
    };
    validator
        .validate(resource, &options)
        .issues
        .into_iter()
        .filter(|issue| issue.severity <= Severity::Error)
        .map(|issue| (issue.expression, issue.kind, issue.message))
        .collect()
}

fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": "p1",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">鈴木 花子</div>"},
        "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11319999999", "value": "00042"}],
        "name": [{"family": "鈴木", "given": ["花子"]}],
        "gender": "female",
        "birthDate": "1980-04-01"
    })
}

#[test]
fn a_valid_patient_has_no_error() {
    let validator = Validator::r4_core();
    assert!(errors(&validator, &patient(), &[]).is_empty());
    let jp = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
    assert!(errors(&validator, &patient(), &[jp]).is_empty());
}

#[test]
fn missing_required_element() {
    let validator = Validator::r4_core();
    let mut patient = patient();
    patient.as_object_mut().map(|p| p.remove("identifier"));
    let found = errors(
        &validator,
        &patient,
        &["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "Patient");
    assert_eq!(found[0].1, IssueType::Structure);
    assert!(
        found[0]
            .2
            .contains("Patient.identifier: minimum required = 1, but only found 0"),
        "{found:?}"
    );
}

#[test]
fn wrong_code_in_a_required_binding() {
    let validator = Validator::r4_core();
    let mut patient = patient();
    patient["gender"] = json!("woman");
    let found = errors(&validator, &patient, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Patient.gender", IssueType::CodeInvalid)
    );
    assert!(found[0].2.contains("administrative-gender"), "{found:?}");
}

#[test]
fn broken_invariant() {
    let validator = Validator::r4_core();
    // obs-7: a value and a component with the same code as the observation's.
    let observation = json!({
        "resourceType": "Observation",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">体温</div>"},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "valueQuantity": {"value": 36.5, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"},
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                       "valueQuantity": {"value": 36.5}}]
    });
    let found = errors(&validator, &observation, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Observation", IssueType::Invariant)
    );
    assert!(
        found[0].2.starts_with("Constraint failed: obs-7"),
        "{found:?}"
    );
}

#[test]
fn closed_slice_violated() {
    let mut registry = Registry::new();
    registry
        .add_resource(json!({
            "resourceType": "StructureDefinition",
            "url": "http://example.org/fhir/StructureDefinition/phone-only-patient",
            "name": "PhoneOnlyPatient", "status": "draft", "kind": "resource", "abstract": false,
            "type": "Patient", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "differential": {"element": [
                {"id": "Patient.telecom", "path": "Patient.telecom",
                 "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed"}},
                {"id": "Patient.telecom:phone", "path": "Patient.telecom", "sliceName": "phone", "min": 0, "max": "*"},
                {"id": "Patient.telecom:phone.system", "path": "Patient.telecom.system", "min": 1, "fixedCode": "phone"}
            ]}
        }))
        .expect("profile");
    let validator = Validator::new(Arc::new(registry));
    let mut patient = patient();
    patient["telecom"] = json!([
        {"system": "phone", "value": "03-0000-0000"},
        {"system": "email", "value": "hanako@example.jp"}
    ]);
    let found = errors(
        &validator,
        &patient,
        &["http://example.org/fhir/StructureDefinition/phone-only-patient"],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Patient.telecom[1]", IssueType::Structure)
    );
    assert!(
        found[0].2.contains("does not match any known slice"),
        "{found:?}"
    );
}

#[test]
fn wrong_reference_type() {
    let validator = Validator::r4_core();
    let report = json!({
        "resourceType": "DiagnosticReport",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">腹部超音波</div>"},
        "status": "final",
        "code": {"text": "腹部超音波"},
        "subject": {"reference": "Organization/hospital-a"}
    });
    let found = errors(&validator, &report, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("DiagnosticReport.subject", IssueType::Structure)
    );
    assert!(found[0].2.contains("'Organization'"), "{found:?}");
}

#[test]
fn unknown_element_and_bad_date() {
    let validator = Validator::r4_core();
    let mut patient = patient();
    patient["birthDate"] = json!("1980-02-30");
    patient["nickname"] = json!("はな");
    let found = errors(&validator, &patient, &[]);
    let locations: Vec<&str> = found.iter().map(|(at, _, _)| at.as_str()).collect();
    assert_eq!(locations, ["Patient", "Patient.birthDate"], "{found:?}");
    assert!(found[0].2.contains("Unrecognized property 'nickname'"));
}
