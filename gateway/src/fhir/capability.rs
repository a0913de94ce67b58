//! The CapabilityStatement served at `GET [base]/metadata`, generated from what the HTTP layer
//! routes (keep [`TYPE_INTERACTIONS`] and [`SYSTEM_INTERACTIONS`] in step with `http::routes`;
//! the REST tests exercise each one).

use serde_json::{json, Value};
use tsunagi_profiles::RESOURCE_TYPES;

/// Interactions served for every resource type.
pub const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
];

/// Whole-system interactions served.
pub const SYSTEM_INTERACTIONS: &[&str] = &["transaction", "batch", "history-system"];

/// Builds the CapabilityStatement for a server at `base_url`.
pub fn capability_statement(base_url: &str, started_at: &str) -> Value {
    let interactions = |codes: &[&str]| -> Vec<Value> {
        codes.iter().map(|code| json!({ "code": code })).collect()
    };
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|res_type| {
            json!({
                "type": res_type,
                "interaction": interactions(TYPE_INTERACTIONS),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "referencePolicy": ["literal", "logical"],
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": started_at,
        "publisher": "Tsunagi",
        "kind": "instance",
        "software": { "name": "Tsunagi", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Tsunagi FHIR gateway", "url": base_url },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Conditional create, update and delete match on 'identifier' and '_id'.",
            "resource": resources,
            "interaction": interactions(SYSTEM_INTERACTIONS),
        }],
    })
}
