//! Builds a referral package: the document Bundle (Composition first, then every collected
//! resource under a `urn:uuid:` fullUrl, references rewritten to those), ready to sign.

use super::collect::{collect, local_reference, reference_of, Collected};
use super::composition::{composition, Parts};
use crate::clock::Instant;
use crate::{Gateway, GatewayError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Identifier system of a document Bundle (JP-CLINS).
pub const BUNDLE_IDENTIFIER_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
/// Identifier system of a JP medical institution (10-digit code).
const INSTITUTION_CODE_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
/// Namespace of the UUIDs the package gives each resource (stable for one server's resource).
const PACKAGE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_1d2e_8a4b_4c35_9d7e_0b5a_3c2f_1e90);

/// A built, not yet signed, package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The document Bundle.
    pub bundle: Value,
    /// `Bundle.identifier.value`.
    pub identifier: String,
    /// `urn:uuid:` of the patient, the author and the sender inside the document.
    pub patient: String,
    /// The referring doctor's fullUrl (who signs).
    pub author: String,
    /// The patient on this server (`Patient/id`).
    pub patient_reference: String,
    /// What was referenced but left out, and why.
    pub left_out: Vec<String>,
}

/// Builds the package of `ServiceRequest/{referral_id}` at `now`.
pub async fn build(
    gateway: &Gateway,
    referral_id: &str,
    now: Instant,
) -> Result<Package, GatewayError> {
    let collected = collect(gateway, referral_id).await?;
    let base_url = gateway.base_url();
    let full_urls: HashMap<String, String> = collected
        .resources
        .iter()
        .filter_map(reference_of)
        .map(|reference| {
            let uuid = Uuid::new_v5(
                &PACKAGE_NAMESPACE,
                format!("{base_url}/{reference}").as_bytes(),
            );
            (reference, format!("urn:uuid:{uuid}"))
        })
        .collect();
    let roles = Roles::of(&collected, gateway)?;
    let institution = gateway
        .config()
        .source
        .institution_code
        .clone()
        .unwrap_or_else(|| gateway.config().source.institution.clone());
    let date = now.to_fhir();
    let year = date.get(..4).unwrap_or("0000").to_owned();
    let bundle_id = Uuid::new_v4().to_string();
    let identifier = format!("{institution}^{year}^{bundle_id}");
    let url = |reference: &str| full_urls.get(reference).cloned().unwrap_or_default();
    let parts = Parts {
        id: Uuid::new_v4().to_string(),
        identifier: identifier.clone(),
        date: date.clone(),
        patient: url(&format!("Patient/{}", collected.patient_id)),
        author: url(&roles.author),
        sender: url(&roles.sender),
        receiver: url(&roles.receiver),
        referral: url(&format!("ServiceRequest/{}", collected.referral_id)),
        purpose: purpose_of(&collected.resources[0]),
        results: results_of(&collected, &full_urls),
    };
    let mut entries = vec![json!({
        "fullUrl": format!("urn:uuid:{}", parts.id),
        "resource": composition(&parts),
    })];
    let mut ordered: Vec<&Value> = collected.resources.iter().collect();
    ordered.sort_by_key(|resource| {
        let reference = reference_of(resource).unwrap_or_default();
        (type_rank(&reference), url(&reference))
    });
    for resource in ordered {
        let Some(reference) = reference_of(resource) else {
            continue;
        };
        let Some(document_resource) = localize(resource, &full_urls, base_url) else {
            continue;
        };
        entries.push(json!({"fullUrl": url(&reference), "resource": document_resource}));
    }
    let bundle = json!({
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": date},
        "identifier": {"system": BUNDLE_IDENTIFIER_SYSTEM, "value": identifier},
        "type": "document",
        "timestamp": date,
        "entry": entries,
    });
    Ok(Package {
        bundle,
        identifier,
        patient: parts.patient,
        author: parts.author,
        patient_reference: format!("Patient/{}", collected.patient_id),
        left_out: collected.left_out,
    })
}

/// The referral's doctor and the two organizations, as `Type/id` of collected resources.
struct Roles {
    author: String,
    sender: String,
    receiver: String,
}

