//! A StructureDefinition's snapshot compiled for validation: the flat element list turned into
//! a tree (children by name, slices under the element they slice) with the constraints parsed
//! once.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::fhirpath::{compile_cached, Expression};

/// A compiled profile: its elements as a tree rooted at `nodes[0]`.
#[derive(Debug)]
pub(crate) struct CompiledProfile {
    /// The profile's canonical URL (`url|version` when versioned).
    pub url: String,
    /// The FHIR type it constrains (`Patient`, `Extension`, `HumanName`).
    pub type_name: String,
    /// The elements; `nodes[0]` is the root.
    pub nodes: Vec<ElementNode>,
}

/// One element of a profile.
#[derive(Debug, Default)]
pub(crate) struct ElementNode {
    /// The element id (`Observation.component:systolic.code`).
    pub id: String,
    /// The element path (`Observation.component.code`).
    pub path: String,
    /// The last path segment (`value[x]`, `name`).
    pub name: String,
    /// For a choice element, its name without `[x]`.
    pub choice: Option<String>,
    /// Minimum occurrences.
    pub min: u32,
    /// Maximum occurrences; `None` for `*`.
    pub max: Option<u32>,
    /// Whether the element may repeat in the base definition (so JSON holds an array).
    pub repeats_in_base: bool,
    /// The allowed types.
    pub types: Vec<TypeRef>,
    /// A `#path` this element takes its definition from (`Questionnaire.item.item`).
    pub content_reference: Option<String>,
    /// A required exact value.
    pub fixed: Option<Value>,
    /// A required pattern the value must contain.
    pub pattern: Option<Value>,
    /// The terminology binding.
    pub binding: Option<Binding>,
    /// The invariants.
    pub constraints: Vec<Constraint>,
    /// The longest string allowed.
    pub max_length: Option<usize>,
    /// The shortest string allowed (the `minLength` extension).
    pub min_length: Option<usize>,
    /// `minValue[x]` and `maxValue[x]`.
    pub min_value: Option<Value>,
    /// See `min_value`.
    pub max_value: Option<Value>,
    /// The slicing, when the element is sliced.
    pub slicing: Option<Slicing>,
    /// The slice name, when the element is a slice.
    pub slice_name: Option<String>,
    /// Child elements (by index), in order.
    pub children: Vec<usize>,
    /// Slices of this element (by index), in order.
    pub slices: Vec<usize>,
}

/// One allowed type of an element.
#[derive(Debug, Clone)]
pub(crate) struct TypeRef {
    /// The type code (`string`, `Reference`, `Extension`, `Resource`).
    pub code: String,
    /// Profiles the value must conform to (one of them).
    pub profiles: Vec<String>,
    /// For references and canonicals, the allowed target profiles.
    pub target_profiles: Vec<String>,
}

/// A terminology binding.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// `required`, `extensible`, `preferred` or `example`.
    pub strength: Strength,
    /// The ValueSet canonical.
    pub value_set: String,
}

/// Binding strengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// The code must come from the set.
    Required,
    /// The code should come from the set when one there fits.
    Extensible,
    /// Anything else: not checked.
    Other,
}

/// An invariant.
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    /// Its key (`ele-1`, `obs-7`).
    pub key: String,
    /// `error` or `warning`.
    pub is_error: bool,
    /// Its description.
    pub human: String,
    /// The parsed expression; `None` when it did not parse (reported as a warning).
    pub expression: Option<Arc<Expression>>,
}

/// How an element is sliced.
#[derive(Debug, Clone)]
pub(crate) struct Slicing {
    /// The discriminators.
    pub discriminators: Vec<Discriminator>,
    /// Whether slices must appear in order.
    pub ordered: bool,
    /// Whether content matching no slice is allowed, and where.
    pub rules: SlicingRules,
}

/// One discriminator.
#[derive(Debug, Clone)]
pub(crate) struct Discriminator {
    /// What is compared.
    pub kind: DiscriminatorKind,
    /// The FHIRPath (simple subset) from the sliced element to the compared element.
    pub path: String,
}

