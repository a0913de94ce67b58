//! What ingest adds to a converted transaction from what is already stored, so that records
//! arriving from different sources in any order end up joined:
//!
//! - a `basedOn` that names its order only by identifier (a DICOM study knows the accession
//!   number, not our ServiceRequest id) gets the reference of the ServiceRequest with that
//!   identifier, in the same Bundle or in the store;
//! - a ServiceRequest that arrives after its studies is written into the `basedOn` of every
//!   stored ImagingStudy carrying the same accession number (extra PUT entries, same
//!   transaction);
//! - an ImagingStudy the store already has is merged, not replaced: the HL7 order knows the
//!   order and the DICOM media know the series, and neither may erase the other;
//! - a Patient from DICOM media (name, sex and birth date only) keeps the demographics an HL7
//!   feed stored.
//!
//! Everything runs inside the ingest's store transaction.

use crate::fhir::bundle::BundleEntry;
use crate::fhir::entry::{EntryRequest, Method, Target};
use crate::ingest::SourceFormat;
use crate::store::{Criteria, StoreTx, TokenMatch};
use crate::GatewayError;
use serde_json::{Map, Value};
use tsunagi_profiles::Resource;

/// How many stored studies one order may join at once.
const MAX_JOINED_STUDIES: usize = 100;

/// Applies the rules above to `entries` (PUT entries of a converted transaction).
pub fn link_entries(
    tx: &mut dyn StoreTx,
    entries: &mut Vec<BundleEntry>,
    source: SourceFormat,
) -> Result<(), GatewayError> {
    let orders = orders_in(entries);
    let mut joined_studies = Vec::new();
    for entry in entries.iter_mut() {
        let Target::Instance(res_type, id) = &entry.request.target else {
            continue;
        };
        let touched = matches!(res_type.as_str(), "ImagingStudy" | "DiagnosticReport")
            || (res_type == "Patient" && source == SourceFormat::Dicom);
        if !touched {
            continue;
        }
        let (res_type, id) = (res_type.clone(), id.clone());
        let Some(resource) = entry.request.resource.as_mut() else {
            continue;
        };
        let mut value = resource.as_value().clone();
        let mut changed = false;
        if matches!(res_type.as_str(), "ImagingStudy" | "DiagnosticReport") {
            changed |= resolve_based_on(tx, &mut value, &orders)?;
        }
        // Only these two are merged; every other resource is replaced as sent, without a read.
        let merge: Option<fn(&mut Value, &Value)> = match res_type.as_str() {
            "ImagingStudy" => Some(merge_imaging_study),
            "Patient" if source == SourceFormat::Dicom => Some(keep_stored_elements),
            _ => None,
        };
        if let Some(merge) = merge {
            if let Some(stored) = stored_value(tx, &res_type, &id)? {
                merge(&mut value, &stored);
                changed = true;
            }
        }
        if changed {
            *resource = checked(value)?;
        }
    }
    let in_bundle: Vec<String> = entries
        .iter()
        .filter_map(|entry| match &entry.request.target {
            Target::Instance(res_type, id) if res_type == "ImagingStudy" => Some(id.clone()),
            _ => None,
        })
        .collect();
    for (order_id, accession) in orders
        .iter()
        .flat_map(|(id, keys)| keys.iter().map(move |key| (id, key)))
        .filter(|(_, key)| key.accession)
    {
        let criteria = Criteria {
            identifiers: vec![vec![TokenMatch {
                system: Some(accession.system.clone()),
                value: Some(accession.value.clone()),
            }]],
            ..Criteria::default()
        };
        for study_id in tx.find("ImagingStudy", &criteria, MAX_JOINED_STUDIES)? {
            if in_bundle.contains(&study_id) || joined_studies.iter().any(|(id, _)| *id == study_id)
            {
                continue;
            }
            let Some(mut study) = stored_value(tx, "ImagingStudy", &study_id)? else {
                continue;
            };
            if add_order(&mut study, order_id, accession) {
                joined_studies.push((study_id, study));
            }
        }
    }
    for (id, study) in joined_studies {
        let mut request =
            EntryRequest::new(Method::Put, Target::Instance("ImagingStudy".into(), id));
        request.resource = Some(checked(study)?);
        entries.push(BundleEntry {
            full_url: None,
            request,
        });
    }
    Ok(())
}

