//! Asserts: each element an assert carries (response, responseCode, contentType, headerField,
//! requestMethod, requestURL, resource, minimumId, navigationLinks, path/expression with
//! operator and value or a compareToSource, validateProfileId) is checked against the last
//! response (or request, or `sourceId`); all of them must hold.

use serde_json::Value;
use tsunagi_profiles::validate::{Severity, ValidateOptions, Validator};

use crate::fhirpath::{self, Evaluated};
use crate::fixtures::Fixture;
use crate::operations::mime_type;
use crate::outcome::Status;
use crate::script::Assert;
use crate::state::State;

/// The outcome of one assert: its status and what was expected and found.
pub fn check(assert: &Assert, state: &State<'_>, validator: &Validator) -> (Status, String) {
    match run(assert, state, validator) {
        Ok(details) => (Status::Pass, details.join("; ")),
        Err(Problem::Failed(message)) if assert.warning_only => (Status::Warning, message),
        Err(Problem::Failed(message)) => (Status::Fail, message),
        Err(Problem::Broken(message)) => (Status::Error, message),
    }
}

enum Problem {
    /// The server's answer did not match.
    Failed(String),
    /// The assert could not be evaluated (no response yet, bad expression, unknown profile).
    Broken(String),
}

fn failed(message: String) -> Problem {
    Problem::Failed(message)
}

fn broken(message: impl Into<String>) -> Problem {
    Problem::Broken(message.into())
}

