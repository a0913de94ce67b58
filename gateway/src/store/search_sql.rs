//! FHIR search as SQL over the index tables, for every backend: a [`Criteria`] becomes one
//! `SELECT` over `resource_current` with a condition per clause, `_sort` becomes `ORDER BY`
//! subqueries. The few differences between SQLite and PostgreSQL (placeholders, substring
//! search, tests that run Rust code on the stored JSON) are [`Dialect`]'s.

use super::query::{Clause, Condition, IndexKind, Prefix, SortKey, StringMatch, UriMatch};
use super::Criteria;

/// The SQL dialect a statement is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// SQLite: `?` placeholders; the `tsunagi_residual` function is registered on every
    /// connection.
    Sqlite,
    /// PostgreSQL: `$n` placeholders; residual tests run in Rust on the candidate rows
    /// ([`Binds::post_filter`]).
    Postgres,
}

/// One SQL parameter value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum BindValue {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Real(f64),
}

impl From<String> for BindValue {
    fn from(text: String) -> Self {
        BindValue::Text(text)
    }
}

impl From<i64> for BindValue {
    fn from(number: i64) -> Self {
        BindValue::Int(number)
    }
}

impl From<f64> for BindValue {
    fn from(number: f64) -> Self {
        BindValue::Real(number)
    }
}

/// SQL parameters collected while a statement is built, and what the statement could not say.
pub(super) struct Binds {
    dialect: Dialect,
    values: Vec<BindValue>,
    post_filter: Vec<Clause>,
    unsupported: Option<String>,
}

impl Binds {
    /// No parameters yet.
    pub(super) fn new(dialect: Dialect) -> Self {
        Binds {
            dialect,
            values: Vec::new(),
            post_filter: Vec::new(),
            unsupported: None,
        }
    }

    /// Adds a parameter; returns its placeholder.
    pub(super) fn push(&mut self, value: impl Into<BindValue>) -> String {
        self.values.push(value.into());
        match self.dialect {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${}", self.values.len()),
        }
    }

    /// The parameters in placeholder order.
    pub(super) fn values(&self) -> &[BindValue] {
        &self.values
    }

    /// Clauses the statement leaves out (it matches a superset) and the caller must test on
    /// each candidate's JSON (PostgreSQL residuals).
    pub(super) fn post_filter(&self) -> &[Clause] {
        &self.post_filter
    }

    /// Why the statement cannot answer the search in this dialect, if it cannot.
    pub(super) fn unsupported(&self) -> Option<&str> {
        self.unsupported.as_deref()
    }
}

/// What [`select_ids_sql`] returns per match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Selected {
    /// The id.
    Ids,
    /// The id and the current version's JSON body.
    IdsAndBodies,
}

/// `SELECT c.res_id …`: the ids of live `res_type` resources meeting `criteria` in `sort`
/// order, at most `limit` (`None`: all).
pub(super) fn select_ids_sql(
    res_type: &str,
    criteria: &Criteria,
    sort: &[SortKey],
    limit: Option<usize>,
    selected: Selected,
    binds: &mut Binds,
) -> String {
    let columns = match selected {
        Selected::Ids => "c.res_id",
        Selected::IdsAndBodies => {
            "c.res_id, (SELECT v.body FROM resource_version v WHERE v.seq = c.seq)"
        }
    };
    let mut sql = format!(
        "SELECT {columns} FROM resource_current c WHERE c.res_type = {} AND c.deleted = 0",
        binds.push(res_type.to_owned())
    );
    sql.push_str(" AND ");
    sql.push_str(&criteria_sql(criteria, "c", res_type, binds, 0));
    sql.push_str(" ORDER BY ");
    sql.push_str(&order_sql(sort, "c", binds));
    if let Some(limit) = limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    sql
}

