//! DICOM over the REST edge: a patient's CD (DICOMDIR, several CT series, an SR report and a
//! PDF) posted as a zip to `$ingest`, and the HL7 v2 order for the same accession number, in
//! either order, end as one ImagingStudy based on the order, with the SR's DiagnosticReport
//! linked to it; files that are not DICOM are named in the outcome, and a second ingest of the
//! same CD changes nothing.

mod common;

use common::media::{dicom_data, folder_zip};
use common::{hl7v2_message, TestServer};
use serde_json::Value;

const ORDER: &str = "omi_o23_ct_order.hl7";

/// The CD folder as a zip archive, entries named as on the media.
fn cd_zip() -> Vec<u8> {
    folder_zip(&dicom_data("cd-ct"))
}

async fn post(
    server: &TestServer,
    operation: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    server.post_bytes(operation, content_type, body).await
}

async fn ingest_cd(server: &TestServer) -> Value {
    let (status, body) = post(server, "$ingest", "application/zip", cd_zip()).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn ingest_order(server: &TestServer) {
    let (status, body) = post(
        server,
        "$ingest",
        "x-application/hl7-v2+er7",
        hl7v2_message(ORDER),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// The ids of `res_type` in a converted Bundle.
fn ids_in(bundle: &Value, res_type: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["resource"]["resourceType"] == res_type)
        .filter_map(|entry| entry["resource"]["id"].as_str().map(str::to_owned))
        .collect()
}

async fn converted(server: &TestServer, content_type: &str, body: Vec<u8>) -> Value {
    let (status, bundle) = post(server, "$convert", content_type, body).await;
    assert_eq!(status, 200, "{bundle}");
    bundle
}

/// Checks the joined state: one study, based on the order, series intact, report linked.
async fn assert_joined(
    server: &TestServer,
    study_id: &str,
    order_id: &str,
    report_id: &str,
    series: usize,
) {
    let (status, study) = server.get_json(&format!("ImagingStudy/{study_id}")).await;
    assert_eq!(status, 200, "{study}");
    let references: Vec<&str> = study["basedOn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["reference"].as_str())
        .collect();
    assert!(
        references.contains(&format!("ServiceRequest/{order_id}").as_str()),
        "basedOn {references:?} lacks the order {order_id}: {study}"
    );
    assert_eq!(
        study["series"].as_array().map(Vec::len),
        Some(series),
        "{study}"
    );
    assert_eq!(study["numberOfSeries"], series);
    let (status, history) = server.get_json("ImagingStudy/_history?_count=100").await;
    assert_eq!(status, 200);
    let ids: std::collections::BTreeSet<&str> = history["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["resource"]["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "one ImagingStudy expected: {ids:?}");
    let (status, report) = server
        .get_json(&format!("DiagnosticReport/{report_id}"))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["imagingStudy"][0]["reference"],
        format!("ImagingStudy/{study_id}").as_str()
    );
}

/// Ids of the study, the order and the SR report, and the number of series on the CD.
async fn expected_ids(server: &TestServer) -> (String, String, String, usize) {
    let cd = converted(server, "application/zip", cd_zip()).await;
    let order = converted(server, "x-application/hl7-v2+er7", hl7v2_message(ORDER)).await;
    let studies = ids_in(&cd, "ImagingStudy");
    assert_eq!(studies.len(), 1, "{cd}");
    assert_eq!(
        ids_in(&order, "ImagingStudy"),
        studies,
        "the order names the CD's study"
    );
    let orders = ids_in(&order, "ServiceRequest");
    assert_eq!(orders.len(), 1, "{order}");
    let reports = ids_in(&cd, "DiagnosticReport");
    assert!(
        !reports.is_empty(),
        "the SR becomes a DiagnosticReport: {cd}"
    );
    let study = cd["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|entry| entry["resource"]["resourceType"] == "ImagingStudy")
        .expect("study");
    let series = study["resource"]["series"].as_array().map_or(0, Vec::len);
    (
        studies[0].clone(),
        orders[0].clone(),
        reports[0].clone(),
        series,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cd_then_order_end_joined() {
    let server = TestServer::start();
    let (study, order, report, series) = expected_ids(&server).await;
    let outcome = ingest_cd(&server).await;
    let text = outcome.to_string();
    assert!(
        text.contains("AUTORUN.INF"),
        "non-DICOM files are named: {text}"
    );
    ingest_order(&server).await;
    assert_joined(&server, &study, &order, &report, series).await;

    // The same CD again: the study keeps its order and its series.
    ingest_cd(&server).await;
    assert_joined(&server, &study, &order, &report, series).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_then_cd_end_joined() {
    let server = TestServer::start();
    let (study, order, report, series) = expected_ids(&server).await;
    ingest_order(&server).await;
    ingest_cd(&server).await;
    assert_joined(&server, &study, &order, &report, series).await;
    // The order message again (e.g. a status update) does not erase the series.
    ingest_order(&server).await;
    assert_joined(&server, &study, &order, &report, series).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_dicom_is_refused_with_a_reason() {
    let server = TestServer::start();
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    bytes.extend_from_slice(b"\x02\x00\x10\x00UI\x04\x00");
    let (status, outcome) = post(&server, "$ingest", "application/dicom", bytes).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let text = outcome.to_string();
    assert!(text.contains("no DICOM instance"), "{text}");
    assert!(text.contains("body"), "the file is named: {text}");
}

/// One CT image of the CD: it names its order only by accession number.
fn one_image() -> Vec<u8> {
    std::fs::read(dicom_data(
        "cd-ct/DICOM/PT000000/ST000000/SE000001/IM000000",
    ))
    .expect("image")
}

/// The order without the Study Instance UID (IPC-3 empty), as a RIS sends it before the
/// modality has assigned one.
fn order_without_study_uid() -> Vec<u8> {
    let text = String::from_utf8(hl7v2_message(ORDER)).expect("UTF-8 order");
    text.replace("|2.25.242931351433840856749954237589344604421|", "||")
        .into_bytes()
}

async fn based_on_references(server: &TestServer, study_id: &str) -> Vec<String> {
    let (status, study) = server.get_json(&format!("ImagingStudy/{study_id}")).await;
    assert_eq!(status, 200, "{study}");
    study["basedOn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["reference"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_finds_its_stored_order_by_accession_number() {
    let server = TestServer::start();
    let order = converted(
        &server,
        "x-application/hl7-v2+er7",
        order_without_study_uid(),
    )
    .await;
    let order_id = ids_in(&order, "ServiceRequest").remove(0);
    let image = converted(&server, "application/dicom", one_image()).await;
    let study_id = ids_in(&image, "ImagingStudy").remove(0);
    let logical = &image["entry"][1]["resource"]["basedOn"][0];
    assert!(
        logical.get("reference").is_none(),
        "converted alone it names the order by accession: {logical}"
    );

    let (status, body) = post(
        &server,
        "$ingest",
        "x-application/hl7-v2+er7",
        order_without_study_uid(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&server, "$ingest", "application/dicom", one_image()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        based_on_references(&server, &study_id).await,
        [format!("ServiceRequest/{order_id}")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_order_joins_the_stored_image_by_accession_number() {
    let server = TestServer::start();
    let image = converted(&server, "application/dicom", one_image()).await;
    let study_id = ids_in(&image, "ImagingStudy").remove(0);
    let (status, body) = post(&server, "$ingest", "application/dicom", one_image()).await;
    assert_eq!(status, 200, "{body}");
    assert!(based_on_references(&server, &study_id).await.is_empty());

    let order = converted(
        &server,
        "x-application/hl7-v2+er7",
        order_without_study_uid(),
    )
    .await;
    let order_id = ids_in(&order, "ServiceRequest").remove(0);
    let (status, body) = post(
        &server,
        "$ingest",
        "x-application/hl7-v2+er7",
        order_without_study_uid(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        based_on_references(&server, &study_id).await,
        [format!("ServiceRequest/{order_id}")]
    );
    let (_, study) = server.get_json(&format!("ImagingStudy/{study_id}")).await;
    assert_eq!(
        study["numberOfInstances"], 1,
        "the image is still there: {study}"
    );
}
