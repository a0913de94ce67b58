//! Receiving a referral package (at hospital B): verify the signature against the trusted
//! senders, refuse anything malformed, recognize a replay, match the patient to B's own
//! records, and store the document, its resources and a Provenance naming the sender in one
//! transaction.
//!
//! Each document resource gets an id derived from the signer and its `urn:uuid:` fullUrl, so
//! a package sent again lands on the same resources (and writes no new version: the content
//! is unchanged). Organizations and Practitioners B already holds (same identifier) are
//! reused, not copied; so the referral's performer becomes B's own Organization and the
//! ServiceRequest shows up in B's worklist.

use super::collect::reference_of;
use super::error::ReferralError;
use super::package::BUNDLE_IDENTIFIER_SYSTEM;
use crate::clock::Instant;
use crate::fhir::bundle::body_value;
use crate::fhir::entry::PreferReturn;
use crate::matching::MatchGrade;
use crate::outcome::{operation_outcome, Issue};
use crate::search::{find_all, parse_search};
use crate::{Gateway, GatewayError};
use serde_json::{json, Value};
use std::collections::HashMap;
use tsunagi_profiles::{is_resource_type, Resource};
use uuid::Uuid;

/// Namespace of the ids B gives received resources.
const RECEIVED_NAMESPACE: Uuid = Uuid::from_u128(0x2b8e_54c1_77d0_4f6a_a1c3_98e2_5d40_c7b1);
/// Types a referral never carries: server configuration and definitions, which a sender must
/// not be able to plant in the receiver's store.
const NOT_IN_REFERRALS: &[&str] = &[
    "Bundle",
    "CapabilityStatement",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "ImplementationGuide",
    "NamingSystem",
    "OperationDefinition",
    "SearchParameter",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "TerminologyCapabilities",
    "ValueSet",
];
/// Types reused from B's store when one with the same identifier exists.
const SHARED_TYPES: &[&str] = &["Organization", "Practitioner"];

/// What receiving answered: HTTP status (201 stored, 200 a replay) and a Parameters body.
#[derive(Debug, Clone)]
pub struct Received {
    /// 201 when stored now, 200 when this package had been received before.
    pub status: u16,
    /// Parameters: `document`, `provenance`, `patient`, `linkedPatient`, `matchGrade`,
    /// `matchScore`, `signer`, `outcome`.
    pub body: Value,
}

/// The document's parts after the shape checks.
struct Document<'a> {
    identifier: String,
    entries: Vec<(&'a str, &'a Value)>,
    patient_url: String,
    custodian_url: Option<String>,
}

