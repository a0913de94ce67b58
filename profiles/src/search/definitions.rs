//! FHIR R4 `SearchParameter` definitions and the lookups search needs: a parameter of a
//! resource type by its code (own or inherited from `Resource`/`DomainResource`), every
//! parameter of a type, and a definition by its canonical URL.
//!
//! The R4 set is embedded from `profiles/data/search-parameters-r4.json`, which
//! `profiles/scripts/gen_search_parameters.py` writes from the CC0 package
//! `hl7.fhir.r4.examples@4.0.1`. Definitions from packages loaded later go through
//! [`SearchParameters::from_resources`].

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::Value;

use crate::is_resource_type;

/// The R4 definitions as generated; the field names are those of the `SearchParameter` resource.
const R4_DEFINITIONS: &str = include_str!("../../data/search-parameters-r4.json");

/// Resource types that derive from `Resource` directly, so `DomainResource` parameters
/// (`_text`) do not apply to them.
const NOT_DOMAIN_RESOURCES: &[&str] = &["Binary", "Bundle", "Parameters"];

/// The type of a search parameter (`SearchParameter.type`), which decides how values are
/// indexed and how query values are parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchParamType {
    /// A decimal or integer, matched with its implied precision range.
    Number,
    /// A date, dateTime, instant, Period or Timing, matched as a time range.
    Date,
    /// Text matched case- and accent-insensitively from the start.
    String,
    /// A code with an optional system (Coding, Identifier, code, boolean, …).
    Token,
    /// A reference to another resource.
    Reference,
    /// A tuple of other parameters' values, as its components define.
    Composite,
    /// A number with a unit.
    Quantity,
    /// A URI, matched exactly or by prefix (`:below`/`:above`).
    Uri,
    /// Searched by parameter-specific logic (`near`, `_filter`).
    Special,
}

impl SearchParamType {
    /// Every type, in the order the FHIR specification lists them.
    const ALL: [SearchParamType; 9] = [
        SearchParamType::Number,
        SearchParamType::Date,
        SearchParamType::String,
        SearchParamType::Token,
        SearchParamType::Reference,
        SearchParamType::Composite,
        SearchParamType::Quantity,
        SearchParamType::Uri,
        SearchParamType::Special,
    ];

    /// The code FHIR uses for this type (`SearchParameter.type`), e.g. `token`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SearchParamType::Number => "number",
            SearchParamType::Date => "date",
            SearchParamType::String => "string",
            SearchParamType::Token => "token",
            SearchParamType::Reference => "reference",
            SearchParamType::Composite => "composite",
            SearchParamType::Quantity => "quantity",
            SearchParamType::Uri => "uri",
            SearchParamType::Special => "special",
        }
    }

    /// The type for a FHIR code such as `token`; `None` for anything else (codes are
    /// case-sensitive).
    pub fn parse(code: &str) -> Option<SearchParamType> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == code)
    }
}

/// One part of a composite parameter (`SearchParameter.component`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Canonical URL of the parameter that types this part (e.g. `…/clinical-code`).
    pub definition: String,
    /// FHIRPath expression evaluated on each value the composite's own expression selects.
    pub expression: String,
}

/// One search parameter definition: the facts of a `SearchParameter` resource that indexing
/// and query parsing use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParamDef {
    /// Canonical URL (`SearchParameter.url`).
    pub url: String,
    /// The name used in queries (`patient`, `_id`, `code-value-quantity`).
    pub code: String,
    /// The resource types it applies to; several for R4's shared parameters such as
    /// `clinical-patient`, `Resource` or `DomainResource` for the common ones.
    pub base: Vec<String>,
    /// How values are indexed and compared.
    pub kind: SearchParamType,
    /// FHIRPath selecting the values; for multi-base parameters a union with one branch per
    /// base type. `None` for parameters the server computes itself (`_content`, `_text`,
    /// `_query`, `_filter`).
    pub expression: Option<String>,
    /// Resource types a reference parameter may point to.
    pub targets: Vec<String>,
    /// The parts of a composite parameter, in order.
    pub components: Vec<Component>,
}

