//! The R4 type model: for every resource, datatype and backbone element, its base type and its
//! elements with their types, cardinality and summary/modifier flags. FHIRPath navigation and
//! type tests, `_summary` and validation read the structure of FHIR from here.
//!
//! Embedded from `profiles/data/types-r4.json`, which `profiles/scripts/gen_type_model.py`
//! writes from the CC0 package `hl7.fhir.r4.examples@4.0.1`; parsed on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const R4_TYPES: &str = include_str!("../data/types-r4.json");

/// What kind of type a [`TypeDef`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TypeKind {
    /// A resource (`Patient`, `Resource`, `DomainResource`).
    Resource,
    /// A complex datatype (`HumanName`, `Element`, `BackboneElement`).
    ComplexType,
    /// A primitive datatype (`string`, `dateTime`).
    PrimitiveType,
    /// A backbone element, named by its path (`Patient.contact`).
    Backbone,
}

/// One element of a type (a direct child; inherited elements are listed too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ElementDef {
    /// Its possible types: FHIR type names, backbone paths, or `System.String`-style names.
    pub types: Vec<String>,
    /// Minimum cardinality.
    pub min: u32,
    /// Maximum cardinality (`"1"`, `"*"`, …).
    pub max: String,
    /// A choice element (`value[x]`, listed as `value`): JSON names carry the type suffix.
    #[serde(default)]
    pub choice: bool,
    /// Part of the summary view (`_summary=true`).
    #[serde(default)]
    pub summary: bool,
    /// A modifier element.
    #[serde(default)]
    pub modifier: bool,
    /// Reference/canonical target types.
    #[serde(default)]
    pub targets: Vec<String>,
}

impl ElementDef {
    /// Whether the element may repeat (max other than 0 or 1).
    pub fn repeats(&self) -> bool {
        !matches!(self.max.as_str(), "0" | "1")
    }
}

/// One type of the model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TypeDef {
    /// Resource, datatype or backbone element.
    pub kind: TypeKind,
    /// The type it specializes (`DomainResource` for `Patient`), `None` for the roots.
    pub base: Option<String>,
    /// Abstract (`Resource`, `Element`, `Quantity`'s base is not).
    #[serde(rename = "abstract")]
    pub is_abstract: bool,
    /// Its elements by name (choice elements without `[x]`).
    pub elements: HashMap<String, ElementDef>,
}

/// The R4 types by name.
#[derive(Debug)]
pub struct TypeModel {
    types: HashMap<String, TypeDef>,
}

impl TypeModel {
    /// The embedded R4 model (parsed once).
    pub fn r4() -> &'static TypeModel {
        static MODEL: OnceLock<TypeModel> = OnceLock::new();
        MODEL.get_or_init(|| TypeModel {
            // The file is generated and embedded; a parse failure is a build defect that every
            // test of this crate would show.
            types: serde_json::from_str(R4_TYPES).unwrap_or_default(),
        })
    }

    /// A type by name (`Patient`, `HumanName`, `Patient.contact`).
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// An element of a type by name (`value` for `valueQuantity`'s choice).
    pub fn element(&self, type_name: &str, element: &str) -> Option<&ElementDef> {
        self.get(type_name)?.elements.get(element)
    }

    /// Whether `type_name` is `ancestor` or derives from it (`Patient` is a `DomainResource`).
    pub fn is_a(&self, type_name: &str, ancestor: &str) -> bool {
        let mut current = Some(type_name);
        // The chain is at most five deep in R4; the bound guards against a malformed model.
        for _ in 0..16 {
            match current {
                Some(name) if name == ancestor => return true,
                Some(name) => current = self.get(name).and_then(|def| def.base.as_deref()),
                None => return false,
            }
        }
        false
    }

    /// Every type name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_datatypes_and_backbones_are_described() {
        let model = TypeModel::r4();
        let name = model.element("Patient", "name").expect("Patient.name");
        assert_eq!(name.types, ["HumanName"]);
        assert!(name.repeats() && name.summary);
        let value = model
            .element("Observation", "value")
            .expect("Observation.value[x]");
        assert!(value.choice);
        assert!(value.types.iter().any(|t| t == "Quantity"));
        assert_eq!(
            model.element("Patient", "contact").map(|e| e.types.clone()),
            Some(vec!["Patient.contact".to_owned()])
        );
        assert_eq!(
            model.get("Patient.contact").map(|t| t.kind),
            Some(TypeKind::Backbone)
        );
        assert_eq!(
            model
                .element("Questionnaire.item", "item")
                .map(|e| e.types.clone()),
            Some(vec!["Questionnaire.item".to_owned()])
        );
        assert!(!model.element("Patient", "text").expect("text").summary);
        assert_eq!(
            model
                .element("Observation", "subject")
                .map(|e| e.targets.len() > 1),
            Some(true)
        );
    }

    #[test]
    fn type_ancestry() {
        let model = TypeModel::r4();
        assert!(model.is_a("Patient", "DomainResource"));
        assert!(model.is_a("Patient", "Resource"));
        assert!(model.is_a("Age", "Quantity"));
        assert!(!model.is_a("Quantity", "Age"));
        assert!(!model.is_a("Bundle", "DomainResource"));
        assert!(model.is_a("code", "string"));
    }
}