/// Receives `bundle` (already parsed JSON, within the body limits).
pub async fn receive(gateway: &Gateway, bundle: &Value) -> Result<Received, GatewayError> {
    let max_entries = gateway.config().limits.max_bundle_entries.saturating_sub(2);
    let document = check_document(bundle, max_entries)?;
    let signer = gateway
        .referral_keys()
        .trust()?
        .verify_bundle(bundle)
        .map_err(ReferralError::from)?;
    let namespace = Uuid::new_v5(&RECEIVED_NAMESPACE, signer.subject.as_bytes());
    let document_id = Uuid::new_v5(&namespace, document.identifier.as_bytes()).to_string();
    let provenance_id = Uuid::new_v5(
        &namespace,
        format!("provenance|{}", document.identifier).as_bytes(),
    )
    .to_string();
    if let Some(previous) = earlier_receipt(gateway, &document.identifier).await? {
        let same = previous.pointer("/signature/data") == bundle.pointer("/signature/data");
        if !same {
            return Err(ReferralError::IdentifierReused(document.identifier).into());
        }
        return replay(gateway, &document_id, &provenance_id, &signer.subject).await;
    }

    // Where each fullUrl lands at B.
    let mut assigned: HashMap<String, String> = HashMap::new();
    let mut reused: Vec<String> = Vec::new();
    for (full_url, resource) in &document.entries {
        let res_type = resource["resourceType"].as_str().unwrap_or_default();
        if SHARED_TYPES.contains(&res_type) {
            if let Some(existing) = existing_by_identifier(gateway, res_type, resource).await? {
                reused.push(full_url.to_string());
                assigned.insert(full_url.to_string(), existing);
                continue;
            }
        }
        let id = Uuid::new_v5(&namespace, full_url.as_bytes());
        assigned.insert(full_url.to_string(), format!("{res_type}/{id}"));
    }
    let patient_ref = assigned
        .get(&document.patient_url)
        .cloned()
        .unwrap_or_default();
    let patient_id = patient_ref.trim_start_matches("Patient/").to_owned();

    // B's own record of the patient.
    let incoming_patient = document
        .entries
        .iter()
        .find(|(url, _)| *url == document.patient_url)
        .map(|(_, resource)| (*resource).clone())
        .unwrap_or_default();
    let matches = gateway.match_patients(&incoming_patient, false, 5).await?;
    let best = matches.into_iter().find(|candidate| {
        candidate.patient.get("id").and_then(Value::as_str) != Some(patient_id.as_str())
    });
    let mut issues: Vec<Issue> = Vec::new();
    let linked = match &best {
        Some(candidate) if candidate.score.grade == MatchGrade::Certain => {
            reference_of(&candidate.patient)
        }
        Some(candidate) => {
            issues.push(Issue::warning(
                "informational",
                format!(
                    "{} may be the same person (match {}, score {:.2}); not linked: review it",
                    reference_of(&candidate.patient).unwrap_or_default(),
                    candidate.score.grade.code(),
                    candidate.score.score
                ),
            ));
            None
        }
        None => None,
    };

    // The transaction: every resource, the document itself, the Provenance.
    let mut entries: Vec<Value> = Vec::new();
    let mut targets: Vec<Value> = Vec::new();
    for (full_url, resource) in &document.entries {
        if reused.iter().any(|url| url == full_url) {
            continue;
        }
        let reference = assigned.get(*full_url).cloned().unwrap_or_default();
        let (res_type, id) = reference.split_once('/').unwrap_or_default();
        let mut copy = (*resource).clone();
        copy["id"] = Value::String(id.to_owned());
        rewrite_full_urls(&mut copy, &assigned);
        if *full_url == document.patient_url {
            if let Some(linked) = &linked {
                add_link(&mut copy, linked);
            }
        }
        targets.push(json!({"reference": reference}));
        entries.push(put_entry(res_type, id, copy));
    }
    let mut stored_document = bundle.clone();
    stored_document["id"] = Value::String(document_id.clone());
    entries.push(put_entry("Bundle", &document_id, stored_document));
    let sender = document
        .custodian_url
        .as_ref()
        .and_then(|url| assigned.get(url))
        .cloned();
    let provenance = provenance(
        &provenance_id,
        targets,
        &document_id,
        sender.as_deref(),
        &signer.subject,
    );
    entries.push(put_entry("Provenance", &provenance_id, provenance));
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let transaction = Resource::from_value(transaction).map_err(|error| {
        GatewayError::Unprocessable(format!(
            "the received resources are not valid FHIR: {error}"
        ))
    })?;
    let response = gateway
        .process_bundle(transaction, PreferReturn::Minimal)
        .await?;
    issues.insert(
        0,
        Issue::information(format!(
            "stored {} resources from the package of {}",
            document.entries.len() - reused.len(),
            signer.subject
        )),
    );
    if !reused.is_empty() {
        issues.push(Issue::information(format!(
            "{} Organization/Practitioner entries matched records already here and were not copied",
            reused.len()
        )));
    }
    let mut parameters = vec![
        json!({"name": "document", "valueReference": {"reference": format!("Bundle/{document_id}")}}),
        json!({"name": "provenance", "valueReference": {"reference": format!("Provenance/{provenance_id}")}}),
        json!({"name": "patient", "valueReference": {"reference": patient_ref}}),
        json!({"name": "signer", "valueString": signer.subject}),
    ];
    if let Some(candidate) = &best {
        if let Some(linked) = &linked {
            parameters
                .push(json!({"name": "linkedPatient", "valueReference": {"reference": linked}}));
        }
        parameters.push(json!({"name": "matchGrade", "valueCode": candidate.score.grade.code()}));
        parameters
            .push(json!({"name": "matchScore", "valueDecimal": round2(candidate.score.score)}));
    }
    parameters.push(json!({"name": "outcome", "resource": operation_outcome(&issues)}));
    parameters.push(json!({"name": "response", "resource": response}));
    Ok(Received {
        status: 201,
        body: json!({"resourceType": "Parameters", "parameter": parameters}),
    })
}

