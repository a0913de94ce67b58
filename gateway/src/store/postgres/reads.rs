//! Reads on one PostgreSQL connection, inside or outside a transaction.

use super::{backend, PgConnection};
use crate::clock::Instant;
use crate::store::search_sql::{select_ids_sql, Binds, Dialect, Selected};
use crate::store::{
    Clause, Condition, Criteria, HistoryPage, HistoryQuery, HistoryScope, SortKey, StoreError,
    StoredVersion, WriteMethod,
};
use postgres::types::ToSql;
use postgres::Row;

const VERSION_COLUMNS: &str = "v.res_type, v.res_id, v.version, v.last_updated, v.method, v.body";

/// Most candidates a search with a test PostgreSQL cannot run (composite, `:of-type`, `_text`)
/// reads to test them one by one.
const MAX_POST_FILTER_CANDIDATES: usize = 100_000;

fn version_from_row(row: &Row) -> Result<StoredVersion, StoreError> {
    let method: String = row.try_get(4).map_err(backend)?;
    let body: Option<Vec<u8>> = row.try_get(5).map_err(backend)?;
    let version: i64 = row.try_get(2).map_err(backend)?;
    Ok(StoredVersion {
        res_type: row.try_get(0).map_err(backend)?,
        id: row.try_get(1).map_err(backend)?,
        version: u64::try_from(version).unwrap_or_default(),
        last_updated: Instant {
            millis: row.try_get(3).map_err(backend)?,
        },
        method: WriteMethod::parse(&method).unwrap_or(WriteMethod::Put),
        body: body.map(Into::into),
    })
}

/// The first two text columns of a row, e.g. `(type, id)`.
fn pair_from_row(row: &Row) -> Result<(String, String), StoreError> {
    Ok((
        row.try_get(0).map_err(backend)?,
        row.try_get(1).map_err(backend)?,
    ))
}

/// The current version of a resource (a delete included), if it ever existed.
pub(super) fn current(
    connection: &mut PgConnection,
    res_type: &str,
    id: &str,
) -> Result<Option<StoredVersion>, StoreError> {
    const SQL: &str = "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.body \
         FROM resource_current c JOIN resource_version v ON v.seq = c.seq \
         WHERE c.res_type = $1 AND c.res_id = $2";
    let statement = connection.statement(SQL).map_err(backend)?;
    let row = connection
        .client
        .query_opt(&statement, &[&res_type, &id])
        .map_err(backend)?;
    row.as_ref().map(version_from_row).transpose()
}

/// The current version number of a resource, if it ever existed.
pub(super) fn current_version(
    connection: &mut PgConnection,
    res_type: &str,
    id: &str,
) -> Result<Option<u64>, StoreError> {
    const SQL: &str = "SELECT version FROM resource_current WHERE res_type = $1 AND res_id = $2";
    let statement = connection.statement(SQL).map_err(backend)?;
    let row = connection
        .client
        .query_opt(&statement, &[&res_type, &id])
        .map_err(backend)?;
    row.map(|row| {
        row.try_get::<_, i64>(0)
            .map(|version| u64::try_from(version).unwrap_or_default())
            .map_err(backend)
    })
    .transpose()
}

/// One version of a resource.
pub(super) fn version(
    connection: &mut PgConnection,
    res_type: &str,
    id: &str,
    version: u64,
) -> Result<Option<StoredVersion>, StoreError> {
    const SQL: &str = "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.body \
         FROM resource_version v WHERE v.res_type = $1 AND v.res_id = $2 AND v.version = $3";
    let Ok(version) = i64::try_from(version) else {
        return Ok(None);
    };
    let statement = connection.statement(SQL).map_err(backend)?;
    let row = connection
        .client
        .query_opt(&statement, &[&res_type, &id, &version])
        .map_err(backend)?;
    row.as_ref().map(version_from_row).transpose()
}

