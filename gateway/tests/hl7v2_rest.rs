//! HL7 v2 over the REST edge: `$convert` stores nothing, `$ingest` stores one transaction per
//! message, and an order, its imaging study and its report join up whatever order they come in.

mod common;

use common::{hl7v2_message as message, TestServer};
use serde_json::Value;
use std::collections::BTreeSet;

const ORDER: &str = "omg_o19_ct_order.hl7";
const IMAGING: &str = "omi_z23_ct_performed.hl7";
const REPORT: &str = "oru_r01_ct_report.hl7";

async fn post_raw(server: &TestServer, operation: &str, body: Vec<u8>) -> (u16, Value) {
    server
        .post_bytes(operation, "x-application/hl7-v2+er7", body)
        .await
}

/// The distinct ids of `res_type` the store has ever held.
async fn ids_of(server: &TestServer, res_type: &str) -> BTreeSet<String> {
    let (status, history) = server
        .get_json(&format!("{res_type}/_history?_count=1000"))
        .await;
    assert_eq!(status, 200, "{history}");
    history["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            entry["resource"]["id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    entry["request"]["url"]
                        .as_str()
                        .and_then(|url| url.split('/').nth(1))
                        .map(str::to_owned)
                })
        })
        .collect()
}

/// The one id of `res_type` in a converted transaction Bundle.
fn id_in(bundle: &Value, res_type: &str) -> String {
    let ids: Vec<&str> = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["resource"]["resourceType"] == res_type)
        .filter_map(|entry| entry["resource"]["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "{res_type} in {bundle}");
    ids[0].to_owned()
}

#[tokio::test]
async fn convert_answers_with_a_put_transaction_and_stores_nothing() {
    let server = TestServer::start();
    let (status, bundle) = post_raw(&server, "$convert?source=hl7v2", message(ORDER)).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "transaction");
    for entry in bundle["entry"].as_array().expect("entries") {
        let resource = &entry["resource"];
        assert_eq!(entry["request"]["method"], "PUT", "{entry}");
        assert_eq!(
            entry["request"]["url"],
            format!(
                "{}/{}",
                resource["resourceType"].as_str().expect("type"),
                resource["id"].as_str().expect("id")
            )
        );
    }
    id_in(&bundle, "ServiceRequest");
    assert!(ids_of(&server, "ServiceRequest").await.is_empty());
    // Detected from the bytes when neither source nor an HL7 content type is given.
    let response = server
        .client
        .post(server.url("$convert"))
        .header("Content-Type", "text/plain")
        .body(message(ORDER))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let again: Value = response.json().await.expect("JSON");
    assert_eq!(again, bundle, "conversion is deterministic");
}

#[tokio::test]
async fn order_study_and_report_join_up_in_every_arrival_order_and_resending_adds_nothing() {
    let orders = [
        [ORDER, IMAGING, REPORT],
        [ORDER, REPORT, IMAGING],
        [IMAGING, ORDER, REPORT],
        [IMAGING, REPORT, ORDER],
        [REPORT, ORDER, IMAGING],
        [REPORT, IMAGING, ORDER],
    ];
    for arrival in orders {
        let server = TestServer::start();
        for _round in 0..2 {
            for name in arrival {
                let (status, outcome) =
                    post_raw(&server, "$ingest?source=hl7v2", message(name)).await;
                assert_eq!(status, 200, "{arrival:?} {name}: {outcome}");
                assert_eq!(outcome["resourceType"], "Parameters");
            }
            for (res_type, expected) in [
                ("Patient", 1),
                ("ServiceRequest", 1),
                ("ImagingStudy", 1),
                ("DiagnosticReport", 1),
            ] {
                let ids = ids_of(&server, res_type).await;
                assert_eq!(ids.len(), expected, "{arrival:?}: {res_type} {ids:?}");
            }
        }
        let patient = ids_of(&server, "Patient")
            .await
            .pop_first()
            .expect("patient");
        let order = ids_of(&server, "ServiceRequest")
            .await
            .pop_first()
            .expect("order");
        let study = ids_of(&server, "ImagingStudy")
            .await
            .pop_first()
            .expect("study");
        let report = ids_of(&server, "DiagnosticReport")
            .await
            .pop_first()
            .expect("report");
        let (_, study_json) = server.get_json(&format!("ImagingStudy/{study}")).await;
        let (_, report_json) = server.get_json(&format!("DiagnosticReport/{report}")).await;
        let (_, order_json) = server.get_json(&format!("ServiceRequest/{order}")).await;
        let subject = format!("Patient/{patient}");
        assert_eq!(study_json["subject"]["reference"], subject, "{arrival:?}");
        assert_eq!(report_json["subject"]["reference"], subject, "{arrival:?}");
        assert_eq!(order_json["subject"]["reference"], subject, "{arrival:?}");
        let order_ref = format!("ServiceRequest/{order}");
        assert_eq!(
            study_json["basedOn"][0]["reference"], order_ref,
            "{arrival:?}"
        );
        assert_eq!(
            report_json["basedOn"][0]["reference"], order_ref,
            "{arrival:?}"
        );
        assert_eq!(
            report_json["imagingStudy"][0]["reference"],
            format!("ImagingStudy/{study}"),
            "{arrival:?}"
        );
    }
}

