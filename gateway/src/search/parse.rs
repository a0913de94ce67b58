//! A FHIR search query string → [`SearchRequest`]: every parameter checked against the
//! SearchParameter definitions of the resource type, values parsed by parameter type and
//! modifier, result parameters (`_count`, `_sort`, `_include`, …) split off. An unknown or
//! unsupported parameter is an error naming it, or (lenient handling) left out and listed.

use super::subset::{element_list, Subset};
use crate::store::{
    Clause, CompositePart, Condition, Criteria, IndexKind, Prefix, Residual, SortKey, StringMatch,
    UriMatch,
};
use crate::GatewayError;
use tsunagi_profiles::search::values::{date_range, fold_string, number_range};
use tsunagi_profiles::search::{SearchParamDef, SearchParamType, SearchParameters};

/// `_include` / `_revinclude`: `Source:param[:Target]`, with `:iterate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The resource type holding the reference.
    pub source: String,
    /// The reference parameter (`*` for all).
    pub param: String,
    /// Only references to this type.
    pub target: Option<String>,
    /// `:iterate`: also apply to included resources.
    pub iterate: bool,
}

/// `_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalMode {
    /// `accurate` (and the default: the match list is complete anyway).
    Accurate,
    /// `none`.
    None,
}

/// `_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// No summary.
    False,
    /// `count`: the total only.
    Count,
    /// `true`: the summary elements.
    True,
    /// `text`: text, id, meta and mandatory elements.
    Text,
    /// `data`: all but the text.
    Data,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The resource type searched.
    pub res_type: String,
    /// The filters.
    pub criteria: Criteria,
    /// `_sort`.
    pub sort: Vec<SortKey>,
    /// `_count`, when given.
    pub count: Option<usize>,
    /// `_include`.
    pub includes: Vec<Include>,
    /// `_revinclude`.
    pub revincludes: Vec<Include>,
    /// `_total`.
    pub total: TotalMode,
    /// `_summary`.
    pub summary: Summary,
    /// `_elements`: top-level elements to keep.
    pub elements: Vec<String>,
    /// The parameters that were used, as `name=value` (for the `self` link).
    pub used: Vec<(String, String)>,
    /// Parameters left out under lenient handling.
    pub ignored: Vec<String>,
}

impl Summary {
    /// A `_summary` value (`true`, `text`, `data`, `count`, `false`); `None` for anything else.
    pub fn parse(value: &str) -> Option<Summary> {
        Some(match value {
            "count" => Summary::Count,
            "false" => Summary::False,
            "true" => Summary::True,
            "text" => Summary::Text,
            "data" => Summary::Data,
            _ => return None,
        })
    }

    /// The part of each resource a response holds under this `_summary` and `_elements`
    /// (`_summary` wins over `_elements`).
    pub fn subset(self, elements: &[String]) -> Subset {
        match self {
            Summary::True => Subset::Summary,
            Summary::Text => Subset::Text,
            Summary::Data => Subset::Data,
            Summary::False | Summary::Count if !elements.is_empty() => {
                Subset::Elements(elements.to_vec())
            }
            Summary::False | Summary::Count => Subset::Full,
        }
    }
}

impl SearchRequest {
    /// The part of each resource the response holds (`_summary` wins over `_elements`).
    pub fn subset(&self) -> Subset {
        self.summary.subset(&self.elements)
    }
}

/// Parameters that shape the result or the response, not the match.
const RESULT_PARAMS: &[&str] = &[
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_total",
    "_summary",
    "_elements",
    "_format",
    "_pretty",
    "_getpages",
    "_offset",
    "_contained",
    "_containedType",
];

