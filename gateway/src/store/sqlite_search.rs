//! FHIR search over the SQLite index tables: a [`Criteria`] becomes one `SELECT` over
//! `resource_current` with an `EXISTS` per clause, `_sort` becomes `ORDER BY` subqueries, and
//! index rows are written next to each version ([`write_index`]).

use super::query::{Clause, Condition, IndexKind, Prefix, SortKey, StringMatch, UriMatch};
use super::residual::Residual;
use super::sqlite::backend;
use super::{Criteria, StoreError};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ToSql};
use tsunagi_profiles::search::{values::fold_string, IndexEntry, IndexValue};

/// SQL parameters collected while a statement is built.
#[derive(Default)]
pub(super) struct Binds(Vec<Box<dyn ToSql>>);

impl Binds {
    fn push(&mut self, value: impl ToSql + 'static) -> &'static str {
        self.0.push(Box::new(value));
        "?"
    }

    /// Adds a text parameter; returns its placeholder.
    pub(super) fn push_text(&mut self, value: &str) -> &'static str {
        self.push(value.to_owned())
    }

    /// The parameters for `query_map`.
    pub(super) fn as_params(&self) -> Vec<&dyn ToSql> {
        self.0.iter().map(|value| value.as_ref()).collect()
    }
}

/// Registers `tsunagi_residual(body, test)`: 1 when the stored resource JSON `body` passes the
/// [`Residual`] test serialised in `test` (parsed and compiled once per statement), else 0.
pub(super) fn register_functions(connection: &Connection) -> Result<(), StoreError> {
    connection
        .create_scalar_function(
            "tsunagi_residual",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |context| {
                let test = context.get_or_create_aux(1, |value| {
                    let text = value.as_str().map_err(|error| error.to_string())?;
                    serde_json::from_str::<Residual>(text)
                        .map_err(|error| error.to_string())?
                        .compile()
                })?;
                let body = match context.get_raw(0) {
                    ValueRef::Blob(bytes) | ValueRef::Text(bytes) => bytes,
                    _ => return Ok(0_i64),
                };
                let passes = serde_json::from_slice::<serde_json::Value>(body)
                    .is_ok_and(|resource| test.matches(&resource));
                Ok(i64::from(passes))
            },
        )
        .map_err(backend)
}

/// The conditions of `criteria` on the `resource_current` row aliased `alias`, joined by AND
/// (`1 = 1` when there are none).
pub(super) fn criteria_sql(
    criteria: &Criteria,
    alias: &str,
    res_type: &str,
    binds: &mut Binds,
    depth: usize,
) -> String {
    let mut parts = Vec::new();
    for any_of in &criteria.ids {
        let marks: Vec<&str> = any_of.iter().map(|id| binds.push(id.clone())).collect();
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
            let marks: Vec<&str> = params
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
                format!("instr({row}.folded, {}) > 0", binds.push(value.clone()))
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

/// Writes the index rows of the version `seq` (of `res_type`), first removing those of the
/// version it replaces (`replaced`, its sequence number).
pub(super) fn write_index(
    connection: &Connection,
    res_type: &str,
    seq: i64,
    replaced: Option<i64>,
    entries: &[IndexEntry],
) -> Result<(), StoreError> {
    if let Some(old) = replaced {
        for table in [
            "search_token",
            "search_string",
            "search_reference",
            "search_date",
            "search_number",
            "search_uri",
        ] {
            connection
                .prepare_cached(&format!("DELETE FROM {table} WHERE seq = ?1"))
                .and_then(|mut statement| statement.execute(params![old]))
                .map_err(backend)?;
        }
    }
    // `OR FAIL`: a failing insert keeps what the statement already wrote, which spares SQLite a
    // statement journal per row; any failure fails the whole job, and its transaction or
    // savepoint is rolled back.
    for (n, entry) in entries.iter().enumerate() {
        let param = entry.param.as_str();
        let result = match &entry.value {
            IndexValue::Token { system, code, text } => connection
                .prepare_cached("INSERT OR FAIL INTO search_token (seq, n, res_type, param, system, code, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, system, code, text.as_deref().map(fold_string)])),
            IndexValue::String { value } => connection
                .prepare_cached("INSERT OR FAIL INTO search_string (seq, n, res_type, param, folded, exact) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, fold_string(value), value])),
            IndexValue::Reference { target_type, target_id, url, identifier } => {
                let (id_system, id_value) = match identifier {
                    Some((system, value)) => (system.as_deref(), Some(value.as_str())),
                    None => (None, None),
                };
                connection
                    .prepare_cached("INSERT OR FAIL INTO search_reference (seq, n, res_type, param, target_type, target_id, url, id_system, id_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                    .and_then(|mut s| s.execute(params![seq, n, res_type, param, target_type, target_id, url, id_system, id_value]))
            }
            IndexValue::Date { low, high } => connection
                .prepare_cached("INSERT OR FAIL INTO search_date (seq, n, res_type, param, low, high) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, low, high])),
            IndexValue::Number { value, low, high } => connection
                .prepare_cached("INSERT OR FAIL INTO search_number (seq, n, res_type, param, value, low, high) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, value, low, high])),
            IndexValue::Quantity { value, low, high, system, code, unit } => connection
                .prepare_cached("INSERT OR FAIL INTO search_number (seq, n, res_type, param, value, low, high, system, code, unit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, value, low, high, system, code, unit])),
            IndexValue::Uri { value } => connection
                .prepare_cached("INSERT OR FAIL INTO search_uri (seq, n, res_type, param, uri) VALUES (?1, ?2, ?3, ?4, ?5)")
                .and_then(|mut s| s.execute(params![seq, n, res_type, param, value])),
        };
        result.map_err(backend)?;
    }
    Ok(())
}
