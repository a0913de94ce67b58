//! Acceptance: how search answers what it cannot or need not run. An unknown parameter is a
//! 400 OperationOutcome naming it, unless `Prefer: handling=lenient` (then it is left out,
//! and out of the `self` link); a value that is not a date or number is a 400 naming the
//! parameter; `_summary=count` returns the total only; `_elements` keeps the named elements
//! and marks the resource SUBSETTED, as `_summary=true|text|data` do (on a read too); composite,
//! `:of-type`, `:in`/`:below` and special parameters refuse what they cannot run; `POST [type]/_search` with a form body answers as the
//! same GET; conditional create finds its match through a non-identifier search parameter.

mod common;

use common::TestServer;
use serde_json::{json, Value};

/// Made-up patients: id, family, given, gender, birth date.
const PATIENTS: &[(&str, &str, &str, &str, &str)] = &[
    ("err-kuroda-ken", "Kuroda", "Ken", "male", "1980-01-02"),
    ("err-kuroda-mai", "Kuroda", "Mai", "female", "1982-03-04"),
    ("err-shiroi-aya", "Shiroi", "Aya", "female", "1990-05-06"),
    ("err-aoki-jun", "Aoki", "Jun", "male", "1975-07-08"),
    ("err-aoki-rin", "Aoki", "Rin", "female", "2001-09-10"),
];