/// Parses `params` (decoded name/value pairs) for a search of `res_type`.
pub fn parse_search(
    definitions: &SearchParameters,
    res_type: &str,
    params: &[(String, String)],
    lenient: bool,
) -> Result<SearchRequest, GatewayError> {
    let mut request = SearchRequest {
        res_type: res_type.to_owned(),
        criteria: Criteria::default(),
        sort: Vec::new(),
        count: None,
        includes: Vec::new(),
        revincludes: Vec::new(),
        total: TotalMode::Accurate,
        summary: Summary::False,
        elements: Vec::new(),
        used: Vec::new(),
        ignored: Vec::new(),
    };
    for (name, value) in params {
        // `_include:iterate=…` (R4) and the older `_include:recurse=…` name the modifier on the
        // parameter.
        let (base_name, iterate) = match name.split_once(':') {
            Some((base @ ("_include" | "_revinclude"), "iterate" | "recurse")) => (base, true),
            _ => (name.as_str(), false),
        };
        let outcome = if RESULT_PARAMS.contains(&base_name) {
            result_param(definitions, &mut request, base_name, value).map(|()| {
                if iterate {
                    let list = if base_name == "_include" {
                        &mut request.includes
                    } else {
                        &mut request.revincludes
                    };
                    if let Some(last) = list.last_mut() {
                        last.iterate = true;
                    }
                }
            })
        } else {
            filter_param(definitions, res_type, name, value).map(|clauses| {
                request.criteria.clauses.extend(clauses);
            })
        };
        match outcome {
            Ok(()) => {
                if !matches!(
                    name.as_str(),
                    "_format" | "_pretty" | "_getpages" | "_offset"
                ) {
                    request.used.push((name.clone(), value.clone()));
                }
            }
            Err(error) if lenient && is_unknown(&error) => request.ignored.push(name.clone()),
            Err(error) => return Err(error),
        }
    }
    Ok(request)
}

fn is_unknown(error: &GatewayError) -> bool {
    matches!(error, GatewayError::UnknownParameter { .. })
}

