//! Group commit for the SQLite writer: one thread owns the write connection and runs every
//! transaction that is waiting when it starts a commit inside one SQLite transaction, each in
//! its own savepoint. One fsync then covers them all, so eight MLLP senders waiting for their
//! ACKs pay for one disk flush instead of eight.
//!
//! Each caller still gets all-or-nothing for its own work: a failing job is rolled back to its
//! savepoint and answered with its error, the others go on (a job alone in its group runs
//! without a savepoint: its failure rolls back the whole transaction). Nobody hears "done" before the
//! shared COMMIT has returned, and if it fails every job in the group hears the error.

use super::sqlite::{backend, SqliteTx};
use super::{StoreError, TxWork};
use crate::GatewayError;
use rusqlite::{Connection, TransactionBehavior};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use tokio::sync::oneshot;

/// Most jobs committed together; bounds the latency one group adds to its first job.
const MAX_GROUP: usize = 64;

/// One caller's transaction and where its answer goes.
struct Job {
    work: TxWork,
    done: oneshot::Sender<Result<(), GatewayError>>,
}

/// The handle callers hold; dropping the last one stops the writer thread.
pub struct GroupWriter {
    jobs: Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer thread that owns `connection`.
    pub fn start(connection: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = channel();
        std::thread::Builder::new()
            .name("tsunagi-sqlite-writer".into())
            .spawn(move || run(connection, queue))
            .map_err(|error| StoreError::Backend(format!("cannot start the writer: {error}")))?;
        Ok(GroupWriter { jobs })
    }

    /// Runs `work` in the next group and returns once that group has committed.
    pub async fn transact(&self, work: TxWork) -> Result<(), GatewayError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { work, done })
            .map_err(|_| StoreError::Backend("the store writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store writer stopped mid-transaction".into()))?
    }
}

fn run(mut connection: Connection, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut connection, group);
    }
}

fn commit_group(connection: &mut Connection, group: Vec<Job>) {
    let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(error) => {
            let message = backend(error).to_string();
            for job in group {
                let _ = job.done.send(Err(failed(&message)));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(group.len());
    if group.len() == 1 {
        // A job alone needs no savepoint: the transaction is its all-or-nothing, and skipping
        // the savepoint spares a sub-journal copy of every page it touches.
        for job in group {
            let result = run_job(&transaction, job.work);
            if let Err(error) = result {
                let _ = transaction.rollback();
                let _ = job.done.send(Err(error));
                return;
            }
            answers.push((job.done, Ok(())));
        }
    } else {
        for job in group {
            let result = run_in_savepoint(&transaction, job.work);
            answers.push((job.done, result));
        }
    }
    match transaction.commit() {
        Ok(()) => {
            for (done, result) in answers {
                let _ = done.send(result);
            }
        }
        Err(error) => {
            let message = backend(error).to_string();
            for (done, _) in answers {
                let _ = done.send(Err(failed(&message)));
            }
        }
    }
}

/// Runs one job's work on `connection`; a panic becomes an error.
fn run_job(connection: &Connection, mut work: TxWork) -> Result<(), GatewayError> {
    let mut tx = SqliteTx { connection };
    catch_unwind(AssertUnwindSafe(|| work(&mut tx))).unwrap_or_else(|_| {
        Err(StoreError::Backend("a store transaction panicked; it was rolled back".into()).into())
    })
}

/// Runs one job between `SAVEPOINT` and `RELEASE`, undoing only its own writes on failure.
fn run_in_savepoint(connection: &Connection, work: TxWork) -> Result<(), GatewayError> {
    statement(connection, "SAVEPOINT job")?;
    let result = run_job(connection, work);
    match result {
        Ok(()) => statement(connection, "RELEASE job"),
        Err(error) => {
            // If even the rollback fails the shared transaction is unusable; its COMMIT will
            // fail too and every job in the group is told so.
            let _ = connection.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(error)
        }
    }
}

/// Runs a parameterless statement through the statement cache (no re-parse per job).
fn statement(connection: &Connection, sql: &str) -> Result<(), GatewayError> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(|error| backend(error).into())
}

fn failed(message: &str) -> GatewayError {
    StoreError::Backend(message.to_owned()).into()
}

#[cfg(test)]
mod tests {
    use crate::clock::Instant;
    use crate::config::SqliteConfig;
    use crate::store::{NewVersion, SqliteStore, Store, StoreTx, StoredVersion, WriteMethod};
    use crate::GatewayError;
    use std::sync::Arc;

    fn patient(id: &str) -> NewVersion {
        NewVersion {
            stored: StoredVersion {
                res_type: "Patient".into(),
                id: id.into(),
                version: 1,
                last_updated: Instant::now(),
                method: WriteMethod::Put,
                body: Some(format!(r#"{{"resourceType":"Patient","id":"{id}"}}"#).into()),
            },
            identifiers: Vec::new(),
            search: Vec::new(),
        }
    }

    #[test]
    fn a_failing_job_is_undone_alone_while_its_group_commits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("t.db"), &SqliteConfig::default()).expect("open"),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let results = runtime.block_on(async {
            let jobs: Vec<_> = (0..60)
                .map(|index| {
                    let store = Arc::clone(&store);
                    tokio::spawn(async move {
                        let id = format!("p{index}");
                        let outcome = store
                            .transact(move |tx: &mut dyn StoreTx| {
                                tx.write(patient(&id))?;
                                if index % 2 == 1 {
                                    return Err(GatewayError::Conflict(
                                        "refused on purpose".into(),
                                    ));
                                }
                                Ok(())
                            })
                            .await;
                        (index, outcome.is_ok())
                    })
                })
                .collect();
            let mut results = Vec::new();
            for job in jobs {
                results.push(job.await.expect("job"));
            }
            results
        });
        for (index, ok) in results {
            assert_eq!(ok, index % 2 == 0, "job {index}");
            let stored = runtime
                .block_on(store.read("Patient", &format!("p{index}")))
                .expect("read");
            assert_eq!(stored.is_some(), index % 2 == 0, "Patient/p{index}");
        }
    }

    #[test]
    fn a_job_alone_that_fails_leaves_nothing_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("t.db"), &SqliteConfig::default()).expect("open"),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let failed: Result<(), GatewayError> = store
                .transact(|tx: &mut dyn StoreTx| {
                    tx.write(patient("alone"))?;
                    Err(GatewayError::Conflict("refused on purpose".into()))
                })
                .await;
            assert!(failed.is_err());
            assert!(store
                .read("Patient", "alone")
                .await
                .expect("read")
                .is_none());
            store
                .transact(|tx: &mut dyn StoreTx| Ok(tx.write(patient("after"))?))
                .await
                .expect("the next job commits");
            assert!(store
                .read("Patient", "after")
                .await
                .expect("read")
                .is_some());
        });
    }
}