/// Discriminator kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiscriminatorKind {
    /// Equal to the slice's fixed/pattern value (or in its required binding).
    Value,
    /// Contains the slice's pattern.
    Pattern,
    /// Present or absent as the slice says.
    Exists,
    /// Of the slice's type.
    Type,
    /// Conforms to the slice's profile.
    Profile,
}

/// Slicing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlicingRules {
    /// Only the slices.
    Closed,
    /// Anything besides the slices.
    Open,
    /// Anything, after the slices.
    OpenAtEnd,
}

impl CompiledProfile {
    /// Compiles a StructureDefinition that has a snapshot; `None` when it has none.
    pub(crate) fn compile(definition: &Value) -> Option<CompiledProfile> {
        let elements = definition.pointer("/snapshot/element")?.as_array()?;
        let url = definition.get("url").and_then(Value::as_str)?.to_owned();
        let type_name = definition
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut nodes: Vec<ElementNode> = Vec::with_capacity(elements.len());
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(elements.len());
        for element in elements {
            let path = element.get("path").and_then(Value::as_str).unwrap_or("");
            let id = element
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(path)
                .to_owned();
            let index = nodes.len();
            let node = compile_element(element, &id, path);
            if index > 0 {
                attach(&mut nodes, &by_id, &id, index, node.slice_name.is_some());
            }
            by_id.insert(id, index);
            nodes.push(node);
        }
        if nodes.is_empty() {
            return None;
        }
        Some(CompiledProfile {
            url,
            type_name,
            nodes,
        })
    }

    /// The node whose id is `id` (for content references: `Questionnaire.item`).
    pub(crate) fn node_by_id(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.id == id)
    }

    /// The child of `parent` that a JSON property `key` belongs to, and for a choice the
    /// type its suffix names.
    pub(crate) fn child_for_key<'p>(
        &'p self,
        parent: usize,
        key: &str,
    ) -> Option<(usize, Option<&'p str>)> {
        let node = self.nodes.get(parent)?;
        for &child in &node.children {
            let child_node = &self.nodes[child];
            if child_node.name == key {
                return Some((child, None));
            }
            if let Some(prefix) = &child_node.choice {
                if let Some(suffix) = key.strip_prefix(prefix.as_str()) {
                    if let Some(type_ref) = child_node
                        .types
                        .iter()
                        .find(|type_ref| type_matches_suffix(&type_ref.code, suffix))
                    {
                        return Some((child, Some(type_ref.code.as_str())));
                    }
                }
            }
        }
        None
    }
}

/// Whether a choice suffix (`Quantity`, `DateTime`) names `type_code` (`Quantity`,
/// `dateTime`).
pub(crate) fn type_matches_suffix(type_code: &str, suffix: &str) -> bool {
    let mut chars = type_code.chars();
    match chars.next() {
        Some(first) => {
            suffix.len() == type_code.len()
                && suffix.starts_with(first.to_ascii_uppercase())
                && suffix[first.len_utf8()..] == *chars.as_str()
        }
        None => false,
    }
}

/// Puts node `index` (id `id`) under its parent, or among the slices of the element it
/// slices.
fn attach(
    nodes: &mut [ElementNode],
    by_id: &HashMap<String, usize>,
    id: &str,
    index: usize,
    is_slice: bool,
) {
    let last_dot = last_separator(id);
    let last_segment = &id[last_dot.map_or(0, |dot| dot + 1)..];
    if is_slice || last_segment.contains(':') {
        // `Parent.elem:slice` (or a re-slice `elem:a/b`) slices `Parent.elem`.
        if let Some(colon) = last_segment.rfind(':') {
            let sliced = &id[..id.len() - (last_segment.len() - colon)];
            if let Some(&target) = by_id.get(sliced) {
                nodes[target].slices.push(index);
                return;
            }
        }
    }
    if let Some(dot) = last_dot {
        if let Some(&parent) = by_id.get(&id[..dot]) {
            nodes[parent].children.push(index);
        }
    }
}