fn unknown(name: &str, reason: impl Into<String>) -> GatewayError {
    GatewayError::UnknownParameter {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

fn invalid(name: &str, reason: impl std::fmt::Display) -> GatewayError {
    GatewayError::invalid(
        format!("search parameter '{name}': {reason}"),
        name.to_owned(),
    )
}

fn result_param(
    definitions: &SearchParameters,
    request: &mut SearchRequest,
    name: &str,
    value: &str,
) -> Result<(), GatewayError> {
    match name {
        "_count" => {
            let count: usize = value
                .trim()
                .parse()
                .map_err(|_| invalid(name, format!("'{value}' is not a count")))?;
            request.count = Some(count);
        }
        "_sort" => {
            for key in value.split(',').filter(|key| !key.is_empty()) {
                let (descending, code) = match key.strip_prefix('-') {
                    Some(code) => (true, code),
                    None => (false, key),
                };
                let kind = match code {
                    "_id" | "_lastUpdated" => IndexKind::Resource,
                    _ => {
                        let definition =
                            definitions.param(&request.res_type, code).ok_or_else(|| {
                                unknown(
                                    name,
                                    format!(
                                        "'{code}' is not a search parameter of {}",
                                        request.res_type
                                    ),
                                )
                            })?;
                        index_kind(definition.kind)
                            .ok_or_else(|| unknown(name, format!("cannot sort by '{code}'")))?
                    }
                };
                request.sort.push(SortKey {
                    param: code.to_owned(),
                    kind,
                    descending,
                });
            }
        }
        "_include" | "_revinclude" => {
            let include = parse_include(name, value)?;
            if name == "_include" {
                request.includes.push(include);
            } else {
                request.revincludes.push(include);
            }
        }
        "_total" => {
            request.total = match value {
                "none" => TotalMode::None,
                "accurate" | "estimate" => TotalMode::Accurate,
                other => {
                    return Err(invalid(
                        name,
                        format!("'{other}' is not none, estimate or accurate"),
                    ))
                }
            }
        }
        "_summary" => {
            request.summary = Summary::parse(value).ok_or_else(|| {
                invalid(
                    name,
                    format!("'{value}' is not true, text, data, count or false"),
                )
            })?;
        }
        "_elements" => {
            request.elements = element_list(value);
        }
        "_contained" | "_containedType" => {
            return Err(unknown(
                name,
                "searching contained resources is not supported",
            ));
        }
        _ => {}
    }
    Ok(())
}

fn parse_include(name: &str, value: &str) -> Result<Include, GatewayError> {
    let (value, iterate) = match value
        .strip_suffix(":iterate")
        .or_else(|| value.strip_suffix(":recurse"))
    {
        Some(value) => (value, true),
        None => (value, false),
    };
    let mut parts = value.split(':');
    let source = parts.next().unwrap_or_default();
    let param = parts.next().unwrap_or_default();
    if source.is_empty() || param.is_empty() {
        return Err(invalid(
            name,
            format!("'{value}' is not Type:parameter[:Target]"),
        ));
    }
    Ok(Include {
        source: source.to_owned(),
        param: param.to_owned(),
        target: parts.next().map(str::to_owned),
        iterate,
    })
}

/// The index table of a parameter type (composite and special have none).
pub fn index_kind(kind: SearchParamType) -> Option<IndexKind> {
    Some(match kind {
        SearchParamType::Token => IndexKind::Token,
        SearchParamType::String => IndexKind::String,
        SearchParamType::Reference => IndexKind::Reference,
        SearchParamType::Date => IndexKind::Date,
        SearchParamType::Number | SearchParamType::Quantity => IndexKind::Number,
        SearchParamType::Uri => IndexKind::Uri,
        SearchParamType::Composite | SearchParamType::Special => return None,
    })
}

/// Whether searches by `definition` are supported (what the CapabilityStatement lists): every
/// parameter with an expression, `_text` and `_content`; not special ones (`near`, `_filter`)
/// nor `_query`.
pub fn is_supported(definition: &SearchParamDef) -> bool {
    match definition.kind {
        SearchParamType::Special => false,
        SearchParamType::Composite => {
            definition.expression.is_some() && !definition.components.is_empty()
        }
        _ => {
            definition.expression.is_some()
                || matches!(definition.code.as_str(), "_text" | "_content")
        }
    }
}

/// One filter parameter → its clauses: one, or for the parameters checked on the resource
/// itself ([`residual_clauses`]) the residual test after the index clauses that narrow it.
fn filter_param(
    definitions: &SearchParameters,
    res_type: &str,
    name: &str,
    value: &str,
) -> Result<Vec<Clause>, GatewayError> {
    if let Some(clauses) = residual_clauses(definitions, res_type, name, value)? {
        return Ok(clauses);
    }
    filter_clause(definitions, res_type, name, value).map(|clause| vec![clause])
}

/// The one clause a chain or `_has` applies to the other resource: for a residual parameter
/// its test alone (complete by itself; the narrowing clauses only make it faster).
fn inner_clause(
    definitions: &SearchParameters,
    res_type: &str,
    name: &str,
    value: &str,
) -> Result<Clause, GatewayError> {
    filter_param(definitions, res_type, name, value)?
        .pop()
        .ok_or_else(|| invalid(name, "no value"))
}

/// One filter parameter answered by the indexes → a clause.
fn filter_clause(
    definitions: &SearchParameters,
    res_type: &str,
    name: &str,
    value: &str,
) -> Result<Clause, GatewayError> {
    if let Some(rest) = name.strip_prefix("_has:") {
        return has_clause(definitions, name, rest, value);
    }
    // A chain: `subject:Patient.name`, `patient.identifier`.
    let (head, chain) = match name.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (name, None),
    };
    let (code, modifier) = match head.split_once(':') {
        Some((code, modifier)) => (code, Some(modifier)),
        None => (head, None),
    };
    if code == "_id" || code == "_lastUpdated" {
        return resource_clause(name, code, modifier, value);
    }
    let definition = definitions.param(res_type, code).ok_or_else(|| {
        unknown(
            name,
            format!("'{code}' is not a search parameter of {res_type}"),
        )
    })?;
    if let Some(chain) = chain {
        return chain_clause(definitions, name, definition, modifier, chain, value);
    }
    if !is_supported(definition) {
        return Err(unknown(name, format!("'{code}' is not supported")));
    }
    let kind = index_kind(definition.kind).ok_or_else(|| {
        unknown(
            name,
            format!(
                "{} parameters ('{code}') are not supported yet",
                definition.kind.as_str()
            ),
        )
    })?;
    let mut clause = Clause {
        param: code.to_owned(),
        kind,
        any_of: Vec::new(),
        negate: false,
        missing: None,
    };
    match modifier {
        Some("missing") => {
            clause.missing = Some(match value {
                "true" => true,
                "false" => false,
                other => return Err(invalid(name, format!("'{other}' is not true or false"))),
            });
            return Ok(clause);
        }
        Some("not" | "not-in") if definition.kind == SearchParamType::Token => clause.negate = true,
        _ => {}
    }
    let modifier = modifier.filter(|m| *m != "not");
    for alternative in split_unescaped(value, ',') {
        clause
            .any_of
            .push(condition(name, definition, modifier, &alternative)?);
    }
    if clause.any_of.is_empty() {
        return Err(invalid(name, "no value"));
    }
    Ok(clause)
}

/// `_text`, `_content`, composite parameters and token `:of-type`: a residual test (see
/// `store::residual`), preceded by index clauses that every match also meets; `None` for
/// every other parameter.
fn residual_clauses(
    definitions: &SearchParameters,
    res_type: &str,
    name: &str,
    value: &str,
) -> Result<Option<Vec<Clause>>, GatewayError> {
    let (code, modifier) = match name.split_once(':') {
        Some((code, modifier)) => (code, Some(modifier)),
        None => (name, None),
    };
    if name.starts_with("_has:") || code.contains('.') {
        return Ok(None);
    }
    let Some(definition) = definitions.param(res_type, code) else {
        return Ok(None);
    };
    let residual_clause = |any_of: Vec<Condition>| Clause {
        param: code.to_owned(),
        kind: IndexKind::Resource,
        any_of,
        negate: false,
        missing: None,
    };
    match (code, definition.kind, modifier) {
        ("_text" | "_content", _, None) => {
            let mut any_of = Vec::new();
            for alternative in split_unescaped(value, ',') {
                let words: Vec<String> = unescape(&alternative)
                    .split_whitespace()
                    .map(fold_string)
                    .filter(|word| !word.is_empty())
                    .collect();
                if words.is_empty() {
                    return Err(invalid(name, "no words to search for"));
                }
                any_of.push(Condition::Residual(Residual::Text {
                    narrative_only: code == "_text",
                    words,
                }));
            }
            Ok(Some(vec![residual_clause(any_of)]))
        }
        ("_text" | "_content", _, Some(other)) => Err(unknown(
            name,
            format!("modifier ':{other}' is not supported on {code}"),
        )),
        (_, SearchParamType::Token, Some("of-type")) => {
            let expression = definition
                .expression
                .clone()
                .ok_or_else(|| unknown(name, "the parameter has no expression"))?;
            let mut any_of = Vec::new();
            let mut narrowing = Vec::new();
            for alternative in split_unescaped(value, ',') {
                let [system, type_code, id_value] =
                    split_unescaped(&alternative, '|').try_into().map_err(|_| {
                        invalid(name, format!("'{alternative}' is not system|code|value"))
                    })?;
                if system.is_empty() || type_code.is_empty() || id_value.is_empty() {
                    return Err(invalid(name, "system, code and value are all required"));
                }
                narrowing.push(Condition::Token {
                    system: None,
                    code: Some(id_value.clone()),
                });
                any_of.push(Condition::Residual(Residual::OfType {
                    expression: expression.clone(),
                    system,
                    code: type_code,
                    value: id_value,
                }));
            }
            Ok(Some(vec![
                Clause {
                    param: code.to_owned(),
                    kind: IndexKind::Token,
                    any_of: narrowing,
                    negate: false,
                    missing: None,
                },
                residual_clause(any_of),
            ]))
        }
        (_, SearchParamType::Composite, modifier) => {
            if let Some(other) = modifier {
                return Err(unknown(
                    name,
                    format!("modifier ':{other}' is not supported on composite parameters"),
                ));
            }
            composite_clauses(definitions, res_type, name, definition, value).map(Some)
        }
        _ => Ok(None),
    }
}

/// A composite value (`code$value`, alternatives by `,`): the residual tuple test, after one
/// index clause per component that is itself a parameter of `res_type`.
fn composite_clauses(
    definitions: &SearchParameters,
    res_type: &str,
    name: &str,
    definition: &SearchParamDef,
    value: &str,
) -> Result<Vec<Clause>, GatewayError> {
    let base = definition
        .expression
        .clone()
        .ok_or_else(|| unknown(name, "the composite parameter has no expression"))?;
    let mut parts_defs = Vec::new();
    for component in &definition.components {
        let part = definitions.by_url(&component.definition).ok_or_else(|| {
            unknown(
                name,
                format!(
                    "component {} is not a known parameter",
                    component.definition
                ),
            )
        })?;
        parts_defs.push((part, component.expression.clone()));
    }
    if parts_defs.is_empty() {
        return Err(unknown(name, "the composite parameter has no components"));
    }
    let mut tuples = Vec::new();
    let mut narrowing: Vec<Vec<Condition>> = vec![Vec::new(); parts_defs.len()];
    for alternative in split_unescaped(value, ',') {
        let values = split_unescaped(&alternative, '$');
        if values.len() != parts_defs.len() {
            return Err(invalid(
                name,
                format!(
                    "'{alternative}' has {} parts separated by '$'; {} are needed",
                    values.len(),
                    parts_defs.len()
                ),
            ));
        }
        let mut components = Vec::with_capacity(values.len());
        for (((part, expression), text), narrow) in
            parts_defs.iter().zip(&values).zip(narrowing.iter_mut())
        {
            let condition = condition(name, part, None, text)?;
            narrow.push(condition.clone());
            components.push(CompositePart {
                expression: expression.clone(),
                kind: part.kind.as_str().to_owned(),
                condition,
            });
        }
        tuples.push(Condition::Residual(Residual::Composite {
            base: base.clone(),
            components,
        }));
    }
    let mut clauses = Vec::new();
    for ((part, _), any_of) in parts_defs.iter().zip(narrowing) {
        // A component narrows through its own index only when it is that very parameter of
        // this type (R4's components always are; a package's might not be).
        let indexed = definitions
            .param(res_type, &part.code)
            .is_some_and(|own| own.url == part.url);
        if let (true, Some(kind)) = (indexed, index_kind(part.kind)) {
            clauses.push(Clause {
                param: part.code.clone(),
                kind,
                any_of,
                negate: false,
                missing: None,
            });
        }
    }
    clauses.push(Clause {
        param: definition.code.clone(),
        kind: IndexKind::Resource,
        any_of: tuples,
        negate: false,
        missing: None,
    });
    Ok(clauses)
}

fn resource_clause(
    name: &str,
    code: &str,
    modifier: Option<&str>,
    value: &str,
) -> Result<Clause, GatewayError> {
    if let Some(modifier) = modifier {
        return Err(unknown(
            name,
            format!("modifier ':{modifier}' is not supported on {code}"),
        ));
    }
    let mut any_of = Vec::new();
    for alternative in split_unescaped(value, ',') {
        any_of.push(if code == "_id" {
            Condition::Id(alternative)
        } else {
            let (prefix, low, high) = date_value(name, &alternative)?;
            Condition::LastUpdated { prefix, low, high }
        });
    }
    Ok(Clause {
        param: code.to_owned(),
        kind: IndexKind::Resource,
        any_of,
        negate: false,
        missing: None,
    })
}

fn chain_clause(
    definitions: &SearchParameters,
    name: &str,
    definition: &SearchParamDef,
    modifier: Option<&str>,
    chain: &str,
    value: &str,
) -> Result<Clause, GatewayError> {
    if definition.kind != SearchParamType::Reference {
        return Err(invalid(name, "only reference parameters can be chained"));
    }
    // Without `:Type`, every target type that has the chained parameter (so
    // `DiagnosticReport?patient.identifier=` reaches Patients, and Groups if they had one).
    let chained_code = chain.split(['.', ':']).next().unwrap_or(chain);
    let targets: Vec<String> = match modifier {
        Some(target) => vec![target.to_owned()],
        None => definition
            .targets
            .iter()
            .filter(|target| {
                chained_code.starts_with('_') || definitions.param(target, chained_code).is_some()
            })
            .cloned()
            .collect(),
    };
    if targets.is_empty() {
        return Err(unknown(
            name,
            format!(
                "no target type of '{}' ({}) has a parameter '{chained_code}'",
                definition.code,
                definition.targets.join(", ")
            ),
        ));
    }
    let mut any_of = Vec::new();
    for target_type in targets {
        let inner = inner_clause(definitions, &target_type, chain, value)?;
        any_of.push(Condition::Chain {
            target_type,
            inner: Box::new(inner),
        });
    }
    Ok(Clause {
        param: definition.code.clone(),
        kind: IndexKind::Reference,
        any_of,
        negate: false,
        missing: None,
    })
}

/// `_has:Observation:patient:code=1234`: resources referenced by an Observation's `patient`
/// whose `code` matches.
fn has_clause(
    definitions: &SearchParameters,
    name: &str,
    rest: &str,
    value: &str,
) -> Result<Clause, GatewayError> {
    let mut parts = rest.splitn(3, ':');
    let (Some(source), Some(param), Some(inner_name)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(name, "expected _has:Type:reference:parameter"));
    };
    if inner_name.starts_with("_has:") {
        return Err(unknown(name, "nested _has is not supported"));
    }
    let reference = definitions
        .param(source, param)
        .filter(|definition| definition.kind == SearchParamType::Reference)
        .ok_or_else(|| {
            unknown(
                name,
                format!("'{param}' is not a reference parameter of {source}"),
            )
        })?;
    let inner = inner_clause(definitions, source, inner_name, value)?;
    Ok(Clause {
        param: reference.code.clone(),
        kind: IndexKind::Resource,
        any_of: vec![Condition::Has {
            source_type: source.to_owned(),
            param: reference.code.clone(),
            inner: Box::new(inner),
        }],
        negate: false,
        missing: None,
    })
}

