//! Transaction ingest in resources per second: the embedded store, PostgreSQL with one gateway
//! replica, and PostgreSQL with two replicas, in one run.
//!
//! What it measures: the 100-entry linked imaging Bundles of `transaction_ingest`, parsed and
//! run through `Gateway::process_bundle` as the HTTP edge would (minus the socket), two clients
//! per gateway at once:
//! - `sqlite_1_gateway`: one gateway on a SQLite file (synchronous FULL), 2 Bundles at once;
//! - `postgres_1_replica`: one gateway on PostgreSQL, 2 Bundles at once;
//! - `postgres_2_replicas`: two gateways (each its own connection pool and cache, as two
//!   processes would have) on the same PostgreSQL schema, 4 Bundles at once.
//!
//! Goal (issue 8): PostgreSQL ≥ the embedded figure, 2 replicas ≥ 1.5× one. The database runs on
//! the same 2 cores as the gateways here, so the replica figure is a floor for a real cluster.
//!
//! PostgreSQL: `TSUNAGI_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`); a
//! schema is created for the run and dropped after. Without a server only SQLite runs.
//!
//! Run with `cargo bench -p tsunagi-gateway --bench replica_ingest`.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;
use std::time::Duration;
use support::imaging_bundle::{bundle_bytes, ingest_concurrently, ENTRIES};
use tsunagi_gateway::config::Config;
use tsunagi_gateway::Gateway;

const CLIENTS_PER_GATEWAY: usize = 2;

/// A schema for the run, dropped afterwards.
struct BenchSchema {
    server: String,
    name: String,
}

impl BenchSchema {
    fn create() -> Option<Self> {
        let server = std::env::var("TSUNAGI_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("tsunagi_bench_{}", std::process::id());
        let created = postgres::Client::connect(&server, postgres::NoTls).and_then(|mut client| {
            client.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
        });
        match created {
            Ok(()) => Some(BenchSchema { server, name }),
            Err(error) => {
                eprintln!("replica_ingest: no PostgreSQL at {server} ({error}): SQLite only");
                None
            }
        }
    }

    fn url(&self) -> String {
        format!("{}?options=-csearch_path%3D{}", self.server, self.name)
    }
}

impl Drop for BenchSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn gateway_on(db: String) -> Arc<Gateway> {
    let config = Config {
        db,
        ..Config::default()
    };
    let store = tsunagi_gateway::store::open(&config)
        .expect("open the store")
        .store;
    Arc::new(Gateway::new(config, store).expect("gateway"))
}

fn replica_ingest(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("start a tokio runtime");
    let directory = tempfile::tempdir().expect("temp dir");
    let schema = BenchSchema::create();
    let mut setups: Vec<(&str, Vec<Arc<Gateway>>)> = vec![(
        "sqlite_1_gateway",
        vec![gateway_on(
            directory.path().join("tsunagi.db").display().to_string(),
        )],
    )];
    if let Some(schema) = &schema {
        let first = gateway_on(schema.url());
        let second = gateway_on(schema.url());
        setups.push(("postgres_1_replica", vec![Arc::clone(&first)]));
        setups.push(("postgres_2_replicas", vec![first, second]));
    }
    let mut group = criterion.benchmark_group("replica_ingest");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    let mut batch = 0;
    for (label, gateways) in &setups {
        let bundles_at_once = gateways.len() * CLIENTS_PER_GATEWAY;
        group.throughput(Throughput::Elements((bundles_at_once * ENTRIES) as u64));
        group.bench_function(*label, |bencher| {
            bencher.iter_batched(
                || {
                    (0..bundles_at_once)
                        .map(|_| {
                            batch += 1;
                            bundle_bytes(batch)
                        })
                        .collect::<Vec<_>>()
                },
                |bundles| ingest_concurrently(&runtime, gateways, bundles),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    // The gateways (and their connections) go before the schema they use.
    drop(setups);
    drop(schema);
}

criterion_group!(benches, replica_ingest);
criterion_main!(benches);