async fn server_with_patients() -> TestServer {
    let server = TestServer::start();
    let entries: Vec<Value> = PATIENTS
        .iter()
        .map(|&(id, family, given, gender, birth_date)| {
            json!({
                "resource": {
                    "resourceType": "Patient",
                    "id": id,
                    "name": [{ "family": family, "given": [given] }],
                    "gender": gender,
                    "birthDate": birth_date,
                    "telecom": [{ "system": "phone", "value": "03-0000-0000" }]
                },
                "request": { "method": "PUT", "url": format!("Patient/{id}") }
            })
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
    let (status, body) = server
        .post_bytes("", "application/fhir+json", bundle.to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    server
}

/// The text of every issue (diagnostics, details and expression) of an OperationOutcome.
fn issue_text(outcome: &Value) -> String {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| {
            format!(
                "{} {} {}",
                issue["diagnostics"].as_str().unwrap_or_default(),
                issue["details"]["text"].as_str().unwrap_or_default(),
                issue["expression"]
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn match_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["search"]["mode"] == "match")
        .map(|entry| {
            entry["resource"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|link| link["relation"] == relation)?["url"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_parameters_are_refused_with_400_naming_them() {
    let server = server_with_patients().await;
    for (query, name) in [
        ("Patient?shoe-size=42", "shoe-size"),
        ("Patient?family=Kuroda&shoe-size=42", "shoe-size"),
        ("Patient?name:fuzzy=kuroda", "name:fuzzy"),
        ("Patient?organization.shoe-size=1", "shoe-size"),
        ("Patient?_has:Observation:patient:shoe-size=1", "shoe-size"),
        ("Patient?_sort=shoe-size", "shoe-size"),
    ] {
        let (status, body) = server.get_json(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let text = issue_text(&body);
        assert!(
            text.contains(name),
            "{query}: the outcome does not name '{name}': {text}"
        );
    }
    let (status, body) = server
        .post_bytes(
            "Patient/_search",
            "application/x-www-form-urlencoded",
            "shoe-size=42",
        )
        .await;
    assert_eq!(status, 400, "POST _search: {body}");
    assert!(issue_text(&body).contains("shoe-size"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lenient_handling_ignores_unknown_parameters_and_leaves_them_out_of_self() {
    let server = server_with_patients().await;
    let response = server
        .client
        .get(server.url("Patient?shoe-size=42&family=kuroda&hat:colour=red"))
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .expect("GET sent");
    assert_eq!(response.status().as_u16(), 200);
    let bundle: Value = response.json().await.expect("JSON Bundle");
    let mut ids = match_ids(&bundle);
    ids.sort();
    assert_eq!(ids, ["err-kuroda-ken", "err-kuroda-mai"], "{bundle}");
    let self_link = link(&bundle, "self").expect("self link");
    assert!(self_link.contains("family=kuroda"), "{self_link}");
    assert!(!self_link.contains("shoe-size"), "{self_link}");
    assert!(!self_link.contains("hat"), "{self_link}");

    // Strict is the default, and `handling=strict` says so explicitly.
    let response = server
        .client
        .get(server.url("Patient?shoe-size=42"))
        .header("Prefer", "handling=strict")
        .send()
        .await
        .expect("GET sent");
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_are_not_dates_or_numbers_are_refused_naming_the_parameter() {
    let server = server_with_patients().await;
    for (query, name) in [
        ("Patient?birthdate=2024-13-45", "birthdate"),
        ("Patient?birthdate=yesterday", "birthdate"),
        ("Patient?birthdate=ge1980-1-2", "birthdate"),
        ("Patient?birthdate=2024-02-03T25:00:00Z", "birthdate"),
        ("Patient?_lastUpdated=gtlast-week", "_lastUpdated"),
        ("RiskAssessment?probability=abc", "probability"),
        ("RiskAssessment?probability=gt", "probability"),
        ("RiskAssessment?probability=5%25", "probability"),
        (
            "Observation?value-quantity=ten|http://unitsofmeasure.org|kg",
            "value-quantity",
        ),
        ("Encounter?length=1.2.3", "length"),
        ("Patient?_count=many", "_count"),
    ] {
        let (status, body) = server.get_json(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let text = issue_text(&body);
        assert!(
            text.contains(name),
            "{query}: the outcome does not name '{name}': {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_count_returns_the_total_only() {
    let server = server_with_patients().await;
    let (status, bundle) = server
        .get_json("Patient?gender=female&_summary=count")
        .await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"].as_u64(), Some(3), "{bundle}");
    let entries = bundle["entry"].as_array().map_or(0, Vec::len);
    assert_eq!(entries, 0, "{bundle}");
    let (_, all) = server.get_json("Patient?_summary=count").await;
    assert_eq!(all["total"].as_u64(), Some(PATIENTS.len() as u64), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elements_keeps_the_named_elements_and_marks_the_resource_subsetted() {
    let server = server_with_patients().await;
    let (status, bundle) = server
        .get_json("Patient?family=aoki&_elements=name,gender&_sort=_id")
        .await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(match_ids(&bundle), ["err-aoki-jun", "err-aoki-rin"]);
    for entry in bundle["entry"].as_array().into_iter().flatten() {
        let resource = entry["resource"].as_object().expect("resource");
        let keys: Vec<&str> = resource.keys().map(String::as_str).collect();
        for key in &keys {
            assert!(
                ["resourceType", "id", "meta", "name", "gender"].contains(key),
                "{key} kept: {keys:?}"
            );
        }
        assert!(
            keys.contains(&"name") && keys.contains(&"gender"),
            "{keys:?}"
        );
        assert!(
            !keys.contains(&"birthDate") && !keys.contains(&"telecom"),
            "{keys:?}"
        );
        let subsetted = resource["meta"]["tag"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|tag| {
                tag["code"] == "SUBSETTED"
                    && tag["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
            });
        assert!(subsetted, "no SUBSETTED tag: {}", entry["resource"]);
    }
    // The stored resource is whole.
    let (_, stored) = server.get_json("Patient/err-aoki-jun").await;
    assert_eq!(stored["birthDate"], "1975-07-08");
}

/// The top-level keys of each match's resource.
fn match_keys(bundle: &Value) -> Vec<Vec<String>> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            entry["resource"]
                .as_object()
                .map(|object| object.keys().cloned().collect())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_true_text_and_data_cut_resources_by_the_r4_definitions() {
    let server = server_with_patients().await;
    let narrative = json!({
        "resourceType": "Patient",
        "id": "err-summary",
        "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Summary Taro</div>" },
        "active": true,
        "name": [{ "family": "Summary", "given": ["Taro"] }],
        "maritalStatus": { "text": "single" },
        "contact": [{ "name": { "family": "Summary" }, "gender": "female" }],
        "link": [{ "other": { "reference": "Patient/err-aoki-jun" }, "type": "seealso" }]
    });
    let response = server
        .send_json(reqwest::Method::PUT, "Patient/err-summary", &narrative)
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let keys = |query: &'static str| {
        let server = &server;
        async move {
            let (status, bundle) = server.get_json(query).await;
            assert_eq!(status, 200, "{query}: {bundle}");
            match_keys(&bundle).pop().unwrap_or_default()
        }
    };
    // Patient: name, active and link are summary elements; text, maritalStatus and contact
    // are not.
    assert_eq!(
        keys("Patient?_id=err-summary&_summary=true").await,
        ["resourceType", "id", "meta", "active", "name", "link"]
    );
    assert_eq!(
        keys("Patient?_id=err-summary&_summary=text").await,
        ["resourceType", "id", "meta", "text"]
    );
    let data = keys("Patient?_id=err-summary&_summary=data").await;
    assert!(
        !data.contains(&"text".to_owned()) && data.contains(&"contact".to_owned()),
        "{data:?}"
    );
    // A read takes the same parameters; the stored resource stays whole.
    let (status, read) = server.get_json("Patient/err-summary?_summary=true").await;
    assert_eq!(status, 200, "{read}");
    assert!(
        read.get("text").is_none() && read.get("maritalStatus").is_none(),
        "{read}"
    );
    assert!(
        read["meta"]["tag"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|tag| tag["code"] == "SUBSETTED")),
        "{read}"
    );
    let (_, whole) = server.get_json("Patient/err-summary").await;
    assert_eq!(whole["maritalStatus"]["text"], "single");
    let (status, body) = server.get_json("Patient?_summary=maybe").await;
    assert_eq!(status, 400, "{body}");
    assert!(issue_text(&body).contains("_summary"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_terminology_and_special_parameters_refuse_what_they_cannot_run() {
    let server = server_with_patients().await;
    for (query, status_wanted, named) in [
        // A composite value needs one part per component.
        (
            "Observation?code-value-quantity=http://loinc.org|8480-6",
            400,
            "code-value-quantity",
        ),
        (
            "Observation?code-value-quantity:exact=a$1",
            400,
            "code-value-quantity",
        ),
        // :of-type needs system|code|value.
        (
            "Patient?identifier:of-type=MR|12345",
            400,
            "identifier:of-type",
        ),
        // A ValueSet or CodeSystem that is not stored.
        (
            "Observation?code:in=http://example.org/no-such-valueset",
            400,
            "no-such-valueset",
        ),
        (
            "Observation?code:below=http://example.org/no-such-system|x",
            400,
            "no-such-system",
        ),
        ("Observation?code:below=x", 400, "code:below"),
        // Parameters the server cannot run are unknown, not silently empty.
        ("Patient?_query=everything", 400, "_query"),
        ("Location?near=35.6|139.7|10|km", 400, "near"),
        ("Patient?_text:exact=Kuroda", 400, "_text"),
    ] {
        let (status, body) = server.get_json(query).await;
        assert_eq!(status, status_wanted, "{query}: {body}");
        let text = issue_text(&body);
        assert!(text.contains(named), "{query}: '{named}' not named: {text}");
    }
    // Conditional operations cannot use terminology modifiers (no store lookups there).
    let response = server
        .client
        .post(server.url("Patient"))
        .header("Content-Type", "application/fhir+json")
        .header("If-None-Exist", "gender:in=http://example.org/vs")
        .body(json!({ "resourceType": "Patient" }).to_string())
        .send()
        .await
        .expect("POST sent");
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_search_with_a_form_body_answers_as_get() {
    let server = server_with_patients().await;
    for query in [
        "family=kuroda",
        "gender=female&_sort=-birthdate",
        "birthdate=ge1980&_sort=_id&_count=2",
        "name=a&_total=none",
        "_id=err-aoki-jun,err-shiroi-aya",
    ] {
        let (get_status, get) = server.get_json(&format!("Patient?{query}")).await;
        let (post_status, post) = server
            .post_bytes(
                "Patient/_search",
                "application/x-www-form-urlencoded",
                query.to_owned(),
            )
            .await;
        assert_eq!(
            (get_status, post_status),
            (200, 200),
            "{query}: {get} / {post}"
        );
        assert_eq!(match_ids(&get), match_ids(&post), "{query}");
        assert!(!match_ids(&get).is_empty(), "{query} matches something");
        assert_eq!(get["total"], post["total"], "{query}");
        let self_of = |bundle: &Value| link(bundle, "self");
        assert_eq!(self_of(&get), self_of(&post), "{query}: self links");
        assert_eq!(
            link(&get, "next").is_some(),
            link(&post, "next").is_some(),
            "{query}"
        );
    }
    // Parameters in the URL and in the body combine.
    let (status, combined) = server
        .post_bytes(
            "Patient/_search?family=kuroda",
            "application/x-www-form-urlencoded",
            "gender=female",
        )
        .await;
    assert_eq!(status, 200, "{combined}");
    assert_eq!(match_ids(&combined), ["err-kuroda-mai"]);
    // Percent-encoded form values decode as in the URL.
    let (status, encoded) = server
        .post_bytes(
            "Patient/_search",
            "application/x-www-form-urlencoded",
            "birthdate=ge1990-05-06&family=%53hiroi",
        )
        .await;
    assert_eq!(status, 200, "{encoded}");
    assert_eq!(match_ids(&encoded), ["err-shiroi-aya"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_create_finds_its_match_by_family_and_birthdate() {
    let server = server_with_patients().await;
    let candidate = json!({
        "resourceType": "Patient",
        "name": [{ "family": "Kuroda", "given": ["Ken"] }],
        "gender": "male",
        "birthDate": "1980-01-02"
    });
    let create = |criteria: &'static str| {
        let server = &server;
        let candidate = candidate.clone();
        async move {
            let response = server
                .client
                .post(server.url("Patient"))
                .header("Content-Type", "application/fhir+json")
                .header("If-None-Exist", criteria)
                .body(candidate.to_string())
                .send()
                .await
                .expect("POST sent");
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("Location")
                .or_else(|| response.headers().get("Content-Location"))
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            (status, location)
        }
    };
    let count = |query: &'static str| {
        let server = &server;
        async move {
            let (_, bundle) = server
                .get_json(&format!("Patient?{query}&_summary=count"))
                .await;
            bundle["total"].as_u64().unwrap_or(u64::MAX)
        }
    };

    // One match: nothing is created, the answer is 200 and points at the match.
    let (status, location) = create("family=Kuroda&birthdate=1980-01-02").await;
    assert_eq!(status, 200, "If-None-Exist should match err-kuroda-ken");
    if let Some(location) = location {
        assert!(location.contains("Patient/err-kuroda-ken"), "{location}");
    }
    assert_eq!(count("family=kuroda").await, 2);

    // Prefix and case folding apply as in search.
    let (status, _) = create("family=KURO&birthdate=1980-01-02&gender=male").await;
    assert_eq!(status, 200);
    assert_eq!(count("family=kuroda").await, 2);

    // Several matches: 412, nothing created.
    let (status, _) = create("family=Kuroda&birthdate=ge1980").await;
    assert_eq!(status, 412, "two Kurodas were born in or after 1980");
    assert_eq!(count("family=kuroda").await, 2);

    // No match: created.
    let (status, _) = create("family=Kuroda&birthdate=1980-01-03").await;
    assert_eq!(status, 201);
    assert_eq!(count("family=kuroda").await, 3);

    // An unknown parameter in the criteria is refused, naming it.
    let response = server
        .client
        .post(server.url("Patient"))
        .header("Content-Type", "application/fhir+json")
        .header("If-None-Exist", "shoe-size=42")
        .body(candidate.to_string())
        .send()
        .await
        .expect("POST sent");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("OperationOutcome");
    assert!(issue_text(&body).contains("shoe-size"), "{body}");
}

#[tokio::test]
async fn an_empty_result_has_no_entry_array_and_renders_as_xml() {
    let server = TestServer::start();
    let (status, bundle) = server.get_json("Patient?_id=nobody").await;
    assert_eq!(status, 200);
    assert_eq!(bundle["total"], 0);
    assert!(
        bundle.get("entry").is_none(),
        "R4 JSON has no empty arrays: {bundle}"
    );
    let xml = server
        .client
        .get(server.url("Patient?_id=nobody"))
        .header("Accept", "application/fhir+xml")
        .send()
        .await
        .expect("XML search sent");
    assert_eq!(xml.status(), 200);
    let text = xml.text().await.expect("XML body");
    assert!(text.contains("<total value=\"0\"/>"), "{text}");
    let (status, history) = server.get_json("Patient/_history").await;
    assert_eq!(status, 200);
    assert!(history.get("entry").is_none(), "{history}");
}