/// The shape checks: a document Bundle with an identifier, a Composition first, `urn:uuid:`
/// fullUrls, one Patient (the Composition's subject) and at most `max_entries` entries.
fn check_document(bundle: &Value, max_entries: usize) -> Result<Document<'_>, ReferralError> {
    if bundle["resourceType"] != "Bundle" {
        return Err(ReferralError::not_a_document(
            "the body is not a Bundle",
            "Bundle",
        ));
    }
    if bundle["type"] != "document" {
        return Err(ReferralError::not_a_document(
            "Bundle.type must be 'document'",
            "Bundle.type",
        ));
    }
    let identifier = match (
        bundle.pointer("/identifier/system").and_then(Value::as_str),
        bundle.pointer("/identifier/value").and_then(Value::as_str),
    ) {
        (Some(system), Some(value)) if !value.is_empty() => format!("{system}|{value}"),
        _ => {
            return Err(ReferralError::not_a_document(
                "a referral document needs Bundle.identifier with system and value",
                "Bundle.identifier",
            ))
        }
    };
    let raw_entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty())
        .ok_or_else(|| {
            ReferralError::not_a_document("the document has no entries", "Bundle.entry")
        })?;
    if raw_entries.len() > max_entries {
        return Err(ReferralError::not_a_document(
            format!(
                "the document has {} entries; at most {max_entries} are accepted",
                raw_entries.len()
            ),
            "Bundle.entry",
        ));
    }
    let mut entries = Vec::with_capacity(raw_entries.len());
    for (index, entry) in raw_entries.iter().enumerate() {
        let full_url = entry
            .get("fullUrl")
            .and_then(Value::as_str)
            .filter(|url| url.starts_with("urn:uuid:"))
            .ok_or_else(|| {
                ReferralError::not_a_document(
                    "every entry needs a urn:uuid: fullUrl",
                    format!("Bundle.entry[{index}].fullUrl"),
                )
            })?;
        let resource = entry
            .get("resource")
            .filter(|resource| {
                resource["resourceType"]
                    .as_str()
                    .is_some_and(|res_type| {
                        is_resource_type(res_type) && !NOT_IN_REFERRALS.contains(&res_type)
                    })
            })
            .ok_or_else(|| {
                ReferralError::not_a_document(
                    "every entry needs a clinical resource (no Bundle, definition or server configuration)",
                    format!("Bundle.entry[{index}].resource"),
                )
            })?;
        if entries.iter().any(|(url, _)| *url == full_url) {
            return Err(ReferralError::not_a_document(
                format!("fullUrl {full_url} appears twice"),
                format!("Bundle.entry[{index}].fullUrl"),
            ));
        }
        entries.push((full_url, resource));
    }
    let composition = entries[0].1;
    if composition["resourceType"] != "Composition" {
        return Err(ReferralError::not_a_document(
            "the first entry must be the Composition",
            "Bundle.entry[0].resource",
        ));
    }
    let patient_url = composition
        .pointer("/subject/reference")
        .and_then(Value::as_str)
        .filter(|url| {
            entries.iter().any(|(full_url, resource)| {
                full_url == url && resource["resourceType"] == "Patient"
            })
        })
        .ok_or_else(|| {
            ReferralError::not_a_document(
                "Composition.subject must reference the Patient entry",
                "Bundle.entry[0].resource.subject",
            )
        })?
        .to_owned();
    if let Some(index) = entries
        .iter()
        .position(|(url, resource)| resource["resourceType"] == "Patient" && *url != patient_url)
    {
        return Err(ReferralError::not_a_document(
            "a referral document holds only its subject Patient",
            format!("Bundle.entry[{index}].resource"),
        ));
    }
    let custodian_url = composition
        .pointer("/custodian/reference")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Document {
        identifier,
        entries,
        patient_url,
        custodian_url,
    })
}

