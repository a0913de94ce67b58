//! The evaluation environment: variables (`%name`), the `resolve()` and `memberOf()` hooks a
//! caller supplies, and the fixed FHIR variables (`%ucum`, `%sct`, `%loinc`, `%vs-*`, `%ext-*`).

use std::collections::HashMap;

use serde_json::Value;

use super::value::FhirPathValue;

/// Finds the resource a reference points at (beyond the Bundle and contained resources the
/// engine searches itself).
pub trait ReferenceResolver: Send + Sync {
    /// The resource `reference` (as written: relative, absolute, or a canonical) names.
    fn resolve(&self, reference: &str) -> Option<&Value>;
}

/// Answers `memberOf(valueset)` for codes, Codings and CodeableConcepts.
pub trait Terminology: Send + Sync {
    /// Whether the coded value (`code`, `Coding` or `CodeableConcept` JSON) is in the value
    /// set `valueset` (a canonical URL); `None` when it cannot be told.
    fn member_of(&self, coded: &Value, type_name: Option<&str>, valueset: &str) -> Option<bool>;
}

/// Variables and hooks for one or many evaluations.
#[derive(Default, Clone)]
pub struct Environment<'a> {
    pub(crate) variables: HashMap<String, Vec<FhirPathValue<'a>>>,
    pub(crate) resolver: Option<&'a dyn ReferenceResolver>,
    pub(crate) terminology: Option<&'a dyn Terminology>,
    pub(crate) root_resource: Option<&'a Value>,
    /// `resolve()` looks only at the reference's type (the search view, which indexes
    /// references as written).
    pub(crate) type_only_resolve: bool,
}

impl<'a> Environment<'a> {
    /// An environment with no variables and no hooks.
    pub fn new() -> Environment<'a> {
        Environment::default()
    }

    /// The environment of the search view: `resolve()` tells a reference's type only.
    pub(crate) fn search_view() -> Environment<'a> {
        Environment {
            type_only_resolve: true,
            ..Environment::default()
        }
    }

    /// Sets the user variable `%name` to `value`.
    pub fn with_variable(mut self, name: &str, value: Vec<FhirPathValue<'a>>) -> Self {
        self.variables.insert(name.to_owned(), value);
        self
    }

    /// Uses `resolver` for references `resolve()` does not find in the resource itself.
    pub fn with_resolver(mut self, resolver: &'a dyn ReferenceResolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Uses `terminology` for `memberOf()`.
    pub fn with_terminology(mut self, terminology: &'a dyn Terminology) -> Self {
        self.terminology = Some(terminology);
        self
    }

    /// Sets `%rootResource` (by default the evaluated resource), e.g. the Bundle that holds it.
    pub fn with_root_resource(mut self, root: &'a Value) -> Self {
        self.root_resource = Some(root);
        self
    }
}

/// The value of a fixed FHIR variable (`%ucum`, `%vs-name`, `%ext-name`, …).
pub(crate) fn fixed_variable(name: &str) -> Option<String> {
    Some(match name {
        "ucum" => "http://unitsofmeasure.org".to_owned(),
        "sct" => "http://snomed.info/sct".to_owned(),
        "loinc" => "http://loinc.org".to_owned(),
        _ => {
            if let Some(valueset) = name.strip_prefix("vs-") {
                format!("http://hl7.org/fhir/ValueSet/{valueset}")
            } else if let Some(extension) = name.strip_prefix("ext-") {
                format!("http://hl7.org/fhir/StructureDefinition/{extension}")
            } else {
                return None;
            }
        }
    })
}
