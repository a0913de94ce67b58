//! The CapabilityStatement served at `GET [base]/metadata`, generated from what the HTTP layer
//! routes (keep [`TYPE_INTERACTIONS`] and [`SYSTEM_INTERACTIONS`] in step with `http::routes`;
//! the REST tests exercise each one).

use crate::search::parse::is_supported;
use serde_json::{json, Value};
use tsunagi_profiles::search::{SearchParamType, SearchParameters};
use tsunagi_profiles::RESOURCE_TYPES;

/// The search parameters a type supports (special ones and `_query` are refused, so not listed), with `searchInclude`/`searchRevInclude` from its
/// reference parameters.
fn search_capabilities(res_type: &str) -> (Vec<Value>, Vec<String>) {
    let mut params = Vec::new();
    let mut includes = vec![format!("{res_type}:*")];
    for definition in SearchParameters::r4().for_type(res_type) {
        if !is_supported(definition) {
            continue;
        }
        if definition.kind == SearchParamType::Reference {
            includes.push(format!("{res_type}:{}", definition.code));
        }
        params.push(json!({
            "name": definition.code,
            "definition": definition.url,
            "type": definition.kind.as_str(),
        }));
    }
    (params, includes)
}

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
    "search-type",
];

/// Whole-system interactions served.
pub const SYSTEM_INTERACTIONS: &[&str] = &["transaction", "batch", "history-system"];

/// `$validate` (`POST [base]/$validate`, `POST [base]/[type]/$validate`), listed at system and
/// type level.
fn validate_operation() -> Value {
    json!({
        "name": "validate",
        "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
        "documentation": "Validates the resource sent (raw, or as the 'resource' of a Parameters with optional 'profile') against its type, its meta.profile, the requested profiles and the server's required profiles for the type; answers 200 with an OperationOutcome. 'mode' (create, update, delete) is accepted but ignored: every request is a plain validation of the resource sent. Writes are validated as configured per type (off, warn: stored with the issues in the answer, enforce: 422).",
    })
}

/// `$match` (`POST [base]/Patient/$match`), listed on Patient.
fn match_operation() -> Value {
    json!({
        "name": "match",
        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-match",
        "documentation": "Finds stored Patients that may be the one sent (a Parameters with 'resource', 'onlyCertainMatches', 'count' up to 100): candidates by identifier and birthDate, scored on identifier, birthDate, gender and kanji/kana names (width, hiragana/katakana and spaces ignored); a searchset Bundle, best first, with search.score and the match-grade extension. Certainly-not candidates are left out.",
    })
}

/// `$referral-package` (`POST [base]/ServiceRequest/{id}/$referral-package`), on
/// ServiceRequest.
fn referral_package_operation() -> Value {
    json!({
        "name": "referral-package",
        "definition": "urn:tsunagi:OperationDefinition:ServiceRequest-referral-package",
        "documentation": "Builds the signed referral document (診療情報提供書: Composition, the referral, patient, doctor, both organizations, the studies with their endpoint, reports and results reachable from it) of a referral ServiceRequest; without 'destination' answers 200 with the document Bundle (JSON, JWS in Bundle.signature), with 'destination' stores it and a delivery Task and answers 202 with the Task. See docs/referral.md.",
    })
}

/// `$receive-referral` (`POST [base]/$receive-referral`), at system level.
fn receive_referral_operation() -> Value {
    json!({
        "name": "receive-referral",
        "definition": "urn:tsunagi:OperationDefinition:receive-referral",
        "documentation": "Receives a signed referral document: verifies the signature against the trusted senders (400 changed, 403 untrusted, nothing stored), recognizes a replay (200, nothing changed), matches the patient (a certain match is linked), reuses known Organizations and Practitioners, and stores the resources, the document and a Provenance in one transaction (201, a Parameters saying what was stored).",
    })
}

/// Builds the CapabilityStatement for a server at `base_url`.
pub fn capability_statement(base_url: &str, started_at: &str) -> Value {
    let interactions = |codes: &[&str]| -> Vec<Value> {
        codes.iter().map(|code| json!({ "code": code })).collect()
    };
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|res_type| {
            let (search_params, includes) = search_capabilities(res_type);
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
                "searchInclude": includes,
                "searchParam": search_params,
                "operation": match *res_type {
                    "Patient" => vec![validate_operation(), match_operation()],
                    "ServiceRequest" => vec![validate_operation(), referral_package_operation()],
                    _ => vec![validate_operation()],
                },
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
            "documentation": "Search: every parameter listed per type (composite ones included), with the modifiers :missing, :not, :text, :of-type, :in, :not-in, :below and :above (token; the ValueSet or CodeSystem must be stored here), :exact and :contains (string), :identifier and :[type] (reference), :below and :above (uri); _text and _content (every word, case- and accent-insensitive); chains, _has, _include/_revinclude (:iterate), _sort, _count, _total, _summary (true, text, data, count), _elements. Conditional create, update and delete use the same search (without the terminology modifiers).",
            "resource": resources,
            "interaction": interactions(SYSTEM_INTERACTIONS),
            "operation": [validate_operation(), receive_referral_operation()],
        }],
    })
}