/// The stored document of an earlier receipt with this identifier (`system|value`).
async fn earlier_receipt(
    gateway: &Gateway,
    identifier: &str,
) -> Result<Option<Value>, GatewayError> {
    let params = [("identifier".to_owned(), identifier.to_owned())];
    let request = parse_search(gateway.definitions(), "Bundle", &params, false)?;
    let ids = find_all(gateway.store(), "Bundle", &request).await?;
    match ids.first() {
        Some(id) => Ok(body_value(&*gateway.read("Bundle", id).await?)),
        None => Ok(None),
    }
}

/// The answer to a package received before: what it became, nothing written.
async fn replay(
    gateway: &Gateway,
    document_id: &str,
    provenance_id: &str,
    signer: &str,
) -> Result<Received, GatewayError> {
    let provenance = gateway.read("Provenance", provenance_id).await.ok();
    let mut parameters = vec![
        json!({"name": "document", "valueReference": {"reference": format!("Bundle/{document_id}")}}),
        json!({"name": "provenance", "valueReference": {"reference": format!("Provenance/{provenance_id}")}}),
        json!({"name": "signer", "valueString": signer}),
    ];
    let patient = provenance
        .as_deref()
        .and_then(body_value)
        .and_then(|value| {
            value["target"]
                .as_array()?
                .iter()
                .filter_map(|target| target["reference"].as_str())
                .find(|reference| reference.starts_with("Patient/"))
                .map(str::to_owned)
        });
    if let Some(patient) = patient {
        parameters.push(json!({"name": "patient", "valueReference": {"reference": patient}}));
    }
    let issue = Issue::information("this package was received before; nothing was changed");
    parameters.push(json!({"name": "outcome", "resource": operation_outcome(&[issue])}));
    Ok(Received {
        status: 200,
        body: json!({"resourceType": "Parameters", "parameter": parameters}),
    })
}

/// `Type/id` of a stored resource of `res_type` sharing an identifier with `resource`.
async fn existing_by_identifier(
    gateway: &Gateway,
    res_type: &str,
    resource: &Value,
) -> Result<Option<String>, GatewayError> {
    let identifiers = resource
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for identifier in identifiers {
        let (Some(system), Some(value)) = (
            identifier.get("system").and_then(Value::as_str),
            identifier.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        let query = format!("{}|{}", escape_token(system), escape_token(value));
        let params = [("identifier".to_owned(), query)];
        let request = parse_search(gateway.definitions(), res_type, &params, false)?;
        let mut ids = find_all(gateway.store(), res_type, &request).await?;
        ids.sort();
        if let Some(id) = ids.first() {
            return Ok(Some(format!("{res_type}/{id}")));
        }
    }
    Ok(None)
}

/// Escapes the search-syntax characters of a token part.
fn escape_token(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(',', "\\,")
        .replace('$', "\\$")
}

/// Rewrites every `reference` naming a fullUrl of the document to where it landed.
fn rewrite_full_urls(value: &mut Value, assigned: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "reference" => {
                        if let Some(new_reference) = assigned.get(text.as_str()) {
                            *text = new_reference.clone();
                        }
                    }
                    _ => rewrite_full_urls(child, assigned),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_full_urls(item, assigned)),
        _ => {}
    }
}

/// Adds `Patient.link` (seealso) to B's record of the same person.
fn add_link(patient: &mut Value, linked: &str) {
    let link = json!({"other": {"reference": linked}, "type": "seealso"});
    match patient.get_mut("link").and_then(Value::as_array_mut) {
        Some(links) => links.push(link),
        None => patient["link"] = Value::Array(vec![link]),
    }
}

/// A transaction entry writing `resource` as `res_type/id`.
fn put_entry(res_type: &str, id: &str, resource: Value) -> Value {
    json!({
        "fullUrl": format!("{res_type}/{id}"),
        "resource": resource,
        "request": {"method": "PUT", "url": format!("{res_type}/{id}")},
    })
}

/// The Provenance of a received package: the sender, the signed document, what it held.
fn provenance(
    id: &str,
    targets: Vec<Value>,
    document_id: &str,
    sender: Option<&str>,
    signer: &str,
) -> Value {
    let who = match sender {
        Some(sender) => json!({"reference": sender, "display": signer}),
        None => json!({"display": signer}),
    };
    json!({
        "resourceType": "Provenance",
        "id": id,
        "target": targets,
        "recorded": Instant::now().to_fhir(),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
            "code": "CREATE"}], "text": "referral package received"},
        "agent": [{"type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
            "code": "author"}]}, "who": who}],
        "entity": [{"role": "source", "what": {"reference": format!("Bundle/{document_id}"),
            "display": format!("referral document signed by {signer}")}}],
    })
}

