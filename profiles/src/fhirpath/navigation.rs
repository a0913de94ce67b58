//! Walking the JSON form of a resource with the R4 type model: a node's children by name
//! (choice elements `value[x]`, primitive `_name` siblings, arrays flattened), typed as the
//! model says, and all children (for `children()`/`descendants()`).

use serde_json::{Map, Value};

use super::types::{choice_suffix_type, model_type};
use super::value::JsonNode;
use crate::model::{ElementDef, TypeKind, TypeModel};

/// The type of a JSON node: its recorded type, refined to the `resourceType` of a resource.
pub(crate) fn node_type(node: &JsonNode<'_>) -> Option<&'static str> {
    match (node.type_name, node.value) {
        (Some(declared), Some(Value::Object(object)))
            if matches!(declared, "Resource" | "DomainResource") =>
        {
            resource_type(object).or(Some(declared))
        }
        (Some(declared), _) => Some(declared),
        (None, Some(Value::Object(object))) => resource_type(object),
        _ => None,
    }
}

fn resource_type(object: &Map<String, Value>) -> Option<&'static str> {
    object
        .get("resourceType")
        .and_then(Value::as_str)
        .and_then(model_type)
}

/// What a name step found.
pub(crate) enum Lookup {
    /// The model knows the element (found or not in this node).
    Known,
    /// The node's type is known and has no such element.
    Unknown,
    /// The node's type is not known: the JSON was searched as it is.
    Untyped,
}

/// The model's element `name` of `type_name`, following the base types.
pub(crate) fn element_def(type_name: &str, name: &str) -> Option<&'static ElementDef> {
    let model = TypeModel::r4();
    let mut current = Some(type_name);
    for _ in 0..16 {
        let definition = model.get(current?)?;
        if let Some(element) = definition.elements.get(name) {
            return Some(element);
        }
        current = definition.base.as_deref();
    }
    None
}

/// Upper-cases the first letter (`dateTime` → `DateTime`), as choice names spell types.
fn capitalised(type_name: &str) -> String {
    let mut chars = type_name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Appends the children of `node` named `name`.
pub(crate) fn push_children<'a>(
    out: &mut Vec<JsonNode<'a>>,
    node: &JsonNode<'a>,
    name: &str,
) -> Lookup {
    let object = match node.value {
        Some(Value::Object(object)) => object,
        // A primitive's `id` and `extension` live in its `_name` object.
        _ => {
            if let Some(Value::Object(element)) = node.element {
                if matches!(name, "id" | "extension") {
                    let type_name = if name == "id" { "string" } else { "Extension" };
                    push_values(out, element.get(name), None, model_type(type_name));
                }
            }
            return if node.type_name.is_some() {
                Lookup::Known
            } else {
                Lookup::Untyped
            };
        }
    };
    let Some(type_name) = node_type(node) else {
        push_untyped(out, object, name);
        return Lookup::Untyped;
    };
    let Some(element) = element_def(type_name, name) else {
        if TypeModel::r4().get(type_name).is_none() {
            push_untyped(out, object, name);
            return Lookup::Untyped;
        }
        return Lookup::Unknown;
    };
    if element.choice {
        for (key, value) in object {
            let Some(suffix) = key.strip_prefix(name) else {
                continue;
            };
            let chosen = element
                .types
                .iter()
                .find(|candidate| capitalised(candidate) == suffix);
            if let Some(chosen) = chosen {
                let sibling = object.get(&format!("_{key}"));
                push_values(out, Some(value), sibling, Some(chosen.as_str()));
            }
        }
        // A choice primitive with only extensions (`_valueString`).
        for (key, sibling) in object {
            let Some(own_key) = key.strip_prefix('_') else {
                continue;
            };
            let Some(suffix) = own_key.strip_prefix(name) else {
                continue;
            };
            if object.contains_key(own_key) {
                continue;
            }
            if let Some(chosen) = element.types.iter().find(|t| capitalised(t) == suffix) {
                push_values(out, None, Some(sibling), Some(chosen.as_str()));
            }
        }
    } else {
        let declared = element
            .types
            .first()
            .map(|declared| fhir_type_of_system(declared, type_name, name));
        // Only primitives (lower-case type names) have `_name` siblings: no lookup otherwise.
        let primitive = declared.is_none_or(|t| t.starts_with(|c: char| c.is_ascii_lowercase()));
        let sibling = if primitive {
            object.get(&format!("_{name}"))
        } else {
            None
        };
        push_values(out, object.get(name), sibling, declared);
    }
    Lookup::Known
}

