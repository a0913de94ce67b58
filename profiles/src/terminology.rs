//! ValueSet expansion over locally available terminology: a ValueSet's `expansion.contains`
//! when it has one, else its `compose` (concept lists, whole code systems, `is-a` /
//! `descendent-of` / `=` filters over a CodeSystem's hierarchy, imported ValueSets, excluded
//! concepts). Code systems that are not available locally (SNOMED CT, LOINC, UCUM…) are kept as
//! whole systems whose codes cannot be checked here. Used by validation (bindings) and by search
//! (`:in`, `:below`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

/// The most nesting read from an expansion, a concept hierarchy or ValueSet imports.
const MAX_DEPTH: usize = 32;

/// Where ValueSets and CodeSystems come from.
pub trait TerminologySource {
    /// The ValueSet at `canonical` (`url` or `url|version`).
    fn value_set(&self, canonical: &str) -> Option<Arc<Value>>;
    /// The CodeSystem at `canonical`.
    fn code_system(&self, canonical: &str) -> Option<Arc<Value>>;
}

/// Why a ValueSet could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    /// The ValueSet itself is not available.
    #[error("the ValueSet {0} is not available here")]
    UnknownValueSet(String),
    /// A part of its definition cannot be evaluated here.
    #[error("ValueSet {url}: {what} cannot be expanded here")]
    Unsupported {
        /// The ValueSet.
        url: String,
        /// The part.
        what: String,
    },
}

/// The codes a ValueSet stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// `(system, code)` pairs.
    pub codes: BTreeSet<(String, String)>,
    /// Systems all of whose codes are in (not enumerable here).
    pub whole_systems: BTreeSet<String>,
}

/// Whether a code is in an expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// It is.
    In,
    /// It is not.
    NotIn,
    /// Cannot be told: its system is in as a whole and is not available to enumerate.
    Unknown,
}

impl Expansion {
    /// Whether `code` of `system` (any system when `None`) is in the set.
    pub fn contains(&self, system: Option<&str>, code: &str) -> Membership {
        match system {
            Some(system) => {
                if self.codes.contains(&(system.to_owned(), code.to_owned())) {
                    Membership::In
                } else if self.whole_systems.contains(system) {
                    Membership::Unknown
                } else {
                    Membership::NotIn
                }
            }
            None => {
                if self.codes.iter().any(|(_, known)| known == code) {
                    Membership::In
                } else if self.whole_systems.is_empty() {
                    Membership::NotIn
                } else {
                    Membership::Unknown
                }
            }
        }
    }

    /// The `(system, code)` pairs and whole systems (`code` `None`), for search.
    pub fn tokens(&self) -> Vec<(String, Option<String>)> {
        self.whole_systems
            .iter()
            .map(|system| (system.clone(), None))
            .chain(
                self.codes
                    .iter()
                    .map(|(system, code)| (system.clone(), Some(code.clone()))),
            )
            .collect()
    }
}

/// Expands the ValueSet at `canonical` from `source`.
pub fn expand_canonical(
    source: &dyn TerminologySource,
    canonical: &str,
) -> Result<Expansion, ExpandError> {
    expand_at(source, canonical, 0)
}

fn expand_at(
    source: &dyn TerminologySource,
    canonical: &str,
    depth: usize,
) -> Result<Expansion, ExpandError> {
    let value_set = source
        .value_set(canonical)
        .ok_or_else(|| ExpandError::UnknownValueSet(canonical.to_owned()))?;
    expand_value_set(source, &value_set, depth)
}

/// Expands `value_set` (a ValueSet resource), reading code systems and imports from `source`.
pub fn expand(source: &dyn TerminologySource, value_set: &Value) -> Result<Expansion, ExpandError> {
    expand_value_set(source, value_set, 0)
}

fn expand_value_set(
    source: &dyn TerminologySource,
    value_set: &Value,
    depth: usize,
) -> Result<Expansion, ExpandError> {
    let url = value_set
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("(no url)");
    let refuse = |what: String| ExpandError::Unsupported {
        url: url.to_owned(),
        what,
    };
    if depth > MAX_DEPTH {
        return Err(refuse("imports nested too deeply".into()));
    }
    let mut expansion = Expansion::default();
    if let Some(contains) = value_set.pointer("/expansion/contains") {
        expansion_codes(contains, &mut expansion.codes, 0);
        return Ok(expansion);
    }
    for include in array(value_set, "/compose/include") {
        let part = include_codes(source, include, depth, &refuse)?;
        expansion.codes.extend(part.codes);
        expansion.whole_systems.extend(part.whole_systems);
    }
    for exclude in array(value_set, "/compose/exclude") {
        let part = include_codes(source, exclude, depth, &refuse)?;
        for code in part.codes {
            expansion.codes.remove(&code);
        }
    }
    Ok(expansion)
}

