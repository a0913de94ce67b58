//! A version's search index rows as one array per column, so PostgreSQL writes all rows of a
//! table with one `INSERT … SELECT FROM unnest(…)` instead of a round trip per row.

use postgres::types::ToSql;
use tsunagi_profiles::search::{values::fold_string, IndexEntry, IndexValue};

/// The index tables, with the columns after `seq, n, res_type` and each one's array type.
pub(super) const TABLES: &[(&str, &[(&str, &str)])] = &[
    (
        "search_token",
        &[
            ("param", "text"),
            ("system", "text"),
            ("code", "text"),
            ("text", "text"),
        ],
    ),
    (
        "search_string",
        &[("param", "text"), ("folded", "text"), ("exact", "text")],
    ),
    (
        "search_reference",
        &[
            ("param", "text"),
            ("target_type", "text"),
            ("target_id", "text"),
            ("url", "text"),
            ("id_system", "text"),
            ("id_value", "text"),
        ],
    ),
    (
        "search_date",
        &[("param", "text"), ("low", "int8"), ("high", "int8")],
    ),
    (
        "search_number",
        &[
            ("param", "text"),
            ("value", "float8"),
            ("low", "float8"),
            ("high", "float8"),
            ("system", "text"),
            ("code", "text"),
            ("unit", "text"),
        ],
    ),
    ("search_uri", &[("param", "text"), ("uri", "text")]),
];

/// How many parameters [`insert_ctes`] takes (a row-number array per table plus its columns).
#[cfg(test)]
pub(super) fn parameter_count() -> usize {
    TABLES.iter().map(|(_, columns)| columns.len() + 1).sum()
}

