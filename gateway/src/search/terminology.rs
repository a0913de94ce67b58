//! Token `:in`, `:not-in`, `:below` and `:above`: the ValueSet or CodeSystem they name is read
//! from the store (a terminology resource loaded like any other) and the condition becomes the
//! list of `system|code` tokens it stands for, before the query runs.
//!
//! A ValueSet gives its `expansion.contains` when it has one, else its `compose`: included
//! concept lists, whole code systems, and `is-a` / `descendent-of` / `=` filters over a stored
//! CodeSystem's concept hierarchy; excluded concept lists are taken out. Anything else (other
//! filters, imported ValueSets, a resource that is not stored) is an error naming it rather
//! than a silently empty result.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::store::{Clause, Condition, Criteria, IndexKind, SearchQuery, Store, UriMatch};
use crate::GatewayError;

/// The most codes one condition may stand for.
pub const MAX_CODES: usize = 10_000;

/// A `system|code` pair; `code` `None` stands for every code of the system.
type Code = (String, Option<String>);

/// Replaces every terminology condition of `criteria` (nested chains and `_has` included) by
/// the tokens it stands for.
pub async fn resolve_terminology(
    store: &dyn Store,
    criteria: &mut Criteria,
) -> Result<(), GatewayError> {
    let mut wanted = Vec::new();
    for clause in &criteria.clauses {
        collect(clause, &mut wanted);
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut resolved: Vec<(Condition, Vec<Condition>)> = Vec::new();
    for condition in wanted {
        if resolved.iter().any(|(known, _)| *known == condition) {
            continue;
        }
        let codes = match &condition {
            Condition::ValueSet(url) => value_set_codes(store, url).await?,
            Condition::Subsumed {
                system,
                code,
                below,
            } => {
                let system_resource = code_system(store, system).await?;
                let hierarchy = Hierarchy::of(&system_resource);
                let related = if *below {
                    hierarchy.descendants(code)
                } else {
                    hierarchy.ancestors(code)
                };
                related
                    .into_iter()
                    .map(|code| (system.clone(), Some(code)))
                    .collect()
            }
            _ => continue,
        };
        if codes.len() > MAX_CODES {
            return Err(GatewayError::TooCostly(format!(
                "the terminology condition stands for more than {MAX_CODES} codes"
            )));
        }
        let tokens = codes
            .into_iter()
            .map(|(system, code)| Condition::Token {
                system: Some(Some(system)),
                code,
            })
            .collect();
        resolved.push((condition, tokens));
    }
    for clause in &mut criteria.clauses {
        substitute(clause, &resolved);
    }
    Ok(())
}

fn collect(clause: &Clause, out: &mut Vec<Condition>) {
    for condition in &clause.any_of {
        match condition {
            Condition::ValueSet(_) | Condition::Subsumed { .. } => out.push(condition.clone()),
            Condition::Chain { inner, .. } | Condition::Has { inner, .. } => collect(inner, out),
            _ => {}
        }
    }
}

fn substitute(clause: &mut Clause, resolved: &[(Condition, Vec<Condition>)]) {
    let mut any_of = Vec::with_capacity(clause.any_of.len());
    for mut condition in std::mem::take(&mut clause.any_of) {
        match &mut condition {
            Condition::ValueSet(_) | Condition::Subsumed { .. } => {
                let tokens = resolved.iter().find(|(known, _)| *known == condition);
                any_of.extend(tokens.map(|(_, tokens)| tokens.clone()).unwrap_or_default());
                continue;
            }
            Condition::Chain { inner, .. } | Condition::Has { inner, .. } => {
                substitute(inner, resolved)
            }
            _ => {}
        }
        any_of.push(condition);
    }
    clause.any_of = any_of;
}

/// The stored resource of `res_type` whose `url` is `url`.
async fn by_url(store: &dyn Store, res_type: &str, url: &str) -> Result<Value, GatewayError> {
    let ids = store
        .search(&SearchQuery {
            res_type: res_type.to_owned(),
            criteria: Criteria {
                clauses: vec![Clause {
                    param: "url".into(),
                    kind: IndexKind::Uri,
                    any_of: vec![Condition::Uri {
                        value: url.to_owned(),
                        mode: UriMatch::Exact,
                    }],
                    negate: false,
                    missing: None,
                }],
                ..Criteria::default()
            },
            sort: Vec::new(),
            limit: 1,
        })
        .await?;
    let refs: Vec<(String, String)> = ids
        .into_iter()
        .map(|id| (res_type.to_owned(), id))
        .collect();
    store
        .read_many(&refs)
        .await?
        .into_iter()
        .find_map(|stored| crate::fhir::bundle::body_value(&stored))
        .ok_or_else(|| {
            GatewayError::invalid(
                format!("no {res_type} with url {url} is loaded on this server"),
                res_type.to_owned(),
            )
        })
}

async fn code_system(store: &dyn Store, system: &str) -> Result<Value, GatewayError> {
    by_url(store, "CodeSystem", system).await
}

/// The codes a stored ValueSet stands for.
async fn value_set_codes(store: &dyn Store, url: &str) -> Result<Vec<Code>, GatewayError> {
    let value_set = by_url(store, "ValueSet", url).await?;
    let refuse = |what: &str| {
        GatewayError::invalid(
            format!("ValueSet {url}: {what} cannot be expanded here"),
            "ValueSet".to_owned(),
        )
    };
    if let Some(contains) = value_set.pointer("/expansion/contains") {
        let mut codes = BTreeSet::new();
        expansion_codes(contains, &mut codes, 0);
        return Ok(codes.into_iter().collect());
    }
    let mut codes = BTreeSet::new();
    for include in array(&value_set, "/compose/include") {
        if include.get("valueSet").is_some() {
            return Err(refuse("an include of another ValueSet"));
        }
        let system = include
            .get("system")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("an include without a system"))?
            .to_owned();
        let concepts = array(include, "/concept");
        let filters = array(include, "/filter");
        if !concepts.is_empty() {
            for concept in concepts {
                if let Some(code) = concept.get("code").and_then(Value::as_str) {
                    codes.insert((system.clone(), Some(code.to_owned())));
                }
            }
        } else if !filters.is_empty() {
            let hierarchy = Hierarchy::of(&code_system(store, &system).await?);
            let mut selected: Option<BTreeSet<String>> = None;
            for filter in filters {
                let text = |name: &str| filter.get(name).and_then(Value::as_str).unwrap_or("");
                let (property, op, value) = (text("property"), text("op"), text("value"));
                if property != "concept" {
                    return Err(refuse(&format!("a filter on '{property}'")));
                }
                let matched: BTreeSet<String> = match op {
                    "is-a" => hierarchy.descendants(value).into_iter().collect(),
                    "descendent-of" => hierarchy
                        .descendants(value)
                        .into_iter()
                        .filter(|code| code != value)
                        .collect(),
                    "=" => hierarchy
                        .contains(value)
                        .then(|| value.to_owned())
                        .into_iter()
                        .collect(),
                    other => return Err(refuse(&format!("the filter op '{other}'"))),
                };
                // Filters of one include all apply.
                selected = Some(match selected {
                    Some(previous) => previous.intersection(&matched).cloned().collect(),
                    None => matched,
                });
            }
            for code in selected.unwrap_or_default() {
                codes.insert((system.clone(), Some(code)));
            }
        } else {
            codes.insert((system, None));
        }
    }
    for exclude in array(&value_set, "/compose/exclude") {
        let system = exclude.get("system").and_then(Value::as_str).unwrap_or("");
        let concepts = array(exclude, "/concept");
        if concepts.is_empty() {
            return Err(refuse("an exclude without a concept list"));
        }
        for concept in concepts {
            if let Some(code) = concept.get("code").and_then(Value::as_str) {
                codes.remove(&(system.to_owned(), Some(code.to_owned())));
            }
        }
    }
    Ok(codes.into_iter().collect())
}