/// The conditions of `criteria` on the `resource_current` row aliased `alias`, joined by AND
/// (`1 = 1` when there are none).
fn criteria_sql(
    criteria: &Criteria,
    alias: &str,
    res_type: &str,
    binds: &mut Binds,
    depth: usize,
) -> String {
    let mut parts = Vec::new();
    for any_of in &criteria.ids {
        let marks: Vec<String> = any_of.iter().map(|id| binds.push(id.clone())).collect();
        parts.push(format!("{alias}.res_id IN ({})", marks.join(", ")));
    }
    for any_of in &criteria.identifiers {
        let mut alternatives = Vec::new();
        for token in any_of {
            let mut match_parts = Vec::new();
            if let Some(system) = &token.system {
                match_parts.push(format!("i.system = {}", binds.push(system.clone())));
            }
            if let Some(value) = &token.value {
                match_parts.push(format!("i.value = {}", binds.push(value.clone())));
            }
            if match_parts.is_empty() {
                match_parts.push("1 = 1".into());
            }
            alternatives.push(format!("({})", match_parts.join(" AND ")));
        }
        parts.push(format!(
            "EXISTS (SELECT 1 FROM identifier_index i WHERE i.res_type = {alias}.res_type \
             AND i.res_id = {alias}.res_id AND ({}))",
            alternatives.join(" OR ")
        ));
    }
    // One selective clause drives (its matches are read through the by-value index); the
    // others are checked per driven resource through the by-resource index.
    let driver = driving_clause(&criteria.clauses);
    for (index, clause) in criteria.clauses.iter().enumerate() {
        let drive = Some(index) == driver;
        parts.push(clause_sql(clause, alias, res_type, binds, depth, drive));
    }
    if parts.is_empty() {
        "1 = 1".into()
    } else {
        parts.join(" AND ")
    }
}

fn table(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Token => "search_token",
        IndexKind::String => "search_string",
        IndexKind::Reference => "search_reference",
        IndexKind::Date => "search_date",
        IndexKind::Number => "search_number",
        IndexKind::Uri => "search_uri",
        IndexKind::Resource => "resource_current",
    }
}

/// One clause as `seq IN (SELECT seq FROM <index> WHERE res_type = ? AND param = ?
/// AND …)`: uncorrelated, so SQLite reads the matching index rows once (through the by-value
/// index) instead of probing the index for every resource of the type.
fn clause_sql(
    clause: &Clause,
    alias: &str,
    res_type: &str,
    binds: &mut Binds,
    depth: usize,
    drive: bool,
) -> String {
    if clause.kind == IndexKind::Resource {
        let residual = clause
            .any_of
            .iter()
            .any(|condition| matches!(condition, Condition::Residual(_)));
        if residual && binds.dialect == Dialect::Postgres {
            if depth == 0 && !clause.negate {
                binds.post_filter.push(clause.clone());
            } else {
                binds.unsupported = Some(format!(
                    "'{}' cannot be negated or used inside a chain or _has on the PostgreSQL store",
                    clause.param
                ));
            }
            return "1 = 1".into();
        }
        let alternatives: Vec<String> = clause
            .any_of
            .iter()
            .map(|condition| resource_condition(condition, alias, res_type, binds, depth))
            .collect();
        let joined = format!("({})", alternatives.join(" OR "));
        return if clause.negate {
            format!("NOT {joined}")
        } else {
            joined
        };
    }
    let row = format!("s{depth}");
    let table_name = table(clause.kind);
    if !drive {
        // Checked per resource: the by-resource index answers "this resource's values".
        let scope = format!(
            "SELECT 1 FROM {table_name} {row} WHERE {row}.seq = {alias}.seq AND {row}.param = {}",
            binds.push(clause.param.clone()),
        );
        if let Some(missing) = clause.missing {
            let not = if missing { "NOT " } else { "" };
            return format!("{not}EXISTS ({scope})");
        }
        let alternatives: Vec<String> = clause
            .any_of
            .iter()
            .map(|condition| condition_sql(condition, &row, binds, depth))
            .collect();
        let not = if clause.negate { "NOT " } else { "" };
        return format!("{not}EXISTS ({scope} AND ({}))", alternatives.join(" OR "));
    }
    let scope = format!(
        "SELECT {row}.seq FROM {table_name} {row} WHERE {row}.res_type = {type_mark} AND {row}.param = {param_mark}",
        type_mark = binds.push(res_type.to_owned()),
        param_mark = binds.push(clause.param.clone()),
    );
    let alternatives: Vec<String> = clause
        .any_of
        .iter()
        .map(|condition| condition_sql(condition, &row, binds, depth))
        .collect();
    format!(
        "{alias}.seq IN ({scope} AND ({}))",
        alternatives.join(" OR ")
    )
}

