//! Transactions on PostgreSQL: [`run`] runs a [`TxWork`] in `BEGIN … COMMIT` and again when it
//! lost a race with another replica; [`PgTx`] is the [`StoreTx`] the work sees.

use super::index_rows::{self, IndexArrays};
use super::{backend, reads, release, PgConnection};
use crate::store::pool::Pool;
use crate::store::{Criteria, IndexEntry, NewVersion, StoreError, StoreTx, StoredVersion, TxWork};
use crate::GatewayError;
use postgres::types::ToSql;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::LazyLock;
use std::time::Duration;

/// One version, its current-pointer, identifier rows and search rows in one statement, written
/// only if `$3` follows the current version (else no row is written and `written` is NULL);
/// returns the new version's seq and the version it found.
static WRITE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH prev AS (SELECT version, seq FROM resource_current WHERE res_type = $1 AND res_id = $2),\n\
         v AS (INSERT INTO resource_version (res_type, res_id, version, last_updated, method, body) \
           SELECT $1::text, $2::text, $3::int8, $4::int8, $5::text, $6::bytea \
           WHERE COALESCE((SELECT version FROM prev), 0) = $3::int8 - 1 \
           RETURNING seq),\n\
         c AS (INSERT INTO resource_current (res_type, res_id, version, seq, deleted) \
           SELECT $1, $2, $3, v.seq, $7::int4 FROM v ON CONFLICT (res_type, res_id) DO UPDATE \
           SET version = excluded.version, seq = excluded.seq, deleted = excluded.deleted),\n\
         di AS (DELETE FROM identifier_index WHERE res_type = $1 AND res_id = $2 \
           AND EXISTS (SELECT 1 FROM v)),\n\
         ii AS (INSERT INTO identifier_index (res_type, res_id, system, value) \
           SELECT $1, $2, u.system, u.value FROM v, unnest($8::text[], $9::text[]) AS u(system, value)),\n\
         {deletes},\n{inserts}\n\
         SELECT (SELECT seq FROM v) AS written, COALESCE((SELECT version FROM prev), 0) AS previous",
        deletes = index_rows::delete_ctes("seq = (SELECT seq FROM prev) AND EXISTS (SELECT 1 FROM v)"),
        inserts = index_rows::insert_ctes("v.seq", "$1", "v, ", 10),
    )
});

/// Removes the search rows of version `$1`.
static UNINDEX_SQL: LazyLock<String> =
    LazyLock::new(|| format!("WITH {} SELECT 1", index_rows::delete_ctes("seq = $1")));

/// Adds search rows to version `$1` of type `$2`.
static INDEX_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {} SELECT 1",
        index_rows::insert_ctes("$1::int8", "$2", "", 3)
    )
});

/// Runs `work` in a transaction on a pooled connection; when it lost a race with another
/// writer, runs it again (at most `max_retries` times, with a growing pause).
pub(super) fn run(
    pool: &Pool<PgConnection>,
    mut work: TxWork,
    max_retries: u32,
) -> Result<(), GatewayError> {
    let mut lent = pool.take()?;
    let mut retries = 0;
    loop {
        let outcome = attempt(lent.get()?, &mut work);
        match outcome {
            Attempt::Done(result) => {
                release(lent);
                return result;
            }
            Attempt::Raced(_) if retries < max_retries => {
                retries += 1;
                tracing::debug!(
                    retries,
                    "PostgreSQL transaction lost a race; running it again"
                );
                std::thread::sleep(pause(retries));
            }
            Attempt::Raced(reason) => {
                release(lent);
                return Err(StoreError::Busy(format!(
                    "concurrent writers kept winning after {retries} retries: {reason}"
                ))
                .into());
            }
        }
    }
}

enum Attempt {
    Done(Result<(), GatewayError>),
    Raced(String),
}