fn array<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The most nesting read from an expansion or a concept hierarchy.
const MAX_DEPTH: usize = 32;

fn expansion_codes(contains: &Value, out: &mut BTreeSet<Code>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for entry in contains.as_array().map_or(&[][..], Vec::as_slice) {
        let system = entry.get("system").and_then(Value::as_str);
        let code = entry.get("code").and_then(Value::as_str);
        let abstract_entry = entry.get("abstract").and_then(Value::as_bool) == Some(true);
        if let (Some(system), Some(code), false) = (system, code, abstract_entry) {
            out.insert((system.to_owned(), Some(code.to_owned())));
        }
        if let Some(nested) = entry.get("contains") {
            expansion_codes(nested, out, depth + 1);
        }
    }
}

/// A CodeSystem's concept tree as parent links.
struct Hierarchy {
    /// Code → its parent codes (nesting, and the `parent` property where given).
    parents: HashMap<String, Vec<String>>,
}

impl Hierarchy {
    fn of(code_system: &Value) -> Hierarchy {
        let mut hierarchy = Hierarchy {
            parents: HashMap::new(),
        };
        hierarchy.walk(array(code_system, "/concept"), None, 0);
        hierarchy
    }

    fn walk(&mut self, concepts: &[Value], parent: Option<&str>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for concept in concepts {
            let Some(code) = concept.get("code").and_then(Value::as_str) else {
                continue;
            };
            let parents = self.parents.entry(code.to_owned()).or_default();
            parents.extend(parent.map(str::to_owned));
            for property in array(concept, "/property") {
                if property.get("code").and_then(Value::as_str) == Some("parent") {
                    if let Some(value) = property.get("valueCode").and_then(Value::as_str) {
                        parents.push(value.to_owned());
                    }
                }
            }
            self.walk(array(concept, "/concept"), Some(code), depth + 1);
        }
    }