/// The clause most likely to match few resources, read first: a reference to a given
/// resource, then a token with a code, then a string or uri, then anything positive; negated
/// and `:missing` clauses never drive.
fn driving_clause(clauses: &[Clause]) -> Option<usize> {
    let rank = |clause: &Clause| -> Option<u8> {
        if clause.negate || clause.missing.is_some() || clause.kind == IndexKind::Resource {
            return None;
        }
        let specific = clause.any_of.iter().all(|condition| match condition {
            Condition::Reference { target_id, url, .. } => target_id.is_some() || url.is_some(),
            Condition::Token { code, .. } => code.is_some(),
            Condition::ReferenceIdentifier { .. } | Condition::Chain { .. } => true,
            _ => false,
        });
        Some(match (clause.kind, specific) {
            (IndexKind::Reference, true) => 0,
            (IndexKind::Token, true) => 1,
            (IndexKind::String | IndexKind::Uri, _) => 2,
            _ => 3,
        })
    };
    clauses
        .iter()
        .enumerate()
        .filter_map(|(index, clause)| rank(clause).map(|rank| (rank, index)))
        .min()
        .map(|(_, index)| index)
}

/// `_id` and `_lastUpdated` read the current row and its version.
fn resource_condition(
    condition: &Condition,
    alias: &str,
    res_type: &str,
    binds: &mut Binds,
    depth: usize,
) -> String {
    match condition {
        Condition::ReferencesAny {
            params,
            target_type,
            target_id,
        } => {
            let type_mark = binds.push(res_type.to_owned());
            let marks: Vec<String> = params
                .iter()
                .map(|param| binds.push(param.clone()))
                .collect();
            format!(
                "{alias}.seq IN (SELECT m.seq FROM search_reference m WHERE m.res_type = {type_mark} \
                 AND m.param IN ({}) AND m.target_type = {} AND m.target_id = {})",
                marks.join(", "),
                binds.push(target_type.clone()),
                binds.push(target_id.clone())
            )
        }
        Condition::Has {
            source_type,
            param,
            inner,
        } => {
            let source = format!("h{}", depth + 1);
            let criteria = Criteria {
                clauses: vec![(**inner).clone()],
                ..Criteria::default()
            };
            let source_type_mark = binds.push(source_type.clone());
            let param_mark = binds.push(param.clone());
            let target_type_mark = binds.push(res_type.to_owned());
            let inner_sql = criteria_sql(&criteria, &source, source_type, binds, depth + 1);
            format!(
                "{alias}.res_id IN (SELECT r{d}.target_id FROM search_reference r{d} \
                 JOIN resource_current {source} ON {source}.res_type = r{d}.res_type AND {source}.deleted = 0 AND {source}.seq = r{d}.seq \
                 WHERE r{d}.res_type = {source_type_mark} AND r{d}.param = {param_mark} AND r{d}.target_type = {target_type_mark} AND {inner_sql})",
                d = depth + 1
            )
        }
        Condition::Residual(residual) => format!(
            "tsunagi_residual((SELECT v.body FROM resource_version v WHERE v.seq = {alias}.seq), {}) = 1",
            binds.push(serde_json::to_string(residual).unwrap_or_default())
        ),
        Condition::Id(id) => format!("{alias}.res_id = {}", binds.push(id.clone())),
        Condition::LastUpdated { prefix, low, high } => {
            let value = format!(
                "(SELECT v.last_updated FROM resource_version v WHERE v.seq = {alias}.seq)"
            );
            range_sql(*prefix, &value, &value, *low, *high, binds)
        }
        _ => "0 = 1".into(),
    }
}

