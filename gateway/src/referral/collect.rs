//! Which stored resources go into a referral package: those reachable from the referral
//! ServiceRequest that belong to its patient.
//!
//! Reachable means: referenced from a resource already taken (forward), or — for orders,
//! studies, reports and results — a resource that points back at one (an ImagingStudy based
//! on an order, a report based on it, the Provenance of each). A resource of a type in the
//! patient compartment goes in only when it names the referral's patient and no other
//! patient; the patient's other records never ride along.

use crate::fhir::bundle::body_value;
use crate::search::{find_all, parse_search};
use crate::{Gateway, GatewayError};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet, VecDeque};
use tsunagi_profiles::is_resource_type;
use tsunagi_profiles::search::compartments::patient_compartment_params;

/// Most resources one package may hold; a larger one is refused (the referral is too broad).
pub const MAX_PACKAGE_RESOURCES: usize = 2000;

/// Resource types whose back-references are followed, with the (source type, search
/// parameter) pairs that find them.
const BACK_REFERENCES: &[(&str, &[(&str, &str)])] = &[
    (
        "ServiceRequest",
        &[
            ("ServiceRequest", "based-on"),
            ("ImagingStudy", "basedon"),
            ("DiagnosticReport", "based-on"),
            ("Observation", "based-on"),
            ("Provenance", "target"),
        ],
    ),
    ("ImagingStudy", &[("Provenance", "target")]),
    ("DiagnosticReport", &[("Provenance", "target")]),
    ("Observation", &[("Provenance", "target")]),
];

/// The resources of a package, found from its ServiceRequest.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The referral ServiceRequest's id.
    pub referral_id: String,
    /// The patient the referral is about (`ServiceRequest.subject`).
    pub patient_id: String,
    /// Every resource taken, the referral first, then in the order found.
    pub resources: Vec<Value>,
    /// `Type/id` of referenced resources left out, with why (for the operation's outcome).
    pub left_out: Vec<String>,
}

impl Collected {
    /// The taken resource `Type/id`, if any.
    pub fn get(&self, reference: &str) -> Option<&Value> {
        self.resources
            .iter()
            .find(|resource| reference_of(resource).as_deref() == Some(reference))
    }
}

/// `Type/id` of a resource JSON.
pub fn reference_of(resource: &Value) -> Option<String> {
    let res_type = resource.get("resourceType")?.as_str()?;
    let id = resource.get("id")?.as_str()?;
    Some(format!("{res_type}/{id}"))
}

/// Gathers the package of `ServiceRequest/{referral_id}`.
pub async fn collect(gateway: &Gateway, referral_id: &str) -> Result<Collected, GatewayError> {
    let referral = read_value(gateway, "ServiceRequest", referral_id).await?;
    let patient_id = referral
        .pointer("/subject/reference")
        .and_then(Value::as_str)
        .map(|reference| local_reference(reference, gateway.base_url()))
        .and_then(|reference| {
            reference.and_then(|(res_type, id)| (res_type == "Patient").then_some(id))
        })
        .ok_or_else(|| {
            GatewayError::Unprocessable(
                "the referral ServiceRequest's subject must be a Patient of this server".into(),
            )
        })?;
    let mut collected = Collected {
        referral_id: referral_id.to_owned(),
        patient_id,
        resources: Vec::new(),
        left_out: Vec::new(),
    };
    let mut queued: HashSet<(String, String)> = HashSet::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    queued.insert(("ServiceRequest".into(), referral_id.to_owned()));
    collected.resources.push(referral.clone());
    follow(gateway, &referral, &mut queued, &mut queue).await?;
    while let Some((res_type, id)) = queue.pop_front() {
        let resource = match read_value(gateway, &res_type, &id).await {
            Ok(resource) => resource,
            Err(GatewayError::NotFound(_) | GatewayError::Gone(_)) => {
                collected
                    .left_out
                    .push(format!("{res_type}/{id}: not on this server"));
                continue;
            }
            Err(error) => return Err(error),
        };
        if let Some(reason) = foreign(&resource, &res_type, &id, &collected.patient_id) {
            collected
                .left_out
                .push(format!("{res_type}/{id}: {reason}"));
            continue;
        }
        collected.resources.push(resource.clone());
        if collected.resources.len() > MAX_PACKAGE_RESOURCES {
            return Err(GatewayError::TooCostly(format!(
                "the referral reaches more than {MAX_PACKAGE_RESOURCES} resources"
            )));
        }
        follow(gateway, &resource, &mut queued, &mut queue).await?;
    }
    Ok(collected)
}

/// Queues what `resource` references and what references it back.
async fn follow(
    gateway: &Gateway,
    resource: &Value,
    queued: &mut HashSet<(String, String)>,
    queue: &mut VecDeque<(String, String)>,
) -> Result<(), GatewayError> {
    let res_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, reference) in references(resource) {
        // A Provenance's targets and sources are pruned to the package, not followed.
        if res_type == "Provenance" && (path == "target" || path == "entity") {
            continue;
        }
        if let Some(local) = local_reference(&reference, gateway.base_url()) {
            found.insert(local);
        }
    }
    if let (Some(id), Some((_, sources))) = (
        resource.get("id").and_then(Value::as_str),
        BACK_REFERENCES
            .iter()
            .find(|(target, _)| *target == res_type),
    ) {
        let value = format!("{res_type}/{id}");
        for (source_type, param) in sources.iter() {
            let params = [((*param).to_owned(), value.clone())];
            let request = parse_search(gateway.definitions(), source_type, &params, false)?;
            for source_id in find_all(gateway.store(), source_type, &request).await? {
                found.insert(((*source_type).to_owned(), source_id));
            }
        }
    }
    for key in found {
        if queued.insert(key.clone()) {
            queue.push_back(key);
        }
    }
    Ok(())
}