/// An identifier of an order: system, value, and whether it is an accession number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderKey {
    system: String,
    value: String,
    accession: bool,
}

/// The ServiceRequests a transaction writes, with their identifiers.
fn orders_in(entries: &[BundleEntry]) -> Vec<(String, Vec<OrderKey>)> {
    entries
        .iter()
        .filter_map(
            |entry| match (&entry.request.target, &entry.request.resource) {
                (Target::Instance(res_type, id), Some(resource))
                    if res_type == "ServiceRequest" =>
                {
                    Some((id.clone(), identifier_keys(resource.as_value())))
                }
                _ => None,
            },
        )
        .collect()
}

fn identifier_keys(resource: &Value) -> Vec<OrderKey> {
    resource
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(order_key)
        .collect()
}

fn order_key(identifier: &Value) -> Option<OrderKey> {
    Some(OrderKey {
        system: identifier.get("system")?.as_str()?.to_owned(),
        value: identifier.get("value")?.as_str()?.to_owned(),
        accession: identifier
            .pointer("/type/coding")
            .and_then(Value::as_array)
            .is_some_and(|codings| codings.iter().any(|c| c["code"] == "ACSN")),
    })
}

fn stored_value(
    tx: &mut dyn StoreTx,
    res_type: &str,
    id: &str,
) -> Result<Option<Value>, GatewayError> {
    let Some(stored) = tx.current(res_type, id)? else {
        return Ok(None);
    };
    let Some(body) = stored.body else {
        return Ok(None);
    };
    let value: Value = serde_json::from_slice(&body).map_err(|error| {
        GatewayError::Store(crate::store::StoreError::Backend(format!(
            "stored {res_type}/{id} is not JSON: {error}"
        )))
    })?;
    Ok(Some(value))
}

fn checked(value: Value) -> Result<Resource, GatewayError> {
    Resource::from_value(value).map_err(|source| GatewayError::Model {
        source,
        location: None,
    })
}

/// Gives identifier-only `basedOn` entries the reference of the one ServiceRequest with that
/// identifier (this transaction's first, then the store's). Returns true when one changed.
fn resolve_based_on(
    tx: &mut dyn StoreTx,
    resource: &mut Value,
    orders: &[(String, Vec<OrderKey>)],
) -> Result<bool, GatewayError> {
    let Some(based_on) = resource.get_mut("basedOn").and_then(Value::as_array_mut) else {
        return Ok(false);
    };
    let mut changed = false;
    for reference in based_on.iter_mut() {
        if reference.get("reference").is_some() {
            continue;
        }
        let Some(key) = reference.get("identifier").and_then(order_key) else {
            continue;
        };
        let in_bundle = orders
            .iter()
            .find(|(_, keys)| {
                keys.iter()
                    .any(|k| k.system == key.system && k.value == key.value)
            })
            .map(|(id, _)| id.clone());
        let found = match in_bundle {
            Some(id) => Some(id),
            None => {
                let criteria = Criteria {
                    identifiers: vec![vec![TokenMatch {
                        system: Some(key.system.clone()),
                        value: Some(key.value.clone()),
                    }]],
                    ..Criteria::default()
                };
                let matches = tx.find("ServiceRequest", &criteria, 2)?;
                // Two orders with one accession number: leave it to a person.
                (matches.len() == 1).then(|| matches[0].clone())
            }
        };
        if let (Some(id), Value::Object(object)) = (found, reference) {
            object.insert(
                "reference".into(),
                Value::String(format!("ServiceRequest/{id}")),
            );
            changed = true;
        }
    }
    Ok(changed)
}

