//! Invariants: each element's `constraint.expression` evaluated with the FHIRPath engine at
//! the element, `%resource` the enclosing resource and `%rootResource` its container. `ele-1`
//! and `ext-1`, which hold on every element and extension, are checked directly.

use std::sync::Arc;

use serde_json::Value;

use super::compiled::{CompiledProfile, Constraint};
use super::outcome::{IssueType, Severity};
use super::walk::{Occurrence, Walk};
use super::Validator;
use crate::fhirpath::{Environment, FhirPathValue, JsonNode, Terminology};
use crate::terminology::Membership;

/// Evaluates the invariants of `node` on one occurrence.
pub(crate) fn check<'v>(
    walk: &mut Walk<'_, 'v>,
    profile: &Arc<CompiledProfile>,
    node: usize,
    occurrence: Occurrence<'v>,
    path: &str,
    type_code: &str,
) {
    let constraints = &profile.nodes[node].constraints;
    if constraints.is_empty() {
        return;
    }
    // A backbone element's FHIRPath type is its path in the base definition.
    let fhirpath_type = match type_code {
        "BackboneElement" | "Element" => {
            let node_path = &profile.nodes[node].path;
            crate::fhirpath::static_type_name(node_path).map_or(type_code, |_| node_path.as_str())
        }
        _ => type_code,
    };
    for constraint in constraints {
        let holds = match constraint.key.as_str() {
            "ele-1" => Some(ele_1(occurrence)),
            "ext-1" => Some(ext_1(occurrence)),
            "dom-3" => occurrence.value.map(dom_3),
            "ref-1" => occurrence.value.map(|reference| ref_1(walk, reference)),
            // A contained resource is told by its container's narrative.
            "dom-6"
                if walk
                    .resources
                    .last()
                    .is_some_and(|(_, contained)| *contained) =>
            {
                None
            }
            _ => evaluate(walk, constraint, occurrence, path, fhirpath_type),
        };
        if holds == Some(false) {
            let severity = if constraint.is_error {
                Severity::Error
            } else {
                Severity::Warning
            };
            walk.report(
                severity,
                IssueType::Invariant,
                path,
                format!(
                    "Constraint failed: {}: '{}'",
                    constraint.key, constraint.human
                ),
            );
        }
    }
}

/// `hasValue() or (children().count() > id.count())`: a value, or some content besides `id`.
fn ele_1(occurrence: Occurrence<'_>) -> bool {
    let has_content = |value: &Value| match value {
        Value::Object(object) => object.keys().any(|key| key != "id"),
        Value::Null => false,
        _ => true,
    };
    occurrence.value.is_some_and(has_content) || occurrence.extras.is_some_and(has_content)
}

/// `extension.exists() != value.exists()`: an extension has nested extensions or a value.
fn ext_1(occurrence: Occurrence<'_>) -> bool {
    let Some(Value::Object(object)) = occurrence.value else {
        return true;
    };
    let has_extensions = object.contains_key("extension");
    // A primitive value with only extensions (`_valueString`) exists too.
    let has_value = object
        .keys()
        .any(|key| key.starts_with("value") || key.starts_with("_value"));
    has_extensions != has_value
}

/// dom-3: every contained resource is referred to from elsewhere in the resource (`#id`), or
/// refers to its container (`#`).
fn dom_3(resource: &Value) -> bool {
    let Some(contained) = resource.get("contained").and_then(Value::as_array) else {
        return true;
    };
    let mut local_references = std::collections::HashSet::new();
    collect_local_references(resource, &mut local_references, 0);
    contained.iter().all(|inner| {
        let id = inner.get("id").and_then(Value::as_str).unwrap_or("");
        let mut own = std::collections::HashSet::new();
        collect_local_references(inner, &mut own, 0);
        let local = format!("#{id}");
        local_references.contains(local.as_str()) || own.contains("#")
    })
}

/// ref-1: a local reference (`#id`) names a resource contained in the root resource, or the
/// container itself (`#`) from inside a contained resource.
fn ref_1(walk: &Walk<'_, '_>, reference: &Value) -> bool {
    let Some(text) = reference.get("reference").and_then(Value::as_str) else {
        return true;
    };
    let Some(local) = text.strip_prefix('#') else {
        return true;
    };
    let root = walk.root_resource();
    if local.is_empty() {
        return !std::ptr::eq(root, walk.current_resource());
    }
    root.get("contained")
        .and_then(Value::as_array)
        .is_some_and(|contained| {
            contained
                .iter()
                .any(|inner| inner.get("id").and_then(Value::as_str) == Some(local))
        })
}