/// `d0 AS (DELETE FROM search_token WHERE {condition}), …`: removes the rows meeting
/// `condition` (e.g. `seq = $1`) from every index table.
pub(super) fn delete_ctes(condition: &str) -> String {
    TABLES
        .iter()
        .enumerate()
        .map(|(index, (table, _))| format!("d{index} AS (DELETE FROM {table} WHERE {condition})"))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// `i0 AS (INSERT INTO search_token … SELECT {seq}, u.* FROM {from}unnest($first, …)), …`: the
/// rows of [`IndexArrays`], bound from parameter `$first` on in [`IndexArrays::params`] order.
pub(super) fn insert_ctes(seq: &str, res_type: &str, from: &str, first: usize) -> String {
    let mut next = first;
    let mut ctes = Vec::new();
    for (index, (table, columns)) in TABLES.iter().enumerate() {
        let mut arrays = vec![format!("${next}::int4[]")];
        next += 1;
        for (_, array_type) in columns.iter() {
            arrays.push(format!("${next}::{array_type}[]"));
            next += 1;
        }
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        ctes.push(format!(
            "i{index} AS (INSERT INTO {table} (seq, n, res_type, {names}) \
             SELECT {seq}, u.n, {res_type}, {selected} FROM {from}unnest({arrays}) AS u(n, {names}))",
            names = names.join(", "),
            selected = names
                .iter()
                .map(|name| format!("u.{name}"))
                .collect::<Vec<_>>()
                .join(", "),
            arrays = arrays.join(", "),
        ));
    }
    ctes.join(",\n")
}

/// One array per index column of one version's rows.
#[derive(Default)]
pub(super) struct IndexArrays {
    token: TokenArrays,
    string: (Vec<i32>, Vec<String>, Vec<String>, Vec<String>),
    reference: ReferenceArrays,
    date: (Vec<i32>, Vec<String>, Vec<i64>, Vec<i64>),
    number: NumberArrays,
    uri: (Vec<i32>, Vec<String>, Vec<String>),
}

#[derive(Default)]
struct TokenArrays {
    n: Vec<i32>,
    param: Vec<String>,
    system: Vec<Option<String>>,
    code: Vec<Option<String>>,
    text: Vec<Option<String>>,
}

#[derive(Default)]
struct ReferenceArrays {
    n: Vec<i32>,
    param: Vec<String>,
    target_type: Vec<Option<String>>,
    target_id: Vec<Option<String>>,
    url: Vec<Option<String>>,
    id_system: Vec<Option<String>>,
    id_value: Vec<Option<String>>,
}

#[derive(Default)]
struct NumberArrays {
    n: Vec<i32>,
    param: Vec<String>,
    value: Vec<f64>,
    low: Vec<f64>,
    high: Vec<f64>,
    system: Vec<Option<String>>,
    code: Vec<Option<String>>,
    unit: Vec<Option<String>>,
}

impl IndexArrays {
    /// The arrays of `entries` (row numbers are positions in `entries`, as in SQLite).
    pub(super) fn new(entries: &[IndexEntry]) -> Self {
        let mut arrays = IndexArrays::default();
        for (n, entry) in entries.iter().enumerate() {
            let n = i32::try_from(n).unwrap_or(i32::MAX);
            let param = entry.param.clone();
            match &entry.value {
                IndexValue::Token { system, code, text } => {
                    let token = &mut arrays.token;
                    token.n.push(n);
                    token.param.push(param);
                    token.system.push(system.clone());
                    token.code.push(code.clone());
                    token.text.push(text.as_deref().map(fold_string));
                }
                IndexValue::String { value } => {
                    let string = &mut arrays.string;
                    string.0.push(n);
                    string.1.push(param);
                    string.2.push(fold_string(value));
                    string.3.push(value.clone());
                }
                IndexValue::Reference {
                    target_type,
                    target_id,
                    url,
                    identifier,
                } => {
                    let reference = &mut arrays.reference;
                    reference.n.push(n);
                    reference.param.push(param);
                    reference.target_type.push(target_type.clone());
                    reference.target_id.push(target_id.clone());
                    reference.url.push(url.clone());
                    let (id_system, id_value) = match identifier {
                        Some((system, value)) => (system.clone(), Some(value.clone())),
                        None => (None, None),
                    };
                    reference.id_system.push(id_system);
                    reference.id_value.push(id_value);
                }
                IndexValue::Date { low, high } => {
                    let date = &mut arrays.date;
                    date.0.push(n);
                    date.1.push(param);
                    date.2.push(*low);
                    date.3.push(*high);
                }
                IndexValue::Number { value, low, high } => {
                    arrays
                        .number
                        .push(n, param, [*value, *low, *high], [None, None, None]);
                }
                IndexValue::Quantity {
                    value,
                    low,
                    high,
                    system,
                    code,
                    unit,
                } => arrays.number.push(
                    n,
                    param,
                    [*value, *low, *high],
                    [system.clone(), code.clone(), unit.clone()],
                ),
                IndexValue::Uri { value } => {
                    let uri = &mut arrays.uri;
                    uri.0.push(n);
                    uri.1.push(param);
                    uri.2.push(value.clone());
                }
            }
        }
        arrays
    }

    /// The arrays as statement parameters, in [`TABLES`] order.
    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let (token, string, date, uri) = (&self.token, &self.string, &self.date, &self.uri);
        let (reference, number) = (&self.reference, &self.number);
        vec![
            &token.n,
            &token.param,
            &token.system,
            &token.code,
            &token.text,
            &string.0,
            &string.1,
            &string.2,
            &string.3,
            &reference.n,
            &reference.param,
            &reference.target_type,
            &reference.target_id,
            &reference.url,
            &reference.id_system,
            &reference.id_value,
            &date.0,
            &date.1,
            &date.2,
            &date.3,
            &number.n,
            &number.param,
            &number.value,
            &number.low,
            &number.high,
            &number.system,
            &number.code,
            &number.unit,
            &uri.0,
            &uri.1,
            &uri.2,
        ]
    }
}

impl NumberArrays {
    fn push(&mut self, n: i32, param: String, numbers: [f64; 3], unit: [Option<String>; 3]) {
        let [value, low, high] = numbers;
        let [system, code, unit] = unit;
        self.n.push(n);
        self.param.push(param);
        self.value.push(value);
        self.low.push(low);
        self.high.push(high);
        self.system.push(system);
        self.code.push(code);
        self.unit.push(unit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_list_matches_the_statement() {
        let arrays = IndexArrays::new(&[]);
        assert_eq!(arrays.params().len(), parameter_count());
        let sql = insert_ctes("v.seq", "$1", "v, ", 11);
        let last = format!("${}::text[]", 11 + parameter_count() - 1);
        assert!(sql.contains(&last), "{sql}");
        assert!(!sql.contains(&format!("${}", 11 + parameter_count())));
    }
}