/// The codes one `include` (or `exclude`) stands for.
fn include_codes(
    source: &dyn TerminologySource,
    include: &Value,
    depth: usize,
    refuse: &dyn Fn(String) -> ExpandError,
) -> Result<Expansion, ExpandError> {
    let mut part = Expansion::default();
    let system = include.get("system").and_then(Value::as_str);
    let concepts = array(include, "/concept");
    let filters = array(include, "/filter");
    if let Some(system) = system {
        if !concepts.is_empty() {
            for concept in concepts {
                if let Some(code) = concept.get("code").and_then(Value::as_str) {
                    part.codes.insert((system.to_owned(), code.to_owned()));
                }
            }
        } else {
            let known = source.code_system(system).filter(|cs| enumerable(cs));
            match known {
                None => {
                    part.whole_systems.insert(system.to_owned());
                }
                Some(code_system) => {
                    let hierarchy = Hierarchy::of(&code_system);
                    let selected = if filters.is_empty() {
                        hierarchy.codes()
                    } else {
                        filtered(&hierarchy, filters, refuse)?
                    };
                    part.codes
                        .extend(selected.into_iter().map(|code| (system.to_owned(), code)));
                }
            }
        }
    }
    // Imported ValueSets: the codes must be in every one of them (and in the system part, when
    // there is one).
    let imports = array(include, "/valueSet");
    for (at, import) in imports.iter().enumerate() {
        let Some(canonical) = import.as_str() else {
            continue;
        };
        let imported = expand_at(source, canonical, depth + 1)?;
        if at == 0 && system.is_none() {
            part = imported;
        } else {
            part.codes.retain(|code| imported.codes.contains(code));
        }
    }
    Ok(part)
}

/// Whether a CodeSystem lists all its concepts (`content` complete, or not stated).
fn enumerable(code_system: &Value) -> bool {
    matches!(
        code_system.get("content").and_then(Value::as_str),
        None | Some("complete")
    ) && code_system.get("concept").is_some()
}

fn filtered(
    hierarchy: &Hierarchy,
    filters: &[Value],
    refuse: &dyn Fn(String) -> ExpandError,
) -> Result<BTreeSet<String>, ExpandError> {
    let mut selected: Option<BTreeSet<String>> = None;
    for filter in filters {
        let text = |name: &str| filter.get(name).and_then(Value::as_str).unwrap_or("");
        let (property, op, value) = (text("property"), text("op"), text("value"));
        if property != "concept" {
            return Err(refuse(format!("a filter on '{property}'")));
        }
        let matched: BTreeSet<String> = match op {
            "is-a" => hierarchy.descendants(value).into_iter().collect(),
            "descendent-of" => hierarchy
                .descendants(value)
                .into_iter()
                .filter(|code| code != value)
                .collect(),
            "is-not-a" => {
                let below: BTreeSet<String> = hierarchy.descendants(value).into_iter().collect();
                hierarchy
                    .codes()
                    .into_iter()
                    .filter(|code| !below.contains(code))
                    .collect()
            }
            "=" => hierarchy
                .contains(value)
                .then(|| value.to_owned())
                .into_iter()
                .collect(),
            other => return Err(refuse(format!("the filter op '{other}'"))),
        };
        // The filters of one include all apply.
        selected = Some(match selected {
            Some(previous) => previous.intersection(&matched).cloned().collect(),
            None => matched,
        });
    }
    Ok(selected.unwrap_or_default())
}

fn array<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn expansion_codes(contains: &Value, out: &mut BTreeSet<(String, String)>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for entry in contains.as_array().map_or(&[][..], Vec::as_slice) {
        let system = entry.get("system").and_then(Value::as_str);
        let code = entry.get("code").and_then(Value::as_str);
        let abstract_entry = entry.get("abstract").and_then(Value::as_bool) == Some(true);
        if let (Some(system), Some(code), false) = (system, code, abstract_entry) {
            out.insert((system.to_owned(), code.to_owned()));
        }
        if let Some(nested) = entry.get("contains") {
            expansion_codes(nested, out, depth + 1);
        }
    }
}

/// A CodeSystem's concept tree as parent links.
pub struct Hierarchy {
    /// Code → its parent codes (nesting, and the `parent` property where given).
    parents: HashMap<String, Vec<String>>,
}

