//! Transaction and batch Bundles over real HTTP: urn:uuid and conditional references,
//! all-or-nothing, processing order, per-entry errors, limits.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

fn transaction(entries: Value) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

fn linked_referral_entries() -> Value {
    json!([
        {
            "fullUrl": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000001",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11312345670", "value": "P-100"}],
                "name": [{"family": "田中", "given": ["花子"]}]
            },
            "request": {"method": "POST", "url": "Patient"}
        },
        {
            "fullUrl": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000002",
            "resource": {
                "resourceType": "ServiceRequest",
                "identifier": [{"system": "urn:example:placer", "value": "ORD-1"}],
                "status": "active",
                "intent": "order",
                "code": {"text": "CT chest"},
                "subject": {"reference": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000001"}
            },
            "request": {"method": "POST", "url": "ServiceRequest"}
        },
        {
            "fullUrl": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000003",
            "resource": {
                "resourceType": "DiagnosticReport",
                "status": "final",
                "code": {"text": "CT chest report"},
                "subject": {"reference": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000001"},
                "basedOn": [{"reference": "urn:uuid:6f1b1a52-0c7e-4d3f-9c55-000000000002"}],
                "conclusion": "No acute findings."
            },
            "request": {"method": "POST", "url": "DiagnosticReport"}
        }
    ])
}

async fn system_history_total(server: &TestServer) -> u64 {
    let (_, history) = server.get_json("_history?_count=0").await;
    history["total"].as_u64().unwrap()
}

#[tokio::test]
async fn transaction_rewrites_urn_uuid_references_between_its_entries() {
    let server = TestServer::start();
    let response = server
        .send_json(Method::POST, "", &transaction(linked_referral_entries()))
        .await;
    assert_eq!(response.status(), 200);
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["type"], "transaction-response");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let locations: Vec<String> = entries
        .iter()
        .map(|entry| {
            assert_eq!(entry["response"]["status"], "201 Created");
            entry["response"]["location"].as_str().unwrap().to_owned()
        })
        .collect();
    let reference = |location: &str| location.split("/_history").next().unwrap().to_owned();
    let patient = reference(&locations[0]);
    let order = reference(&locations[1]);

    let (status, report) = server.get_json(&reference(&locations[2])).await;
    assert_eq!(status, 200);
    assert_eq!(report["subject"]["reference"], patient.as_str());
    assert_eq!(report["basedOn"][0]["reference"], order.as_str());
    let (_, service_request) = server.get_json(&order).await;
    assert_eq!(service_request["subject"]["reference"], patient.as_str());
}

#[tokio::test]
async fn a_failing_entry_stores_nothing_and_is_named() {
    let server = TestServer::start();
    let before = system_history_total(&server).await;
    let mut entries = linked_referral_entries();
    // The third entry now updates with an id that disagrees with its URL.
    entries[2]["request"] = json!({"method": "PUT", "url": "DiagnosticReport/dr-1"});
    entries[2]["resource"]["id"] = json!("dr-other");
    let response = server
        .send_json(Method::POST, "", &transaction(entries))
        .await;
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["expression"][0], "Bundle.entry[2].id");
    assert_eq!(
        system_history_total(&server).await,
        before,
        "nothing was stored"
    );

    let mut dangling = linked_referral_entries();
    dangling[1]["resource"]["subject"]["reference"] =
        json!("urn:uuid:00000000-0000-0000-0000-00000000dead");
    let response = server
        .send_json(Method::POST, "", &transaction(dangling))
        .await;
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("dead"));
    assert_eq!(system_history_total(&server).await, before);
}

