//! Conditional-operation criteria from a query string: `identifier` and `_id` match through
//! the identifier index (fast, and visible for resources an open transaction is about to
//! write); every other parameter is parsed by FHIR search ([`crate::search::parse`]) and
//! matched through the search indexes — for pending resources, against their extracted index
//! entries ([`index_match`]).

use crate::search::parse_search;
use crate::store::{
    approximate_range, Clause, Condition, Criteria, IdentifierKey, IndexEntry, Prefix, StringMatch,
    TokenMatch, UriMatch,
};
use crate::GatewayError;
use serde_json::Value;
use tsunagi_profiles::search::values::fold_string;
use tsunagi_profiles::search::{IndexValue, SearchParameters};

/// Parses `identifier=…&_id=…` (URL-encoded) into [`Criteria`]; `location` names where the
/// query came from (e.g. `header If-None-Exist`).
pub fn parse_criteria(
    res_type: &str,
    query: &str,
    location: &str,
) -> Result<Criteria, GatewayError> {
    let mut criteria = Criteria::default();
    let mut others: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        match name.as_ref() {
            "identifier" => criteria
                .identifiers
                .push(split_alternatives(&value).map(parse_token).collect()),
            "_id" => criteria
                .ids
                .push(split_alternatives(&value).map(str::to_owned).collect()),
            "_format" | "_pretty" => {}
            other => others.push((other.to_owned(), value.into_owned())),
        }
    }
    if !others.is_empty() {
        let search =
            parse_search(SearchParameters::r4(), res_type, &others, false).map_err(|error| {
                match error {
                    GatewayError::UnknownParameter { name, reason } => {
                        GatewayError::UnknownParameter {
                            name,
                            reason: format!("{reason} (in {location})"),
                        }
                    }
                    other => other,
                }
            })?;
        if !search.sort.is_empty() || !search.includes.is_empty() || !search.revincludes.is_empty()
        {
            return Err(GatewayError::invalid(
                "a conditional operation takes search filters only",
                location,
            ));
        }
        let terminology = search.criteria.clauses.iter().any(|clause| {
            clause.any_of.iter().any(|condition| {
                matches!(
                    condition,
                    Condition::ValueSet(_) | Condition::Subsumed { .. }
                )
            })
        });
        if terminology {
            return Err(GatewayError::invalid(
                "a conditional operation cannot use :in, :not-in, :below or :above",
                location,
            ));
        }
        criteria.clauses = search.criteria.clauses;
    }
    if criteria.ids.is_empty() && criteria.identifiers.is_empty() && criteria.clauses.is_empty() {
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

/// True when a resource with `id`, identifier rows `keys` and search index `entries` meets
/// every criterion (used for resources a transaction is about to create, which the store
/// cannot see yet).
pub fn criteria_match(
    criteria: &Criteria,
    id: &str,
    keys: &[IdentifierKey],
    entries: &[IndexEntry],
) -> bool {
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
    id_ok
        && identifiers_ok
        && criteria
            .clauses
            .iter()
            .all(|clause| index_match(clause, id, entries))
}

/// Whether index `entries` meet one clause (what the store's SQL does, for the conditions a
/// pending resource can be checked against; chains and `_has` need the store and never match).
pub fn index_match(clause: &Clause, id: &str, entries: &[IndexEntry]) -> bool {
    let values = entries
        .iter()
        .filter(|entry| entry.param == clause.param)
        .map(|entry| &entry.value);
    if let Some(missing) = clause.missing {
        return values.count() == 0 && missing
            || !missing && entries.iter().any(|e| e.param == clause.param);
    }
    let values: Vec<&IndexValue> = values.collect();
    let hit = clause.any_of.iter().any(|condition| match condition {
        Condition::Id(wanted) => wanted == id,
        _ => values.iter().any(|value| condition_match(condition, value)),
    });
    hit != clause.negate
}

/// Whether one indexed value meets one condition (the SQL's comparison, in memory).
pub(crate) fn condition_match(condition: &Condition, value: &IndexValue) -> bool {
    if let Condition::Number {
        prefix,
        value: wanted,
        low,
        high,
        system,
        code,
    } = condition
    {
        let (number, units) = match value {
            IndexValue::Number { value, .. } => (*value, None),
            IndexValue::Quantity {
                value,
                system,
                code,
                unit,
                ..
            } => (*value, Some((system, code, unit))),
            _ => return false,
        };
        let system_ok = system.as_ref().is_none_or(|wanted| {
            units.is_some_and(|(system, _, _)| system.as_ref() == Some(wanted))
        });
        let code_ok = code.as_ref().is_none_or(|wanted| {
            units.is_some_and(|(_, code, unit)| {
                code.as_ref() == Some(wanted) || unit.as_ref() == Some(wanted)
            })
        });
        return system_ok && code_ok && number_match(*prefix, number, *wanted, *low, *high);
    }
    match (condition, value) {
        (
            Condition::Token { system, code },
            IndexValue::Token {
                system: s, code: c, ..
            },
        ) => {
            system.as_ref().is_none_or(|wanted| wanted == s)
                && code
                    .as_ref()
                    .is_none_or(|wanted| Some(wanted) == c.as_ref())
        }
        (Condition::TokenText(text), IndexValue::Token { text: Some(t), .. }) => {
            fold_string(t).starts_with(text.as_str())
        }
        (
            Condition::String {
                value: wanted,
                mode,
            },
            IndexValue::String { value },
        ) => match mode {
            StringMatch::Prefix => fold_string(value).starts_with(wanted.as_str()),
            StringMatch::Exact => value == wanted,
            StringMatch::Contains => fold_string(value).contains(wanted.as_str()),
        },
        (
            Condition::Reference {
                target_type,
                target_id,
                url,
            },
            IndexValue::Reference {
                target_type: t,
                target_id: i,
                url: u,
                ..
            },
        ) => {
            (target_type.is_some() || target_id.is_some() || url.is_some())
                && target_type
                    .as_ref()
                    .is_none_or(|wanted| Some(wanted) == t.as_ref())
                && target_id
                    .as_ref()
                    .is_none_or(|wanted| Some(wanted) == i.as_ref())
                && url.as_ref().is_none_or(|wanted| Some(wanted) == u.as_ref())
        }
        (
            Condition::ReferenceIdentifier { system, value },
            IndexValue::Reference {
                identifier: Some((s, v)),
                ..
            },
        ) => {
            v == value
                && system
                    .as_ref()
                    .is_none_or(|wanted| Some(wanted) == s.as_ref())
        }
        (
            Condition::Uri {
                value: wanted,
                mode,
            },
            IndexValue::Uri { value },
        ) => match mode {
            UriMatch::Exact => value == wanted,
            UriMatch::Below => value.starts_with(wanted.as_str()),
            UriMatch::Above => wanted.starts_with(value.as_str()),
        },
        (Condition::Date { prefix, low, high }, IndexValue::Date { low: l, high: h }) => {
            date_match(*prefix, *l, *h, *low, *high)
        }
        _ => false,
    }
}

/// A stored number against the search number and its implied range (as the SQL does).
pub fn number_match(prefix: Prefix, stored: f64, value: f64, low: f64, high: f64) -> bool {
    match prefix {
        Prefix::Eq => stored >= low && stored < high,
        Prefix::Ne => !(stored >= low && stored < high),
        Prefix::Gt | Prefix::Sa => stored > value,
        Prefix::Lt | Prefix::Eb => stored < value,
        Prefix::Ge => stored >= value,
        Prefix::Le => stored <= value,
        Prefix::Ap => {
            let margin = (value.abs() * 0.1).max(high - low);
            stored >= value - margin && stored <= value + margin
        }
    }
}

/// A stored range `[l, h]` against the search range `[low, high]` (as the SQL does).
pub fn date_match(prefix: Prefix, l: i64, h: i64, low: i64, high: i64) -> bool {
    match prefix {
        Prefix::Eq => l >= low && h <= high,
        Prefix::Ne => !(l >= low && h <= high),
        Prefix::Gt => h > high,
        Prefix::Lt => l < low,
        Prefix::Ge => h >= low,
        Prefix::Le => l <= high,
        Prefix::Sa => l > high,
        Prefix::Eb => h < low,
        Prefix::Ap => {
            let (low, high) = approximate_range(low, high);
            h >= low && l <= high
        }
    }
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
            "Patient",
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
        let criteria = parse_criteria("Patient", "identifier=s%7Ca%5C,b%5C%7Cc", "url").unwrap();
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
        let check = |query: &str| {
            criteria_match(
                &parse_criteria("Patient", query, "t").unwrap(),
                "p1",
                &keys,
                &[],
            )
        };
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
    fn unknown_parameters_are_refused_by_name() {
        let error = parse_criteria("Patient", "shoe-size=42", "header If-None-Exist").unwrap_err();
        assert!(
            matches!(error, GatewayError::UnknownParameter { ref name, ref reason } if name == "shoe-size" && reason.contains("If-None-Exist")),
            "{error:?}"
        );
        assert!(parse_criteria("Patient", "", "url").is_err());
    }

    #[test]
    fn search_parameters_match_pending_resources_by_their_index() {
        let patient = serde_json::json!({
            "resourceType": "Patient", "id": "p1",
            "name": [{"family": "Yamada", "given": ["Tarou"]}],
            "gender": "male", "birthDate": "1970-05-04"
        });
        let entries = tsunagi_profiles::search::extract_index(&patient);
        let check = |query: &str| {
            criteria_match(
                &parse_criteria("Patient", query, "t").unwrap(),
                "p1",
                &[],
                &entries,
            )
        };
        assert!(check("family=yama"));
        assert!(check("gender=male&birthdate=1970"));
        assert!(!check("gender=female"));
        assert!(check("birthdate=ge1970-05-01"));
        assert!(!check("birthdate=lt1970"));
    }
}