#[tokio::test]
async fn ingest_keeps_the_raw_message_and_its_provenance() {
    let server = TestServer::start();
    let raw = message(REPORT);
    let (_, bundle) = post_raw(&server, "$convert?source=hl7v2", raw.clone()).await;
    let binary = id_in(&bundle, "Binary");
    let provenance = id_in(&bundle, "Provenance");
    let (status, _) = post_raw(&server, "$ingest?source=hl7v2", raw.clone()).await;
    assert_eq!(status, 200);
    let (status, stored) = server.get_json(&format!("Binary/{binary}")).await;
    assert_eq!(status, 200, "{stored}");
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD
        .decode(stored["data"].as_str().expect("data"))
        .expect("base64");
    assert_eq!(data, raw, "the Binary holds the message byte for byte");
    let (status, provenance) = server.get_json(&format!("Provenance/{provenance}")).await;
    assert_eq!(status, 200);
    let targets: Vec<&str> = provenance["target"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|target| target["reference"].as_str())
        .collect();
    let report = id_in(&bundle, "DiagnosticReport");
    assert!(
        targets.contains(&format!("DiagnosticReport/{report}").as_str()),
        "{targets:?}"
    );
}

#[tokio::test]
async fn refused_messages_say_where_and_store_nothing() {
    let server = TestServer::start();
    let (status, outcome) = post_raw(
        &server,
        "$ingest?source=hl7v2",
        message("mdm_t02_unsupported.hl7"),
    )
    .await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["issue"][0]["code"], "not-supported", "{outcome}");
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|text| text.contains("MDM")),
        "{outcome}"
    );

    let (status, outcome) = post_raw(
        &server,
        "$ingest?source=hl7v2",
        message("orm_o01_missing_pid3.hl7"),
    )
    .await;
    assert_eq!(status, 422, "{outcome}");
    let location = outcome["issue"][0]["expression"][0]
        .as_str()
        .unwrap_or_default();
    assert!(location.contains("PID"), "{outcome}");
    assert!(location.contains('3'), "{outcome}");

    let (status, outcome) = post_raw(&server, "$ingest?source=csv", message(ORDER)).await;
    assert_eq!(status, 400, "{outcome}");
    let (status, outcome) = post_raw(&server, "$ingest", b"not a message".to_vec()).await;
    assert_eq!(status, 422, "{outcome}");
    let (status, history) = server.get_json("_history").await;
    assert_eq!(status, 200);
    assert_eq!(history["total"], 0, "{history}");
}

#[tokio::test]
async fn a_body_with_several_messages_is_converted_message_by_message() {
    let server = TestServer::start();
    let mut body = message(ORDER);
    body.extend(message("mdm_t02_unsupported.hl7"));
    body.extend(message(REPORT));
    let (status, collection) = post_raw(&server, "$convert?source=hl7v2", body.clone()).await;
    assert_eq!(status, 200, "{collection}");
    assert_eq!(collection["type"], "collection");
    let kinds: Vec<&str> = collection["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["resource"]["resourceType"].as_str())
        .collect();
    assert_eq!(kinds, ["Bundle", "OperationOutcome", "Bundle"]);

    let (status, result) = post_raw(&server, "$ingest?source=hl7v2", body).await;
    assert_eq!(status, 200, "{result}");
    let outcomes: Vec<bool> = result["parameter"]
        .as_array()
        .expect("per-message results")
        .iter()
        .map(|message| {
            message["part"]
                .as_array()
                .is_some_and(|parts| parts.iter().any(|part| part["name"] == "response"))
        })
        .collect();
    assert_eq!(outcomes, [true, false, true]);
    assert_eq!(ids_of(&server, "DiagnosticReport").await.len(), 1);
}