/// Adds `ServiceRequest/<order_id>` to a study's basedOn (replacing an identifier-only entry
/// for the same accession). Returns false when it was already there.
fn add_order(study: &mut Value, order_id: &str, accession: &OrderKey) -> bool {
    let reference = format!("ServiceRequest/{order_id}");
    let Value::Object(object) = study else {
        return false;
    };
    let based_on = object
        .entry("basedOn")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = based_on else {
        return false;
    };
    if items
        .iter()
        .any(|item| item["reference"] == reference.as_str())
    {
        return false;
    }
    if let Some(logical) = items.iter_mut().find(|item| {
        item.get("reference").is_none()
            && item
                .get("identifier")
                .and_then(order_key)
                .is_some_and(|key| key.system == accession.system && key.value == accession.value)
    }) {
        logical["reference"] = Value::String(reference);
    } else {
        let mut item = Map::new();
        item.insert("reference".into(), Value::String(reference));
        items.push(Value::Object(item));
    }
    true
}

/// Top-level elements the stored version has and the incoming one lacks are kept;
/// identifiers are united.
fn keep_stored_elements(incoming: &mut Value, stored: &Value) {
    let (Value::Object(incoming), Value::Object(stored)) = (incoming, stored) else {
        return;
    };
    for (key, value) in stored {
        if matches!(key.as_str(), "meta" | "text" | "id") {
            continue;
        }
        if key == "identifier" {
            unite(incoming, key, value, identity_of_identifier);
        } else if !incoming.contains_key(key) {
            incoming.insert(key.clone(), value.clone());
        }
    }
}

fn identity_of_identifier(identifier: &Value) -> String {
    format!("{}|{}", identifier["system"], identifier["value"])
}

fn identity_of_reference(reference: &Value) -> String {
    match reference.get("reference") {
        Some(target) => target.to_string(),
        None => identity_of_identifier(&reference["identifier"]),
    }
}

/// Appends the items of `stored[key]` whose identity `incoming[key]` lacks.
fn unite(
    incoming: &mut Map<String, Value>,
    key: &str,
    stored: &Value,
    identity: fn(&Value) -> String,
) {
    let Some(stored_items) = stored.as_array() else {
        return;
    };
    let items = incoming
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = items else {
        return;
    };
    for item in stored_items {
        let id = identity(item);
        if !items.iter().any(|existing| identity(existing) == id) {
            items.push(item.clone());
        }
    }
}

/// Merges a stored ImagingStudy into an incoming one: identifiers, orders, modalities and
/// series are united (a series both know keeps the incoming attributes and the instances of
/// both), other elements the incoming one lacks are kept, and the counts are recomputed.
pub fn merge_imaging_study(incoming: &mut Value, stored: &Value) {
    let (Value::Object(into), Value::Object(from)) = (&mut *incoming, stored) else {
        return;
    };
    let stored_field = |key: &str| from.get(key).cloned().unwrap_or(Value::Null);
    unite(
        into,
        "basedOn",
        &stored_field("basedOn"),
        identity_of_reference,
    );
    // An order known by reference makes the identifier-only entry for it redundant only when
    // they name the same accession; without the order's identifiers here, both are kept.
    unite(into, "modality", &stored_field("modality"), |coding| {
        coding["code"].to_string()
    });
    merge_series(into, &stored_field("series"));
    let series_available = into
        .get("series")
        .and_then(Value::as_array)
        .is_some_and(|series| !series.is_empty());
    if series_available
        && matches!(
            into.get("status").and_then(Value::as_str),
            Some("registered" | "unknown")
        )
    {
        into.insert("status".into(), Value::String("available".into()));
    }
    keep_stored_elements(incoming, stored);
    recount(incoming);
}

fn merge_series(into: &mut Map<String, Value>, stored: &Value) {
    let Some(stored_series) = stored.as_array() else {
        return;
    };
    let series = into
        .entry("series")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(series) = series else {
        return;
    };
    for old in stored_series {
        match series.iter_mut().find(|new| new["uid"] == old["uid"]) {
            Some(Value::Object(new)) => {
                unite(new, "instance", &old["instance"], |instance| {
                    instance["uid"].to_string()
                });
                let count = new
                    .get("instance")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                new.insert("numberOfInstances".into(), Value::from(count));
            }
            _ => series.push(old.clone()),
        }
    }
    if series.is_empty() {
        into.remove("series");
    }
}

