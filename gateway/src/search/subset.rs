//! `_summary` and `_elements`: the part of a resource a client asked for, decided by the R4
//! type model (summary flags and minimum cardinality), marked with the `SUBSETTED` tag.

use serde_json::{json, Map, Value};
use tsunagi_profiles::model::{TypeKind, TypeModel};

/// Which part of each resource a search (or read) returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Subset {
    /// The whole resource.
    #[default]
    Full,
    /// `_summary=true`: the elements marked summary (within backbone elements too).
    Summary,
    /// `_summary=text`: `text`, `id`, `meta` and the mandatory top-level elements.
    Text,
    /// `_summary=data`: everything but `text`.
    Data,
    /// `_elements`: the named top-level elements plus the mandatory ones.
    Elements(Vec<String>),
}

/// The code and system of the tag that marks a subsetted resource.
const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

impl Subset {
    /// `resource` cut down to this subset (unchanged for [`Subset::Full`]).
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(object) = resource else {
            return resource;
        };
        let res_type = object
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let model = TypeModel::r4();
        let mut kept = match self {
            Subset::Full => return Value::Object(object),
            Subset::Summary => summary_elements(model, &res_type, object),
            Subset::Text => filter_top(object, |name| {
                matches!(name, "text" | "id" | "meta") || mandatory(model, &res_type, name)
            }),
            Subset::Data => filter_top(object, |name| name != "text"),
            Subset::Elements(names) => filter_top(object, |name| {
                matches!(name, "id" | "meta")
                    || names.iter().any(|wanted| wanted == name)
                    || mandatory(model, &res_type, name)
            }),
        };
        mark_subsetted(&mut kept);
        Value::Object(kept)
    }
}

/// The element names of an `_elements` value (`name,birthDate`).
pub fn element_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|element| !element.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Keeps `resourceType` and the elements `keep` accepts; a primitive's `_name` sibling follows
/// its element.
fn filter_top(object: Map<String, Value>, keep: impl Fn(&str) -> bool) -> Map<String, Value> {
    object
        .into_iter()
        .filter(|(key, _)| key == "resourceType" || keep(element_name(key)))
        .collect()
}

/// The element a JSON key belongs to: `_birthDate` → `birthDate`.
fn element_name(key: &str) -> &str {
    key.strip_prefix('_').unwrap_or(key)
}

fn mandatory(model: &TypeModel, type_name: &str, key: &str) -> bool {
    definition(model, type_name, key).is_some_and(|element| element.min > 0)
}

/// The element definition of a JSON key of `type_name`, choice keys (`valueQuantity`) included.
fn definition<'m>(
    model: &'m TypeModel,
    type_name: &str,
    key: &str,
) -> Option<&'m tsunagi_profiles::model::ElementDef> {
    let name = element_name(key);
    if let Some(element) = model.element(type_name, name) {
        return Some(element);
    }
    // `valueQuantity` → the choice element `value` (the suffix starts upper-case).
    let split = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map(|(at, _)| at)?;
    model
        .element(type_name, &name[..split])
        .filter(|element| element.choice)
}

/// The summary elements of an object of `type_name`; backbone elements are cut down the same
/// way, datatypes are kept whole.
fn summary_elements(
    model: &TypeModel,
    type_name: &str,
    object: Map<String, Value>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in object {
        if key == "resourceType" {
            kept.insert(key, value);
            continue;
        }
        let Some(element) = definition(model, type_name, &key) else {
            continue;
        };
        if !element.summary && key != "id" {
            continue;
        }
        let backbone = element.types.first().filter(|name| {
            model
                .get(name)
                .is_some_and(|def| def.kind == TypeKind::Backbone)
        });
        let value = match (backbone, value) {
            (Some(backbone), Value::Array(items)) => Value::Array(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::Object(item) => {
                            Value::Object(summary_elements(model, backbone, item))
                        }
                        other => other,
                    })
                    .collect(),
            ),
            (Some(backbone), Value::Object(item)) => {
                Value::Object(summary_elements(model, backbone, item))
            }
            (_, value) => value,
        };
        kept.insert(key, value);
    }
    kept
}

fn mark_subsetted(resource: &mut Map<String, Value>) {
    let meta = resource.entry("meta").or_insert_with(|| json!({}));
    if let Value::Object(meta) = meta {
        let tags = meta.entry("tag").or_insert_with(|| json!([]));
        if let Value::Array(tags) = tags {
            tags.push(json!({ "system": SUBSETTED_SYSTEM, "code": "SUBSETTED" }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> Value {
        json!({
            "resourceType": "Patient",
            "id": "p1",
            "meta": {"versionId": "2"},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
            "active": true,
            "name": [{"family": "Yamada"}],
            "birthDate": "1970-01-01",
            "_birthDate": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
            "maritalStatus": {"text": "married"},
            "photo": [{"contentType": "image/png"}],
            "contact": [{"name": {"family": "Sato"}, "gender": "female"}],
            "link": [{"other": {"reference": "Patient/p2"}, "type": "seealso"}]
        })
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn is_tagged(value: &Value) -> bool {
        value["meta"]["tag"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|tag| tag["code"] == "SUBSETTED"))
    }

    #[test]
    fn summary_keeps_summary_elements_and_cuts_backbones() {
        let summary = Subset::Summary.apply(patient());
        assert_eq!(
            keys(&summary),
            [
                "resourceType",
                "id",
                "meta",
                "active",
                "name",
                "birthDate",
                "_birthDate",
                "link"
            ]
        );
        // Patient.link is summary and so are both its children.
        assert_eq!(summary["link"][0]["type"], "seealso");
        assert_eq!(summary["meta"]["versionId"], "2");
        assert!(is_tagged(&summary));
    }

    #[test]
    fn summary_cuts_non_summary_children_of_backbone_elements() {
        let observation = json!({
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "BP"},
            "valueQuantity": {"value": 1},
            "interpretation": [{"text": "H"}],
            "component": [{"code": {"text": "sys"}, "valueQuantity": {"value": 120}, "interpretation": [{"text": "H"}]}]
        });
        let summary = Subset::Summary.apply(observation);
        assert_eq!(
            keys(&summary),
            [
                "resourceType",
                "status",
                "code",
                "valueQuantity",
                "component",
                "meta"
            ]
        );
        assert_eq!(keys(&summary["component"][0]), ["code", "valueQuantity"]);
    }

    #[test]
    fn text_data_and_elements() {
        let text = Subset::Text.apply(patient());
        assert_eq!(keys(&text), ["resourceType", "id", "meta", "text"]);
        let link_is_mandatory_in_nothing = Subset::Text.apply(json!({
            "resourceType": "Observation", "status": "final", "code": {"text": "x"}, "note": [{"text": "n"}]
        }));
        assert_eq!(
            keys(&link_is_mandatory_in_nothing),
            ["resourceType", "status", "code", "meta"]
        );
        let data = Subset::Data.apply(patient());
        assert!(data.get("text").is_none() && data.get("contact").is_some());
        assert!(is_tagged(&data));
        let elements = Subset::Elements(vec!["birthDate".into()]).apply(patient());
        assert_eq!(
            keys(&elements),
            ["resourceType", "id", "meta", "birthDate", "_birthDate"]
        );
        assert_eq!(Subset::Full.apply(patient()), patient());
    }
}