/// The current, live versions of `refs` (missing and deleted ones left out).
pub(super) fn live(
    connection: &mut PgConnection,
    refs: &[(String, String)],
) -> Result<Vec<StoredVersion>, StoreError> {
    const SQL: &str = "SELECT v.res_type, v.res_id, v.version, v.last_updated, v.method, v.body \
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(t, i, o) \
         JOIN resource_current c ON c.res_type = r.t AND c.res_id = r.i AND c.deleted = 0 \
         JOIN resource_version v ON v.seq = c.seq ORDER BY r.o";
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let types: Vec<&str> = refs.iter().map(|(res_type, _)| res_type.as_str()).collect();
    let ids: Vec<&str> = refs.iter().map(|(_, id)| id.as_str()).collect();
    let statement = connection.statement(SQL).map_err(backend)?;
    connection
        .client
        .query(&statement, &[&types, &ids])
        .map_err(backend)?
        .iter()
        .map(version_from_row)
        .collect()
}

/// A page of history, newest first.
pub(super) fn history(
    connection: &mut PgConnection,
    scope: &HistoryScope,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    let snapshot = match query.snapshot {
        Some(snapshot) => snapshot,
        None => connection
            .client
            .query_one(
                "SELECT COALESCE(MAX(seq), 0)::int8 FROM resource_version",
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(backend)?,
    };
    let mut filters = vec!["v.seq <= $1".to_string()];
    let mut values: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(snapshot)];
    let mut push = |filter: &str, value: Box<dyn ToSql + Sync>| {
        values.push(value);
        filters.push(format!("{filter} ${}", values.len()));
    };
    match scope {
        HistoryScope::System => {}
        HistoryScope::Type(res_type) => push("v.res_type =", Box::new(res_type.clone())),
        HistoryScope::Instance(res_type, id) => {
            push("v.res_type =", Box::new(res_type.clone()));
            push("v.res_id =", Box::new(id.clone()));
        }
    }
    if let Some(since) = query.since {
        push("v.last_updated >=", Box::new(since.millis));
    }
    let filter = filters.join(" AND ");
    let arguments: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| value.as_ref()).collect();
    let total: i64 = connection
        .client
        .query_one(
            format!("SELECT COUNT(*) FROM resource_version v WHERE {filter}").as_str(),
            &arguments,
        )
        .and_then(|row| row.try_get(0))
        .map_err(backend)?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM resource_version v WHERE {filter} \
         ORDER BY v.seq DESC LIMIT {} OFFSET {}",
        query.count, query.offset
    );
    let versions = connection
        .client
        .query(sql.as_str(), &arguments)
        .map_err(backend)?
        .iter()
        .map(version_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HistoryPage {
        versions,
        total: u64::try_from(total).unwrap_or_default(),
        snapshot,
    })
}

/// Ids of live `res_type` resources meeting `criteria`, in `sort` order, at most `limit`.
pub(super) fn find(
    connection: &mut PgConnection,
    res_type: &str,
    criteria: &Criteria,
    sort: &[SortKey],
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut binds = Binds::new(Dialect::Postgres);
    let mut sql = select_ids_sql(
        res_type,
        criteria,
        sort,
        Some(limit),
        Selected::Ids,
        &mut binds,
    );
    if let Some(reason) = binds.unsupported() {
        return Err(StoreError::Unsupported(reason.to_owned()));
    }
    let post_filter = binds.post_filter().to_vec();
    if !post_filter.is_empty() {
        // The statement matches a superset: read the candidates' JSON and test it here.
        binds = Binds::new(Dialect::Postgres);
        sql = select_ids_sql(
            res_type,
            criteria,
            sort,
            Some(MAX_POST_FILTER_CANDIDATES),
            Selected::IdsAndBodies,
            &mut binds,
        );
    }
    let values: Vec<&(dyn ToSql + Sync)> = binds
        .values()
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect();
    let rows = connection
        .client
        .query(sql.as_str(), &values)
        .map_err(backend)?;
    if post_filter.is_empty() {
        return rows
            .iter()
            .map(|row| row.try_get(0).map_err(backend))
            .collect();
    }
    let tests = compile_post_filter(&post_filter)?;
    let mut ids = Vec::new();
    for row in &rows {
        let body: Option<Vec<u8>> = row.try_get(1).map_err(backend)?;
        let Some(resource) = body.and_then(|body| serde_json::from_slice(&body).ok()) else {
            continue;
        };
        if tests
            .iter()
            .all(|any_of| any_of.iter().any(|test| test.matches(&resource)))
        {
            ids.push(row.try_get(0).map_err(backend)?);
            if ids.len() == limit {
                break;
            }
        }
    }
    Ok(ids)
}

