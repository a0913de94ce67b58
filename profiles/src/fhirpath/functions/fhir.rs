//! Tree navigation (children, descendants), type functions (type, is, as), utilities (trace,
//! now, today, timeOfDay) and the FHIR additions: extension, hasValue, getValue, resolve,
//! memberOf, htmlChecks, conformsTo.

use serde_json::Value as Json;

use super::super::error::EvalError;
use super::super::eval::{filter_type, resource_node, Collection, Item};
use super::super::navigation::{node_type, push_all_children, push_children};
use super::super::reference::literal_reference_parts;
use super::super::temporal::{DateTimeValue, TimeValue};
use super::super::types::{fhir_is_a, item_is, item_type, model_type, TypeTest};
use super::super::value::{FhirPathValue as V, JsonNode};
use super::collections::MAX_REPEAT_ITEMS;
use super::Call;

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: Collection<'a>,
) -> Result<Option<Collection<'a>>, EvalError> {
    Ok(Some(match name {
        "children" => {
            let mut out = Vec::new();
            for item in &input {
                if let V::Node(node) = item {
                    push_all_children(&mut out, node);
                }
            }
            out.into_iter().map(V::Node).collect()
        }
        "descendants" => {
            let mut out = Vec::new();
            let mut pending: Vec<JsonNode<'a>> = input
                .iter()
                .filter_map(|item| item.as_node().copied())
                .collect();
            while !pending.is_empty() {
                let mut next = Vec::new();
                for node in &pending {
                    push_all_children(&mut next, node);
                }
                out.extend(next.iter().copied());
                if out.len() > MAX_REPEAT_ITEMS {
                    return Err(EvalError::Limit {
                        position: call.position,
                    });
                }
                pending = next;
            }
            out.into_iter().map(V::Node).collect()
        }
        "type" => input
            .iter()
            .filter_map(item_type)
            .map(|(namespace, name)| V::TypeInfo {
                namespace,
                name: name.to_owned(),
            })
            .collect(),
        "is" => {
            let specifier = call.arg_type(0)?;
            match call.single(input)? {
                None => Vec::new(),
                Some(item) => vec![V::Boolean(item_is(&item, &specifier, TypeTest::Is))],
            }
        }
        "as" => {
            let specifier = call.arg_type(0)?;
            filter_type(
                call.single(input)?.into_iter().collect(),
                &specifier,
                TypeTest::As,
            )
        }
        "trace" => input,
        "now" => vec![V::DateTime(call.ev.now())],
        "today" => vec![V::Date(DateTimeValue {
            hour: None,
            minute: None,
            second: None,
            millis: None,
            offset_minutes: None,
            ..call.ev.now()
        })],
        "timeOfDay" => {
            let now = call.ev.now();
            vec![V::Time(TimeValue {
                hour: now.hour.unwrap_or(0),
                minute: now.minute,
                second: now.second,
                millis: now.millis,
            })]
        }
        "extension" => {
            let Some(url) = call.arg_string(0)? else {
                return Ok(Some(Vec::new()));
            };
            extensions(&input, &url)
        }
        "hasExtension" => {
            let Some(url) = call.arg_string(0)? else {
                return Ok(Some(Vec::new()));
            };
            vec![V::Boolean(!extensions(&input, &url).is_empty())]
        }
        "hasValue" => {
            let has = match input.as_slice() {
                [V::Node(node)] => node
                    .value
                    .is_some_and(|value| !value.is_object() && !value.is_array()),
                [_] => true,
                _ => false,
            };
            vec![V::Boolean(has)]
        }
        "getValue" => match input.as_slice() {
            [V::Node(node)] if node.value.is_some_and(|v| !v.is_object()) => {
                vec![V::Node(*node).to_system()]
            }
            _ => Vec::new(),
        },
        "resolve" => input
            .iter()
            .filter_map(|item| resolve(call, item))
            .collect(),
        "memberOf" => {
            let (Some(valueset), Some(terminology)) =
                (call.arg_string(0)?, call.ev.env.terminology)
            else {
                return Ok(Some(Vec::new()));
            };
            match call.single(input)? {
                Some(V::Node(JsonNode {
                    value: Some(value),
                    type_name,
                    ..
                })) => terminology
                    .member_of(value, type_name, &valueset)
                    .map(V::Boolean)
                    .into_iter()
                    .collect(),
                Some(V::String(code)) => terminology
                    .member_of(&Json::String(code), Some("code"), &valueset)
                    .map(V::Boolean)
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            }
        }
        "htmlChecks" => vec![V::Boolean(true)],
        "conformsTo" => {
            let Some(url) = call.arg_string(0)? else {
                return Ok(Some(Vec::new()));
            };
            let Some(type_name) = url.strip_prefix("http://hl7.org/fhir/StructureDefinition/")
            else {
                return Err(call.type_error("conformsTo() knows only the core profiles"));
            };
            input
                .iter()
                .map(|item| {
                    let actual = item.as_node().and_then(node_type);
                    V::Boolean(actual.is_some_and(|actual| fhir_is_a(actual, type_name)))
                })
                .collect()
        }
        _ => return Ok(None),
    }))
}

