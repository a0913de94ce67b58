//! Conditional-operation criteria: `identifier` and `_id` from a query string.
//!
//! Full FHIR search arrives with the search issue and plugs in here; until then conditional
//! create, update and delete match on these two parameters and refuse any other by name.

use crate::store::{Criteria, TokenMatch};
use crate::GatewayError;

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
            other => return Err(GatewayError::UnknownParameter {
                name: other.to_owned(),
                reason: format!(
                    "conditional operations match on 'identifier' and '_id' only (in {location})"
                ),
            }),
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
    fn other_parameters_are_refused_by_name() {
        let error = parse_criteria("name=Yamada", "header If-None-Exist").unwrap_err();
        assert!(matches!(error, GatewayError::UnknownParameter { ref name, .. } if name == "name"));
        assert!(parse_criteria("", "url").is_err());
    }
}