/// Each post-filter clause as its compiled alternatives.
fn compile_post_filter(
    clauses: &[Clause],
) -> Result<Vec<Vec<crate::store::residual::CompiledResidual>>, StoreError> {
    clauses
        .iter()
        .map(|clause| {
            clause
                .any_of
                .iter()
                .filter_map(|condition| match condition {
                    Condition::Residual(residual) => {
                        Some(residual.clone().compile().map_err(StoreError::Unsupported))
                    }
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// `(target type, target id)` of references held by `ids` under `param` (any when `None`).
pub(super) fn references_from(
    connection: &mut PgConnection,
    res_type: &str,
    ids: &[String],
    param: Option<String>,
    target_type: Option<String>,
) -> Result<Vec<(String, String)>, StoreError> {
    const SQL: &str = "SELECT s.target_type, s.target_id \
         FROM unnest($2::text[]) WITH ORDINALITY AS r(i, o) \
         JOIN resource_current c ON c.res_type = $1 AND c.res_id = r.i \
         JOIN search_reference s ON s.seq = c.seq \
         WHERE ($3::text IS NULL OR s.param = $3) AND ($4::text IS NULL OR s.target_type = $4) \
           AND s.target_type IS NOT NULL AND s.target_id IS NOT NULL \
         ORDER BY r.o, s.n";
    let statement = connection.statement(SQL).map_err(backend)?;
    connection
        .client
        .query(&statement, &[&res_type, &ids, &param, &target_type])
        .map_err(backend)?
        .iter()
        .map(pair_from_row)
        .collect()
}

/// Ids of live `source_type` resources whose `param` references any of `targets`.
pub(super) fn references_to(
    connection: &mut PgConnection,
    source_type: &str,
    param: &str,
    targets: &[(String, String)],
) -> Result<Vec<String>, StoreError> {
    const SQL: &str = "SELECT DISTINCT v.res_id \
         FROM unnest($3::text[], $4::text[]) AS r(t, i) \
         JOIN search_reference s ON s.res_type = $1 AND s.param = $2 \
              AND s.target_id = r.i AND s.target_type = r.t \
         JOIN resource_version v ON v.seq = s.seq";
    let types: Vec<&str> = targets
        .iter()
        .map(|(res_type, _)| res_type.as_str())
        .collect();
    let ids: Vec<&str> = targets.iter().map(|(_, id)| id.as_str()).collect();
    let statement = connection.statement(SQL).map_err(backend)?;
    connection
        .client
        .query(&statement, &[&source_type, &param, &types, &ids])
        .map_err(backend)?
        .iter()
        .map(|row| row.try_get(0).map_err(backend))
        .collect()
}

/// Up to `limit` `(type, id)` of live resources after `after`, in (type, id) order.
pub(super) fn current_after(
    connection: &mut PgConnection,
    after: Option<(String, String)>,
    limit: usize,
) -> Result<Vec<(String, String)>, StoreError> {
    const SQL: &str = "SELECT res_type, res_id FROM resource_current \
         WHERE deleted = 0 AND (res_type, res_id) > ($1, $2) ORDER BY res_type, res_id LIMIT $3";
    let (res_type, id) = after.unwrap_or_default();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = connection.statement(SQL).map_err(backend)?;
    connection
        .client
        .query(&statement, &[&res_type, &id, &limit])
        .map_err(backend)?
        .iter()
        .map(pair_from_row)
        .collect()
}