/// The FHIR type of an element the model lists with a System type: `Resource.id` is an `id`,
/// `Extension.url` a `uri`, other such elements (`Element.id`) `string`s.
fn fhir_type_of_system(declared: &'static str, parent: &str, name: &str) -> &'static str {
    if declared != "System.String" {
        return declared;
    }
    let parent_is_resource = TypeModel::r4()
        .get(parent)
        .is_some_and(|definition| definition.kind == TypeKind::Resource);
    match name {
        "id" if parent_is_resource => "id",
        "url" => "uri",
        _ => "string",
    }
}

/// Appends `value` (flattened) paired with its `_name` sibling (aligned by index).
fn push_values<'a>(
    out: &mut Vec<JsonNode<'a>>,
    value: Option<&'a Value>,
    sibling: Option<&'a Value>,
    type_name: Option<&'static str>,
) {
    let present = |v: Option<&'a Value>| v.filter(|v| !v.is_null());
    match (value, sibling) {
        (Some(Value::Array(values)), Some(Value::Array(siblings))) => {
            for index in 0..values.len().max(siblings.len()) {
                push_one(
                    out,
                    present(values.get(index)),
                    present(siblings.get(index)),
                    type_name,
                );
            }
        }
        (Some(Value::Array(values)), _) => {
            for value in values {
                push_one(out, present(Some(value)), None, type_name);
            }
        }
        (None | Some(Value::Null), Some(Value::Array(siblings))) => {
            for sibling in siblings {
                push_one(out, None, present(Some(sibling)), type_name);
            }
        }
        _ => push_one(out, present(value), present(sibling), type_name),
    }
}

fn push_one<'a>(
    out: &mut Vec<JsonNode<'a>>,
    value: Option<&'a Value>,
    element: Option<&'a Value>,
    type_name: Option<&'static str>,
) {
    if value.is_none() && element.is_none() {
        return;
    }
    let mut node = JsonNode {
        value,
        element,
        type_name,
    };
    if let Some(Value::Object(object)) = value {
        if object.contains_key("resourceType") {
            node.type_name = node_type(&node);
        }
    }
    out.push(node);
}

/// Navigation without a model: the key itself, else a choice key typed by its suffix.
fn push_untyped<'a>(out: &mut Vec<JsonNode<'a>>, object: &'a Map<String, Value>, name: &str) {
    if let Some(value) = object.get(name) {
        push_values(out, Some(value), object.get(&format!("_{name}")), None);
        return;
    }
    for (key, value) in object {
        let suffix_type = key
            .strip_prefix(name)
            .filter(|suffix| suffix.starts_with(|c: char| c.is_ascii_uppercase()))
            .and_then(choice_suffix_type);
        if let Some(type_name) = suffix_type {
            push_values(out, Some(value), None, Some(type_name));
            return;
        }
    }
}

/// Appends every child of `node` (in document order, `_name` siblings merged).
pub(crate) fn push_all_children<'a>(out: &mut Vec<JsonNode<'a>>, node: &JsonNode<'a>) {
    let Some(Value::Object(object)) = node.value else {
        if let Some(Value::Object(element)) = node.element {
            for name in ["id", "extension"] {
                if element.contains_key(name) {
                    push_children(out, node, name);
                }
            }
        }
        return;
    };
    let type_name = node_type(node);
    for (key, value) in object {
        if key == "resourceType" {
            continue;
        }
        let (name, own) = match key.strip_prefix('_') {
            Some(base) if object.contains_key(base) => continue,
            Some(base) => (base, None),
            None => (key.as_str(), Some(value)),
        };
        let sibling = object.get(&format!("_{name}"));
        let declared = type_name.and_then(|type_name| {
            child_type(type_name, name)
                .map(|declared| fhir_type_of_system(declared, type_name, name))
        });
        push_values(out, own, sibling, declared);
    }
}

/// The type of the JSON key `key` in a `type_name` (choice keys by their suffix).
fn child_type(type_name: &str, key: &str) -> Option<&'static str> {
    if let Some(element) = element_def(type_name, key) {
        if !element.choice {
            return element.types.first().map(String::as_str);
        }
    }
    let split = key
        .char_indices()
        .filter(|(_, c)| c.is_ascii_uppercase())
        .map(|(at, _)| at);
    for at in split {
        let (name, suffix) = key.split_at(at);
        if let Some(element) = element_def(type_name, name).filter(|e| e.choice) {
            return element
                .types
                .iter()
                .find(|candidate| capitalised(candidate) == suffix)
                .map(String::as_str);
        }
    }
    None
}
