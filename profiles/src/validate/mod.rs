//! Profile validation: a resource checked against its type's base StructureDefinition, the
//! profiles it claims in `meta.profile`, and any the caller asks for — cardinality, JSON shape,
//! types and choice types, primitive formats, fixed and pattern values, bindings (required:
//! error, extensible: warning) against the locally available terminology, invariants (FHIRPath),
//! slicing, extensions by URL and context, reference targets, contained resources and Bundle
//! entries. The result is an [`Outcome`] (an OperationOutcome with FHIRPath expressions and,
//! for validated text, line and column).

mod bindings;
mod compiled;
mod conformance;
mod invariants;
mod outcome;
pub(crate) mod positions;
mod primitives;
mod questionnaire;
mod references;
mod slicing;
mod walk;
pub(crate) mod xhtml;

use std::sync::Arc;

use serde_json::Value;

use crate::package::Registry;
use crate::terminology::{expand_canonical, Expansion};
use crate::{Format, ParseLimits};

pub use outcome::{Issue, IssueType, Outcome, Severity};

use compiled::CompiledProfile;

/// What to validate against besides the resource's own type and `meta.profile`.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Profiles (canonical URLs) the top-level resource must conform to.
    pub profiles: Vec<String>,
    /// Refuse URLs on the reserved example domains (`example.org`, `example.com`), as a
    /// production feed should.
    pub reject_example_urls: bool,
    /// Refuse strings that look like embedded HTML (`<script`, `<b>`) outside narratives.
    pub security_checks: bool,
    /// Refuse HTML tags inside markdown.
    pub no_html_in_markdown: bool,
    /// Accept `//` and `/* */` comments in JSON text (JSON5-style exports).
    pub allow_comments: bool,
}

/// The validator: a registry of definitions and the profiles and expansions compiled from it.
pub struct Validator {
    registry: Arc<Registry>,
    profiles: moka::sync::Cache<String, Option<Arc<CompiledProfile>>>,
    /// Base definitions by type name (`Patient`), without building their URL each time.
    types: moka::sync::Cache<String, Option<Arc<CompiledProfile>>>,
    expansions: moka::sync::Cache<String, Option<Arc<Expansion>>>,
    code_systems: moka::sync::Cache<String, Option<Arc<KnownCodes>>>,
}

/// How many compiled profiles and ValueSet expansions are kept.
const CACHE_ENTRIES: u64 = 4_096;

impl Validator {
    /// A validator over `registry`.
    pub fn new(registry: Arc<Registry>) -> Validator {
        Validator {
            registry,
            profiles: moka::sync::Cache::new(CACHE_ENTRIES),
            types: moka::sync::Cache::new(CACHE_ENTRIES),
            expansions: moka::sync::Cache::new(CACHE_ENTRIES),
            code_systems: moka::sync::Cache::new(CACHE_ENTRIES),
        }
    }

    /// A validator over the built-in R4 core definitions only.
    pub fn r4_core() -> Validator {
        Validator::new(Arc::new(Registry::new()))
    }

    /// The registry it reads definitions from.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Validates a parsed resource (JSON form).
    pub fn validate(&self, resource: &Value, options: &ValidateOptions) -> Outcome {
        let mut walk = walk::Walk::new(self, resource, options);
        walk.top_level(resource, &options.profiles);
        Outcome {
            issues: walk.finish(),
        }
    }

    /// Parses `bytes` as JSON or XML and validates the resource; issues carry the line and
    /// column of the element they name where it can be found in the text. Unparseable input
    /// gives one fatal issue.
    pub fn validate_bytes(
        &self,
        bytes: &[u8],
        format: Format,
        options: &ValidateOptions,
    ) -> Outcome {
        let uncommented;
        let bytes = if options.allow_comments && format == Format::Json {
            uncommented = strip_json_comments(bytes);
            uncommented.as_slice()
        } else {
            bytes
        };
        let parsed = match format {
            Format::Json => crate::parse_json_value(bytes, &ParseLimits::default()),
            Format::Xml => crate::parse_xml_value(bytes, &ParseLimits::default()),
        };
        let resource = match parsed {
            Ok(resource) => resource,
            Err(error) => {
                return Outcome {
                    issues: vec![Issue {
                        severity: Severity::Fatal,
                        kind: IssueType::Structure,
                        expression: String::new(),
                        message: error.to_string(),
                        position: None,
                        source: None,
                    }],
                }
            }
        };
        let mut outcome = self.validate(&resource, options);
        if outcome.issues.is_empty() {
            return outcome;
        }
        let root = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let positions = match format {
            Format::Json => positions::json_positions(bytes, root),
            Format::Xml => positions::xml_positions(bytes, root),
        };
        for issue in &mut outcome.issues {
            issue.position = positions.get(&issue.expression).copied().or_else(|| {
                // The nearest enclosing element that has a position.
                let mut expression = issue.expression.as_str();
                while let Some(cut) = expression.rfind(['.', '[']) {
                    expression = &expression[..cut];
                    if let Some(position) = positions.get(expression) {
                        return Some(*position);
                    }
                }
                None
            });
        }
        outcome
    }

