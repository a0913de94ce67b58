//! `POST [base]/Patient/$match` over HTTP: hospital B finds its own record of a patient
//! referred from hospital A. Every person here is made up.

mod common;

use common::TestServer;
use serde_json::{json, Value};

const REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const MATCH_GRADE: &str = "http://hl7.org/fhir/StructureDefinition/match-grade";
const HOSPITAL_A_MRN: &str = "urn:oid:1.2.392.100495.20.3.51.11310000001";
const HOSPITAL_B_MRN: &str = "urn:oid:1.2.392.100495.20.3.51.11310000002";

fn name(code: &str, family: &str, given: &str) -> Value {
    json!({
        "extension": [{"url": REPRESENTATION, "valueCode": code}],
        "family": family,
        "given": [given],
    })
}

fn stored_patient(
    id: &str,
    kanji: (&str, &str),
    kana: (&str, &str),
    birth_date: &str,
    gender: &str,
) -> Value {
    json!({
        "resourceType": "Patient",
        "id": id,
        "identifier": [{"system": HOSPITAL_B_MRN, "value": format!("B-{id}")}],
        "name": [name("IDE", kanji.0, kanji.1), name("SYL", kana.0, kana.1)],
        "birthDate": birth_date,
        "gender": gender,
    })
}

/// A server holding hospital B's records: the referred patient, his brother, an older
/// namesake and an unrelated woman born the same day.
async fn hospital_b() -> TestServer {
    let server = TestServer::start();
    let patients = [
        stored_patient(
            "taro",
            ("山田", "太郎"),
            ("ヤマダ", "タロウ"),
            "1970-04-01",
            "male",
        ),
        stored_patient(
            "jiro",
            ("山田", "次郎"),
            ("ヤマダ", "ジロウ"),
            "1970-04-01",
            "male",
        ),
        stored_patient(
            "taro-older",
            ("山田", "太郎"),
            ("ヤマダ", "タロウ"),
            "1969-04-01",
            "male",
        ),
        stored_patient(
            "hanako",
            ("佐藤", "花子"),
            ("サトウ", "ハナコ"),
            "1970-04-01",
            "female",
        ),
    ];
    for patient in &patients {
        let path = format!("Patient/{}", patient["id"].as_str().unwrap());
        let response = server.send_json(reqwest::Method::PUT, &path, patient).await;
        assert_eq!(response.status(), 201, "{path}");
    }
    server
}

/// The patient as hospital A's referral describes him: kana in hiragana with a full-width
/// space, hospital A's own record number.
fn referred() -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": HOSPITAL_A_MRN, "value": "A-778899"}],
        "name": [
            name("IDE", "山田", "太郎"),
            {"extension": [{"url": REPRESENTATION, "valueCode": "SYL"}], "text": "やまだ\u{3000}たろう"},
        ],
        "birthDate": "1970-04-01",
        "gender": "male",
    })
}

fn parameters(resource: Value, extra: Vec<Value>) -> Value {
    let mut parameter = vec![json!({"name": "resource", "resource": resource})];
    parameter.extend(extra);
    json!({"resourceType": "Parameters", "parameter": parameter})
}

async fn post_match(server: &TestServer, body: &Value) -> (u16, Value) {
    server
        .post_bytes("Patient/$match", "application/fhir+json", body.to_string())
        .await
}