fn attempt(connection: &mut PgConnection, work: &mut TxWork) -> Attempt {
    if let Err(error) = connection.client.batch_execute("BEGIN") {
        return Attempt::Done(Err(backend(error).into()));
    }
    let mut tx = PgTx {
        connection,
        failed: None,
    };
    let result = catch_unwind(AssertUnwindSafe(|| work(&mut tx))).unwrap_or_else(|_| {
        Err(StoreError::Backend("the transaction's work panicked; rolled back".into()).into())
    });
    let failed = tx.failed.take();
    let raced = matches!(failed, Some(StoreError::Race(_)));
    match (result, failed) {
        (Ok(()), None) => match connection.client.batch_execute("COMMIT") {
            Ok(()) => Attempt::Done(Ok(())),
            Err(error) => match backend(error) {
                StoreError::Race(reason) => Attempt::Raced(reason),
                other => Attempt::Done(Err(other.into())),
            },
        },
        (result, failed) => {
            // A failed statement aborts a PostgreSQL transaction, even when the work carried
            // on: never commit after one.
            let _ = connection.client.batch_execute("ROLLBACK");
            match (raced, failed, result) {
                (true, Some(failed), _) => Attempt::Raced(failed.to_string()),
                (_, _, Err(error)) => Attempt::Done(Err(error)),
                (_, Some(failed), Ok(())) => Attempt::Done(Err(failed.into())),
                (_, None, Ok(())) => Attempt::Done(Ok(())),
            }
        }
    }
}

/// 2, 4, 8 … ms (at most 256), plus up to as much again so that racing replicas drift apart.
fn pause(retries: u32) -> Duration {
    let base = 1u64 << retries.min(8);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::from(since.subsec_nanos()) % base.max(1));
    Duration::from_millis(base + jitter)
}

/// [`StoreTx`] over a connection inside `BEGIN`.
struct PgTx<'c> {
    connection: &'c mut PgConnection,
    /// The first store error inside this transaction (PostgreSQL has aborted it then).
    failed: Option<StoreError>,
}

impl PgTx<'_> {
    fn note<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(error) = &result {
            if self.failed.is_none() {
                self.failed = Some(error.clone());
            }
        }
        result
    }

    fn write_version(&mut self, new: &NewVersion) -> Result<(), StoreError> {
        let stored = &new.stored;
        let version = i64::try_from(stored.version)
            .map_err(|_| StoreError::Backend("version number out of range".into()))?;
        let deleted = i32::from(stored.is_deleted());
        let systems: Vec<&str> = new
            .identifiers
            .iter()
            .map(|key| key.system.as_str())
            .collect();
        let values: Vec<&str> = new
            .identifiers
            .iter()
            .map(|key| key.value.as_str())
            .collect();
        let arrays = IndexArrays::new(&new.search);
        let body = stored.body.as_deref();
        let method = stored.method.as_str();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &stored.res_type,
            &stored.id,
            &version,
            &stored.last_updated.millis,
            &method,
            &body,
            &deleted,
            &systems,
            &values,
        ];
        params.extend(arrays.params());
        let statement = self
            .connection
            .statement(WRITE_SQL.as_str())
            .map_err(backend)?;
        let row = self
            .connection
            .client
            .query_one(&statement, &params)
            .map_err(backend)?;
        let written: Option<i64> = row.try_get(0).map_err(backend)?;
        if written.is_some() {
            return Ok(());
        }
        let previous: i64 = row.try_get(1).map_err(backend)?;
        let previous = u64::try_from(previous).unwrap_or(0);
        let message = format!(
            "{} version {} does not follow {previous}",
            stored.reference(),
            stored.version
        );
        // At or below the current version: another replica wrote this resource since this
        // transaction read it, and a rerun will see that.
        Err(if stored.version <= previous {
            StoreError::Race(message)
        } else {
            StoreError::Conflict(message)
        })
    }

    fn lock_criteria(&mut self, res_type: &str, criteria: &Criteria) -> Result<(), StoreError> {
        // Held to the end of the transaction: a second replica running the same conditional
        // operation waits here, then sees what the first one wrote.
        const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
        let key = criteria_lock_key(res_type, criteria);
        let statement = self.connection.statement(LOCK).map_err(backend)?;
        self.connection
            .client
            .execute(&statement, &[&key])
            .map_err(backend)?;
        Ok(())
    }

    fn replace_index(
        &mut self,
        res_type: &str,
        id: &str,
        search: &[IndexEntry],
    ) -> Result<(), StoreError> {
        const SEQ: &str =
            "SELECT seq FROM resource_current WHERE res_type = $1 AND res_id = $2 AND deleted = 0";
        let statement = self.connection.statement(SEQ).map_err(backend)?;
        let Some(row) = self
            .connection
            .client
            .query_opt(&statement, &[&res_type, &id])
            .map_err(backend)?
        else {
            return Ok(());
        };
        let seq: i64 = row.try_get(0).map_err(backend)?;
        let unindex = self
            .connection
            .statement(UNINDEX_SQL.as_str())
            .map_err(backend)?;
        self.connection
            .client
            .execute(&unindex, &[&seq])
            .map_err(backend)?;
        let arrays = IndexArrays::new(search);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&seq, &res_type];
        params.extend(arrays.params());
        let index = self
            .connection
            .statement(INDEX_SQL.as_str())
            .map_err(backend)?;
        self.connection
            .client
            .execute(&index, &params)
            .map_err(backend)?;
        Ok(())
    }
}