fn recount(study: &mut Value) {
    let Some(series) = study.get("series").and_then(Value::as_array) else {
        return;
    };
    let series_count = series.len();
    let instances: usize = series
        .iter()
        .map(|series| {
            series
                .get("numberOfInstances")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize
        })
        .sum();
    if let Value::Object(object) = study {
        object.insert("numberOfSeries".into(), Value::from(series_count));
        object.insert("numberOfInstances".into(), Value::from(instances));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn studies_from_the_order_and_the_media_merge() {
        let from_order = json!({
            "resourceType": "ImagingStudy", "id": "s", "status": "registered",
            "identifier": [{"system": "urn:dicom:uid", "value": "urn:oid:1.2"}],
            "basedOn": [{"reference": "ServiceRequest/o"}],
            "subject": {"reference": "Patient/p"}
        });
        let mut from_media = json!({
            "resourceType": "ImagingStudy", "id": "s", "status": "available",
            "identifier": [{"system": "urn:dicom:uid", "value": "urn:oid:1.2"},
                           {"system": "acc", "value": "A1"}],
            "basedOn": [{"type": "ServiceRequest", "identifier": {"system": "acc", "value": "A1"}}],
            "subject": {"reference": "Patient/p"},
            "numberOfSeries": 1, "numberOfInstances": 2,
            "series": [{"uid": "1.2.1", "numberOfInstances": 2,
                        "instance": [{"uid": "a"}, {"uid": "b"}]}]
        });
        merge_imaging_study(&mut from_media, &from_order);
        assert_eq!(from_media["status"], "available");
        assert_eq!(from_media["identifier"].as_array().map(Vec::len), Some(2));
        assert_eq!(from_media["basedOn"][1]["reference"], "ServiceRequest/o");
        assert_eq!(from_media["numberOfInstances"], 2);

        // The order arriving again after the media keeps the series.
        let mut order_again = from_order.clone();
        merge_imaging_study(&mut order_again, &from_media);
        assert_eq!(order_again["status"], "available");
        assert_eq!(order_again["series"][0]["uid"], "1.2.1");
        assert_eq!(order_again["numberOfSeries"], 1);
        assert_eq!(order_again["numberOfInstances"], 2);
    }

    #[test]
    fn series_known_to_both_unite_their_instances() {
        let stored = json!({"series": [
            {"uid": "s1", "numberOfInstances": 1, "instance": [{"uid": "a"}]},
            {"uid": "s2", "numberOfInstances": 1, "instance": [{"uid": "c"}]}
        ]});
        let mut incoming = json!({"status": "available", "series": [
            {"uid": "s1", "numberOfInstances": 1, "instance": [{"uid": "b"}]}
        ]});
        merge_imaging_study(&mut incoming, &stored);
        assert_eq!(incoming["series"][0]["numberOfInstances"], 2);
        assert_eq!(incoming["numberOfSeries"], 2);
        assert_eq!(incoming["numberOfInstances"], 3);
    }

    #[test]
    fn a_late_order_joins_a_study_that_names_it_by_accession() {
        let key = OrderKey {
            system: "acc".into(),
            value: "A1".into(),
            accession: true,
        };
        let mut study = json!({"basedOn": [{"type": "ServiceRequest",
            "identifier": {"system": "acc", "value": "A1"}}]});
        assert!(add_order(&mut study, "o", &key));
        assert_eq!(study["basedOn"][0]["reference"], "ServiceRequest/o");
        assert_eq!(study["basedOn"].as_array().map(Vec::len), Some(1));
        assert!(!add_order(&mut study, "o", &key));
    }

    #[test]
    fn media_patients_keep_stored_demographics() {
        let stored = json!({"resourceType": "Patient", "id": "p",
            "identifier": [{"system": "s", "value": "1"}, {"system": "t", "value": "2"}],
            "telecom": [{"system": "phone", "value": "000"}], "gender": "female"});
        let mut incoming = json!({"resourceType": "Patient", "id": "p",
            "identifier": [{"system": "s", "value": "1"}], "gender": "female"});
        keep_stored_elements(&mut incoming, &stored);
        assert_eq!(incoming["telecom"][0]["value"], "000");
        assert_eq!(incoming["identifier"].as_array().map(Vec::len), Some(2));
    }
}