/// A stored range `[value_low, value_high]` against the search range `[low, high]`.
fn range_sql(
    prefix: Prefix,
    value_low: &str,
    value_high: &str,
    low: i64,
    high: i64,
    binds: &mut Binds,
) -> String {
    match prefix {
        Prefix::Eq => format!(
            "({value_low} >= {} AND {value_high} <= {})",
            binds.push(low),
            binds.push(high)
        ),
        Prefix::Ne => format!(
            "NOT ({value_low} >= {} AND {value_high} <= {})",
            binds.push(low),
            binds.push(high)
        ),
        Prefix::Gt => format!("{value_high} > {}", binds.push(high)),
        Prefix::Lt => format!("{value_low} < {}", binds.push(low)),
        Prefix::Ge => format!("{value_high} >= {}", binds.push(low)),
        Prefix::Le => format!("{value_low} <= {}", binds.push(high)),
        Prefix::Sa => format!("{value_low} > {}", binds.push(high)),
        Prefix::Eb => format!("{value_high} < {}", binds.push(low)),
        Prefix::Ap => {
            let (low, high) = approximate_range(low, high);
            format!(
                "({value_high} >= {} AND {value_low} <= {})",
                binds.push(low),
                binds.push(high)
            )
        }
    }
}

/// The search range widened by 10 % of its width on each side (at least one day): what `ap`
/// means for dates here.
pub fn approximate_range(low: i64, high: i64) -> (i64, i64) {
    const DAY: i64 = 86_400_000;
    let margin = ((high.saturating_sub(low)) / 10).max(DAY);
    (low.saturating_sub(margin), high.saturating_add(margin))
}