impl Roles {
    fn of(collected: &Collected, gateway: &Gateway) -> Result<Roles, GatewayError> {
        let referral = &collected.resources[0];
        let base_url = gateway.base_url();
        let collected_ref = |value: Option<&Value>, res_type: &str| {
            value
                .and_then(Value::as_str)
                .and_then(|reference| local_reference(reference, base_url))
                .filter(|(found_type, _)| found_type == res_type)
                .map(|(found_type, id)| format!("{found_type}/{id}"))
                .filter(|reference| collected.get(reference).is_some())
        };
        let author = collected_ref(referral.pointer("/requester/reference"), "Practitioner")
            .ok_or_else(|| {
                GatewayError::invalid(
                    "the referral needs a requester: the referring Practitioner",
                    "ServiceRequest.requester",
                )
            })?;
        let receiver = referral
            .get("performer")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|performer| collected_ref(performer.get("reference"), "Organization"))
            .ok_or_else(|| {
                GatewayError::invalid(
                    "the referral needs a performer: the receiving Organization",
                    "ServiceRequest.performer",
                )
            })?;
        let own_code = gateway.config().source.institution_code.as_deref();
        let by_code = collected.resources.iter().find(|resource| {
            resource["resourceType"] == "Organization"
                && own_code
                    .is_some_and(|code| has_identifier(resource, INSTITUTION_CODE_SYSTEM, code))
        });
        let patient = collected.get(&format!("Patient/{}", collected.patient_id));
        let sender = by_code
            .and_then(reference_of)
            .or_else(|| {
                collected_ref(
                    patient.and_then(|p| p.pointer("/managingOrganization/reference")),
                    "Organization",
                )
            })
            .filter(|sender| *sender != receiver)
            .ok_or_else(|| {
                GatewayError::Unprocessable(
                    "the sending organization is unknown: store this hospital's Organization \
                     with its institution code ([source] institution_code) or set the \
                     patient's managingOrganization"
                        .into(),
                )
            })?;
        Ok(Roles {
            author,
            sender,
            receiver,
        })
    }
}

/// True when `resource` has identifier `system|value`.
fn has_identifier(resource: &Value, system: &str, value: &str) -> bool {
    resource
        .get("identifier")
        .and_then(Value::as_array)
        .is_some_and(|identifiers| {
            identifiers
                .iter()
                .any(|identifier| identifier["system"] == system && identifier["value"] == value)
        })
}

/// The referral's purpose in words: its reasons, then its notes.
fn purpose_of(referral: &Value) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for reason in referral
        .get("reasonCode")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = reason
            .get("text")
            .or_else(|| reason.pointer("/coding/0/display"))
            .and_then(Value::as_str);
        lines.extend(text.map(str::to_owned));
    }
    for note in referral
        .get("note")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        lines.extend(note.get("text").and_then(Value::as_str).map(str::to_owned));
    }
    (!lines.is_empty()).then(|| lines.join(" / "))
}

/// The studies, reports and results section entries, with a line of words each.
fn results_of(collected: &Collected, full_urls: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut results: Vec<(String, String)> = collected
        .resources
        .iter()
        .filter(|resource| {
            matches!(
                resource["resourceType"].as_str(),
                Some("ImagingStudy" | "DiagnosticReport" | "Observation")
            )
        })
        .filter_map(|resource| {
            let reference = reference_of(resource)?;
            let url = full_urls.get(&reference)?.clone();
            Some((url, describe(resource)))
        })
        .collect();
    results.sort();
    results
}