    /// The compiled profile at `canonical` (cached; `None` when unknown or without snapshot).
    fn profile(&self, canonical: &str) -> Option<Arc<CompiledProfile>> {
        if let Some(known) = self.profiles.get(canonical) {
            return known;
        }
        let compiled = self
            .registry
            .structure_definition(canonical)
            .and_then(|definition| CompiledProfile::compile(&definition))
            .map(Arc::new);
        self.profiles.insert(canonical.to_owned(), compiled.clone());
        compiled
    }

    /// The compiled base definition of a FHIR type.
    fn type_profile(&self, type_name: &str) -> Option<Arc<CompiledProfile>> {
        if type_name.contains(':') {
            return self.profile(type_name);
        }
        if let Some(known) = self.types.get(type_name) {
            return known;
        }
        let compiled = self.profile(&format!(
            "http://hl7.org/fhir/StructureDefinition/{type_name}"
        ));
        self.types.insert(type_name.to_owned(), compiled.clone());
        compiled
    }

    /// The expansion of a ValueSet (cached; `None` when it cannot be expanded here).
    fn expansion(&self, canonical: &str) -> Option<Arc<Expansion>> {
        if let Some(known) = self.expansions.get(canonical) {
            return known;
        }
        let expansion = expand_canonical(self.registry.as_ref(), canonical)
            .ok()
            .map(Arc::new);
        self.expansions
            .insert(canonical.to_owned(), expansion.clone());
        expansion
    }

    /// The codes of a complete CodeSystem known here, with their displays (cached; `None` when
    /// the system is not available or does not list all its codes).
    fn known_codes(&self, system: &str) -> Option<Arc<KnownCodes>> {
        if let Some(known) = self.code_systems.get(system) {
            return known;
        }
        let codes = self
            .registry
            .code_system(system)
            .filter(|code_system| {
                code_system.get("content").and_then(Value::as_str) == Some("complete")
                    && code_system.get("concept").is_some()
            })
            .map(|code_system| {
                let mut known = KnownCodes::default();
                collect_concepts(code_system.get("concept"), &mut known, 0);
                Arc::new(known)
            });
        self.code_systems.insert(system.to_owned(), codes.clone());
        codes
    }
}

/// A CodeSystem's codes and the displays each may be shown with (display and designations).
pub(crate) type KnownCodes = std::collections::HashMap<String, Vec<String>>;

fn collect_concepts(concepts: Option<&Value>, known: &mut KnownCodes, depth: usize) {
    if depth > 32 {
        return;
    }
    for concept in concepts.and_then(Value::as_array).into_iter().flatten() {
        let Some(code) = concept.get("code").and_then(Value::as_str) else {
            continue;
        };
        let displays = known.entry(code.to_owned()).or_default();
        displays.extend(
            concept
                .get("display")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        for designation in concept
            .get("designation")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            displays.extend(
                designation
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
        }
        collect_concepts(concept.get("concept"), known, depth + 1);
    }
}

/// `bytes` with `//` line and `/* */` block comments outside strings replaced by spaces (so
/// line and column positions stay the same).
fn strip_json_comments(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    let mut in_string = false;
    while at < out.len() {
        match (in_string, out[at], out.get(at + 1).copied()) {
            (true, b'\\', _) => at += 1,
            (_, b'"', _) => in_string = !in_string,
            (false, b'/', Some(b'/')) => {
                while at < out.len() && out[at] != b'\n' {
                    out[at] = b' ';
                    at += 1;
                }
                continue;
            }
            (false, b'/', Some(b'*')) => {
                let start = at;
                at += 2;
                while at + 1 < out.len() && !(out[at] == b'*' && out[at + 1] == b'/') {
                    at += 1;
                }
                let end = (at + 2).min(out.len());
                for byte in &mut out[start..end] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_blanked_outside_strings() {
        let text = b"{ // note\n \"a\": \"x//y\", /* b */ \"c\": 1 }";
        let stripped = strip_json_comments(text);
        assert_eq!(stripped.len(), text.len());
        let value: Value = serde_json::from_slice(&stripped).expect("parses");
        assert_eq!(value["a"], "x//y");
        assert_eq!(value["c"], 1);
    }
}