/// A score with two decimals.
fn round2(score: f64) -> Value {
    serde_json::Number::from_f64((score * 100.0).round() / 100.0).map_or(Value::Null, Value::Number)
}

/// The identifier system packages carry (re-exported for the sender's `If-None-Exist`).
pub fn identifier_query(bundle: &Value) -> Option<String> {
    let value = bundle
        .pointer("/identifier/value")
        .and_then(Value::as_str)?;
    Some(format!("identifier={BUNDLE_IDENTIFIER_SYSTEM}|{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({"resourceType": "Bundle", "type": "document",
        "identifier": {"system": BUNDLE_IDENTIFIER_SYSTEM, "value": "1^2026^x"},
        "entry": [
            {"fullUrl": "urn:uuid:c", "resource": {"resourceType": "Composition",
                "subject": {"reference": "urn:uuid:p"}, "custodian": {"reference": "urn:uuid:o"}}},
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient"}},
            {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "Organization"}}
        ]})
    }

    #[test]
    fn a_well_formed_document_passes_the_shape_checks() {
        let bundle = document();
        let checked = check_document(&bundle, 10).unwrap();
        assert_eq!(
            checked.identifier,
            format!("{BUNDLE_IDENTIFIER_SYSTEM}|1^2026^x")
        );
        assert_eq!(checked.patient_url, "urn:uuid:p");
        assert_eq!(checked.custodian_url.as_deref(), Some("urn:uuid:o"));
        assert_eq!(checked.entries.len(), 3);
    }

    #[test]
    fn malformed_documents_are_refused_with_a_location() {
        let location = |bundle: Value, max: usize| match check_document(&bundle, max) {
            Err(ReferralError::NotADocument { location, .. }) => location,
            other => panic!("expected a refusal, got {:?}", other.map(|d| d.identifier)),
        };
        let mut collection = document();
        collection["type"] = json!("collection");
        assert_eq!(location(collection, 10), "Bundle.type");
        let mut no_identifier = document();
        no_identifier.as_object_mut().unwrap().remove("identifier");
        assert_eq!(location(no_identifier, 10), "Bundle.identifier");
        assert_eq!(location(document(), 2), "Bundle.entry");
        let mut second_patient = document();
        second_patient["entry"][2]["resource"] = json!({"resourceType": "Patient"});
        assert_eq!(location(second_patient, 10), "Bundle.entry[2].resource");
        let mut definition = document();
        definition["entry"][2]["resource"] = json!({"resourceType": "SearchParameter"});
        assert_eq!(location(definition, 10), "Bundle.entry[2].resource");
        let mut not_uuid = document();
        not_uuid["entry"][1]["fullUrl"] = json!("Patient/1");
        assert_eq!(location(not_uuid, 10), "Bundle.entry[1].fullUrl");
        let mut wrong_first = document();
        wrong_first["entry"].as_array_mut().unwrap().swap(0, 1);
        assert_eq!(location(wrong_first, 10), "Bundle.entry[0].resource");
    }

    #[test]
    fn full_urls_are_rewritten_everywhere_and_links_added() {
        let assigned = HashMap::from([("urn:uuid:p".to_owned(), "Patient/b1".to_owned())]);
        let mut report = json!({"subject": {"reference": "urn:uuid:p"},
            "result": [{"reference": "urn:uuid:p"}], "note": [{"text": "urn:uuid:p"}]});
        rewrite_full_urls(&mut report, &assigned);
        assert_eq!(report["subject"]["reference"], "Patient/b1");
        assert_eq!(report["result"][0]["reference"], "Patient/b1");
        assert_eq!(report["note"][0]["text"], "urn:uuid:p");
        let mut patient = json!({"resourceType": "Patient"});
        add_link(&mut patient, "Patient/own");
        assert_eq!(patient["link"][0]["other"]["reference"], "Patient/own");
        assert_eq!(patient["link"][0]["type"], "seealso");
    }
}