fn run(assert: &Assert, state: &State<'_>, validator: &Validator) -> Result<Vec<String>, Problem> {
    let subst = |text: &str| {
        state
            .substitute(text)
            .map_err(|error| broken(error.to_string()))
    };
    let source: &Fixture = match &assert.source_id {
        Some(id) => state
            .fixtures
            .get(id)
            .ok_or_else(|| broken(format!("sourceId {id} names no fixture that exists (yet)")))?,
        None if assert.direction_request => state
            .last_request
            .as_ref()
            .ok_or_else(|| broken("no request has been sent yet"))?,
        None => state
            .last_response
            .as_ref()
            .ok_or_else(|| broken("no response has been received yet"))?,
    };
    let operator = assert.operator.as_deref().unwrap_or("equals");
    let mut held = Vec::new();

    if let Some(code) = &assert.response {
        let expected =
            response_code(code).ok_or_else(|| broken(format!("unknown response code {code}")))?;
        let status = source
            .status
            .ok_or_else(|| broken("the source is not a response"))?;
        if status != expected {
            return Err(failed(format!(
                "expected HTTP {expected} ({code}), got {status}"
            )));
        }
        held.push(format!("HTTP {status}"));
    }
    if let Some(expected) = &assert.response_code {
        let status = source
            .status
            .ok_or_else(|| broken("the source is not a response"))?;
        compare(operator, &[status.to_string()], &subst(expected)?)
            .map_err(|why| failed(format!("response code {status}: {why}")))?;
        held.push(format!("HTTP {status}"));
    }
    if let Some(expected) = &assert.content_type {
        let expected = mime_type(expected).unwrap_or_default();
        let found = source.header("content-type").unwrap_or("");
        let essence = found.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(&expected) {
            return Err(failed(format!(
                "Content-Type: expected {expected}, got {found:?}"
            )));
        }
        held.push(format!("Content-Type {essence}"));
    }
    if let Some(field) = &assert.header_field {
        let found: Vec<String> = source
            .header(field)
            .map(str::to_owned)
            .into_iter()
            .collect();
        let expected = assert
            .value
            .as_deref()
            .map(subst)
            .transpose()?
            .unwrap_or_default();
        compare(operator, &found, &expected)
            .map_err(|why| failed(format!("header {field}: {why}")))?;
        held.push(format!("header {field} {operator}"));
    }
    if let Some(expected) = &assert.request_method {
        let request = state
            .last_request
            .as_ref()
            .ok_or_else(|| broken("no request sent yet"))?;
        let method = request.method.clone().unwrap_or_default();
        compare(
            operator,
            &[method.to_ascii_lowercase()],
            &expected.to_ascii_lowercase(),
        )
        .map_err(|why| failed(format!("request method: {why}")))?;
        held.push(format!("method {method}"));
    }
    if let Some(expected) = &assert.request_url {
        let request = state
            .last_request
            .as_ref()
            .ok_or_else(|| broken("no request sent yet"))?;
        let url = request.url.clone().unwrap_or_default();
        compare(operator, &[url], &subst(expected)?)
            .map_err(|why| failed(format!("request URL: {why}")))?;
        held.push("request URL".to_owned());
    }
    if let Some(expected) = &assert.resource {
        let found = source.resource_type().unwrap_or("(no resource)");
        if found != expected {
            return Err(failed(format!("expected a {expected}, got {found}")));
        }
        held.push(format!("resource {found}"));
    }
    if let Some(minimum_id) = &assert.minimum_id {
        let minimum = state
            .fixtures
            .get(minimum_id)
            .and_then(|fixture| fixture.resource.as_ref())
            .ok_or_else(|| broken(format!("minimumId {minimum_id} names no resource fixture")))?;
        let actual = source
            .resource
            .as_ref()
            .ok_or_else(|| failed("no resource in the response".to_owned()))?;
        if let Some(missing) = first_missing(minimum, actual, "") {
            return Err(failed(format!(
                "minimum content of {minimum_id} not found: {missing}"
            )));
        }
        held.push(format!("contains {minimum_id}"));
    }
    if assert.navigation_links == Some(true) {
        let bundle = source
            .resource
            .as_ref()
            .ok_or_else(|| failed("no Bundle in the response".to_owned()))?;
        navigation_links(bundle).map_err(failed)?;
        held.push("navigation links".to_owned());
    }
    if assert.path.is_some() || assert.expression.is_some() || assert.compare_to_source_id.is_some()
    {
        held.push(path_assert(assert, state, source, operator, &subst)?);
    }
    if let Some(profile_id) = &assert.validate_profile_id {
        let url = state
            .script
            .profiles
            .iter()
            .find(|(id, _)| id == profile_id)
            .map(|(_, url)| url.clone())
            .ok_or_else(|| {
                broken(format!(
                    "validateProfileId {profile_id} names no TestScript.profile"
                ))
            })?;
        let resource = source
            .resource
            .as_ref()
            .ok_or_else(|| failed("no resource to validate".to_owned()))?;
        let options = ValidateOptions {
            profiles: vec![url.clone()],
            ..ValidateOptions::default()
        };
        let outcome = validator.validate(resource, &options);
        let errors: Vec<String> = outcome
            .issues
            .iter()
            .filter(|issue| matches!(issue.severity, Severity::Error | Severity::Fatal))
            .take(5)
            .map(|issue| format!("{}: {}", issue.expression, issue.message))
            .collect();
        if !errors.is_empty() {
            return Err(failed(format!(
                "{} error(s) against {url}: {}",
                outcome.error_count(),
                errors.join(" | ")
            )));
        }
        held.push(format!("valid against {url}"));
    }
    if held.is_empty() {
        return Err(broken("the assert names nothing to check"));
    }
    Ok(held)
}