/// The advisory lock a conditional lookup takes. Identifier criteria lock on the identifiers
/// alone, whatever the type: ingest joins an order and a study by one accession number from
/// both sides (the order looks for studies, the study for orders), and the two must not miss
/// each other on two replicas.
fn criteria_lock_key(res_type: &str, criteria: &Criteria) -> String {
    if criteria.identifiers.is_empty() {
        return format!("tsunagi-conditional:{res_type}?{criteria:?}");
    }
    let mut tokens: Vec<String> = criteria
        .identifiers
        .iter()
        .flatten()
        .map(|token| format!("{:?}|{:?}", token.system, token.value))
        .collect();
    tokens.sort();
    format!("tsunagi-identifier:{}", tokens.join(","))
}

impl StoreTx for PgTx<'_> {
    fn current(&mut self, res_type: &str, id: &str) -> Result<Option<StoredVersion>, StoreError> {
        let result = reads::current(self.connection, res_type, id);
        self.note(result)
    }

    fn version(
        &mut self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let result = reads::version(self.connection, res_type, id, version);
        self.note(result)
    }

    fn find(
        &mut self,
        res_type: &str,
        criteria: &Criteria,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let result = self.lock_criteria(res_type, criteria).and_then(|()| {
            reads::find(self.connection, res_type, criteria, &[], limit).map(|mut ids| {
                ids.sort();
                ids
            })
        });
        self.note(result)
    }

    fn write(&mut self, new: NewVersion) -> Result<(), StoreError> {
        let result = self.write_version(&new);
        self.note(result)
    }

    fn reindex(
        &mut self,
        res_type: &str,
        id: &str,
        search: &[IndexEntry],
    ) -> Result<(), StoreError> {
        let result = self.replace_index(res_type, id, search);
        self.note(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TokenMatch;

    fn by_identifier(system: &str, value: &str) -> Criteria {
        Criteria {
            identifiers: vec![vec![TokenMatch {
                system: Some(system.into()),
                value: Some(value.into()),
            }]],
            ..Criteria::default()
        }
    }

    #[test]
    fn an_identifier_locks_the_same_whatever_the_type() {
        let accession = by_identifier("urn:oid:1.2.3", "ACC-1");
        assert_eq!(
            criteria_lock_key("ServiceRequest", &accession),
            criteria_lock_key("ImagingStudy", &accession)
        );
        assert_ne!(
            criteria_lock_key("ImagingStudy", &accession),
            criteria_lock_key("ImagingStudy", &by_identifier("urn:oid:1.2.3", "ACC-2"))
        );
        let by_id = Criteria {
            ids: vec![vec!["a".into()]],
            ..Criteria::default()
        };
        assert_ne!(
            criteria_lock_key("Patient", &by_id),
            criteria_lock_key("Observation", &by_id)
        );
    }
}
