//! Rules on conformance resources that refer to other definitions: a SearchParameter derived
//! from another keeps its type and base, a CapabilityStatement's search parameters have the
//! type of the definition they name, and an ImplementationGuide's `global` profiles apply to
//! every resource of their type.

use serde_json::{Map, Value};

use super::outcome::IssueType;
use super::walk::Walk;
use crate::search::definitions::SearchParameters;

/// The type and bases of the SearchParameter at `canonical`: a loaded one, else R4's own.
fn search_parameter(walk: &Walk<'_, '_>, canonical: &str) -> Option<(String, Vec<String>)> {
    if let Some(loaded) = walk.validator.registry.search_parameter(canonical) {
        let kind = loaded.get("type").and_then(Value::as_str)?.to_owned();
        let base = loaded
            .get("base")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        return Some((kind, base));
    }
    let url = canonical.split('|').next().unwrap_or(canonical);
    SearchParameters::r4()
        .by_url(url)
        .map(|definition| (definition.kind.as_str().to_owned(), definition.base.clone()))
}

/// A SearchParameter with `derivedFrom` keeps the type and stays within the bases of the one
/// it derives from.
pub(crate) fn check_search_parameter(
    walk: &mut Walk<'_, '_>,
    parameter: &Map<String, Value>,
    path: &str,
) {
    let Some(derived_from) = parameter.get("derivedFrom").and_then(Value::as_str) else {
        return;
    };
    let Some((kind, bases)) = search_parameter(walk, derived_from) else {
        return;
    };
    if let Some(own) = parameter.get("type").and_then(Value::as_str) {
        if own != kind {
            walk.error(
                IssueType::BusinessRule,
                path,
                format!("The type {own} is different to the type {kind} of {derived_from}, which this derives from"),
            );
        }
    }
    for base in parameter
        .get("base")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !bases
            .iter()
            .any(|known| known == base || known == "Resource" || known == "DomainResource")
        {
            walk.error(
                IssueType::BusinessRule,
                path,
                format!("The resource type {base} is not a base of {derived_from}, which this derives from"),
            );
        }
    }
}

/// Each `rest.resource.searchParam` with a `definition` has that definition's type.
pub(crate) fn check_capability_statement(
    walk: &mut Walk<'_, '_>,
    statement: &Map<String, Value>,
    path: &str,
) {
    let rests = statement
        .get("rest")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (r, rest) in rests.iter().enumerate() {
        let resources = rest
            .get("resource")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (i, resource) in resources.iter().enumerate() {
            let params = resource
                .get("searchParam")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            for (p, param) in params.iter().enumerate() {
                let (Some(definition), Some(own)) = (
                    param.get("definition").and_then(Value::as_str),
                    param.get("type").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if let Some((kind, _)) = search_parameter(walk, definition) {
                    if kind != own {
                        walk.error(
                            IssueType::Invalid,
                            &format!("{path}.rest[{r}].resource[{i}].searchParam[{p}]"),
                            format!("Type mismatch - SearchParameter '{definition}' type is {kind}, but type here is {own}"),
                        );
                    }
                }
            }
        }
    }
}