/// `path`/`expression` on the source, against `value` or the same (or the compare) expression
/// on `compareToSourceId`. With neither value nor operator, a single boolean must be true
/// (any other result must be non-empty).
fn path_assert(
    assert: &Assert,
    state: &State<'_>,
    source: &Fixture,
    operator: &str,
    subst: &dyn Fn(&str) -> Result<String, Problem>,
) -> Result<String, Problem> {
    let evaluate = |expression: Option<&String>,
                    path: Option<&String>,
                    resource: &Value|
     -> Result<Evaluated, Problem> {
        match (expression, path) {
            (Some(expression), _) => fhirpath::evaluate(&subst(expression)?, resource),
            (None, Some(path)) => fhirpath::evaluate_path(&subst(path)?, resource),
            (None, None) => Err("no expression".to_owned()),
        }
        .map_err(|error| broken(format!("expression: {error}")))
    };
    let own_expression = assert
        .expression
        .as_ref()
        .or(assert.compare_to_source_expression.as_ref());
    let own_path = assert
        .path
        .as_ref()
        .or(assert.compare_to_source_path.as_ref());
    let shown = own_expression.or(own_path).cloned().unwrap_or_default();
    let resource = source
        .resource
        .as_ref()
        .ok_or_else(|| failed(format!("{shown}: no resource to evaluate on")))?;
    let found = evaluate(own_expression, own_path, resource)?;
    let expected = if let Some(compare_id) = &assert.compare_to_source_id {
        let other = state
            .fixtures
            .get(compare_id)
            .and_then(|fixture| fixture.resource.as_ref())
            .ok_or_else(|| {
                broken(format!(
                    "compareToSourceId {compare_id} names no resource fixture"
                ))
            })?;
        let other_expression = assert
            .compare_to_source_expression
            .as_ref()
            .or(assert.expression.as_ref());
        let other_path = assert
            .compare_to_source_path
            .as_ref()
            .or(assert.path.as_ref());
        let values = evaluate(other_expression, other_path, other)?.items;
        Some(values.into_iter().next().unwrap_or_default())
    } else {
        assert.value.as_deref().map(subst).transpose()?
    };
    match expected {
        None if assert.operator.is_none() || operator == "eval" => {
            let held = match found.single_boolean {
                Some(flag) => flag,
                None => operator != "eval" && !found.items.is_empty(),
            };
            if held {
                Ok(format!("{shown} holds"))
            } else {
                Err(failed(format!(
                    "{shown}: expected true, got [{}]",
                    found.items.join(", ")
                )))
            }
        }
        expected => {
            let expected = expected.unwrap_or_default();
            compare(operator, &found.items, &expected)
                .map(|()| format!("{shown} {operator} {expected}"))
                .map_err(|why| failed(format!("{shown}: {why}")))
        }
    }
}

/// The HTTP status a `response` code stands for (AssertionResponseTypes).
pub fn response_code(code: &str) -> Option<u16> {
    Some(match code {
        "okay" => 200,
        "created" => 201,
        "noContent" => 204,
        "notModified" => 304,
        "bad" => 400,
        "forbidden" => 403,
        "notFound" => 404,
        "methodNotAllowed" => 405,
        "conflict" => 409,
        "gone" => 410,
        "preconditionFailed" => 412,
        "unprocessable" => 422,
        _ => return None,
    })
}

/// Applies `operator` to the found values and the expected text. `equals`, `in`, `contains`
/// hold when some item matches; their negations when none does; `greaterThan`/`lessThan`
/// compare the first item (as numbers when both are); `empty`/`notEmpty` ignore the value.
pub fn compare(operator: &str, found: &[String], expected: &str) -> Result<(), String> {
    let shown = || format!("[{}]", found.join(", "));
    let list: Vec<&str> = expected.split(',').map(str::trim).collect();
    let held = match operator {
        "equals" => found.iter().any(|item| item == expected),
        "notEquals" => !found.iter().any(|item| item == expected),
        "in" => found.iter().any(|item| list.contains(&item.as_str())),
        "notIn" => !found.iter().any(|item| list.contains(&item.as_str())),
        "contains" => found.iter().any(|item| item.contains(expected)),
        "notContains" => !found.iter().any(|item| item.contains(expected)),
        "empty" => found.is_empty() || found.iter().all(String::is_empty),
        "notEmpty" => found.iter().any(|item| !item.is_empty()),
        "greaterThan" | "lessThan" => {
            let Some(first) = found.first() else {
                return Err(format!("{operator} {expected}: nothing found"));
            };
            let order = match (first.parse::<f64>(), expected.parse::<f64>()) {
                (Ok(left), Ok(right)) => left.partial_cmp(&right),
                _ => Some(first.as_str().cmp(expected)),
            };
            let wanted = if operator == "greaterThan" {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Less
            };
            order == Some(wanted)
        }
        other => return Err(format!("operator {other} is not supported")),
    };
    if held {
        Ok(())
    } else {
        Err(format!(
            "expected {operator} {expected:?}, found {}",
            shown()
        ))
    }
}

