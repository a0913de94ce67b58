//! Conditional-operation criteria: `identifier` and `_id` from a query string.
//!
//! Full FHIR search arrives with the search issue and plugs in here; until then conditional
//! create, update and delete match on these two parameters and refuse any other by name.

use crate::store::{Criteria, IdentifierKey, TokenMatch};
use crate::GatewayError;
use serde_json::Value;

/// Parses `identifier=…&_id=…` (URL-encoded) into [`Criteria`]; `location` names where the
/// query came from (e.g. `header If-None-Exist`).
pub fn parse_criteria(query: &str, location: &str) -> Result<Criteria, GatewayError> {
    let mut criteria = Criteria::default();
    for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        match name.as_ref() {
            "identifier" => criteria
                .identifiers
                .push(split_alternatives(&value).map(parse_token).collect()),
            "_id" => criteria
                .ids
                .push(split_alternatives(&value).map(str::to_owned).collect()),
            "_format" | "_pretty" => {}
            other => {
                return Err(GatewayError::UnknownParameter {
                    name: other.to_owned(),
                    reason: format!(
                    "conditional operations match on 'identifier' and '_id' only (in {location})"
                ),
                })
            }
        }
    }
    if criteria.ids.is_empty() && criteria.identifiers.is_empty() {
        return Err(GatewayError::invalid(
            "a conditional operation needs at least one of 'identifier' or '_id'",
            location,
        ));
    }
    Ok(criteria)
}

/// The `identifier` element(s) of a resource as index rows (those with a value).
pub fn identifier_keys(resource: &Value) -> Vec<IdentifierKey> {
    let identifiers: Vec<&Value> = match resource.get("identifier") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    identifiers
        .into_iter()
        .filter_map(|identifier| {
            let value = identifier.get("value")?.as_str()?;
            let system = identifier
                .get("system")
                .and_then(Value::as_str)
                .unwrap_or("");
            Some(IdentifierKey {
                system: system.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// True when a resource with `id` and identifier rows `keys` meets every criterion (used for
/// resources a transaction is about to create, which the store cannot see yet).
pub fn criteria_match(criteria: &Criteria, id: &str, keys: &[IdentifierKey]) -> bool {
    let id_ok = criteria
        .ids
        .iter()
        .all(|any_of| any_of.iter().any(|wanted| wanted == id));
    let identifiers_ok = criteria.identifiers.iter().all(|any_of| {
        any_of.iter().any(|token| {
            keys.iter().any(|key| {
                token
                    .system
                    .as_ref()
                    .is_none_or(|system| *system == key.system)
                    && token.value.as_ref().is_none_or(|value| *value == key.value)
            })
        })
    });
    id_ok && identifiers_ok
}

/// Splits on commas not escaped as `\,` (FHIR search OR).
fn split_alternatives(value: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let bytes = value.as_bytes();
    for index in 0..bytes.len() {
        if bytes[index] == b',' && (index == 0 || bytes[index - 1] != b'\\') {
            pieces.push(&value[start..index]);
            start = index + 1;
        }
    }
    pieces.push(&value[start..]);
    pieces.into_iter()
}

fn unescape(text: &str) -> String {
    text.replace("\\,", ",")
        .replace("\\|", "|")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

/// `system|value`, `|value`, `system|`, or `value` (any system).
fn parse_token(token: &str) -> TokenMatch {
    let bytes = token.as_bytes();
    let bar = (0..bytes.len())
        .find(|&index| bytes[index] == b'|' && (index == 0 || bytes[index - 1] != b'\\'));
    let non_empty = |text: &str| (!text.is_empty()).then(|| unescape(text));
    match bar {
        None => TokenMatch {
            system: None,
            value: non_empty(token),
        },
        Some(index) => TokenMatch {
            system: Some(unescape(&token[..index])),
            value: non_empty(&token[index + 1..]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(system: Option<&str>, value: Option<&str>) -> TokenMatch {
        TokenMatch {
            system: system.map(Into::into),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn identifier_forms_follow_token_search_rules() {
        let criteria = parse_criteria(
            "identifier=urn%3Aoid%3A1.2%7CA-1,%7Cbare,any&identifier=sys%7C&_id=x,y",
            "url",
        )
        .unwrap();
        assert_eq!(
            criteria.identifiers,
            vec![
                vec![
                    token(Some("urn:oid:1.2"), Some("A-1")),
                    token(Some(""), Some("bare")),
                    token(None, Some("any")),
                ],
                vec![token(Some("sys"), None)],
            ]
        );
        assert_eq!(criteria.ids, vec![vec!["x".to_string(), "y".to_string()]]);
    }

    #[test]
    fn escaped_separators_stay_in_the_value() {
        let criteria = parse_criteria("identifier=s%7Ca%5C,b%5C%7Cc", "url").unwrap();
        assert_eq!(
            criteria.identifiers,
            vec![vec![token(Some("s"), Some("a,b|c"))]]
        );
    }

    #[test]
    fn in_memory_matching_agrees_with_token_rules() {
        let keys = identifier_keys(&serde_json::json!({
            "identifier": [{"system": "urn:s", "value": "1"}, {"value": "loose"}, {"system": "urn:s"}]
        }));
        assert_eq!(
            keys.len(),
            2,
            "an identifier without a value is not indexed"
        );
        let check = |query: &str| criteria_match(&parse_criteria(query, "t").unwrap(), "p1", &keys);
        assert!(check("identifier=urn:s%7C1"));
        assert!(check("identifier=1"));
        assert!(check("identifier=%7Cloose"));
        assert!(!check("identifier=%7C1"));
        assert!(check("identifier=urn:s%7C"));
        assert!(check("identifier=urn:s%7C1&_id=p1"));
        assert!(!check("identifier=urn:s%7C1&_id=p2"));
        assert!(!check("identifier=other%7C1,urn:s%7C2"));
    }

    #[test]
    fn other_parameters_are_refused_by_name() {
        let error = parse_criteria("name=Yamada", "header If-None-Exist").unwrap_err();
        assert!(matches!(error, GatewayError::UnknownParameter { ref name, .. } if name == "name"));
        assert!(parse_criteria("", "url").is_err());
    }
}
