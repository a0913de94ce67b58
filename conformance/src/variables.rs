//! Variables: `${name}` in operation and assert elements, each resolved when used from its
//! `TestScript.variable` definition (headerField, expression or path over its source fixture,
//! then defaultValue), or from a value given on the command line.

use std::collections::HashMap;

use crate::error::ConformanceError;
use crate::fhirpath;
use crate::fixtures::Fixture;
use crate::script::VariableDef;

/// Longest text a substitution may produce (1 MiB), against variables that expand themselves.
const MAX_SUBSTITUTED_LEN: usize = 1024 * 1024;

/// The value of variable `definition` given the fixtures that exist now.
pub fn resolve(
    definition: &VariableDef,
    fixtures: &HashMap<String, Fixture>,
    overrides: &HashMap<String, String>,
) -> Result<String, ConformanceError> {
    if let Some(value) = overrides.get(&definition.name) {
        return Ok(value.clone());
    }
    let error = |message: String| ConformanceError::Variable {
        name: definition.name.clone(),
        message,
    };
    let source = match &definition.source_id {
        Some(id) => fixtures.get(id),
        None => None,
    };
    let computed = if let Some(field) = &definition.header_field {
        source
            .and_then(|fixture| fixture.header(field))
            .map(str::to_owned)
    } else if let Some(expression) = &definition.expression {
        first_item(source, |resource| fhirpath::evaluate(expression, resource)).map_err(error)?
    } else if let Some(path) = &definition.path {
        first_item(source, |resource| fhirpath::evaluate_path(path, resource)).map_err(error)?
    } else {
        None
    };
    if let Some(value) = computed {
        return Ok(value);
    }
    if let Some(value) = &definition.default_value {
        return Ok(value.clone());
    }
    let why = match (&definition.source_id, source) {
        (Some(id), None) => format!("its source {id} does not exist (yet)"),
        (Some(id), Some(_)) => format!("nothing found in {id}"),
        (None, _) => {
            "no value: give one with --var NAME=VALUE (it has no source or default)".to_owned()
        }
    };
    Err(error(why))
}

fn first_item(
    source: Option<&Fixture>,
    run: impl Fn(&serde_json::Value) -> Result<fhirpath::Evaluated, String>,
) -> Result<Option<String>, String> {
    let Some(resource) = source.and_then(|fixture| fixture.resource.as_ref()) else {
        return Ok(None);
    };
    Ok(run(resource)?.items.into_iter().next())
}

/// Replaces every `${name}` in `text` with `lookup(name)`; text without `${` is returned as is.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Result<String, ConformanceError>,
) -> Result<String, ConformanceError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(ConformanceError::Variable {
                name: after.to_owned(),
                message: "`${` without a closing `}`".to_owned(),
            });
        };
        out.push_str(&lookup(&after[..end])?);
        if out.len() > MAX_SUBSTITUTED_LEN {
            return Err(ConformanceError::Variable {
                name: after[..end].to_owned(),
                message: "substituted text is larger than 1 MiB".to_owned(),
            });
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn substitution_replaces_each_reference() {
        let lookup = |name: &str| match name {
            "id" => Ok("p-1".to_owned()),
            other => Err(ConformanceError::Variable {
                name: other.to_owned(),
                message: "unknown".to_owned(),
            }),
        };
        assert_eq!(
            substitute("/${id}/_history/${id}", &lookup).unwrap(),
            "/p-1/_history/p-1"
        );
        assert_eq!(substitute("plain", &lookup).unwrap(), "plain");
        assert!(substitute("${other}", &lookup).is_err());
        assert!(substitute("${id", &lookup).is_err());
    }

    #[test]
    fn sources_come_before_the_default() {
        let mut fixtures = HashMap::new();
        let mut response = Fixture::from_resource(json!({"resourceType": "Patient", "id": "abc"}));
        response.headers = vec![("location".to_owned(), "Patient/abc/_history/1".to_owned())];
        fixtures.insert("resp".to_owned(), response);
        let header = VariableDef {
            name: "loc".to_owned(),
            header_field: Some("Location".to_owned()),
            source_id: Some("resp".to_owned()),
            default_value: Some("unused".to_owned()),
            ..VariableDef::default()
        };
        let none = HashMap::new();
        assert_eq!(
            resolve(&header, &fixtures, &none).unwrap(),
            "Patient/abc/_history/1"
        );
        let expression = VariableDef {
            name: "id".to_owned(),
            expression: Some("Patient.id".to_owned()),
            source_id: Some("resp".to_owned()),
            ..VariableDef::default()
        };
        assert_eq!(resolve(&expression, &fixtures, &none).unwrap(), "abc");
        let missing = VariableDef {
            source_id: Some("later".to_owned()),
            default_value: Some("fallback".to_owned()),
            ..expression.clone()
        };
        assert_eq!(resolve(&missing, &fixtures, &none).unwrap(), "fallback");
        let hint_only = VariableDef {
            name: "family".to_owned(),
            ..VariableDef::default()
        };
        assert!(resolve(&hint_only, &fixtures, &none).is_err());
        let overrides = HashMap::from([("family".to_owned(), "Kato".to_owned())]);
        assert_eq!(resolve(&hint_only, &fixtures, &overrides).unwrap(), "Kato");
    }
}