/// The position of the `.` that starts the last segment of an element id (dots inside a slice
/// name, after a `:`, are part of it only up to the next `.`; FHIR slice names hold no dots).
fn last_separator(id: &str) -> Option<usize> {
    id.rfind('.')
}

fn compile_element(element: &Value, id: &str, path: &str) -> ElementNode {
    let text = |key: &str| element.get(key).and_then(Value::as_str);
    let name = path.rsplit('.').next().unwrap_or(path).to_owned();
    let choice = name.strip_suffix("[x]").map(str::to_owned);
    let max = match text("max") {
        Some("*") | None => None,
        Some(number) => number.parse().ok(),
    };
    let base_max = element.pointer("/base/max").and_then(Value::as_str);
    let repeats_in_base = match base_max {
        Some(base) => base != "1" && base != "0",
        None => max.is_none_or(|max| max > 1),
    };
    let types = element
        .get("type")
        .and_then(Value::as_array)
        .map(|types| types.iter().filter_map(compile_type).collect())
        .unwrap_or_default();
    let mut fixed = None;
    let mut pattern = None;
    let mut min_value = None;
    let mut max_value = None;
    if let Some(object) = element.as_object() {
        for (key, value) in object {
            if key.starts_with("fixed") {
                fixed = Some(value.clone());
            } else if key.starts_with("pattern") {
                pattern = Some(value.clone());
            } else if key.starts_with("minValue") {
                min_value = Some(value.clone());
            } else if key.starts_with("maxValue") {
                max_value = Some(value.clone());
            }
        }
    }
    ElementNode {
        id: id.to_owned(),
        path: path.to_owned(),
        name,
        choice,
        min: element
            .get("min")
            .and_then(Value::as_u64)
            .map_or(0, |min| min.min(u64::from(u32::MAX)) as u32),
        max,
        repeats_in_base,
        types,
        content_reference: text("contentReference").map(|reference| {
            reference
                .rsplit_once('#')
                .map_or(reference, |(_, local)| local)
                .to_owned()
        }),
        fixed,
        pattern,
        binding: element.get("binding").and_then(compile_binding),
        constraints: element
            .get("constraint")
            .and_then(Value::as_array)
            .map(|constraints| constraints.iter().filter_map(compile_constraint).collect())
            .unwrap_or_default(),
        min_length: element
            .get("extension")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|extension| {
                extension.get("url").and_then(Value::as_str)
                    == Some("http://hl7.org/fhir/StructureDefinition/minLength")
            })
            .and_then(|extension| extension.get("valueInteger"))
            .and_then(Value::as_u64)
            .map(|length| length as usize),
        max_length: element
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|length| length as usize),
        min_value,
        max_value,
        slicing: element.get("slicing").and_then(compile_slicing),
        slice_name: text("sliceName").map(str::to_owned),
        children: Vec::new(),
        slices: Vec::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn compile_type(type_json: &Value) -> Option<TypeRef> {
    let code = type_json.get("code").and_then(Value::as_str)?;
    // `id` elements and primitive `value`s have FHIRPath system types; the
    // structuredefinition-fhir-type extension names the FHIR type where there is one.
    let fhir_type = type_json
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|extension| {
            extension.get("url").and_then(Value::as_str)
                == Some("http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type")
        })
        .and_then(|extension| {
            extension
                .get("valueUrl")
                .or_else(|| extension.get("valueUri"))
                .and_then(Value::as_str)
        });
    let code = match (
        code.strip_prefix("http://hl7.org/fhirpath/System."),
        fhir_type,
    ) {
        (Some(_), Some(fhir_type)) => fhir_type,
        (Some(system), None) => system,
        (None, _) => code,
    }
    .to_owned();
    Some(TypeRef {
        code,
        profiles: strings(type_json.get("profile")),
        target_profiles: strings(type_json.get("targetProfile")),
    })
}

fn compile_binding(binding: &Value) -> Option<Binding> {
    let value_set = binding.get("valueSet").and_then(Value::as_str)?.to_owned();
    let strength = match binding.get("strength").and_then(Value::as_str)? {
        "required" => Strength::Required,
        "extensible" => Strength::Extensible,
        _ => Strength::Other,
    };
    Some(Binding {
        strength,
        value_set,
    })
}

