//! SS-MIX2 tree → embedded store, end to end, in messages per second.
//!
//! What it measures: `tsunagi ingest --from ssmix2` minus the command line: walking a generated
//! tree of made-up patients (`tsunagi_adapters::ssmix2::generate`, 10,000 patients ≈ 43,000
//! message files, ISO-2022-JP), planning the versions, reading and converting every file on the
//! worker threads, and storing batches of 200 messages through `Gateway::ingest` into a
//! `SqliteStore` on a fresh file (default settings: `synchronous = FULL`). Writing the tree is
//! setup and not timed; the fresh database of each iteration is not timed either.
//! `ssmix2_tree_to_sqlite` validates every stored resource (`[validation] mode = warn`, the
//! default); `ssmix2_tree_to_sqlite_validation_off` does not (`--validation off`).
//! `ssmix2_dry_run` times the same walk and conversion with the R4 model check and no store.
//! After the first run each variant prints the report's CPU split (convert time summed over the
//! worker threads, store time on the calling thread).
//!
//! Why: connecting a hospital starts with years of SS-MIX2 storage; the target is ≥ 2,000
//! messages/s end to end on 2 cores.
//!
//! Run with `cargo bench -p tsunagi-gateway --bench ssmix2_ingest`;
//! `TSUNAGI_BENCH_PATIENTS=N` changes the tree size.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use support::temp_dir::TempDir;
use tsunagi_adapters::hl7v2::Hl7Options;
use tsunagi_adapters::ssmix2::generate;
use tsunagi_adapters::SourceContext;
use tsunagi_gateway::config::{Config, ValidationMode};
use tsunagi_gateway::ingest_cli::engine::Target;
use tsunagi_gateway::ingest_cli::summary::Summary;
use tsunagi_gateway::ingest_cli::{ingest_ssmix2, BulkOptions};
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;

fn options(checkpoint: &Path) -> BulkOptions {
    BulkOptions {
        workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        batch_messages: 200,
        max_entries: Config::default().limits.max_bundle_entries,
        resume: false,
        checkpoint: checkpoint.to_path_buf(),
        stop_after: None,
    }
}

fn ingest(tree: &Path, db: Option<&Path>, validation: ValidationMode) -> Summary {
    let context = SourceContext::new("bench-hospital", "+09:00");
    let cancel = AtomicBool::new(false);
    let runtime = actix_web::rt::System::new();
    let checkpoint = tree.with_extension("checkpoint.json");
    let summary = match db {
        None => ingest_ssmix2(
            tree,
            &context,
            &Hl7Options::default(),
            &options(&checkpoint),
            None,
            &cancel,
            false,
        ),
        Some(db) => {
            let mut config = Config::default();
            config.validation.mode = validation;
            let store: Arc<dyn Store> =
                Arc::new(SqliteStore::open(db, &config.sqlite).expect("open the store"));
            let gateway = Gateway::new(config, store.clone()).expect("gateway");
            let target = Target {
                gateway: &gateway,
                store: &store,
                runtime: &runtime,
            };
            ingest_ssmix2(
                tree,
                &context,
                &Hl7Options::default(),
                &options(&checkpoint),
                Some(&target),
                &cancel,
                false,
            )
        }
    }
    .expect("ingest");
    assert!(summary.errors.is_empty(), "{:?}", &summary.errors[..1]);
    summary
}

fn print_split(label: &str, summary: &Summary) {
    eprintln!(
        "{label}: {} messages in {:.2} s = {:.0} messages/s; convert {:.2} s (summed over \
         worker threads), store {:.2} s, {} transactions",
        summary.processed,
        summary.elapsed.as_secs_f64(),
        summary.rate(),
        summary.convert_time.as_secs_f64(),
        summary.store_time.as_secs_f64(),
        summary.transactions
    );
}

fn bench(c: &mut Criterion) {
    let patients = std::env::var("TSUNAGI_BENCH_PATIENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000);
    let work = TempDir::fresh("ssmix2-tree");
    let tree = work.0.join("ssmix2");
    let mut files = 0u64;
    for file in generate::generate(patients) {
        let path = tree.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(path, &file.bytes).expect("write");
        files += 1;
    }
    let mut group = c.benchmark_group("ssmix2_ingest");
    group.throughput(Throughput::Elements(files));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.warm_up_time(Duration::from_secs(1));

    print_split("ssmix2_dry_run", &ingest(&tree, None, ValidationMode::Off));
    group.bench_function("ssmix2_dry_run", |b| {
        b.iter(|| ingest(&tree, None, ValidationMode::Off))
    });
    for (name, validation) in [
        ("ssmix2_tree_to_sqlite", ValidationMode::Warn),
        ("ssmix2_tree_to_sqlite_validation_off", ValidationMode::Off),
    ] {
        store_bench(&mut group, name, validation, &tree);
    }
    group.finish();
}

fn store_bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    validation: ValidationMode,
    tree: &Path,
) {
    let mut printed = false;
    let mut round = 0;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                round += 1;
                let folder = TempDir::fresh(&format!("ssmix2-{name}-{round}"));
                let db = folder.0.join("store.db");
                (folder, db)
            },
            |(folder, db)| {
                let summary = ingest(tree, Some(&db), validation);
                if !printed {
                    print_split(name, &summary);
                    printed = true;
                }
                // Dropped (and removed) after the measurement.
                folder
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