impl SearchParamDef {
    /// Reads a definition from a `SearchParameter` resource (or an entry of the generated R4
    /// file, which uses the same field names). `None` when it is another resource type or
    /// lacks a url, code or known type; malformed optional fields are ignored.
    fn from_resource(resource: &Value) -> Option<SearchParamDef> {
        match resource.get("resourceType") {
            None => {}
            Some(kind) if kind.as_str() == Some("SearchParameter") => {}
            Some(_) => return None,
        }
        Some(SearchParamDef {
            url: text_field(resource, "url")?,
            code: text_field(resource, "code")?,
            base: text_list(resource, "base"),
            kind: SearchParamType::parse(resource.get("type")?.as_str()?)?,
            expression: text_field(resource, "expression"),
            targets: text_list(resource, "target"),
            components: components(resource),
        })
    }
}

/// A string field of a JSON object, owned.
fn text_field(object: &Value, name: &str) -> Option<String> {
    object.get(name)?.as_str().map(str::to_owned)
}

/// The strings of an array field; missing field or non-string items give nothing.
fn text_list(object: &Value, name: &str) -> Vec<String> {
    let items = object.get(name).and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// The components with both a definition and an expression.
fn components(resource: &Value) -> Vec<Component> {
    let items = resource.get("component").and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .filter_map(|item| {
            Some(Component {
                definition: text_field(item, "definition")?,
                expression: text_field(item, "expression")?,
            })
        })
        .collect()
}

/// A set of search parameter definitions, indexed by resource type and code and by URL.
#[derive(Debug, Clone, Default)]
pub struct SearchParameters {
    /// Every definition, in the order given.
    defs: Vec<SearchParamDef>,
    /// Base type → code → index into `defs`.
    by_base: HashMap<String, HashMap<String, usize>>,
    /// Canonical URL → index into `defs`.
    by_url: HashMap<String, usize>,
}

impl SearchParameters {
    /// The R4 definitions embedded with `include_str!` from
    /// `profiles/data/search-parameters-r4.json`, parsed once (`std::sync::OnceLock`).
    pub fn r4() -> &'static SearchParameters {
        static R4: OnceLock<SearchParameters> = OnceLock::new();
        R4.get_or_init(|| {
            // The file is generated and checked by the unit tests, so it always parses; an
            // empty set (rather than a panic) is the fallback should it ever not.
            let resources: Vec<Value> = serde_json::from_str(R4_DEFINITIONS).unwrap_or_default();
            SearchParameters::from_resources(&resources)
        })
    }

    /// Indexes the given definitions. When two share a URL, or a base and code, the later one
    /// is the one found (so a package can override a definition); [`Self::all`] keeps both.
    pub fn from_definitions(defs: Vec<SearchParamDef>) -> SearchParameters {
        let mut by_base: HashMap<String, HashMap<String, usize>> = HashMap::new();
        let mut by_url = HashMap::new();
        for (index, def) in defs.iter().enumerate() {
            by_url.insert(def.url.clone(), index);
            for base in &def.base {
                let codes = by_base.entry(base.clone()).or_default();
                codes.insert(def.code.clone(), index);
            }
        }
        SearchParameters {
            defs,
            by_base,
            by_url,
        }
    }

    /// Parses definitions from `SearchParameter` resources (JSON values) — for packages
    /// loaded later. Values that are not usable definitions (another resource type, no url,
    /// code or known type) are skipped; `experimental` ones are kept.
    pub fn from_resources(resources: &[Value]) -> SearchParameters {
        let defs = resources
            .iter()
            .filter_map(SearchParamDef::from_resource)
            .collect();
        SearchParameters::from_definitions(defs)
    }

    /// The parameter `code` of `res_type`, including those whose base is `Resource` (any
    /// R4 resource type: `_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`, `_source`,
    /// `_content`, …) or `DomainResource` (all but Binary, Bundle and Parameters: `_text`).
    /// A type's own parameter wins over an inherited one of the same code.
    pub fn param(&self, res_type: &str, code: &str) -> Option<&SearchParamDef> {
        std::iter::once(res_type)
            .chain(ancestors(res_type).iter().copied())
            .find_map(|base| self.own(base, code))
    }

    /// Every parameter of `res_type` (own and inherited, as [`Self::param`] finds them), in a
    /// stable order (by code).
    pub fn for_type(&self, res_type: &str) -> Vec<&SearchParamDef> {
        let mut by_code: BTreeMap<&str, &SearchParamDef> = BTreeMap::new();
        // Most general first, so the type's own definitions replace inherited ones.
        let bases = ancestors(res_type).iter().rev().copied();
        for base in bases.chain(std::iter::once(res_type)) {
            for &index in self.by_base.get(base).into_iter().flat_map(HashMap::values) {
                if let Some(def) = self.defs.get(index) {
                    by_code.insert(def.code.as_str(), def);
                }
            }
        }
        by_code.into_values().collect()
    }

    /// The definition with this canonical URL (without a `|version` suffix).
    pub fn by_url(&self, url: &str) -> Option<&SearchParamDef> {
        self.by_url.get(url).and_then(|&index| self.defs.get(index))
    }

    /// Every definition, in the order they were given (the R4 set: sorted by URL).
    pub fn all(&self) -> &[SearchParamDef] {
        &self.defs
    }

    /// The parameter `code` defined with `base` itself among its bases.
    fn own(&self, base: &str, code: &str) -> Option<&SearchParamDef> {
        let index = *self.by_base.get(base)?.get(code)?;
        self.defs.get(index)
    }
}