/// The first element of `minimum` that `actual` lacks, as a path; objects must hold every key,
/// arrays every item (each found somewhere in the other array), primitives be equal.
fn first_missing(minimum: &Value, actual: &Value, path: &str) -> Option<String> {
    match (minimum, actual) {
        (Value::Object(wanted), Value::Object(have)) => wanted.iter().find_map(|(key, value)| {
            let here = format!("{path}.{key}");
            match have.get(key) {
                Some(found) => first_missing(value, found, &here),
                None => Some(here),
            }
        }),
        (Value::Array(wanted), Value::Array(have)) => {
            wanted.iter().enumerate().find_map(|(index, item)| {
                let here = format!("{path}[{index}]");
                if have
                    .iter()
                    .any(|candidate| first_missing(item, candidate, &here).is_none())
                {
                    None
                } else {
                    Some(here)
                }
            })
        }
        (wanted, have) if wanted == have => None,
        (Value::Number(wanted), Value::Number(have)) if wanted.as_f64() == have.as_f64() => None,
        _ => Some(path.to_owned()),
    }
}

/// A Bundle's navigation links: a `self` link, and every link a relation and a URL.
fn navigation_links(bundle: &Value) -> Result<(), String> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err("navigation links: not a Bundle".to_owned());
    }
    let links = bundle
        .get("link")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for link in &links {
        let relation = link.get("relation").and_then(Value::as_str).unwrap_or("");
        let url = link.get("url").and_then(Value::as_str).unwrap_or("");
        if relation.is_empty() || url.is_empty() {
            return Err(format!("navigation link without relation or url: {link}"));
        }
    }
    if !links
        .iter()
        .any(|link| link.get("relation").and_then(Value::as_str) == Some("self"))
    {
        return Err("navigation links: no `self` link".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators_apply_to_any_item() {
        let found = ["a".to_owned(), "b".to_owned()];
        assert!(compare("equals", &found, "b").is_ok());
        assert!(compare("notEquals", &found, "b").is_err());
        assert!(compare("in", &["204".to_owned()], "200,204").is_ok());
        assert!(compare("notIn", &["204".to_owned()], "200,204").is_err());
        assert!(compare("greaterThan", &["10".to_owned()], "9").is_ok());
        assert!(compare("lessThan", &["10".to_owned()], "9").is_err());
        assert!(compare("empty", &[], "").is_ok());
        assert!(compare("notEmpty", &[], "").is_err());
        assert!(compare("contains", &["W/\"3\"".to_owned()], "3").is_ok());
        assert!(compare("sortOf", &found, "a").is_err());
    }

    #[test]
    fn minimum_content_names_what_is_missing() {
        let actual = json!({"resourceType": "Patient", "id": "x", "meta": {"versionId": "2"},
            "name": [{"family": "Sato", "given": ["Mei"]}, {"family": "Ito"}]});
        assert_eq!(
            first_missing(&json!({"name": [{"family": "Ito"}]}), &actual, ""),
            None
        );
        assert_eq!(
            first_missing(&json!({"name": [{"family": "Abe"}]}), &actual, ""),
            Some("[0]".replace("[0]", ".name[0]"))
        );
        assert_eq!(
            first_missing(&json!({"gender": "female"}), &actual, ""),
            Some(".gender".to_owned())
        );
    }
}