/// A short line naming a study, report or result (no patient data beyond the exam).
fn describe(resource: &Value) -> String {
    let res_type = resource["resourceType"].as_str().unwrap_or_default();
    let what = resource
        .pointer("/code/text")
        .or_else(|| resource.pointer("/code/coding/0/display"))
        .or_else(|| resource.get("description"))
        .or_else(|| resource.pointer("/modality/0/code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let when = resource
        .get("started")
        .or_else(|| resource.get("effectiveDateTime"))
        .or_else(|| resource.get("issued"))
        .and_then(Value::as_str)
        .unwrap_or("");
    [res_type, what, when]
        .iter()
        .filter(|part| !part.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Entry order inside the document after the Composition.
fn type_rank(reference: &str) -> u8 {
    let res_type = reference.split('/').next().unwrap_or_default();
    match res_type {
        "Patient" => 0,
        "ServiceRequest" => 1,
        "Practitioner" | "PractitionerRole" => 2,
        "Organization" => 3,
        "Encounter" => 4,
        "ImagingStudy" => 5,
        "Endpoint" => 6,
        "DiagnosticReport" => 7,
        "Observation" => 8,
        "Provenance" => 10,
        _ => 9,
    }
}

/// The copy of `resource` that goes into the document: id = its UUID, no server version,
/// references to taken resources rewritten to their fullUrls, references to anything else
/// kept only as identifier/display (the receiver cannot resolve them). A Provenance keeps
/// only the targets inside the package; with none it is left out (`None`).
fn localize(
    resource: &Value,
    full_urls: &HashMap<String, String>,
    base_url: &str,
) -> Option<Value> {
    let reference = reference_of(resource)?;
    let full_url = full_urls.get(&reference)?;
    let mut copy = resource.clone();
    copy["id"] = Value::String(full_url.trim_start_matches("urn:uuid:").to_owned());
    if let Some(meta) = copy.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if meta.is_empty() {
            copy.as_object_mut()?.remove("meta");
        }
    }
    if copy["resourceType"] == "Provenance" {
        let targets: Vec<Value> = copy
            .get("target")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|target| {
                target["reference"]
                    .as_str()
                    .and_then(|reference| local_reference(reference, base_url))
                    .is_some_and(|(t, id)| full_urls.contains_key(&format!("{t}/{id}")))
            })
            .cloned()
            .collect();
        if targets.is_empty() {
            return None;
        }
        copy["target"] = Value::Array(targets);
    }
    rewrite(&mut copy, full_urls, base_url);
    Some(copy)
}

/// Rewrites every `reference` under `value` (see [`localize`]).
fn rewrite(value: &mut Value, full_urls: &HashMap<String, String>, base_url: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("reference") {
                if let Some((res_type, id)) = local_reference(reference, base_url) {
                    match full_urls.get(&format!("{res_type}/{id}")) {
                        Some(full_url) => {
                            map.insert("reference".into(), Value::String(full_url.clone()));
                        }
                        None => drop_reference(map),
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                if key != "reference" {
                    rewrite(child, full_urls, base_url);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite(item, full_urls, base_url)),
        _ => {}
    }
}

/// Replaces a reference to something outside the package by what can still be said of it.
fn drop_reference(map: &mut Map<String, Value>) {
    map.remove("reference");
    if !map.contains_key("display") && !map.contains_key("identifier") {
        map.insert(
            "display".into(),
            Value::String("not part of this referral".into()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> HashMap<String, String> {
        HashMap::from([
            ("Patient/p".to_owned(), "urn:uuid:0000-p".to_owned()),
            ("Provenance/v".to_owned(), "urn:uuid:0000-v".to_owned()),
            ("ImagingStudy/i".to_owned(), "urn:uuid:0000-i".to_owned()),
        ])
    }

    #[test]
    fn references_inside_become_full_urls_and_outside_ones_lose_their_link() {
        let study = json!({"resourceType": "ImagingStudy", "id": "i",
            "meta": {"versionId": "3", "lastUpdated": "2026-01-01T00:00:00Z"},
            "subject": {"reference": "http://a/fhir/Patient/p"},
            "encounter": {"reference": "Encounter/e"},
            "referrer": {"reference": "Practitioner/d", "display": "Dr"}});
        let copy = localize(&study, &urls(), "http://a/fhir").unwrap();
        assert_eq!(copy["id"], "0000-i");
        assert!(copy.get("meta").is_none());
        assert_eq!(copy["subject"]["reference"], "urn:uuid:0000-p");
        assert_eq!(
            copy["encounter"],
            json!({"display": "not part of this referral"})
        );
        assert_eq!(copy["referrer"], json!({"display": "Dr"}));
    }

    #[test]
    fn a_provenance_keeps_only_targets_in_the_package() {
        let provenance = json!({"resourceType": "Provenance", "id": "v",
            "target": [{"reference": "Patient/p"}, {"reference": "Encounter/e"}],
            "entity": [{"role": "source", "what": {"reference": "Binary/b",
                "identifier": {"value": "MSG1"}}}]});
        let copy = localize(&provenance, &urls(), "http://a/fhir").unwrap();
        assert_eq!(copy["target"], json!([{"reference": "urn:uuid:0000-p"}]));
        assert_eq!(
            copy["entity"][0]["what"],
            json!({"identifier": {"value": "MSG1"}})
        );
        let unrelated = json!({"resourceType": "Provenance", "id": "v",
            "target": [{"reference": "Encounter/e"}]});
        assert!(localize(&unrelated, &urls(), "http://a/fhir").is_none());
    }

    #[test]
    fn purpose_joins_reasons_and_notes() {
        let referral = json!({"reasonCode": [{"text": "肺結節の評価"}],
            "note": [{"text": "CT と超音波を添付"}]});
        assert_eq!(
            purpose_of(&referral).as_deref(),
            Some("肺結節の評価 / CT と超音波を添付")
        );
        assert_eq!(purpose_of(&json!({})), None);
    }
}
