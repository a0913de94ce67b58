//! Profile validation over real HTTP: `$validate` (raw JSON and XML, Parameters with a
//! profile, `?profile=`, type mismatch, unparseable bodies), and validation on write in each
//! mode (`enforce` refuses with 422 and stores nothing, `warn` stores and reports, `off` does not
//! validate) for create, update, conditional update, transactions, batches, `$ingest` and MLLP.
//! All data is made up.

mod common;

use common::{hl7v2_message, TestServer};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tsunagi_gateway::config::{Config, ValidationMode};

const TEST_PATIENT: &str = "http://example.org/fhir/StructureDefinition/test-patient";
const TEST_PATIENT_PHOTO: &str = "http://example.org/fhir/StructureDefinition/test-patient-photo";

fn packages() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/packages")
}

/// A made-up Patient that breaks nothing (it has a narrative, so not even dom-6 warns).
fn valid_patient() -> Value {
    json!({
        "resourceType": "Patient",
        "text": {
            "status": "generated",
            "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Test Hanako</div>"
        },
        "identifier": [{"system": "urn:example:mrn", "value": "V-0001"}],
        "name": [{"family": "Test", "given": ["Hanako"]}],
        "gender": "female",
        "birthDate": "1980-04-01"
    })
}

/// A Patient with a gender outside its required value set and a 30 February.
fn invalid_patient() -> Value {
    let mut patient = valid_patient();
    patient["gender"] = json!("unknown-gender");
    patient["birthDate"] = json!("1999-02-30");
    patient
}

fn issues(outcome: &Value) -> &Vec<Value> {
    outcome["issue"]
        .as_array()
        .expect("OperationOutcome issues")
}

/// The issues of `severity` whose expression is `expression`.
fn issues_at<'a>(outcome: &'a Value, severity: &str, expression: &str) -> Vec<&'a Value> {
    issues(outcome)
        .iter()
        .filter(|issue| issue["severity"] == severity)
        .filter(|issue| {
            issue["expression"]
                .as_array()
                .is_some_and(|list| list.iter().any(|item| item == expression))
        })
        .collect()
}

fn has_error(outcome: &Value) -> bool {
    issues(outcome)
        .iter()
        .any(|issue| issue["severity"] == "error" || issue["severity"] == "fatal")
}