/// Splits at `separator` not preceded by `\`, and removes the escapes `\,` `\|` `\$` `\\`.
pub fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) if next == separator => current.push(next),
                Some(next) => {
                    current.push('\\');
                    current.push(next);
                }
                None => current.push('\\'),
            }
        } else if c == separator {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|part| !part.is_empty() || separator == '|')
        .collect()
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn prefix_of(value: &str) -> (Prefix, &str) {
    let prefixes = [
        ("eq", Prefix::Eq),
        ("ne", Prefix::Ne),
        ("gt", Prefix::Gt),
        ("lt", Prefix::Lt),
        ("ge", Prefix::Ge),
        ("le", Prefix::Le),
        ("sa", Prefix::Sa),
        ("eb", Prefix::Eb),
        ("ap", Prefix::Ap),
    ];
    for (text, prefix) in prefixes {
        if let Some(rest) = value.strip_prefix(text) {
            return (prefix, rest);
        }
    }
    (Prefix::Eq, value)
}

fn date_value(name: &str, value: &str) -> Result<(Prefix, i64, i64), GatewayError> {
    let (prefix, text) = prefix_of(value);
    let (low, high) = query_date_range(text)
        .ok_or_else(|| invalid(name, format!("'{text}' is not a FHIR date")))?;
    Ok((prefix, low, high))
}

