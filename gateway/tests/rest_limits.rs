//! Hostile and malformed input: each gets a 4xx OperationOutcome naming the problem, the
//! store stays unchanged, and the server keeps serving.

mod common;

use common::TestServer;
use serde_json::Value;

async fn post_raw(server: &TestServer, content_type: &str, body: String) -> (u16, Value) {
    server.post_bytes("Patient", content_type, body).await
}

async fn still_serving_and_empty(server: &TestServer) {
    let (status, capability) = server.get_json("metadata").await;
    assert_eq!(status, 200);
    assert_eq!(capability["resourceType"], "CapabilityStatement");
    let (_, history) = server.get_json("_history").await;
    assert_eq!(history["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn json_nested_2000_levels_is_refused_with_its_location() {
    let server = TestServer::start();
    let body = format!(
        "{{\"resourceType\":\"Patient\",\"extension\":{}{}}}",
        "[{\"extension\":".repeat(1000),
        "}]".repeat(1000)
    );
    let (status, outcome) = post_raw(&server, "application/fhir+json", body).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "too-costly");
    let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        diagnostics.contains("nesting deeper than 64 levels at line 1"),
        "{diagnostics}"
    );
    still_serving_and_empty(&server).await;
}

#[tokio::test]
async fn xml_nested_2000_levels_is_refused_before_the_recursive_reader() {
    let server = TestServer::start();
    let body = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}{}</Patient>",
        "<extension url=\"urn:x\">".repeat(2000),
        "</extension>".repeat(2000)
    );
    let (status, outcome) = post_raw(&server, "application/fhir+xml", body).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "too-costly");
    still_serving_and_empty(&server).await;
}

#[tokio::test]
async fn xml_with_doctype_or_entities_is_refused() {
    let server = TestServer::start();
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE Patient [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&x;\"/></Patient>";
    let (status, outcome) = post_raw(&server, "application/fhir+xml", xxe.into()).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "security");
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("line 2"));
    let laughs = format!(
        "<!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><Patient xmlns=\"http://hl7.org/fhir\"/>",
        (1..10)
            .map(|level| format!("<!ENTITY lol{level} \"&lol;&lol;&lol;&lol;\">"))
            .collect::<String>()
    );
    let (status, _) = post_raw(&server, "application/fhir+xml", laughs).await;
    assert_eq!(status, 400);
    still_serving_and_empty(&server).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let server = TestServer::start_with(|config| config.limits.max_body_bytes = 1024);
    let body = format!(
        "{{\"resourceType\":\"Patient\",\"name\":[{{\"text\":\"{}\"}}]}}",
        "x".repeat(2048)
    );
    let (status, outcome) = post_raw(&server, "application/fhir+json", body).await;
    assert_eq!(status, 413);
    assert_eq!(outcome["issue"][0]["code"], "too-costly");
    still_serving_and_empty(&server).await;
}

#[tokio::test]
async fn malformed_and_invalid_resources_name_the_problem() {
    let server = TestServer::start();
    let (status, outcome) = post_raw(
        &server,
        "application/fhir+json",
        "{\"resourceType\":\"Patient\",\n\"active\":".into(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "structure");
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("line 2"));

    let (status, outcome) = post_raw(
        &server,
        "application/fhir+json",
        "{\"resourceType\":\"Patient\",\"colour\":\"blue\"}".into(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("colour"));

    let (status, outcome) = post_raw(
        &server,
        "application/fhir+json",
        "{\"resourceType\":\"Patient\",\"active\":\"yes\"}".into(),
    )
    .await;
    assert_eq!(status, 400, "{outcome}");

    let (status, outcome) = post_raw(&server, "application/fhir+json", "[1,2]".into()).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "invalid");

    let (status, _) = post_raw(
        &server,
        "application/fhir+xml",
        "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"></Patient>".into(),
    )
    .await;
    assert_eq!(status, 400);
    still_serving_and_empty(&server).await;
}