impl Hierarchy {
    /// The hierarchy of a CodeSystem resource.
    pub fn of(code_system: &Value) -> Hierarchy {
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

    /// Whether the system defines `code`.
    pub fn contains(&self, code: &str) -> bool {
        self.parents.contains_key(code)
    }

    /// Every code of the system.
    pub fn codes(&self) -> BTreeSet<String> {
        self.parents.keys().cloned().collect()
    }

    /// `code` and every code below it, sorted (empty when the system lacks `code`).
    pub fn descendants(&self, code: &str) -> Vec<String> {
        self.closure(code, |current| {
            self.parents
                .iter()
                .filter(|(_, parents)| parents.iter().any(|parent| parent == current))
                .map(|(child, _)| child.clone())
                .collect()
        })
    }

    /// `code` and every code above it, sorted (empty when the system lacks `code`).
    pub fn ancestors(&self, code: &str) -> Vec<String> {
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

    struct Local(Vec<Value>);

    impl TerminologySource for Local {
        fn value_set(&self, canonical: &str) -> Option<Arc<Value>> {
            self.find("ValueSet", canonical)
        }
        fn code_system(&self, canonical: &str) -> Option<Arc<Value>> {
            self.find("CodeSystem", canonical)
        }
    }

    impl Local {
        fn find(&self, res_type: &str, url: &str) -> Option<Arc<Value>> {
            self.0
                .iter()
                .find(|r| r["resourceType"] == res_type && r["url"] == url)
                .cloned()
                .map(Arc::new)
        }
    }

    fn source() -> Local {
        Local(vec![
            json!({"resourceType": "CodeSystem", "url": "http://x/kinds", "content": "complete",
                   "concept": [{"code": "imaging", "concept": [
                       {"code": "ct", "concept": [{"code": "ct-head"}]}, {"code": "us"}]},
                     {"code": "mr-head", "property": [{"code": "parent", "valueCode": "imaging"}]},
                     {"code": "lab"}]}),
            json!({"resourceType": "ValueSet", "url": "http://x/vs/imaging",
                   "compose": {"include": [{"system": "http://x/kinds",
                       "filter": [{"property": "concept", "op": "is-a", "value": "imaging"}]}],
                     "exclude": [{"system": "http://x/kinds", "concept": [{"code": "us"}]}]}}),
            json!({"resourceType": "ValueSet", "url": "http://x/vs/mixed",
                   "compose": {"include": [
                       {"valueSet": ["http://x/vs/imaging"]},
                       {"system": "http://loinc.org"},
                       {"system": "http://x/kinds", "concept": [{"code": "lab"}]}]}}),
        ])
    }

    #[test]
    fn compose_filters_imports_and_unknown_systems() {
        let local = source();
        let imaging = expand_canonical(&local, "http://x/vs/imaging").expect("expands");
        assert_eq!(
            imaging.contains(Some("http://x/kinds"), "ct-head"),
            Membership::In
        );
        assert_eq!(
            imaging.contains(Some("http://x/kinds"), "us"),
            Membership::NotIn
        );
        assert_eq!(
            imaging.contains(Some("http://x/kinds"), "lab"),
            Membership::NotIn
        );
        let mixed = expand_canonical(&local, "http://x/vs/mixed").expect("expands");
        assert_eq!(
            mixed.contains(Some("http://x/kinds"), "mr-head"),
            Membership::In
        );
        assert_eq!(
            mixed.contains(Some("http://x/kinds"), "lab"),
            Membership::In
        );
        assert_eq!(
            mixed.contains(Some("http://loinc.org"), "8480-6"),
            Membership::Unknown
        );
        assert_eq!(mixed.contains(None, "ct"), Membership::In);
        assert_eq!(mixed.contains(None, "nothing"), Membership::Unknown);
        assert!(matches!(
            expand_canonical(&local, "http://x/vs/absent"),
            Err(ExpandError::UnknownValueSet(_))
        ));
    }

    #[test]
    fn hierarchy_from_nesting_and_parent_properties() {
        let local = source();
        let system = local.code_system("http://x/kinds").expect("cs");
        let hierarchy = Hierarchy::of(&system);
        assert_eq!(
            hierarchy.descendants("imaging"),
            ["ct", "ct-head", "imaging", "mr-head", "us"]
        );
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
        assert_eq!(
            codes.into_iter().collect::<Vec<_>>(),
            [
                ("s".to_owned(), "a".to_owned()),
                ("t".to_owned(), "b".to_owned())
            ]
        );
    }
}