/// Every string value starting with `#` (local references, canonicals, URIs).
fn collect_local_references<'v>(
    value: &'v Value,
    out: &mut std::collections::HashSet<&'v str>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match value {
        Value::String(text) if text.starts_with('#') => {
            out.insert(text.as_str());
        }
        // A narrative may point at contained resources too (`<img src="#id"/>`).
        Value::String(text) if text.starts_with("<div") => {
            for (at, _) in text.match_indices("=\"#") {
                let start = at + 2;
                if let Some(length) = text[start..].find('"') {
                    out.insert(&text[start..start + length]);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_local_references(item, out, depth + 1)),
        Value::Object(object) => object
            .values()
            .for_each(|item| collect_local_references(item, out, depth + 1)),
        _ => {}
    }
}

/// `Some(holds)`, or `None` (with a warning) when the expression could not be evaluated.
fn evaluate<'v>(
    walk: &mut Walk<'_, 'v>,
    constraint: &Constraint,
    occurrence: Occurrence<'v>,
    path: &str,
    type_code: &str,
) -> Option<bool> {
    let Some(expression) = &constraint.expression else {
        walk.report(
            Severity::Information,
            IssueType::Informational,
            path,
            format!(
                "the invariant {} could not be parsed, so it was not checked",
                constraint.key
            ),
        );
        return None;
    };
    let resource = walk.current_resource();
    let terminology = ValidatorTerminology(walk.validator);
    let env = Environment::new()
        .with_root_resource(walk.root_resource())
        .with_terminology(&terminology);
    let focus = FhirPathValue::Node(JsonNode {
        value: occurrence.value,
        element: occurrence.extras,
        type_name: crate::fhirpath::static_type_name(type_code),
    });
    match expression.evaluate_values_at(Some(resource), vec![focus], &env) {
        Ok(result) => Some(!matches!(
            result.as_slice(),
            [FhirPathValue::Boolean(false)]
        )),
        Err(error) => {
            walk.report(
                Severity::Information,
                IssueType::Informational,
                path,
                format!(
                    "the invariant {} could not be evaluated: {error}",
                    constraint.key
                ),
            );
            None
        }
    }
}

/// `memberOf()` answered from the validator's expansions.
struct ValidatorTerminology<'a>(&'a Validator);

impl Terminology for ValidatorTerminology<'_> {
    fn member_of(&self, coded: &Value, type_name: Option<&str>, valueset: &str) -> Option<bool> {
        let expansion = self.0.expansion(valueset)?;
        let memberships = super::bindings::memberships(&expansion, coded, type_name.unwrap_or(""));
        if memberships.contains(&Membership::In) {
            Some(true)
        } else if memberships.contains(&Membership::Unknown) || memberships.is_empty() {
            None
        } else {
            Some(false)
        }
    }
}

/// Evaluates `text` on the current resource. With `selected`, tells whether the result holds
/// that object; without, whether the result is `true` (an empty result counts as true).
/// `None` when the expression cannot be parsed or evaluated.
pub(crate) fn evaluate_on_resource<'v>(
    walk: &Walk<'_, 'v>,
    text: &str,
    selected: Option<&'v serde_json::Map<String, Value>>,
) -> Option<bool> {
    let expression = crate::fhirpath::compile_cached(text).ok()?;
    let resource = walk.current_resource();
    let terminology = ValidatorTerminology(walk.validator);
    let env = Environment::new()
        .with_root_resource(walk.root_resource())
        .with_terminology(&terminology);
    let result = expression.evaluate_values(resource, &env).ok()?;
    Some(match selected {
        Some(object) => result.iter().any(|item| {
            item.as_node()
                .and_then(|node| node.value)
                .and_then(Value::as_object)
                .is_some_and(|found| std::ptr::eq(found, object))
        }),
        None => !matches!(result.as_slice(), [FhirPathValue::Boolean(false)]),
    })
}
