//! SQLite specifics of search: the `tsunagi_residual` SQL function and the index rows
//! written next to each version ([`write_index`]). The statements themselves are built by
//! [`super::search_sql`].

use super::residual::Residual;
use super::search_sql::{BindValue, Binds};
use super::sqlite::backend;
use super::StoreError;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, ToSql};
use tsunagi_profiles::search::{values::fold_string, IndexEntry, IndexValue};

impl ToSql for BindValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            BindValue::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            BindValue::Int(number) => ToSqlOutput::Borrowed(ValueRef::Integer(*number)),
            BindValue::Real(number) => ToSqlOutput::Borrowed(ValueRef::Real(*number)),
        })
    }
}

/// The parameters of a built statement, for rusqlite.
pub(super) fn sqlite_params(binds: &Binds) -> Vec<&dyn ToSql> {
    binds
        .values()
        .iter()
        .map(|value| value as &dyn ToSql)
        .collect()
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