/// A search date: what a resource may hold, and also a time without seconds or without a zone
/// (read as UTC), as clients commonly send (`2024-02-03T10:00`).
fn query_date_range(text: &str) -> Option<(i64, i64)> {
    if let Some(range) = date_range(text) {
        return Some(range);
    }
    let (_, time) = text.split_once('T')?;
    let zoned = time.ends_with('Z') || time.contains('+') || time.contains('-');
    match (time.len(), zoned) {
        // hh:mm → that minute.
        (5, false) => date_range(&format!("{text}:00Z")).map(|(low, _)| (low, low + 59_999)),
        (_, false) => date_range(&format!("{text}Z")),
        _ => None,
    }
}

fn condition(
    name: &str,
    definition: &SearchParamDef,
    modifier: Option<&str>,
    value: &str,
) -> Result<Condition, GatewayError> {
    let unsupported = |modifier: &str| {
        unknown(
            name,
            format!(
                "modifier ':{modifier}' is not supported on {} parameters",
                definition.kind.as_str()
            ),
        )
    };
    match definition.kind {
        SearchParamType::Token => match modifier {
            None => Ok(token_condition(value)),
            Some("text") => Ok(Condition::TokenText(fold_string(&unescape(value)))),
            Some("in" | "not-in") => Ok(Condition::ValueSet(unescape(value))),
            Some(direction @ ("below" | "above")) => match split_unescaped(value, '|').as_slice() {
                [system, code] if !system.is_empty() && !code.is_empty() => {
                    Ok(Condition::Subsumed {
                        system: system.clone(),
                        code: code.clone(),
                        below: direction == "below",
                    })
                }
                _ => Err(invalid(
                    name,
                    format!("':{direction}' needs system|code, not '{value}'"),
                )),
            },
            Some(other) => Err(unsupported(other)),
        },
        SearchParamType::String => {
            let text = unescape(value);
            let (value, mode) = match modifier {
                None => (fold_string(&text), StringMatch::Prefix),
                Some("exact") => (text, StringMatch::Exact),
                Some("contains") => (fold_string(&text), StringMatch::Contains),
                Some(other) => return Err(unsupported(other)),
            };
            Ok(Condition::String { value, mode })
        }
        SearchParamType::Reference => match modifier {
            Some("identifier") => {
                let token = split_unescaped(value, '|');
                match token.as_slice() {
                    [system, code] if !code.is_empty() => Ok(Condition::ReferenceIdentifier {
                        system: (!system.is_empty()).then(|| system.clone()),
                        value: code.clone(),
                    }),
                    [code] => Ok(Condition::ReferenceIdentifier {
                        system: None,
                        value: code.clone(),
                    }),
                    _ => Err(invalid(name, format!("'{value}' is not [system|]value"))),
                }
            }
            Some(target) if target.chars().next().is_some_and(char::is_uppercase) => {
                Ok(reference_condition(&unescape(value), Some(target)))
            }
            Some(other) => Err(unsupported(other)),
            None => Ok(reference_condition(&unescape(value), None)),
        },
        SearchParamType::Date => {
            if let Some(other) = modifier {
                return Err(unsupported(other));
            }
            let (prefix, low, high) = date_value(name, value)?;
            Ok(Condition::Date { prefix, low, high })
        }
        SearchParamType::Number | SearchParamType::Quantity => {
            if let Some(other) = modifier {
                return Err(unsupported(other));
            }
            let (prefix, rest) = prefix_of(value);
            let parts = split_unescaped(rest, '|');
            let number = parts.first().map(String::as_str).unwrap_or_default();
            let (value, low, high) = number_range(number)
                .ok_or_else(|| invalid(name, format!("'{number}' is not a number")))?;
            let system = parts.get(1).filter(|s| !s.is_empty()).cloned();
            let code = parts.get(2).filter(|c| !c.is_empty()).cloned();
            if definition.kind == SearchParamType::Number && (system.is_some() || code.is_some()) {
                return Err(invalid(name, "a number takes no unit"));
            }
            Ok(Condition::Number {
                prefix,
                value,
                low,
                high,
                system,
                code,
            })
        }
        SearchParamType::Uri => {
            let mode = match modifier {
                None => UriMatch::Exact,
                Some("below") => UriMatch::Below,
                Some("above") => UriMatch::Above,
                Some(other) => return Err(unsupported(other)),
            };
            Ok(Condition::Uri {
                value: unescape(value),
                mode,
            })
        }
        SearchParamType::Composite | SearchParamType::Special => {
            Err(unknown(name, "not supported"))
        }
    }
}

