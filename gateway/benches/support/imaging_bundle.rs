//! The made-up imaging Bundles the ingest benchmarks send: 100-entry transactions of linked
//! ServiceRequests, ImagingStudies and DiagnosticReports, and a helper that sends several at
//! once through one or more gateways.

use serde_json::{json, Value};
use std::sync::Arc;
use tsunagi_gateway::fhir::bundle::parse_json_bundle;
use tsunagi_gateway::fhir::entry::PreferReturn;
use tsunagi_gateway::Gateway;
use tsunagi_profiles::ParseLimits;

/// Entries per transaction Bundle.
pub const ENTRIES: usize = 100;
/// ServiceRequests per Bundle; each but the last gets one ImagingStudy and one report.
pub const ORDERS: usize = 34;
/// ImagingStudies (and DiagnosticReports) per Bundle.
pub const STUDIES: usize = 33;

/// Imaging procedures the made-up orders cycle through: LOINC code, display, DICOM modality,
/// SNOMED CT body site code and display.
const PROCEDURES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "24627-2",
        "CT Chest",
        "CT",
        "51185008",
        "Thoracic structure",
    ),
    ("24558-9", "CT Abdomen", "CT", "818983003", "Abdomen"),
    ("24590-2", "MR Brain", "MR", "12738006", "Brain structure"),
    (
        "36643-5",
        "XR Chest 2 Views",
        "DX",
        "51185008",
        "Thoracic structure",
    ),
    ("24531-6", "US Abdomen", "US", "818983003", "Abdomen"),
];

fn full_url() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

fn entry(full_url: &str, resource: Value) -> Value {
    let res_type = resource["resourceType"].clone();
    json!({
        "fullUrl": full_url,
        "resource": resource,
        "request": { "method": "POST", "url": res_type }
    })
}

/// The JSON bytes of transaction Bundle number `batch`; every identifier in it is unique
/// across batches.
pub fn bundle_bytes(batch: u64) -> Vec<u8> {
    let mut entries = Vec::with_capacity(ENTRIES);
    let mut orders = Vec::with_capacity(ORDERS);
    let mut studies = Vec::with_capacity(STUDIES);
    for index in 0..ORDERS {
        let serial = batch * ORDERS as u64 + index as u64;
        let (code, display, _, _, _) = PROCEDURES[index % PROCEDURES.len()];
        let url = full_url();
        entries.push(entry(
            &url,
            json!({
                "resourceType": "ServiceRequest",
                "identifier": [{
                    "type": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "PLAC"
                    }] },
                    "system": "urn:oid:1.2.392.200119.6.102.11310001",
                    "value": format!("ORD-{serial:010}")
                }],
                "status": "active",
                "intent": "order",
                "category": [{ "coding": [{
                    "system": "http://snomed.info/sct",
                    "code": "363679005",
                    "display": "Imaging"
                }] }],
                "priority": "routine",
                "code": {
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }],
                    "text": display
                },
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "authoredOn": "2026-11-03T09:15:00+09:00",
                "requester": { "display": "Dr. Haruto Sato" },
                "reasonCode": [{ "text": "Persistent cough for three weeks" }]
            }),
        ));
        orders.push(url);
    }
    for index in 0..STUDIES {
        let serial = batch * STUDIES as u64 + index as u64;
        let (code, display, modality, site, site_display) = PROCEDURES[index % PROCEDURES.len()];
        let study_uid = format!("1.2.392.200036.9116.2.6.1.48.{serial}");
        let url = full_url();
        entries.push(entry(
            &url,
            json!({
                "resourceType": "ImagingStudy",
                "identifier": [
                    { "system": "urn:dicom:uid", "value": format!("urn:oid:{study_uid}") },
                    {
                        "type": { "coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "ACSN"
                        }] },
                        "system": "urn:oid:1.2.392.200119.6.102.11310002",
                        "value": format!("ACC-{serial:010}")
                    }
                ],
                "status": "available",
                "modality": [{
                    "system": "http://dicom.nema.org/resources/ontology/DCM",
                    "code": modality
                }],
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "started": "2026-11-04T10:02:31+09:00",
                "basedOn": [{ "reference": orders[index] }],
                "numberOfSeries": 1,
                "numberOfInstances": 1,
                "procedureCode": [{
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }]
                }],
                "series": [{
                    "uid": format!("{study_uid}.1"),
                    "number": 1,
                    "modality": {
                        "system": "http://dicom.nema.org/resources/ontology/DCM",
                        "code": modality
                    },
                    "description": display,
                    "numberOfInstances": 1,
                    "bodySite": {
                        "system": "http://snomed.info/sct",
                        "code": site,
                        "display": site_display
                    },
                    "started": "2026-11-04T10:02:31+09:00",
                    "instance": [{
                        "uid": format!("{study_uid}.1.1"),
                        "sopClass": {
                            "system": "urn:ietf:rfc:3986",
                            "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2"
                        },
                        "number": 1
                    }]
                }]
            }),
        ));
        studies.push(url);
    }
    for index in 0..STUDIES {
        let serial = batch * STUDIES as u64 + index as u64;
        let (code, display, _, _, _) = PROCEDURES[index % PROCEDURES.len()];
        entries.push(entry(
            &full_url(),
            json!({
                "resourceType": "DiagnosticReport",
                "identifier": [{
                    "system": "urn:oid:1.2.392.200119.6.102.11310003",
                    "value": format!("RPT-{serial:010}")
                }],
                "basedOn": [{ "reference": orders[index] }],
                "status": "final",
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                    "code": "RAD",
                    "display": "Radiology"
                }] }],
                "code": {
                    "coding": [{ "system": "http://loinc.org", "code": code, "display": display }],
                    "text": format!("{display} report")
                },
                "subject": { "reference": format!("Patient/p{:06}", serial % 5000) },
                "effectiveDateTime": "2026-11-04T10:02:31+09:00",
                "issued": "2026-11-04T14:40:12.000+09:00",
                "resultsInterpreter": [{ "display": "Dr. Yui Tanaka" }],
                "imagingStudy": [{ "reference": studies[index] }],
                "conclusion": "No acute abnormality. Small stable nodule, follow-up in 12 months.",
                "conclusionCode": [{ "coding": [{
                    "system": "http://snomed.info/sct",
                    "code": "17621005",
                    "display": "Normal"
                }] }]
            }),
        ));
    }
    debug_assert_eq!(entries.len(), ENTRIES);
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": entries
    });
    serde_json::to_vec(&bundle).expect("serialise the Bundle")
}

/// Sends `bundles` at once, bundle `n` through `gateways[n % gateways.len()]`, each parsed
/// and run as one transaction, and waits for all of them.
pub fn ingest_concurrently(
    runtime: &tokio::runtime::Runtime,
    gateways: &[Arc<Gateway>],
    bundles: Vec<Vec<u8>>,
) {
    runtime.block_on(async {
        let clients: Vec<_> = bundles
            .into_iter()
            .enumerate()
            .map(|(index, bytes)| {
                let gateway = Arc::clone(&gateways[index % gateways.len()]);
                tokio::spawn(async move {
                    let bundle = parse_json_bundle(&bytes, &ParseLimits::default())
                        .expect("parse the Bundle");
                    gateway
                        .process_bundle(bundle, PreferReturn::Minimal)
                        .await
                        .expect("the transaction is accepted")
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client task");
        }
    });
}