/// The abstract types whose parameters `res_type` inherits, nearest first. Unknown type names
/// inherit nothing.
fn ancestors(res_type: &str) -> &'static [&'static str] {
    match res_type {
        "Resource" => &[],
        "DomainResource" => &["Resource"],
        _ if NOT_DOMAIN_RESOURCES.contains(&res_type) => &["Resource"],
        _ if is_resource_type(res_type) => &["DomainResource", "Resource"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r4_param(res_type: &str, code: &str) -> &'static SearchParamDef {
        let found = SearchParameters::r4().param(res_type, code);
        found.unwrap_or_else(|| panic!("no {res_type}.{code}"))
    }

    #[test]
    fn r4_has_every_core_definition() {
        let r4 = SearchParameters::r4();
        assert!(r4.all().len() > 1300, "{}", r4.all().len());
        let urls: std::collections::HashSet<_> = r4.all().iter().map(|d| &d.url).collect();
        assert_eq!(urls.len(), r4.all().len(), "urls are unique");
    }

    #[test]
    fn patient_name_is_a_string_over_patient_name() {
        let name = r4_param("Patient", "name");
        assert_eq!(name.kind, SearchParamType::String);
        assert_eq!(name.expression.as_deref(), Some("Patient.name"));
        assert_eq!(name.url, "http://hl7.org/fhir/SearchParameter/Patient-name");
    }

    #[test]
    fn multi_base_clinical_patient_is_found_for_each_base() {
        let patient = r4_param("ServiceRequest", "patient");
        assert_eq!(patient.kind, SearchParamType::Reference);
        // R4 lists Group too (DeviceUseStatement.subject), though most branches keep Patient.
        assert!(patient.targets.iter().any(|t| t == "Patient"));
        assert_eq!(
            patient.url,
            "http://hl7.org/fhir/SearchParameter/clinical-patient"
        );
        for base in &patient.base {
            let found = SearchParameters::r4().param(base, "patient");
            assert_eq!(found.map(|d| &d.url), Some(&patient.url), "{base}");
        }
        let expression = patient.expression.as_deref().unwrap_or_default();
        assert!(expression.contains("ServiceRequest.subject.where(resolve() is Patient)"));
    }

    #[test]
    fn imaging_study_basedon_and_diagnostic_report_result() {
        let basedon = r4_param("ImagingStudy", "basedon");
        assert_eq!(basedon.kind, SearchParamType::Reference);
        assert!(basedon.targets.iter().any(|t| t == "ServiceRequest"));
        let result = r4_param("DiagnosticReport", "result");
        assert_eq!(result.kind, SearchParamType::Reference);
        assert_eq!(result.targets, ["Observation"]);
        assert_eq!(
            result.expression.as_deref(),
            Some("DiagnosticReport.result")
        );
    }

    #[test]
    fn resource_and_domain_resource_parameters_are_inherited() {
        let id = r4_param("Observation", "_id");
        assert_eq!(id.base, ["Resource"]);
        assert_eq!(id.kind, SearchParamType::Token);
        assert_eq!(
            r4_param("Bundle", "_lastUpdated").kind,
            SearchParamType::Date
        );
        assert!(r4_param("Patient", "_text").expression.is_none());
        assert!(SearchParameters::r4().param("Bundle", "_text").is_none());
        assert!(SearchParameters::r4().param("NoSuchType", "_id").is_none());
        assert!(SearchParameters::r4()
            .param("Patient", "no-such-code")
            .is_none());
    }

    #[test]
    fn composite_code_value_quantity_has_two_components() {
        let composite = r4_param("Observation", "code-value-quantity");
        assert_eq!(composite.kind, SearchParamType::Composite);
        assert_eq!(composite.components.len(), 2);
        assert_eq!(composite.components[0].expression, "code");
        assert_eq!(composite.components[1].expression, "value.as(Quantity)");
        for component in &composite.components {
            assert!(SearchParameters::r4()
                .by_url(&component.definition)
                .is_some());
        }
    }

    #[test]
    fn every_r4_component_definition_resolves() {
        let r4 = SearchParameters::r4();
        for def in r4.all() {
            for component in &def.components {
                assert!(r4.by_url(&component.definition).is_some(), "{}", def.url);
            }
        }
    }

    #[test]
    fn for_type_lists_own_and_inherited_sorted_by_code() {
        let params = SearchParameters::r4().for_type("Patient");
        let codes: Vec<&str> = params.iter().map(|d| d.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        for code in [
            "_id",
            "_lastUpdated",
            "_text",
            "name",
            "birthdate",
            "identifier",
        ] {
            assert!(codes.contains(&code), "{code}");
        }
        let bundle = SearchParameters::r4().for_type("Bundle");
        assert!(bundle.iter().all(|d| d.code != "_text"));
        assert!(SearchParameters::r4().for_type("NoSuchType").is_empty());
    }

    #[test]
    fn every_r4_param_is_found_through_each_of_its_bases() {
        let r4 = SearchParameters::r4();
        for def in r4.all() {
            for base in &def.base {
                assert_eq!(r4.param(base, &def.code), Some(def), "{base} {}", def.url);
            }
        }
    }

    #[test]
    fn from_resources_skips_unusable_values_and_later_wins() {
        let resources = [
            json!({"resourceType": "SearchParameter", "url": "http://x/a", "code": "kana",
                   "base": ["Patient"], "type": "string", "expression": "Patient.name.text"}),
            json!({"resourceType": "Patient", "url": "http://x/b", "code": "b", "type": "token"}),
            json!({"url": "http://x/c", "code": "c", "type": "no-such-type"}),
            json!({"code": "d", "type": "token"}),
            json!({"resourceType": "SearchParameter", "url": "http://x/e", "code": "kana",
                   "base": ["Patient", 7], "type": "token",
                   "component": [{"definition": "http://x/a"}, {"expression": "x"}]}),
        ];
        let params = SearchParameters::from_resources(&resources);
        assert_eq!(params.all().len(), 2);
        let kana = params.param("Patient", "kana").map(|d| d.url.as_str());
        assert_eq!(kana, Some("http://x/e"));
        let e = params.by_url("http://x/e");
        assert_eq!(e.map(|d| (d.base.len(), d.components.len())), Some((1, 0)));
        assert!(params.param("Patient", "_id").is_none());
    }

    #[test]
    fn type_codes_round_trip() {
        for kind in SearchParamType::ALL {
            assert_eq!(SearchParamType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SearchParamType::parse("Token"), None);
    }
}