fn token_condition(value: &str) -> Condition {
    let parts = split_unescaped(value, '|');
    match parts.as_slice() {
        [system, code] => Condition::Token {
            system: Some((!system.is_empty()).then(|| system.clone())),
            code: (!code.is_empty()).then(|| code.clone()),
        },
        _ => Condition::Token {
            system: None,
            code: Some(unescape(value)),
        },
    }
}

/// `Type/id`, `id`, `[base]/Type/id` or a canonical/absolute URL.
fn reference_condition(value: &str, target: Option<&str>) -> Condition {
    let value = value.split("/_history/").next().unwrap_or(value);
    // An absolute URL names a resource on some server: it matches references written with
    // that URL, not local `Type/id` references (the index keeps them apart the same way).
    if value.contains("://") || value.starts_with("urn:") {
        return Condition::Reference {
            target_type: None,
            target_id: None,
            url: Some(value.to_owned()),
        };
    }
    let segments: Vec<&str> = value.rsplitn(3, '/').collect();
    match segments.as_slice() {
        [id] => Condition::Reference {
            target_type: target.map(str::to_owned),
            target_id: Some((*id).to_owned()),
            url: None,
        },
        [id, res_type] | [id, res_type, _] if tsunagi_profiles::is_resource_type(res_type) => {
            Condition::Reference {
                target_type: Some((*res_type).to_owned()),
                target_id: Some((*id).to_owned()),
                url: None,
            }
        }
        _ => Condition::Reference {
            target_type: None,
            target_id: None,
            url: Some(value.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(res_type: &str, query: &str) -> Result<SearchRequest, GatewayError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        parse_search(SearchParameters::r4(), res_type, &params, false)
    }

    #[test]
    fn tokens_strings_references_and_dates() {
        let request = parse(
            "ServiceRequest",
            "patient=Patient/p1&status=active,completed&_count=7",
        )
        .expect("parses");
        assert_eq!(request.count, Some(7));
        assert_eq!(request.criteria.clauses.len(), 2);
        assert_eq!(
            request.criteria.clauses[0].any_of,
            [Condition::Reference {
                target_type: Some("Patient".into()),
                target_id: Some("p1".into()),
                url: None
            }]
        );
        assert_eq!(request.criteria.clauses[1].any_of.len(), 2);
        let request = parse("Patient", "name:exact=Yamada&birthdate=ge1970-01").expect("parses");
        assert!(matches!(
            request.criteria.clauses[0].any_of[0],
            Condition::String {
                mode: StringMatch::Exact,
                ..
            }
        ));
        assert!(matches!(
            request.criteria.clauses[1].any_of[0],
            Condition::Date {
                prefix: Prefix::Ge,
                ..
            }
        ));
    }

    #[test]
    fn unknown_parameters_are_named_or_ignored() {
        let error = parse("Patient", "shoe-size=42").expect_err("unknown");
        assert!(error.to_string().contains("shoe-size"), "{error}");
        let params = vec![("shoe-size".to_owned(), "42".to_owned())];
        let request =
            parse_search(SearchParameters::r4(), "Patient", &params, true).expect("lenient");
        assert_eq!(request.ignored, ["shoe-size"]);
    }

    #[test]
    fn chains_and_has() {
        let request = parse("DiagnosticReport", "patient.identifier=urn:x|123").expect("parses");
        assert!(
            matches!(request.criteria.clauses[0].any_of[0], Condition::Chain { ref target_type, .. } if target_type == "Patient")
        );
        let request = parse("Patient", "_has:Observation:patient:code=1234").expect("parses");
        assert!(matches!(
            request.criteria.clauses[0].any_of[0],
            Condition::Has { .. }
        ));
        let request = parse("Observation", "subject.name=x").expect("every target with a name");
        assert!(request.criteria.clauses[0].any_of.len() >= 2);
        assert!(parse("Observation", "subject.shoe-size=x").is_err());
    }

    #[test]
    fn query_dates_may_lack_seconds_or_zone() {
        let (low, high) = query_date_range("2024-02-03T10:00").expect("minute");
        assert_eq!(high - low, 59_999);
        let (low, high) = query_date_range("2024-02-03T10:00:00").expect("second");
        assert_eq!(high - low, 999);
        assert_eq!(
            query_date_range("2024-02-03T10:00:00+09:00").map(|r| r.1 - r.0),
            Some(999)
        );
        assert!(query_date_range("2024-13").is_none());
    }

    #[test]
    fn escapes_split_only_unescaped_separators() {
        assert_eq!(split_unescaped("a\\,b,c", ','), ["a,b", "c"]);
        assert_eq!(split_unescaped("s|c", '|'), ["s", "c"]);
        assert_eq!(split_unescaped("|c", '|'), ["", "c"]);
    }
}
