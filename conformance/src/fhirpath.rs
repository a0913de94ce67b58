//! FHIRPath over fixtures through `tsunagi_profiles::fhirpath`, and the simple XPath form
//! (`fhir:Patient/fhir:name/fhir:family/@value`) older TestScripts use in `path`, translated
//! to FHIRPath.

use serde_json::Value;
use tsunagi_profiles::fhirpath::{compile_cached, Environment, FhirPathValue};

/// The result of an expression: each item as text (primitives as their value, complex
/// elements as compact JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// The items as text.
    pub items: Vec<String>,
    /// `Some(b)` when the result is exactly one boolean.
    pub single_boolean: Option<bool>,
}

/// Evaluates FHIRPath `expression` on `resource`.
pub fn evaluate(expression: &str, resource: &Value) -> Result<Evaluated, String> {
    let compiled = compile_cached(expression).map_err(|error| error.to_string())?;
    let env = Environment::new();
    let values = compiled
        .evaluate_values(resource, &env)
        .map_err(|error| error.to_string())?;
    let single_boolean = match values.as_slice() {
        [one] => match one.to_system() {
            FhirPathValue::Boolean(flag) => Some(flag),
            _ => None,
        },
        _ => None,
    };
    Ok(Evaluated {
        items: values.iter().map(text_of).collect(),
        single_boolean,
    })
}

/// Evaluates a `path` element: FHIRPath as is, the simple XPath form translated first.
pub fn evaluate_path(path: &str, resource: &Value) -> Result<Evaluated, String> {
    evaluate(&path_to_fhirpath(path)?, resource)
}

/// `fhir:A/fhir:b/fhir:c/@value` (or `A/b/c`) → `A.b.c`; other XPath (predicates, axes,
/// functions) is not supported. A path without `/` steps is taken as FHIRPath already.
pub fn path_to_fhirpath(path: &str) -> Result<String, String> {
    let path = path.trim();
    let looks_like_xpath = path.contains("fhir:")
        || (path.contains('/') && !path.contains(|c: char| c.is_whitespace() || c == '('));
    if !looks_like_xpath {
        return Ok(path.to_owned());
    }
    let mut steps = Vec::new();
    for step in path.trim_start_matches('/').split('/') {
        if step == "@value" {
            continue;
        }
        let name = step
            .strip_prefix("fhir:")
            .or(Some(step))
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .ok_or_else(|| {
                format!("XPath step {step:?} is not supported (only element-name steps)")
            })?;
        steps.push(name);
    }
    if steps.is_empty() {
        return Err(format!("XPath {path:?} names no element"));
    }
    Ok(steps.join("."))
}

fn text_of(value: &FhirPathValue<'_>) -> String {
    match value {
        FhirPathValue::Node(node) => match node.value {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        FhirPathValue::Boolean(flag) => flag.to_string(),
        FhirPathValue::String(text) => text.clone(),
        FhirPathValue::Integer(number) => number.to_string(),
        FhirPathValue::Decimal(number) => number.to_string(),
        FhirPathValue::Date(date) | FhirPathValue::DateTime(date) => date.to_string(),
        FhirPathValue::Time(time) => time.to_string(),
        FhirPathValue::Quantity(quantity) => quantity.to_string(),
        FhirPathValue::TypeInfo { namespace, name } => format!("{namespace}.{name}"),
        FhirPathValue::UnresolvedReference(type_name) => type_name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_steps_become_fhirpath() {
        assert_eq!(
            path_to_fhirpath("fhir:Patient/fhir:name/fhir:family/@value").unwrap(),
            "Patient.name.family"
        );
        assert!(path_to_fhirpath("fhir:Bundle/fhir:entry[1]").is_err());
        assert_eq!(path_to_fhirpath("Patient/id").unwrap(), "Patient.id");
        assert_eq!(path_to_fhirpath("Patient.id").unwrap(), "Patient.id");
        assert_eq!(
            path_to_fhirpath("Bundle.total / 2").unwrap(),
            "Bundle.total / 2"
        );
    }

    #[test]
    fn items_are_text_and_single_booleans_are_told() {
        let patient = serde_json::json!({"resourceType": "Patient", "id": "p1",
            "name": [{"family": "Kato", "given": ["Aoi", "Rin"]}], "multipleBirthInteger": 2});
        let given = evaluate("Patient.name.given", &patient).unwrap();
        assert_eq!(given.items, ["Aoi", "Rin"]);
        assert_eq!(given.single_boolean, None);
        let test = evaluate("Patient.name.given.count() = 2", &patient).unwrap();
        assert_eq!(test.single_boolean, Some(true));
        assert_eq!(
            evaluate("Patient.multipleBirth", &patient).unwrap().items,
            ["2"]
        );
        assert!(evaluate("Patient.name.(", &patient).is_err());
    }
}