/// The extensions with `url` of every node of `input` (a primitive's from `_name`).
fn extensions<'a>(input: &[Item<'a>], url: &str) -> Collection<'a> {
    let mut found = Vec::new();
    let mut all = Vec::new();
    for item in input {
        let V::Node(node) = item else { continue };
        all.clear();
        push_children(&mut all, node, "extension");
        found.extend(all.drain(..).filter(|extension| {
            extension
                .value
                .and_then(|value| value.get("url"))
                .and_then(Json::as_str)
                == Some(url)
        }));
    }
    found
        .into_iter()
        .map(|mut node| {
            node.type_name = node.type_name.or_else(|| model_type("Extension"));
            V::Node(node)
        })
        .collect()
}

/// The resource a Reference (or canonical/uri string) points at: a contained resource, a
/// Bundle entry, then the caller's resolver; else, for a literal reference, its type only.
fn resolve<'a>(call: &Call<'_, 'a, '_>, item: &Item<'a>) -> Option<Item<'a>> {
    let V::Node(node) = item else { return None };
    let reference = match node.value? {
        Json::Object(object) => object.get("reference")?.as_str()?,
        Json::String(text) => text.as_str(),
        _ => return None,
    };
    if call.ev.env.type_only_resolve {
        return literal_reference_parts(reference)
            .and_then(|(type_name, _)| model_type(type_name))
            .map(V::UnresolvedReference);
    }
    if let Some(id) = reference.strip_prefix('#') {
        let containers = [call.ev.resource, call.ev.root];
        for container in containers.into_iter().flatten() {
            let contained = container.get("contained").and_then(Json::as_array);
            if let Some(found) = contained
                .into_iter()
                .flatten()
                .find(|resource| resource.get("id").and_then(Json::as_str) == Some(id))
            {
                return Some(resource_node(found));
            }
        }
        return None;
    }
    if let Some(bundle) = call.ev.root {
        let entries = bundle.get("entry").and_then(Json::as_array);
        let parts = literal_reference_parts(reference);
        for entry in entries.into_iter().flatten() {
            let resource = entry.get("resource");
            let by_url = entry.get("fullUrl").and_then(Json::as_str) == Some(reference);
            let by_id = parts.is_some_and(|(type_name, id)| {
                resource.is_some_and(|r| {
                    r.get("resourceType").and_then(Json::as_str) == Some(type_name)
                        && r.get("id").and_then(Json::as_str) == Some(id)
                })
            });
            if by_url || by_id {
                if let Some(resource) = resource {
                    return Some(resource_node(resource));
                }
            }
        }
    }
    if let Some(resolver) = call.ev.env.resolver {
        if let Some(found) = resolver.resolve(reference) {
            return Some(resource_node(found));
        }
    }
    literal_reference_parts(reference)
        .and_then(|(type_name, _)| model_type(type_name))
        .map(V::UnresolvedReference)
}