/// Why `resource` may not go into the package of `patient_id`, if it may not.
fn foreign(resource: &Value, res_type: &str, id: &str, patient_id: &str) -> Option<String> {
    if res_type == "Patient" {
        return (id != patient_id).then(|| "another patient".to_owned());
    }
    if patient_compartment_params(res_type).is_empty() {
        return None;
    }
    let patients: BTreeSet<String> = references(resource)
        .into_iter()
        .filter_map(|(_, reference)| {
            let (target_type, target_id) = split_reference(&reference)?;
            (target_type == "Patient").then(|| target_id.to_owned())
        })
        .collect();
    if !patients.contains(patient_id) {
        Some("not about the referral's patient".into())
    } else if patients.len() > 1 {
        Some("names another patient too".into())
    } else {
        None
    }
}

/// The current resource JSON of `res_type/id`.
async fn read_value(gateway: &Gateway, res_type: &str, id: &str) -> Result<Value, GatewayError> {
    let stored = gateway.read(res_type, id).await?;
    body_value(&stored).ok_or_else(|| GatewayError::Gone(format!("{res_type}/{id}")))
}

/// Every `reference` string in `resource`, with the top-level element it sits under.
pub fn references(resource: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, top: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "contained" {
                        continue;
                    }
                    match (key.as_str(), child) {
                        ("reference", Value::String(text)) => {
                            out.push((top.to_owned(), text.clone()))
                        }
                        _ => walk(child, top, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, top, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Value::Object(map) = resource {
        for (key, child) in map {
            if key != "contained" {
                walk(child, key, &mut out);
            }
        }
    }
    out
}

/// `(Type, id)` of a relative reference (`Type/id`, `Type/id/_history/n`) or of an absolute
/// one on this server (`{base_url}/Type/id`); `None` for anything else.
pub fn local_reference(reference: &str, base_url: &str) -> Option<(String, String)> {
    let relative = reference
        .strip_prefix(base_url)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(reference);
    let (res_type, id) = split_reference(relative)?;
    Some((res_type.to_owned(), id.to_owned()))
}

/// Splits `Type/id[/_history/n]` (relative only).
fn split_reference(reference: &str) -> Option<(&str, &str)> {
    let mut parts = reference.split('/');
    let res_type = parts.next()?;
    let id = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let versioned = rest.len() == 2 && rest[0] == "_history";
    if !(rest.is_empty() || versioned) || !is_resource_type(res_type) || id.is_empty() {
        return None;
    }
    Some((res_type, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_with_their_top_element() {
        let report = json!({"resourceType": "DiagnosticReport", "id": "r",
            "subject": {"reference": "Patient/p"},
            "result": [{"reference": "Observation/o1"}, {"reference": "Observation/o2"}],
            "contained": [{"resourceType": "Practitioner", "id": "c",
                "managingOrganization": {"reference": "Organization/x"}}]});
        let found = references(&report);
        assert_eq!(
            found,
            vec![
                ("subject".to_owned(), "Patient/p".to_owned()),
                ("result".to_owned(), "Observation/o1".to_owned()),
                ("result".to_owned(), "Observation/o2".to_owned()),
            ]
        );
    }

    #[test]
    fn local_references_accept_relative_versioned_and_own_absolute_forms() {
        let base = "http://a.example/fhir";
        let pair = |t: &str, i: &str| Some((t.to_owned(), i.to_owned()));
        assert_eq!(local_reference("Patient/p1", base), pair("Patient", "p1"));
        assert_eq!(
            local_reference("Patient/p1/_history/3", base),
            pair("Patient", "p1")
        );
        assert_eq!(
            local_reference("http://a.example/fhir/Endpoint/e", base),
            pair("Endpoint", "e")
        );
        assert_eq!(
            local_reference("http://other.example/fhir/Patient/p", base),
            None
        );
        assert_eq!(local_reference("#contained", base), None);
        assert_eq!(local_reference("urn:uuid:1234", base), None);
        assert_eq!(local_reference("Nonsense/1", base), None);
    }

    #[test]
    fn compartment_resources_must_name_only_the_referral_patient() {
        let mine = json!({"resourceType": "Observation", "id": "o",
            "subject": {"reference": "Patient/p"}});
        let theirs = json!({"resourceType": "Observation", "id": "o",
            "subject": {"reference": "Patient/q"}});
        let both = json!({"resourceType": "Observation", "id": "o",
            "subject": {"reference": "Patient/p"}, "focus": [{"reference": "Patient/q"}]});
        let practitioner = json!({"resourceType": "Practitioner", "id": "d"});
        assert_eq!(foreign(&mine, "Observation", "o", "p"), None);
        assert!(foreign(&theirs, "Observation", "o", "p").is_some());
        assert!(foreign(&both, "Observation", "o", "p").is_some());
        assert_eq!(foreign(&practitioner, "Practitioner", "d", "p"), None);
        assert!(foreign(&json!({}), "Patient", "q", "p").is_some());
    }
}
