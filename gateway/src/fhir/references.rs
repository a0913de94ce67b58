//! Reference rewriting inside a transaction Bundle: `urn:uuid:` fullUrls become the
//! `Type/id` the server assigned, and conditional references (`Patient?identifier=…`) become
//! the one resource they match (R4 http.html §3.1.0.11.2).

use crate::GatewayError;
use std::collections::HashMap;
use tsunagi_profiles::{is_resource_type, Resource};

/// Rewrites every reference in `resource`: strings equal to a key of `assigned` (any element,
/// as the spec asks for uri/url/oid elements too), the same inside narrative `div` links, and
/// conditional references through `resolve`. A `urn:uuid:` reference that no entry defines is an
/// error: storing it would leave a dangling link. A Bundle stored as an entry (a document, a
/// message) is left as it is: the references inside it resolve within that Bundle (R4
/// bundle.html, "references in nested Bundles"), and a signed one must not change.
pub fn rewrite_references(
    resource: &mut Resource,
    assigned: &HashMap<String, String>,
    resolve: &mut dyn FnMut(&str, &str) -> Result<String, GatewayError>,
) -> Result<(), GatewayError> {
    if resource.resource_type() == "Bundle" {
        return Ok(());
    }
    let mut failure: Option<GatewayError> = None;
    resource.rewrite_strings(&mut |element, text| {
        if failure.is_some() {
            return None;
        }
        if let Some(new_reference) = assigned.get(text) {
            return Some(new_reference.clone());
        }
        match element {
            "div" if text.contains("urn:") => Some(rewrite_narrative(text, assigned)),
            "reference" if text.starts_with("urn:uuid:") || text.starts_with("urn:oid:") => {
                failure = Some(GatewayError::invalid(
                    format!("reference '{text}' matches no fullUrl in this Bundle"),
                    "resource",
                ));
                None
            }
            "reference" => {
                let (res_type, query) = text.split_once('?')?;
                if !is_resource_type(res_type) {
                    return None;
                }
                match resolve(res_type, query) {
                    Ok(resolved) => Some(resolved),
                    Err(error) => {
                        failure = Some(error);
                        None
                    }
                }
            }
            _ => None,
        }
    });
    match failure {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Replaces quoted fullUrls in narrative XHTML (`href="urn:uuid:…"`, `src="…"`).
fn rewrite_narrative(div: &str, assigned: &HashMap<String, String>) -> String {
    let mut rewritten = div.to_owned();
    for (full_url, reference) in assigned {
        if rewritten.contains(full_url.as_str()) {
            rewritten = rewritten
                .replace(&format!("\"{full_url}\""), &format!("\"{reference}\""))
                .replace(&format!("'{full_url}'"), &format!("'{reference}'"));
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(value: serde_json::Value) -> Resource {
        Resource::from_checked_value(value).unwrap()
    }

    #[test]
    fn urn_uuid_and_conditional_references_are_rewritten() {
        let mut observation = resource(json!({
            "resourceType": "Observation",
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"urn:uuid:p1\">p</a></div>"},
            "subject": {"reference": "urn:uuid:p1"},
            "performer": [{"reference": "Practitioner?identifier=s|1"}],
            "derivedFrom": [{"reference": "Observation/keep"}]
        }));
        let assigned = HashMap::from([("urn:uuid:p1".to_string(), "Patient/abc".to_string())]);
        let mut asked = Vec::new();
        rewrite_references(&mut observation, &assigned, &mut |res_type, query| {
            asked.push(format!("{res_type}?{query}"));
            Ok("Practitioner/pr1".into())
        })
        .unwrap();
        let value = observation.as_value();
        assert_eq!(value["subject"]["reference"], "Patient/abc");
        assert_eq!(value["performer"][0]["reference"], "Practitioner/pr1");
        assert_eq!(value["derivedFrom"][0]["reference"], "Observation/keep");
        assert!(value["text"]["div"]
            .as_str()
            .unwrap()
            .contains("href=\"Patient/abc\""));
        assert_eq!(asked, vec!["Practitioner?identifier=s|1"]);
    }

    #[test]
    fn unknown_urn_uuid_reference_is_an_error() {
        let mut observation = resource(json!({
            "resourceType": "Observation",
            "subject": {"reference": "urn:uuid:nowhere"}
        }));
        let error = rewrite_references(&mut observation, &HashMap::new(), &mut |_, _| {
            unreachable!("no conditional reference here")
        })
        .unwrap_err();
        assert!(error.to_string().contains("urn:uuid:nowhere"));
    }

    #[test]
    fn a_nested_bundle_keeps_its_own_references() {
        let document = json!({
            "resourceType": "Bundle",
            "type": "document",
            "entry": [{"fullUrl": "urn:uuid:c", "resource": {"resourceType": "Composition",
                "subject": {"reference": "urn:uuid:p1"}}}]
        });
        let mut bundle = resource(document.clone());
        let assigned = HashMap::from([("urn:uuid:p1".to_string(), "Patient/abc".to_string())]);
        rewrite_references(&mut bundle, &assigned, &mut |_, _| {
            unreachable!("nothing is resolved inside a nested Bundle")
        })
        .unwrap();
        assert_eq!(bundle.as_value(), &document);
    }
}
