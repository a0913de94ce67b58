//! References and Bundles: a reference's target type checked against the element's target
//! profiles (from the reference text, a contained resource or a Bundle entry), contained
//! references resolved, Bundle entries' `fullUrl` rules, and the contexts an extension may be
//! used in.

use serde_json::{Map, Value};

use super::compiled::ElementNode;
use super::outcome::IssueType;
use super::walk::{ExtensionSite, Walk};
use crate::is_resource_type;
use crate::model::TypeModel;

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

/// The type and id a RESTful reference or URL names (`Patient/1`, `http://x/fhir/Patient/1`,
/// either with `/_history/v`).
fn rest_target(reference: &str) -> Option<(&str, &str)> {
    let is_id = |text: &str| {
        (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    let mut parts: Vec<&str> = reference.rsplitn(5, '/').collect();
    // `Type/id/_history/v` → drop the version part.
    if parts.len() >= 4 && parts[1] == "_history" && is_id(parts[0]) {
        parts.drain(..2);
    }
    let (id, res_type) = (*parts.first()?, *parts.get(1)?);
    (is_id(id) && is_resource_type(res_type)).then_some((res_type, id))
}

/// Checks the target type of a Reference value.
pub(crate) fn check_reference(
    walk: &mut Walk<'_, '_>,
    element: &ElementNode,
    object: &Map<String, Value>,
    path: &str,
) {
    let Some(reference) = object.get("reference").and_then(Value::as_str) else {
        return;
    };
    let target_type = match reference.strip_prefix('#') {
        Some(local) => match contained_type(walk, local) {
            Some(found) => Some(found),
            None => {
                walk.error(
                    IssueType::Required,
                    &format!("{path}.reference"),
                    format!("Bundled or contained reference not found within the bundle/resource {reference}"),
                );
                return;
            }
        },
        None if reference.starts_with("urn:") => bundle_entry_type(walk.root, reference),
        None => rest_target(reference).map(|(res_type, _)| res_type.to_owned()),
    };
    let declared = object.get("type").and_then(Value::as_str);
    if let (Some(found), Some(declared)) = (&target_type, declared) {
        if found != declared {
            walk.error(
                IssueType::Invalid,
                path,
                format!("the reference {reference} is to a {found}, but its type says {declared}"),
            );
        }
    }
    let Some(found) = target_type.or_else(|| declared.map(str::to_owned)) else {
        return;
    };
    let allowed = allowed_targets(walk, element);
    if allowed.is_empty()
        || allowed
            .iter()
            .any(|t| t == "Resource" || *t == found || TypeModel::r4().is_a(&found, t))
    {
        return;
    }
    walk.error(
        IssueType::Structure,
        path,
        format!(
            "The type '{found}' implied by the reference URL {reference} is not a valid Target for this element (must be one of [{}])",
            allowed.join(", ")
        ),
    );
}

/// The resource types the element's target profiles allow (empty: any).
fn allowed_targets(walk: &Walk<'_, '_>, element: &ElementNode) -> Vec<String> {
    element
        .types
        .iter()
        .filter(|t| t.code == "Reference")
        .flat_map(|t| t.target_profiles.iter())
        .filter_map(|canonical| match canonical.strip_prefix(CORE_PREFIX) {
            Some(name) if is_resource_type(name) || name == "Resource" => Some(name.to_owned()),
            _ => walk
                .validator
                .registry
                .structure_definition(canonical)
                .and_then(|definition| {
                    definition
                        .get("type")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                }),
        })
        .collect()
}

/// The type of the contained resource `#local` names (the container itself for `#`).
fn contained_type(walk: &Walk<'_, '_>, local: &str) -> Option<String> {
    let container = walk.root_resource();
    let type_of = |resource: &Value| {
        resource
            .get("resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if local.is_empty() {
        return type_of(container);
    }
    [walk.current_resource(), container]
        .iter()
        .filter_map(|resource| resource.get("contained").and_then(Value::as_array))
        .flatten()
        .find(|resource| resource.get("id").and_then(Value::as_str) == Some(local))
        .and_then(type_of)
}

/// The type of the Bundle entry whose `fullUrl` is `url`, when the root is a Bundle.
fn bundle_entry_type(root: &Value, url: &str) -> Option<String> {
    root.get("entry")?
        .as_array()?
        .iter()
        .find(|entry| entry.get("fullUrl").and_then(Value::as_str) == Some(url))?
        .pointer("/resource/resourceType")?
        .as_str()
        .map(str::to_owned)
}

/// The Bundle rules on entries and links.
pub(crate) fn check_bundle(walk: &mut Walk<'_, '_>, bundle: &Map<String, Value>, path: &str) {
    let bundle_type = bundle.get("type").and_then(Value::as_str).unwrap_or("");
    let needs_full_url = !matches!(
        bundle_type,
        "transaction" | "batch" | "transaction-response" | "batch-response"
    );
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (index, entry) in entries.iter().enumerate() {
        let entry_path = format!("{path}.entry[{index}]");
        let resource = entry.get("resource");
        let full_url = entry.get("fullUrl").and_then(Value::as_str);
        match (full_url, resource) {
            (None, Some(_))
                if needs_full_url
                    && entry.pointer("/search/mode").and_then(Value::as_str) != Some("outcome") =>
            {
                walk.error(
                IssueType::Invalid,
                &entry_path,
                "Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry",
            );
            }
            (Some(url), _) if !url.contains(':') => walk.error(
                IssueType::Invalid,
                &entry_path,
                format!("The fullUrl must be an absolute URL (not '{url}')"),
            ),
            (Some(url), Some(resource)) if url.starts_with("http") => {
                if let Some((res_type, id)) = rest_target(url) {
                    let actual_type = resource.get("resourceType").and_then(Value::as_str);
                    let actual_id = resource.get("id").and_then(Value::as_str);
                    if actual_type != Some(res_type)
                        || (actual_id.is_some() && actual_id != Some(id))
                    {
                        walk.error(
                            IssueType::Invalid,
                            &entry_path,
                            format!(
                                "The fullUrl '{url}' looks like a RESTful server URL, so it must end with the correct type and id (/{}/{})",
                                actual_type.unwrap_or(""),
                                actual_id.unwrap_or("")
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    let links = bundle
        .get("link")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut seen: Vec<&str> = Vec::new();
    for (index, link) in links.iter().enumerate() {
        let Some(relation) = link.get("relation").and_then(Value::as_str) else {
            continue;
        };
        let single = matches!(
            relation,
            "self" | "first" | "previous" | "prev" | "next" | "last"
        );
        if single && seen.contains(&relation) {
            walk.error(
                IssueType::Invalid,
                &format!("{path}.link[{index}]"),
                format!("The link relationship type '{relation}' can only occur once"),
            );
        }
        seen.push(relation);
    }
}

/// Whether an extension's `context` allows it at `site` (no context: anywhere).
pub(crate) fn extension_context_allows<'v>(
    walk: &mut Walk<'_, 'v>,
    definition: &Value,
    site: &ExtensionSite<'v>,
) -> bool {
    // Every context invariant must hold on the resource that uses the extension.
    let invariants = definition.get("contextInvariant").and_then(Value::as_array);
    for invariant in invariants.into_iter().flatten().filter_map(Value::as_str) {
        if super::invariants::evaluate_on_resource(walk, invariant, None) == Some(false) {
            return false;
        }
    }
    let Some(contexts) = definition.get("context").and_then(Value::as_array) else {
        return true;
    };
    if contexts.is_empty() {
        return true;
    }
    let model = TypeModel::r4();
    let relative = [type_relative(&site.element_path), type_relative(&site.path)];
    contexts.iter().any(|context| {
        let expression = context
            .get("expression")
            .and_then(Value::as_str)
            .unwrap_or("");
        match context
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("element")
        {
            "extension" => site.parent_url.as_deref() == Some(expression),
            // A FHIRPath context: its leading path must name the element (the filter after it
            // is not evaluated).
            "fhirpath" => {
                super::invariants::evaluate_on_resource(walk, expression, Some(site.holder))
                    == Some(true)
            }
            _ => {
                let (root, rest) = expression.split_once('.').unwrap_or((expression, ""));
                let site_root = site.path.split('.').next().unwrap_or("");
                let ancestor_path = !rest.is_empty()
                    && model.is_a(site_root, root)
                    && site
                        .path
                        .split_once('.')
                        .is_some_and(|(_, site_rest)| site_rest == rest);
                let canonical_resource =
                    matches!(expression, "CanonicalResource" | "MetadataResource")
                        && site.path == site.type_code
                        && model.element(&site.type_code, "url").is_some();
                ancestor_path
                    || canonical_resource
                    || expression == "Element"
                    || expression == site.type_code
                    || expression == site.path
                    || expression == site.element_path
                    || relative.iter().flatten().any(|path| path == expression)
                    || model.is_a(&site.type_code, expression)
            }
        }
    })
}

/// An element path relative to the datatype that defines its last step
/// (`Patient.address.line` → `Address.line`), when the model knows the types on the way.
fn type_relative(path: &str) -> Option<String> {
    let model = TypeModel::r4();
    let mut steps = path.split('.');
    let mut current = steps.next()?.to_owned();
    let steps: Vec<&str> = steps.collect();
    let (last, middle) = steps.split_last()?;
    for step in middle {
        current = model.element(&current, step)?.types.first()?.clone();
    }
    Some(format!("{current}.{last}"))
}

/// The contexts of an extension, for messages.
pub(crate) fn context_summary(definition: &Value) -> String {
    definition
        .get("context")
        .and_then(Value::as_array)
        .map(|contexts| {
            contexts
                .iter()
                .filter_map(|c| c.get("expression").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// An Attachment's stated `size` must be the length of its `data`.
pub(crate) fn check_attachment(
    walk: &mut Walk<'_, '_>,
    attachment: &Map<String, Value>,
    path: &str,
) {
    let (Some(data), Some(size)) = (
        attachment.get("data").and_then(Value::as_str),
        attachment.get("size").and_then(Value::as_u64),
    ) else {
        return;
    };
    let symbols = data.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let padding = data
        .bytes()
        .rev()
        .filter(|b| !b.is_ascii_whitespace())
        .take_while(|b| *b == b'=')
        .count();
    let actual = (symbols / 4 * 3).saturating_sub(padding) as u64;
    if symbols % 4 == 0 && actual != size {
        walk.error(
            IssueType::Structure,
            path,
            format!("Stated Attachment Size {size} does not match actual attachment size {actual}"),
        );
    }
}

/// The resource type a RESTful reference text names (`Patient/1`, `http://x/Patient/1`).
pub(crate) fn literal_type(reference: &str) -> Option<String> {
    rest_target(reference).map(|(res_type, _)| res_type.to_owned())
}
