//! The FHIR R4 REST core over real HTTP: read, vread, create, update, delete, patch,
//! conditional operations, If-Match, Prefer, content negotiation, history, metadata, health.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

fn patient(id: Option<&str>, family: &str, identifier: &str) -> Value {
    let mut patient = json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11312345670", "value": identifier}],
        "name": [{"family": family, "given": ["Hanako"]}],
        "gender": "female",
        "birthDate": "1980-02-29"
    });
    if let Some(id) = id {
        patient["id"] = json!(id);
    }
    patient
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn create_read_vread_update_and_unchanged_update() {
    let server = TestServer::start();
    let created = server
        .send_json(
            Method::POST,
            "Patient",
            &patient(Some("ignored"), "Sato", "A1"),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "etag"), "W/\"1\"");
    let location = header(&created, "location");
    let body: Value = created.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_ne!(id, "ignored", "create assigns its own id");
    assert_eq!(location, server.url(&format!("Patient/{id}/_history/1")));
    assert_eq!(body["meta"]["versionId"], "1");

    let read = server
        .client
        .get(server.url(&format!("Patient/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(header(&read, "etag"), "W/\"1\"");
    assert!(header(&read, "last-modified").ends_with(" GMT"));
    assert!(header(&read, "content-type").starts_with("application/fhir+json"));

    let mut changed = body.clone();
    changed["gender"] = json!("other");
    let updated = server
        .send_json(Method::PUT, &format!("Patient/{id}"), &changed)
        .await;
    assert_eq!(updated.status(), 200);
    assert_eq!(header(&updated, "etag"), "W/\"2\"");

    let same_again = server
        .send_json(Method::PUT, &format!("Patient/{id}"), &changed)
        .await;
    assert_eq!(same_again.status(), 200);
    assert_eq!(
        header(&same_again, "etag"),
        "W/\"2\"",
        "no new version for unchanged content"
    );

    let (status, first) = server.get_json(&format!("Patient/{id}/_history/1")).await;
    assert_eq!(status, 200);
    assert_eq!(first["gender"], "female");
    let (status, _) = server.get_json(&format!("Patient/{id}/_history/3")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn update_creates_rejects_id_mismatch_and_missing_id() {
    let server = TestServer::start();
    let created = server
        .send_json(
            Method::PUT,
            "Patient/jp-001",
            &patient(Some("jp-001"), "Suzuki", "B1"),
        )
        .await;
    assert_eq!(created.status(), 201);

    let mismatch = server
        .send_json(
            Method::PUT,
            "Patient/jp-001",
            &patient(Some("jp-002"), "Suzuki", "B1"),
        )
        .await;
    assert_eq!(mismatch.status(), 400);
    let outcome: Value = mismatch.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["expression"][0], "id");

    let missing = server
        .send_json(
            Method::PUT,
            "Patient/jp-001",
            &patient(None, "Suzuki", "B1"),
        )
        .await;
    assert_eq!(missing.status(), 400);

    let wrong_type = server
        .send_json(
            Method::PUT,
            "Observation/jp-001",
            &patient(Some("jp-001"), "Suzuki", "B1"),
        )
        .await;
    assert_eq!(wrong_type.status(), 400);
    let (_, current) = server.get_json("Patient/jp-001").await;
    assert_eq!(
        current["meta"]["versionId"], "1",
        "refused writes change nothing"
    );
}

#[tokio::test]
async fn delete_is_a_version_and_reads_answer_gone() {
    let server = TestServer::start();
    server
        .send_json(
            Method::PUT,
            "Patient/del-1",
            &patient(Some("del-1"), "Ito", "C1"),
        )
        .await;
    let deleted = server
        .client
        .delete(server.url("Patient/del-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(header(&deleted, "etag"), "W/\"2\"");

    let (status, outcome) = server.get_json("Patient/del-1").await;
    assert_eq!(status, 410);
    assert_eq!(outcome["issue"][0]["code"], "deleted");
    let (status, _) = server.get_json("Patient/del-1/_history/1").await;
    assert_eq!(status, 200, "earlier versions stay readable");
    let (status, _) = server.get_json("Patient/del-1/_history/2").await;
    assert_eq!(status, 410);

    let again = server
        .client
        .delete(server.url("Patient/del-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        204,
        "deleting a deleted resource is not an error"
    );

    let recreated = server
        .send_json(
            Method::PUT,
            "Patient/del-1",
            &patient(Some("del-1"), "Ito", "C1"),
        )
        .await;
    assert_eq!(recreated.status(), 201);
    assert_eq!(header(&recreated, "etag"), "W/\"3\"");

    let (status, history) = server.get_json("Patient/del-1/_history").await;
    assert_eq!(status, 200);
    assert_eq!(history["type"], "history");
    assert_eq!(history["total"], 3);
    let methods: Vec<&str> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["request"]["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["PUT", "DELETE", "PUT"]);
    assert!(history["entry"][1].get("resource").is_none());

    let (status, _) = server.get_json("Patient/never-was/_history").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn json_patch_applies_checks_type_and_refuses_breaking_patches() {
    let server = TestServer::start();
    server
        .send_json(
            Method::PUT,
            "Patient/pt-1",
            &patient(Some("pt-1"), "Kato", "D1"),
        )
        .await;
    let patch = |body: Value, content_type: &'static str| {
        server
            .client
            .patch(server.url("Patient/pt-1"))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
    };
    let applied = patch(
        json!([{"op": "replace", "path": "/name/0/family", "value": "加藤"}]),
        "application/json-patch+json",
    )
    .await
    .unwrap();
    assert_eq!(applied.status(), 200);
    assert_eq!(header(&applied, "etag"), "W/\"2\"");
    let body: Value = applied.json().await.unwrap();
    assert_eq!(body["name"][0]["family"], "加藤");

    let wrong_type = patch(json!([]), "application/fhir+json").await.unwrap();
    assert_eq!(wrong_type.status(), 415);

    let breaking = patch(
        json!([{"op": "add", "path": "/colour", "value": "blue"}]),
        "application/json-patch+json",
    )
    .await
    .unwrap();
    assert_eq!(breaking.status(), 422);
    let failing_test = patch(
        json!([{"op": "test", "path": "/gender", "value": "male"}]),
        "application/json-patch+json",
    )
    .await
    .unwrap();
    assert_eq!(failing_test.status(), 422);
    let (_, current) = server.get_json("Patient/pt-1").await;
    assert_eq!(current["meta"]["versionId"], "2");
}

#[tokio::test]
async fn conditional_create_update_and_delete_match_on_identifier() {
    let server = TestServer::start();
    let conditional_create = |identifier: &'static str| {
        server
            .client
            .post(server.url("Patient"))
            .header("Content-Type", "application/fhir+json")
            .header(
                "If-None-Exist",
                format!("identifier=urn:oid:1.2.392.100495.20.3.51.11312345670|{identifier}"),
            )
            .body(patient(None, "Mori", identifier).to_string())
            .send()
    };
    let first = conditional_create("E1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first_id = first.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = conditional_create("E1").await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(
        second.json::<Value>().await.unwrap()["id"],
        first_id.as_str()
    );

    // Conditional update: no match creates, one match updates that resource.
    let created = server
        .send_json(
            Method::PUT,
            "Patient?identifier=E2",
            &patient(None, "Mori", "E2"),
        )
        .await;
    assert_eq!(created.status(), 201);
    let e2_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = server
        .send_json(
            Method::PUT,
            "Patient?identifier=E2",
            &patient(None, "Mori-Ueda", "E2"),
        )
        .await;
    assert_eq!(updated.status(), 200);
    let body: Value = updated.json().await.unwrap();
    assert_eq!(body["id"], e2_id.as_str());
    assert_eq!(body["meta"]["versionId"], "2");

    // Two resources share identifier E3: every conditional form answers 412.
    for id in ["dup-a", "dup-b"] {
        server
            .send_json(
                Method::PUT,
                &format!("Patient/{id}"),
                &patient(Some(id), "Abe", "E3"),
            )
            .await;
    }
    let ambiguous = server
        .send_json(
            Method::PUT,
            "Patient?identifier=E3",
            &patient(None, "Abe", "E3"),
        )
        .await;
    assert_eq!(ambiguous.status(), 412);
    assert_eq!(conditional_create("E3").await.unwrap().status(), 412);
    let ambiguous_delete = server
        .client
        .delete(server.url("Patient?identifier=E3"))
        .send()
        .await
        .unwrap();
    assert_eq!(ambiguous_delete.status(), 412);

    let deleted = server
        .client
        .delete(server.url(&format!("Patient?_id={e2_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, _) = server.get_json(&format!("Patient/{e2_id}")).await;
    assert_eq!(status, 410);

    // Criteria are FHIR search: an unknown parameter is refused by name.
    let unsupported = server
        .send_json(
            Method::PUT,
            "Patient?shoe-size=42",
            &patient(None, "Abe", "E4"),
        )
        .await;
    assert_eq!(unsupported.status(), 400);
    let outcome: Value = unsupported.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["expression"][0], "shoe-size");
}

#[tokio::test]
async fn if_match_guards_updates_and_deletes() {
    let server = TestServer::start();
    server
        .send_json(
            Method::PUT,
            "Patient/im-1",
            &patient(Some("im-1"), "Ono", "F1"),
        )
        .await;
    let put_if = |tag: &'static str, family: &'static str| {
        server
            .client
            .put(server.url("Patient/im-1"))
            .header("Content-Type", "application/fhir+json")
            .header("If-Match", tag)
            .body(patient(Some("im-1"), family, "F1").to_string())
            .send()
    };
    assert_eq!(put_if("W/\"1\"", "Ono2").await.unwrap().status(), 200);
    let stale = put_if("W/\"1\"", "Ono3").await.unwrap();
    assert_eq!(stale.status(), 412);
    let outcome: Value = stale.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "conflict");
    let stale_delete = server
        .client
        .delete(server.url("Patient/im-1"))
        .header("If-Match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale_delete.status(), 412);
    assert_eq!(put_if("garbage", "Ono4").await.unwrap().status(), 400);
}

#[tokio::test]
async fn prefer_return_shapes_the_answer() {
    let server = TestServer::start();
    let minimal = server
        .client
        .post(server.url("Patient"))
        .header("Content-Type", "application/fhir+json")
        .header("Prefer", "return=minimal")
        .body(patient(None, "Ueno", "G1").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(minimal.status(), 201);
    assert!(!header(&minimal, "location").is_empty());
    assert!(minimal.bytes().await.unwrap().is_empty());

    let outcome = server
        .client
        .post(server.url("Patient"))
        .header("Content-Type", "application/fhir+json")
        .header("Prefer", "return=OperationOutcome")
        .body(patient(None, "Ueno", "G2").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(outcome.status(), 201);
    let body: Value = outcome.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(body["issue"][0]["severity"], "information");
}

#[tokio::test]
async fn content_negotiation_json_xml_and_refusals() {
    let server = TestServer::start();
    let xml_body = r#"<Patient xmlns="http://hl7.org/fhir"><id value="x-1"/><name><family value="西村"/></name></Patient>"#;
    let created = server
        .client
        .put(server.url("Patient/x-1"))
        .header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+xml")
        .body(xml_body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(header(&created, "content-type").starts_with("application/fhir+xml"));
    let text = created.text().await.unwrap();
    assert!(text.contains("<family value=\"西村\"/>"), "{text}");

    let (_, json) = server.get_json("Patient/x-1?_format=json").await;
    assert_eq!(json["name"][0]["family"], "西村");
    let pretty = server
        .client
        .get(server.url("Patient/x-1?_pretty=true"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pretty.contains("\n  \"id\""), "{pretty}");
    let xml = server
        .client
        .get(server.url("Patient/x-1"))
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert!(header(&xml, "content-type").starts_with("application/fhir+xml"));

    let not_acceptable = server
        .client
        .get(server.url("Patient/x-1"))
        .header("Accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(not_acceptable.status(), 406);
    let unsupported = server
        .client
        .post(server.url("Patient"))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), 415);
    let outcome: Value = unsupported.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["expression"][0], "header Content-Type");
}

#[tokio::test]
async fn history_pages_are_stable_while_writes_continue() {
    let server = TestServer::start();
    for version in 0..5 {
        server
            .send_json(
                Method::PUT,
                "Patient/h-1",
                &patient(Some("h-1"), &format!("Family{version}"), "H1"),
            )
            .await;
    }
    let (status, page) = server.get_json("Patient/h-1/_history?_count=2").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5);
    let mut versions: Vec<String> = Vec::new();
    let mut page = page;
    let mut wrote_midway = false;
    loop {
        for entry in page["entry"].as_array().unwrap() {
            versions.push(
                entry["resource"]["meta"]["versionId"]
                    .as_str()
                    .unwrap()
                    .into(),
            );
        }
        if !wrote_midway {
            // A write between pages must not shift the pages already promised.
            server
                .send_json(
                    Method::PUT,
                    "Patient/h-1",
                    &patient(Some("h-1"), "Late", "H1"),
                )
                .await;
            wrote_midway = true;
        }
        let next = page["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|link| link["relation"] == "next")
            .map(|link| link["url"].as_str().unwrap().to_owned());
        let Some(next) = next else { break };
        page = server
            .client
            .get(next)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert_eq!(versions, ["5", "4", "3", "2", "1"]);

    let (_, newest) = server.get_json("Patient/h-1/_history?_count=1").await;
    assert_eq!(newest["entry"][0]["resource"]["meta"]["versionId"], "6");
    let (_, typed) = server.get_json("Patient/_history").await;
    assert_eq!(typed["total"], 6);
    let (_, system) = server
        .get_json("_history?_since=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(system["total"], 6);
    let (_, future) = server
        .get_json("_history?_since=2999-01-01T00:00:00%2B09:00")
        .await;
    assert_eq!(future["total"], 0);
    let (status, outcome) = server.get_json("_history?_sort=foo").await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["expression"][0], "_sort");
    let lenient = server
        .client
        .get(server.url("_history?_sort=foo"))
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    assert_eq!(lenient.status(), 200);
}

#[tokio::test]
async fn metadata_health_and_unknown_routes() {
    let server = TestServer::start();
    let (status, capability) = server.get_json("metadata").await;
    assert_eq!(status, 200);
    assert_eq!(capability["resourceType"], "CapabilityStatement");
    assert_eq!(capability["fhirVersion"], "4.0.1");
    let patient = capability["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|resource| resource["type"] == "Patient")
        .unwrap();
    let interactions: Vec<&str> = patient["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|interaction| interaction["code"].as_str().unwrap())
        .collect();
    for expected in [
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "create",
        "history-instance",
    ] {
        assert!(interactions.contains(&expected), "{expected} missing");
    }

    let root = server.base.trim_end_matches("/fhir");
    let health = server
        .client
        .get(format!("{root}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = server
        .client
        .get(format!("{root}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let (status, outcome) = server.get_json("Patientt/1").await;
    assert_eq!(status, 404);
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    let (status, _) = server.get_json("Patient/1/extra/path").await;
    assert_eq!(status, 404);
    let (status, _) = server.get_json("Patient/bad$id").await;
    assert_eq!(status, 400);
}