/// R4 invariants published with a known defect, and the expression later versions correct
/// them to.
const CORRECTED_INVARIANTS: &[(&str, &str, &str)] = &[(
    "que-12",
    "enableWhen.count() > 2 implies enableBehavior.exists()",
    "enableWhen.count() > 1 implies enableBehavior.exists()",
)];

fn compile_constraint(constraint: &Value) -> Option<Constraint> {
    let key = constraint.get("key").and_then(Value::as_str)?.to_owned();
    let published = constraint.get("expression").and_then(Value::as_str)?;
    let text = CORRECTED_INVARIANTS
        .iter()
        .find(|(known, wrong, _)| *known == key && *wrong == published)
        .map_or(published, |(_, _, corrected)| corrected)
        .to_owned();
    Some(Constraint {
        is_error: constraint.get("severity").and_then(Value::as_str) != Some("warning"),
        human: constraint
            .get("human")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        expression: compile_cached(&text).ok(),
        key,
    })
}

fn compile_slicing(slicing: &Value) -> Option<Slicing> {
    let discriminators = slicing
        .get("discriminator")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let kind = match item.get("type").and_then(Value::as_str)? {
                        "value" => DiscriminatorKind::Value,
                        "pattern" => DiscriminatorKind::Pattern,
                        "exists" => DiscriminatorKind::Exists,
                        "type" => DiscriminatorKind::Type,
                        "profile" => DiscriminatorKind::Profile,
                        _ => return None,
                    };
                    Some(Discriminator {
                        kind,
                        path: item.get("path").and_then(Value::as_str)?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Slicing {
        discriminators,
        ordered: slicing.get("ordered").and_then(Value::as_bool) == Some(true),
        rules: match slicing.get("rules").and_then(Value::as_str) {
            Some("closed") => SlicingRules::Closed,
            Some("openAtEnd") => SlicingRules::OpenAtEnd,
            _ => SlicingRules::Open,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshot_becomes_a_tree_with_slices() {
        let definition = json!({
            "url": "http://example.org/bp", "type": "Observation", "derivation": "constraint",
            "snapshot": {"element": [
                {"id": "Observation", "path": "Observation", "min": 0, "max": "*"},
                {"id": "Observation.component", "path": "Observation.component", "min": 2, "max": "*",
                 "base": {"max": "*"},
                 "slicing": {"discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}},
                {"id": "Observation.component.code", "path": "Observation.component.code", "min": 1, "max": "1"},
                {"id": "Observation.component:systolic", "path": "Observation.component", "sliceName": "systolic", "min": 1, "max": "1"},
                {"id": "Observation.component:systolic.code", "path": "Observation.component.code", "min": 1, "max": "1",
                 "patternCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}},
                {"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 0, "max": "1",
                 "type": [{"code": "Quantity"}, {"code": "dateTime"}]}
            ]}
        });
        let profile = CompiledProfile::compile(&definition).expect("compiles");
        assert_eq!(profile.nodes[0].children, [1, 5]);
        let component = &profile.nodes[1];
        assert_eq!(component.slices, [3]);
        assert_eq!(component.children, [2]);
        assert_eq!(profile.nodes[3].children, [4]);
        assert!(profile.nodes[4].pattern.is_some());
        assert_eq!(
            profile
                .child_for_key(0, "valueDateTime")
                .map(|(i, t)| (i, t.map(str::to_owned))),
            Some((5, Some("dateTime".to_owned())))
        );
        assert_eq!(profile.child_for_key(0, "valueString"), None);
        assert_eq!(
            profile.child_for_key(0, "component").map(|(i, _)| i),
            Some(1)
        );
    }

    #[test]
    fn choice_suffixes() {
        assert!(type_matches_suffix("dateTime", "DateTime"));
        assert!(type_matches_suffix("Quantity", "Quantity"));
        assert!(!type_matches_suffix("date", "DateTime"));
        assert!(!type_matches_suffix("string", "string"));
    }
}