/// `(id, grade, score)` of each entry, in order.
fn found(bundle: &Value) -> Vec<(String, String, f64)> {
    bundle["entry"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|entry| {
            let search = &entry["search"];
            assert_eq!(search["mode"], "match", "{entry}");
            assert_eq!(search["extension"][0]["url"], MATCH_GRADE, "{entry}");
            (
                entry["resource"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                search["extension"][0]["valueCode"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                search["score"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect()
}

#[tokio::test]
async fn referred_patient_in_hiragana_matches_best_first() {
    let server = hospital_b().await;
    let (status, bundle) = post_match(&server, &parameters(referred(), vec![])).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    let matches = found(&bundle);
    assert_eq!(
        matches,
        [
            ("taro".to_owned(), "certain".to_owned(), 1.0),
            // Same family in kanji only: the kana sent is one text, with no family part.
            ("jiro".to_owned(), "possible".to_owned(), 0.625),
        ],
        "{bundle}"
    );
    assert!(bundle["entry"][0]["fullUrl"]
        .as_str()
        .is_some_and(|url| url.ends_with("/Patient/taro")));
    assert_eq!(bundle["total"], 2);
}

#[tokio::test]
async fn shared_identifier_is_certain_with_score_one() {
    let server = hospital_b().await;
    let incoming = json!({
        "resourceType": "Patient",
        "identifier": [{"system": HOSPITAL_B_MRN, "value": "B-taro-older"}],
        "birthDate": "1969-04-01",
    });
    let (status, bundle) = post_match(&server, &parameters(incoming, vec![])).await;
    assert_eq!(status, 200, "{bundle}");
    let matches = found(&bundle);
    assert_eq!(
        matches.first(),
        Some(&("taro-older".to_owned(), "certain".to_owned(), 1.0)),
        "{bundle}"
    );
}

#[tokio::test]
async fn different_birth_date_is_never_certain() {
    let server = hospital_b().await;
    let mut incoming = referred();
    incoming["birthDate"] = json!("1969-04-01");
    let (status, bundle) = post_match(&server, &parameters(incoming, vec![])).await;
    assert_eq!(status, 200, "{bundle}");
    let matches = found(&bundle);
    assert_eq!(matches.first().map(|m| m.0.as_str()), Some("taro-older"));
    // The namesake born a year later shares everything but the birthDate: never certain.
    assert!(
        matches
            .iter()
            .all(|(id, grade, _)| id != "taro" || grade != "certain"),
        "{bundle}"
    );

    let mut wrong_day = referred();
    wrong_day["birthDate"] = json!("1970-04-02");
    let (status, bundle) = post_match(&server, &parameters(wrong_day, vec![])).await;
    assert_eq!(status, 200, "{bundle}");
    assert!(found(&bundle).is_empty(), "{bundle}");
}

#[tokio::test]
async fn count_and_only_certain_matches_are_honoured() {
    let server = hospital_b().await;
    let count_one = parameters(
        referred(),
        vec![json!({"name": "count", "valueInteger": 1})],
    );
    let (status, bundle) = post_match(&server, &count_one).await;
    assert_eq!(status, 200, "{bundle}");
    let ids: Vec<String> = found(&bundle).into_iter().map(|m| m.0).collect();
    assert_eq!(ids, ["taro"]);

    let certain_only = parameters(
        referred(),
        vec![json!({"name": "onlyCertainMatches", "valueBoolean": true})],
    );
    let (status, bundle) = post_match(&server, &certain_only).await;
    assert_eq!(status, 200, "{bundle}");
    let grades: Vec<(String, String)> = found(&bundle).into_iter().map(|m| (m.0, m.1)).collect();
    assert_eq!(grades, [("taro".to_owned(), "certain".to_owned())]);

    let bad_count = parameters(
        referred(),
        vec![json!({"name": "count", "valueInteger": 0})],
    );
    let (status, outcome) = post_match(&server, &bad_count).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Parameters.parameter[count]"
    );
}

#[tokio::test]
async fn parameters_without_resource_is_a_400_naming_it() {
    let server = hospital_b().await;
    let body =
        json!({"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 5}]});
    let (status, outcome) = post_match(&server, &body).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(
        outcome["issue"][0]["expression"][0], "Parameters.parameter[resource]",
        "{outcome}"
    );

    let not_a_patient = parameters(json!({"resourceType": "Practitioner"}), vec![]);
    let (status, outcome) = post_match(&server, &not_a_patient).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Parameters.parameter[resource]"
    );
}

#[tokio::test]
async fn capability_statement_lists_match_on_patient() {
    let server = TestServer::start();
    let (status, capability) = server.get_json("metadata").await;
    assert_eq!(status, 200);
    let patient = capability["rest"][0]["resource"]
        .as_array()
        .and_then(|resources| resources.iter().find(|r| r["type"] == "Patient"))
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = patient["operation"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|operation| operation["name"].as_str())
        .collect();
    assert_eq!(names, ["validate", "match"]);
}