#[tokio::test]
async fn processing_order_and_conditional_references() {
    let server = TestServer::start();
    server
        .send_json(
            Method::PUT,
            "Practitioner/dr-yamada",
            &json!({"resourceType": "Practitioner", "id": "dr-yamada",
                    "identifier": [{"system": "urn:example:staff", "value": "D-7"}]}),
        )
        .await;
    server
        .send_json(
            Method::PUT,
            "Patient/old",
            &json!({"resourceType": "Patient", "id": "old"}),
        )
        .await;
    let entries = json!([
        {   // Listed first, executed last (GET after PUT): sees the PUT below.
            "request": {"method": "GET", "url": "Patient/later"}
        },
        {
            "fullUrl": "urn:uuid:aa",
            "resource": {"resourceType": "Patient",
                         "identifier": [{"system": "urn:example:mrn", "value": "M-1"}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:example:mrn|M-1"}
        },
        {
            "resource": {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                         "subject": {"reference": "Patient?identifier=urn:example:mrn|M-1"},
                         "requester": {"reference": "Practitioner?identifier=urn:example:staff|D-7"}},
            "request": {"method": "POST", "url": "ServiceRequest"}
        },
        {
            "fullUrl": "urn:uuid:bb",
            "resource": {"resourceType": "Patient",
                         "identifier": [{"system": "urn:example:mrn", "value": "M-1"}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:example:mrn|M-1"}
        },
        {"request": {"method": "DELETE", "url": "Patient/old"}},
        {"resource": {"resourceType": "Patient", "id": "later"}, "request": {"method": "PUT", "url": "Patient/later"}}
    ]);
    let response = server
        .send_json(Method::POST, "", &transaction(entries))
        .await;
    assert_eq!(response.status(), 200);
    let bundle: Value = response.json().await.unwrap();
    let status = |index: usize| {
        bundle["entry"][index]["response"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        status(0),
        "200 OK",
        "the GET ran after the PUT listed after it"
    );
    assert_eq!(bundle["entry"][0]["resource"]["id"], "later");
    assert_eq!(status(4), "204 No Content");
    assert_eq!(status(5), "201 Created");
    assert_eq!(
        status(3),
        "200 OK",
        "second conditional create finds the first"
    );
    let patient_url = bundle["entry"][1]["fullUrl"].as_str().unwrap();
    assert_eq!(bundle["entry"][3]["fullUrl"].as_str().unwrap(), patient_url);
    let order = &bundle["entry"][2]["resource"];
    assert!(patient_url.ends_with(order["subject"]["reference"].as_str().unwrap()));
    assert_eq!(order["requester"]["reference"], "Practitioner/dr-yamada");
    let (status, _) = server.get_json("Patient/old").await;
    assert_eq!(status, 410);

    // Sent again, both conditional creates find the stored Patient; neither writes.
    let again = transaction(json!([
        {"fullUrl": "urn:uuid:cc", "resource": {"resourceType": "Patient",
            "identifier": [{"system": "urn:example:mrn", "value": "M-1"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:example:mrn|M-1"}},
        {"fullUrl": "urn:uuid:dd", "resource": {"resourceType": "Patient",
            "identifier": [{"system": "urn:example:mrn", "value": "M-1"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:example:mrn|M-1"}}
    ]));
    let response = server.send_json(Method::POST, "", &again).await;
    assert_eq!(response.status(), 200);
    let repeated: Value = response.json().await.unwrap();
    for index in 0..2 {
        assert_eq!(repeated["entry"][index]["response"]["status"], "200 OK");
        assert_eq!(
            repeated["entry"][index]["fullUrl"].as_str().unwrap(),
            patient_url
        );
    }

    let unmatched = transaction(json!([{
        "resource": {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                     "subject": {"reference": "Patient?identifier=urn:example:mrn|NOBODY"}},
        "request": {"method": "POST", "url": "ServiceRequest"}
    }]));
    let response = server.send_json(Method::POST, "", &unmatched).await;
    assert_eq!(response.status(), 412);
}

#[tokio::test]
async fn a_resource_written_twice_in_one_transaction_is_refused() {
    let server = TestServer::start();
    let entries = json!([
        {"resource": {"resourceType": "Patient", "id": "twice"}, "request": {"method": "PUT", "url": "Patient/twice"}},
        {"request": {"method": "DELETE", "url": "Patient/twice"}}
    ]);
    let response = server
        .send_json(Method::POST, "", &transaction(entries))
        .await;
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Bundle.entry[1].request.url"
    );
}

#[tokio::test]
async fn batch_answers_each_entry_on_its_own() {
    let server = TestServer::start();
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": {"resourceType": "Patient", "id": "b-1"}, "request": {"method": "PUT", "url": "Patient/b-1"}},
        {"resource": {"resourceType": "Patient", "id": "b-x"}, "request": {"method": "PUT", "url": "Patient/b-2"}},
        {"request": {"method": "GET", "url": "Patient/b-1"}},
        {"request": {"method": "GET", "url": "Patient/missing"}},
        {"request": {"method": "POST", "url": "Patient"}}
    ]});
    let response = server.send_json(Method::POST, "", &batch).await;
    assert_eq!(response.status(), 200);
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["type"], "batch-response");
    let statuses: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["response"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "201 Created",
            "400 Bad Request",
            "200 OK",
            "404 Not Found",
            "400 Bad Request"
        ]
    );
    assert_eq!(
        bundle["entry"][1]["response"]["outcome"]["issue"][0]["expression"][0],
        "Bundle.entry[1].id"
    );
    let (status, _) = server.get_json("Patient/b-1").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bundle_limits_and_shape_are_checked() {
    let server = TestServer::start_with(|config| config.limits.max_bundle_entries = 2);
    let response = server
        .send_json(Method::POST, "", &transaction(linked_referral_entries()))
        .await;
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "too-costly");

    let document = json!({"resourceType": "Bundle", "type": "document"});
    let response = server.send_json(Method::POST, "", &document).await;
    assert_eq!(response.status(), 400);
    let not_bundle = json!({"resourceType": "Patient"});
    let response = server.send_json(Method::POST, "", &not_bundle).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_invalid_resource_in_a_large_bundle_is_named_and_nothing_is_stored() {
    let server = TestServer::start();
    let mut entries: Vec<Value> = (0..20)
        .map(|index| {
            json!({"resource": {"resourceType": "Patient", "id": format!("big-{index}")},
                   "request": {"method": "PUT", "url": format!("Patient/big-{index}")}})
        })
        .collect();
    entries[17]["resource"]["colour"] = json!("blue");
    let response = server
        .send_json(
            Method::POST,
            "",
            &transaction(Value::Array(entries.clone())),
        )
        .await;
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Bundle.entry[17].resource"
    );
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("colour"));
    assert_eq!(system_history_total(&server).await, 0);

    entries[17]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("colour");
    let response = server
        .send_json(Method::POST, "", &transaction(Value::Array(entries)))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(system_history_total(&server).await, 20);
}