/// The upper bound of the strings starting with `prefix` (for an index range scan).
fn after_prefix(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn condition_sql(condition: &Condition, row: &str, binds: &mut Binds, depth: usize) -> String {
    match condition {
        Condition::Token { system, code } => {
            let mut parts = Vec::new();
            match system {
                Some(None) => parts.push(format!("{row}.system IS NULL")),
                Some(Some(system)) => {
                    parts.push(format!("{row}.system = {}", binds.push(system.clone())))
                }
                None => {}
            }
            if let Some(code) = code {
                parts.push(format!("{row}.code = {}", binds.push(code.clone())));
            }
            if parts.is_empty() {
                "1 = 1".into()
            } else {
                format!("({})", parts.join(" AND "))
            }
        }
        Condition::TokenText(text) => format!(
            "({row}.text >= {} AND {row}.text < {})",
            binds.push(text.clone()),
            binds.push(after_prefix(text))
        ),
        Condition::String { value, mode } => match mode {
            StringMatch::Prefix => format!(
                "({row}.folded >= {} AND {row}.folded < {})",
                binds.push(value.clone()),
                binds.push(after_prefix(value))
            ),
            StringMatch::Exact => format!("{row}.exact = {}", binds.push(value.clone())),
            StringMatch::Contains => {
                let function = match binds.dialect {
                    Dialect::Sqlite => "instr",
                    Dialect::Postgres => "strpos",
                };
                format!(
                    "{function}({row}.folded, {}) > 0",
                    binds.push(value.clone())
                )
            }
        },
        Condition::Reference {
            target_type,
            target_id,
            url,
        } => {
            let mut parts = Vec::new();
            if let Some(target_type) = target_type {
                parts.push(format!(
                    "{row}.target_type = {}",
                    binds.push(target_type.clone())
                ));
            }
            if let Some(target_id) = target_id {
                parts.push(format!(
                    "{row}.target_id = {}",
                    binds.push(target_id.clone())
                ));
            }
            if let Some(url) = url {
                parts.push(format!("{row}.url = {}", binds.push(url.clone())));
            }
            if parts.is_empty() {
                "0 = 1".into()
            } else {
                format!("({})", parts.join(" AND "))
            }
        }
        Condition::ReferenceIdentifier { system, value } => match system {
            Some(system) => format!(
                "({row}.id_value = {} AND {row}.id_system = {})",
                binds.push(value.clone()),
                binds.push(system.clone())
            ),
            None => format!("{row}.id_value = {}", binds.push(value.clone())),
        },
        Condition::Date { prefix, low, high } => range_sql(
            *prefix,
            &format!("{row}.low"),
            &format!("{row}.high"),
            *low,
            *high,
            binds,
        ),
        Condition::Number {
            prefix,
            value,
            low,
            high,
            system,
            code,
        } => {
            let mut sql = number_sql(*prefix, &format!("{row}.value"), *value, *low, *high, binds);
            if let Some(system) = system {
                sql = format!("({sql} AND {row}.system = {})", binds.push(system.clone()));
            }
            if let Some(code) = code {
                sql = format!(
                    "({sql} AND ({row}.code = {} OR {row}.unit = {}))",
                    binds.push(code.clone()),
                    binds.push(code.clone())
                );
            }
            sql
        }
        Condition::Uri { value, mode } => match mode {
            UriMatch::Exact => format!("{row}.uri = {}", binds.push(value.clone())),
            UriMatch::Below => format!(
                "({row}.uri >= {} AND {row}.uri < {})",
                binds.push(value.clone()),
                binds.push(after_prefix(value))
            ),
            UriMatch::Above => format!(
                "substr({}, 1, length({row}.uri)) = {row}.uri",
                binds.push(value.clone())
            ),
        },
        Condition::Chain { target_type, inner } => {
            let target = format!("t{}", depth + 1);
            // Placeholders are positional: bind in the order they appear in the text.
            let type_mark = binds.push(target_type.clone());
            let target_type_mark = binds.push(target_type.clone());
            let criteria = Criteria {
                clauses: vec![(**inner).clone()],
                ..Criteria::default()
            };
            let inner_sql = criteria_sql(&criteria, &target, target_type, binds, depth + 1);
            format!(
                "({row}.target_type = {type_mark} AND {row}.target_id IN (SELECT {target}.res_id FROM resource_current {target} \
                 WHERE {target}.res_type = {target_type_mark} AND {target}.deleted = 0 AND {inner_sql}))"
            )
        }
        Condition::Id(_)
        | Condition::LastUpdated { .. }
        | Condition::Has { .. }
        | Condition::Residual(_)
        | Condition::ValueSet(_)
        | Condition::Subsumed { .. }
        | Condition::ReferencesAny { .. } => "0 = 1".into(),
    }
}

/// A stored number against the search number (the implied range decides `eq`/`ne`).
fn number_sql(
    prefix: Prefix,
    column: &str,
    value: f64,
    low: f64,
    high: f64,
    binds: &mut Binds,
) -> String {
    match prefix {
        Prefix::Eq => format!(
            "({column} >= {} AND {column} < {})",
            binds.push(low),
            binds.push(high)
        ),
        Prefix::Ne => format!(
            "NOT ({column} >= {} AND {column} < {})",
            binds.push(low),
            binds.push(high)
        ),
        Prefix::Gt | Prefix::Sa => format!("{column} > {}", binds.push(value)),
        Prefix::Lt | Prefix::Eb => format!("{column} < {}", binds.push(value)),
        Prefix::Ge => format!("{column} >= {}", binds.push(value)),
        Prefix::Le => format!("{column} <= {}", binds.push(value)),
        Prefix::Ap => {
            let margin = (value.abs() * 0.1).max(high - low);
            format!(
                "({column} >= {} AND {column} <= {})",
                binds.push(value - margin),
                binds.push(value + margin)
            )
        }
    }
}

/// `ORDER BY` terms for the sort keys, then newest first.
pub(super) fn order_sql(sort: &[SortKey], alias: &str, binds: &mut Binds) -> String {
    let mut terms = Vec::new();
    for key in sort {
        let direction = if key.descending { "DESC" } else { "ASC" };
        let aggregate = if key.descending { "MAX" } else { "MIN" };
        let column = match key.kind {
            IndexKind::Token => "code",
            IndexKind::String => "folded",
            IndexKind::Reference => "target_id",
            IndexKind::Date => {
                if key.descending {
                    "high"
                } else {
                    "low"
                }
            }
            IndexKind::Number => "value",
            IndexKind::Uri => "uri",
            IndexKind::Resource => "",
        };
        let mut expression = || {
            match (key.kind, key.param.as_str()) {
            (IndexKind::Resource, "_id") => format!("{alias}.res_id"),
            (IndexKind::Resource, _) => {
                format!("(SELECT v.last_updated FROM resource_version v WHERE v.seq = {alias}.seq)")
            }
            (kind, param) => format!(
                "(SELECT {aggregate}(o.{column}) FROM {table} o WHERE o.seq = {alias}.seq AND o.param = {mark})",
                table = table(kind),
                mark = binds.push(param.to_owned()),
            ),
        }
        };
        // Resources without a value sort last either way (the subquery is written, and bound,
        // twice: placeholders are positional).
        let first = expression();
        let second = expression();
        terms.push(format!("({first}) IS NULL, {second} {direction}"));
    }
    terms.push(format!("{alias}.seq DESC"));
    terms.join(", ")
}