    fn contains(&self, code: &str) -> bool {
        self.parents.contains_key(code)
    }

    /// `code` and every code below it (empty when the system lacks `code`).
    fn descendants(&self, code: &str) -> Vec<String> {
        self.closure(code, |current| {
            self.parents
                .iter()
                .filter(|(_, parents)| parents.iter().any(|parent| parent == current))
                .map(|(child, _)| child.clone())
                .collect()
        })
    }

    /// `code` and every code above it (empty when the system lacks `code`).
    fn ancestors(&self, code: &str) -> Vec<String> {
        self.closure(code, |current| {
            self.parents.get(current).cloned().unwrap_or_default()
        })
    }

    /// `code` and every code `step` reaches from it, repeatedly, sorted.
    fn closure(&self, code: &str, step: impl Fn(&str) -> Vec<String>) -> Vec<String> {
        if !self.contains(code) {
            return Vec::new();
        }
        let mut found = vec![code.to_owned()];
        let mut at = 0;
        while let Some(current) = found.get(at).cloned() {
            at += 1;
            for next in step(&current) {
                if !found.contains(&next) {
                    found.push(next);
                }
            }
        }
        found.sort();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hierarchy_from_nesting_and_parent_properties() {
        let system = json!({
            "resourceType": "CodeSystem",
            "concept": [
                {"code": "imaging", "concept": [
                    {"code": "ct", "concept": [{"code": "ct-head"}]},
                    {"code": "us"}
                ]},
                {"code": "mr-head", "property": [{"code": "parent", "valueCode": "imaging"}]},
                {"code": "lab"}
            ]
        });
        let hierarchy = Hierarchy::of(&system);
        assert_eq!(
            hierarchy.descendants("imaging"),
            ["ct", "ct-head", "imaging", "mr-head", "us"]
        );
        assert_eq!(hierarchy.descendants("lab"), ["lab"]);
        assert_eq!(hierarchy.ancestors("ct-head"), ["ct", "ct-head", "imaging"]);
        assert!(hierarchy.descendants("unknown").is_empty());
    }

    #[test]
    fn expansions_skip_abstract_entries_and_nest() {
        let contains = json!([
            {"system": "s", "code": "group", "abstract": true, "contains": [
                {"system": "s", "code": "a"}, {"system": "t", "code": "b"}
            ]}
        ]);
        let mut codes = BTreeSet::new();
        expansion_codes(&contains, &mut codes, 0);
        let codes: Vec<Code> = codes.into_iter().collect();
        assert_eq!(
            codes,
            [
                ("s".to_owned(), Some("a".to_owned())),
                ("t".to_owned(), Some("b".to_owned()))
            ]
        );
    }
}