async fn post(server: &TestServer, path: &str, body: &Value, prefer: Option<&str>) -> (u16, Value) {
    let mut request = server
        .client
        .post(server.url(path))
        .header("Content-Type", "application/fhir+json")
        .body(body.to_string());
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    let response = request.send().await.expect("POST sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn put(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let response = server.send_json(reqwest::Method::PUT, path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every version of `res_type` ever written.
async fn versions_of(server: &TestServer, res_type: &str) -> u64 {
    let (status, history) = server.get_json(&format!("{res_type}/_history")).await;
    assert_eq!(status, 200, "{history}");
    history["total"].as_u64().expect("history total")
}

fn with_mode(mode: ValidationMode) -> impl FnOnce(&mut Config) {
    move |config| config.validation.mode = mode
}

#[tokio::test]
async fn validate_a_valid_patient_is_informational_only() {
    let server = TestServer::start();
    for path in ["Patient/$validate", "$validate"] {
        let (status, outcome) = post(&server, path, &valid_patient(), None).await;
        assert_eq!(status, 200, "{outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert!(
            !issues(&outcome).is_empty(),
            "at least one issue: {outcome}"
        );
        assert!(
            issues(&outcome)
                .iter()
                .all(|issue| issue["severity"] == "information"),
            "{outcome}"
        );
    }
    assert_eq!(versions_of(&server, "Patient").await, 0, "nothing stored");
}

#[tokio::test]
async fn validate_an_invalid_patient_names_each_element_with_its_line() {
    let server = TestServer::start();
    let body = serde_json::to_string_pretty(&invalid_patient()).expect("JSON");
    let (status, outcome) = server
        .post_bytes("Patient/$validate", "application/fhir+json", body)
        .await;
    assert_eq!(status, 200, "{outcome}");
    for expression in ["Patient.gender", "Patient.birthDate"] {
        let found = issues_at(&outcome, "error", expression);
        assert_eq!(found.len(), 1, "{expression} in {outcome}");
        let line = found[0]["extension"]
            .as_array()
            .and_then(|list| {
                list.iter().find(|extension| {
                    extension["url"]
                        == "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
                })
            })
            .and_then(|extension| extension["valueInteger"].as_u64());
        assert!(line.is_some_and(|line| line > 1), "{expression}: {outcome}");
    }
}

#[tokio::test]
async fn validate_takes_parameters_with_a_profile_and_a_profile_query() {
    let server = TestServer::start_with(|config| {
        config.validation.packages = Some(packages().display().to_string());
    });
    let mut patient = valid_patient();
    patient.as_object_mut().expect("object").remove("birthDate");

    // Against its type only: valid.
    let (status, outcome) = post(&server, "Patient/$validate", &patient, None).await;
    assert_eq!(status, 200);
    assert!(!has_error(&outcome), "{outcome}");

    let parameters = json!({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": patient},
        {"name": "profile", "valueCanonical": TEST_PATIENT},
        {"name": "mode", "valueCode": "create"}
    ]});
    let (status, outcome) = post(&server, "Patient/$validate", &parameters, None).await;
    assert_eq!(status, 200, "{outcome}");
    assert!(
        has_error(&outcome),
        "birthDate is 1..1 in the profile: {outcome}"
    );
    assert!(outcome.to_string().contains("birthDate"), "{outcome}");

    let query = format!("$validate?profile={TEST_PATIENT}");
    let (status, outcome) = post(&server, &query, &patient, None).await;
    assert_eq!(status, 200, "{outcome}");
    assert!(has_error(&outcome), "{outcome}");

    // A Parameters without a resource is a client error.
    let empty = json!({"resourceType": "Parameters", "parameter": [
        {"name": "profile", "valueUri": TEST_PATIENT}
    ]});
    let (status, outcome) = post(&server, "$validate", &empty, None).await;
    assert_eq!(status, 400, "{outcome}");
}

#[tokio::test]
async fn validate_a_resource_of_another_type_than_the_url_is_400() {
    let server = TestServer::start();
    let (status, outcome) = post(&server, "Observation/$validate", &valid_patient(), None).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "invalid");
    let (status, _) = post(&server, "Patientz/$validate", &valid_patient(), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn validate_xml_and_answer_in_xml() {
    let server = TestServer::start();
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <gender value=\"unknown-gender\"/>\n</Patient>\n";
    let (status, outcome) = server
        .post_bytes("Patient/$validate", "application/fhir+xml", xml)
        .await;
    assert_eq!(status, 200, "{outcome}");
    let gender = issues_at(&outcome, "error", "Patient.gender");
    assert_eq!(gender.len(), 1, "{outcome}");
    assert_eq!(
        gender[0]["diagnostics"], "[2,3]",
        "line 2, column 3: {outcome}"
    );

    let response = server
        .client
        .post(server.url("Patient/$validate"))
        .header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+xml")
        .body(xml)
        .send()
        .await
        .expect("POST sent");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    assert!(text.contains("<OperationOutcome"), "{text}");
    assert!(text.contains("Patient.gender"), "{text}");
}

#[tokio::test]
async fn validate_an_unparseable_body_answers_a_fatal_issue() {
    let server = TestServer::start();
    let (status, outcome) = server
        .post_bytes(
            "Patient/$validate",
            "application/fhir+json",
            "{\"resourceType\": \"Patient\",\n  \"gender\": ",
        )
        .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["issue"][0]["severity"], "fatal", "{outcome}");
    assert!(
        outcome.to_string().contains("line 2"),
        "the parser names the place: {outcome}"
    );
}

#[tokio::test]
async fn validate_is_in_the_capability_statement() {
    let server = TestServer::start();
    let (status, capability) = server.get_json("metadata").await;
    assert_eq!(status, 200);
    let rest = &capability["rest"][0];
    assert_eq!(rest["operation"][0]["name"], "validate", "{rest}");
    let patient = rest["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["type"] == "Patient")
        .expect("Patient");
    assert_eq!(patient["operation"][0]["name"], "validate");
    assert!(rest["operation"][0]["documentation"]
        .as_str()
        .is_some_and(|text| text.contains("ignored")));
}

#[tokio::test]
async fn enforce_refuses_invalid_writes_with_422_and_stores_nothing() {
    let server = TestServer::start_with(with_mode(ValidationMode::Enforce));
    let (status, outcome) = post(&server, "Patient", &invalid_patient(), None).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(
        issues_at(&outcome, "error", "Patient.gender").len(),
        1,
        "{outcome}"
    );
    assert_eq!(
        issues_at(&outcome, "error", "Patient.birthDate").len(),
        1,
        "{outcome}"
    );

    let mut update = invalid_patient();
    update["id"] = json!("enforced-1");
    let (status, outcome) = put(&server, "Patient/enforced-1", &update).await;
    assert_eq!(status, 422, "{outcome}");
    let (status, _) = server.get_json("Patient/enforced-1").await;
    assert_eq!(
        status, 404,
        "an update refused by validation creates nothing"
    );

    let (status, outcome) = put(
        &server,
        "Patient?identifier=urn:example:mrn|V-0001",
        &invalid_patient(),
    )
    .await;
    assert_eq!(status, 422, "conditional update: {outcome}");
    assert_eq!(versions_of(&server, "Patient").await, 0);

    // A valid resource is stored as usual, and a later invalid update leaves it unchanged.
    let mut valid = valid_patient();
    valid["id"] = json!("enforced-2");
    let (status, _) = put(&server, "Patient/enforced-2", &valid).await;
    assert_eq!(status, 201);
    let mut broken = invalid_patient();
    broken["id"] = json!("enforced-2");
    let (status, _) = put(&server, "Patient/enforced-2", &broken).await;
    assert_eq!(status, 422);
    let (status, history) = server.get_json("Patient/enforced-2/_history").await;
    assert_eq!(status, 200);
    assert_eq!(history["total"], 1, "{history}");
}

#[tokio::test]
async fn warn_stores_and_reports_the_issues_when_asked() {
    let server = TestServer::start();
    let (status, outcome) = post(
        &server,
        "Patient",
        &invalid_patient(),
        Some("return=OperationOutcome"),
    )
    .await;
    assert_eq!(status, 201, "{outcome}");
    assert_eq!(
        issues_at(&outcome, "error", "Patient.gender").len(),
        1,
        "{outcome}"
    );
    assert_eq!(
        issues_at(&outcome, "error", "Patient.birthDate").len(),
        1,
        "{outcome}"
    );

    let (status, created) = post(&server, "Patient", &invalid_patient(), None).await;
    assert_eq!(status, 201);
    assert_eq!(created["gender"], "unknown-gender", "stored as sent");
    let id = created["id"].as_str().expect("id");
    let (status, read) = server.get_json(&format!("Patient/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(read["birthDate"], "1999-02-30");
}

#[tokio::test]
async fn off_does_not_validate() {
    let server = TestServer::start_with(with_mode(ValidationMode::Off));
    let (status, outcome) = post(
        &server,
        "Patient",
        &invalid_patient(),
        Some("return=OperationOutcome"),
    )
    .await;
    assert_eq!(status, 201, "{outcome}");
    assert!(!has_error(&outcome), "{outcome}");
    assert_eq!(issues(&outcome).len(), 1, "only the note: {outcome}");
}

#[tokio::test]
async fn modes_per_type_override_the_default() {
    let server = TestServer::start_with(|config| {
        config.validation.mode = ValidationMode::Off;
        config
            .validation
            .modes
            .insert("Patient".into(), ValidationMode::Enforce);
    });
    let (status, _) = post(&server, "Patient", &invalid_patient(), None).await;
    assert_eq!(status, 422);
    let observation = json!({"resourceType": "Observation", "status": "not-a-status",
        "code": {"text": "test"}});
    let (status, outcome) = post(&server, "Observation", &observation, None).await;
    assert_eq!(status, 201, "Observation is off: {outcome}");
}

fn transaction(kind: &str, patients: Vec<Value>) -> Value {
    let entries: Vec<Value> = patients
        .into_iter()
        .map(
            |patient| json!({"resource": patient, "request": {"method": "POST", "url": "Patient"}}),
        )
        .collect();
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

#[tokio::test]
async fn enforce_fails_a_whole_transaction_on_one_invalid_entry() {
    let server = TestServer::start_with(with_mode(ValidationMode::Enforce));
    let bundle = transaction("transaction", vec![valid_patient(), invalid_patient()]);
    let (status, outcome) = post(&server, "", &bundle, None).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(
        issues_at(&outcome, "error", "Bundle.entry[1].resource.gender").len(),
        1,
        "{outcome}"
    );
    assert_eq!(versions_of(&server, "Patient").await, 0, "no entry stored");

    // In a batch only the invalid entry fails.
    let batch = transaction("batch", vec![valid_patient(), invalid_patient()]);
    let (status, response) = post(&server, "", &batch, None).await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
    assert_eq!(
        response["entry"][1]["response"]["status"], "422 Unprocessable Entity",
        "{response}"
    );
    let entry_outcome = &response["entry"][1]["response"]["outcome"];
    assert_eq!(
        issues_at(entry_outcome, "error", "Bundle.entry[1].resource.birthDate").len(),
        1,
        "{entry_outcome}"
    );
    assert_eq!(versions_of(&server, "Patient").await, 1);
}

#[tokio::test]
async fn warn_puts_the_issues_in_each_entry_response_outcome() {
    let server = TestServer::start();
    let bundle = transaction("transaction", vec![valid_patient(), invalid_patient()]);
    let (status, response) = post(&server, "", &bundle, None).await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response["entry"][0]["response"]["outcome"].is_null(),
        "a clean entry has no outcome: {response}"
    );
    let outcome = &response["entry"][1]["response"]["outcome"];
    assert_eq!(
        issues_at(outcome, "error", "Patient.gender").len(),
        1,
        "{response}"
    );
    assert_eq!(versions_of(&server, "Patient").await, 2);
}

#[tokio::test]
async fn required_profiles_from_a_package_apply_to_every_write() {
    let server = TestServer::start_with(|config| {
        config.validation.packages = Some(packages().display().to_string());
        config.validation.mode = ValidationMode::Enforce;
        config
            .validation
            .required_profiles
            .insert("Patient".into(), vec![TEST_PATIENT.into()]);
    });
    let mut patient = valid_patient();
    patient.as_object_mut().expect("object").remove("birthDate");
    let (status, outcome) = post(&server, "Patient", &patient, None).await;
    assert_eq!(status, 422, "{outcome}");
    assert!(outcome.to_string().contains("birthDate"), "{outcome}");
    let (status, outcome) = post(&server, "Patient", &valid_patient(), None).await;
    assert_eq!(status, 201, "{outcome}");
    // $validate applies them too.
    let (_, outcome) = post(&server, "Patient/$validate", &patient, None).await;
    assert!(has_error(&outcome), "{outcome}");
}

fn photo_required(mode: ValidationMode) -> impl FnOnce(&mut Config) {
    move |config| {
        config.validation.packages = Some(packages().display().to_string());
        config.validation.mode = ValidationMode::Off;
        config.validation.modes.insert("Patient".into(), mode);
        config
            .validation
            .required_profiles
            .insert("Patient".into(), vec![TEST_PATIENT_PHOTO.into()]);
    }
}

#[tokio::test]
async fn enforce_refuses_an_ingested_message_whole() {
    let server = TestServer::start_with(photo_required(ValidationMode::Enforce));
    let (status, outcome) = server
        .post_bytes(
            "$ingest?source=hl7v2",
            "x-application/hl7-v2+er7",
            hl7v2_message("omg_o19_ct_order.hl7"),
        )
        .await;
    assert_eq!(status, 422, "{outcome}");
    assert!(
        outcome.to_string().contains("resource") && outcome.to_string().contains("photo"),
        "{outcome}"
    );
    assert_eq!(versions_of(&server, "Patient").await, 0);
    assert_eq!(
        versions_of(&server, "ServiceRequest").await,
        0,
        "the whole message"
    );

    // Over MLLP: AE with an ERR segment naming the entry, nothing stored.
    let mut stream = tokio::net::TcpStream::connect(server.mllp)
        .await
        .expect("connect");
    let mut frame = vec![0x0B];
    frame.extend_from_slice(&hl7v2_message("omg_o19_ct_order.hl7"));
    frame.extend_from_slice(&[0x1C, 0x0D]);
    stream.write_all(&frame).await.expect("send");
    let mut reply = Vec::new();
    while !reply.ends_with(&[0x1C, 0x0D]) {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut byte))
            .await
            .expect("an ACK within 20 s")
            .expect("read");
        assert_eq!(read, 1, "closed before the ACK ended");
        reply.push(byte[0]);
    }
    let ack = String::from_utf8_lossy(&reply);
    assert!(ack.contains("MSA|AE|"), "{ack}");
    let err = ack
        .split('\r')
        .find(|segment| segment.starts_with("ERR"))
        .expect("ERR segment");
    assert!(
        err.contains("Bundle.entry[") && err.contains("photo"),
        "{err}"
    );
    assert_eq!(versions_of(&server, "Patient").await, 0);
}

#[tokio::test]
async fn warn_stores_an_ingested_message_and_reports_the_issues() {
    let server = TestServer::start_with(photo_required(ValidationMode::Warn));
    let (status, answer) = server
        .post_bytes(
            "$ingest?source=hl7v2",
            "x-application/hl7-v2+er7",
            hl7v2_message("omg_o19_ct_order.hl7"),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let outcome = answer["parameter"][0]["part"]
        .as_array()
        .expect("parts")
        .iter()
        .find(|part| part["name"] == "outcome")
        .map(|part| part["resource"].clone())
        .expect("outcome part");
    assert!(
        issues(&outcome).iter().any(|issue| issue["expression"][0]
            .as_str()
            .is_some_and(|place| place.starts_with("Bundle.entry["))
            && issue["diagnostics"]
                .as_str()
                .is_some_and(|text| text.contains("photo"))),
        "{outcome}"
    );
    assert!(versions_of(&server, "Patient").await >= 1);
}
