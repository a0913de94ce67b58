//! `tsunagi ingest --from ssmix2|hl7v2|dicom PATH…`: loads a hospital's export into the
//! configured store.
//!
//! SS-MIX2 trees and HL7 v2 files go through the bulk pipeline (`engine.rs`):
//! parallel conversion, batched store transactions through `Gateway::ingest` (links,
//! validation, history as for every ingest edge), a progress bar with rate and ETA, Ctrl-C
//! stopping after the batch under way, a checkpoint after every batch (`--resume`), `--dry-run`
//! (convert and check, store nothing) and a report (text on stderr, JSON with `--report`).
//! Running twice stores nothing new: a message whose raw-message Binary is stored is left out.
//! DICOM media are converted per path (one Bundle per path) as before.
//! Exit 0 when everything was stored, 2 when some file was left out or failed, 1 on usage or
//! store errors, 130 when interrupted.
//!
//! It opens the store itself, so run it against a stopped gateway or a shared PostgreSQL
//! store; with a running single-node gateway, `POST $ingest` does the same online.

mod batch;
pub mod checkpoint;
pub mod engine;
pub mod hl7v2;
mod progress;
pub mod ssmix2;
pub mod summary;

use crate::cli::IngestArgs;
use crate::config::{Config, ValidationMode};
use crate::ingest::{SourceFormat, SourceSettings};
use crate::outcome::operation_outcome;
use crate::store::Store;
use crate::Gateway;
use checkpoint::Checkpoint;
use engine::{EngineOptions, Target};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use summary::Summary;
use tsunagi_adapters::dicom::{convert_path, Progress};
use tsunagi_adapters::hl7v2::Hl7Options;

/// Opens the store `tsunagi ingest` writes to. The one place that does.
fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    crate::store::open(config)
        .map(|opened| opened.store)
        .map_err(|error| {
            format!(
                "cannot open the store {}: {error}",
                crate::store::describe(&config.db)
            )
        })
}

/// Runs `tsunagi ingest`.
pub fn run(args: &IngestArgs) -> ExitCode {
    match args.from.trim().to_ascii_lowercase().as_str() {
        "ssmix2" | "ss-mix2" | "hl7v2" => run_bulk(args),
        _ if SourceFormat::named(&args.from) == Some(SourceFormat::Dicom) => run_dicom(args),
        _ => {
            eprintln!(
                "tsunagi ingest: --from '{}': supported: ssmix2, hl7v2, dicom",
                args.from
            );
            ExitCode::from(1)
        }
    }
}

/// `--from ssmix2` (one tree per path) and `--from hl7v2` (all paths as one source), through
/// the bulk pipeline.
fn run_bulk(args: &IngestArgs) -> ExitCode {
    let config = match load(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tsunagi ingest: {message}");
            return ExitCode::from(1);
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let runtime = actix_web::rt::System::new();
    watch_ctrl_c(&runtime, &cancel);
    let (gateway, store) = if args.dry_run {
        (None, None)
    } else {
        let store = match open_store(&config) {
            Ok(store) => store,
            Err(message) => {
                eprintln!("tsunagi ingest: {message}");
                return ExitCode::from(1);
            }
        };
        match Gateway::new(config.clone(), store.clone()) {
            Ok(gateway) => (Some(gateway), Some(store)),
            Err(error) => {
                eprintln!("tsunagi ingest: {error}");
                return ExitCode::from(1);
            }
        }
    };
    let target = match (&gateway, &store) {
        (Some(gateway), Some(store)) => Some(Target {
            gateway,
            store,
            runtime: &runtime,
        }),
        _ => None,
    };
    let settings = SourceSettings::from_config(&config.source);
    let hl7 = settings.hl7.clone();
    let mut reports = Vec::new();
    let mut code = ExitCode::SUCCESS;
    let hl7v2 = args.from.trim().eq_ignore_ascii_case("hl7v2");
    // An SS-MIX2 run per storage root; one HL7 v2 run over every path.
    let jobs: Vec<&[PathBuf]> = if hl7v2 {
        vec![&args.paths[..]]
    } else {
        args.paths.chunks(1).collect()
    };
    for paths in jobs {
        let Some(first) = paths.first() else {
            continue;
        };
        let options = BulkOptions::from_args(args, &config, first);
        let result = if hl7v2 {
            ingest_hl7v2(
                paths,
                &settings.context,
                &hl7,
                &options,
                target.as_ref(),
                &cancel,
                !args.quiet,
            )
        } else {
            ingest_ssmix2(
                first,
                &settings.context,
                &hl7,
                &options,
                target.as_ref(),
                &cancel,
                !args.quiet,
            )
        };
        let summary = match result {
            Ok(summary) => summary,
            Err(message) => {
                eprintln!("tsunagi ingest: {}: {message}", first.display());
                code = ExitCode::from(1);
                continue;
            }
        };
        let _ = summary.write_text(&mut std::io::stderr(), 20);
        if summary.interrupted {
            eprintln!(
                "  interrupted: run again with --resume to continue (checkpoint {})",
                options.checkpoint.display()
            );
            code = ExitCode::from(130);
        } else if !summary.errors.is_empty() && code == ExitCode::SUCCESS {
            code = ExitCode::from(2);
        }
        reports.push(summary.to_json());
        if cancel.load(Ordering::Relaxed) {
            break;
        }
    }
    if let Some(file) = &args.report {
        if let Err(message) = write_report(file, &Value::Array(reports)) {
            eprintln!("tsunagi ingest: {message}");
            return ExitCode::from(1);
        }
    }
    code
}

/// Sets `cancel` on the first Ctrl-C (SIGINT) instead of ending the process, so the batch
/// under way is committed and the checkpoint written.
fn watch_ctrl_c(runtime: &actix_web::rt::SystemRunner, cancel: &Arc<AtomicBool>) {
    let cancel = cancel.clone();
    runtime.block_on(async move {
        actix_web::rt::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::Relaxed);
            }
        });
        // Let the task install the handler before the ingest starts.
        actix_web::rt::task::yield_now().await;
    });
}

fn write_report(file: &Path, report: &Value) -> Result<(), String> {
    serde_json::to_vec_pretty(report)
        .map_err(|error| error.to_string())
        .and_then(|bytes| std::fs::write(file, bytes).map_err(|error| error.to_string()))
        .map_err(|error| format!("cannot write {}: {error}", file.display()))
}

/// How one bulk ingest runs.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// Converting threads.
    pub workers: usize,
    /// Most messages per transaction.
    pub batch_messages: usize,
    /// Most entries per transaction.
    pub max_entries: usize,
    /// Continue from the checkpoint.
    pub resume: bool,
    /// The checkpoint file.
    pub checkpoint: PathBuf,
    /// Stop after this many steps, as if interrupted.
    pub stop_after: Option<usize>,
}

impl BulkOptions {
    fn from_args(args: &IngestArgs, config: &Config, path: &Path) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let checkpoint = args.checkpoint.clone().unwrap_or_else(|| {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            PathBuf::from(format!("{}.ingest-{name}.checkpoint.json", config.db))
        });
        BulkOptions {
            workers: args.workers.map_or(cores, |n| n as usize),
            batch_messages: args.batch as usize,
            max_entries: config.limits.max_bundle_entries,
            resume: args.resume,
            checkpoint,
            stop_after: args.stop_after,
        }
    }
}

/// Ingests the SS-MIX2 tree at `root` into `target` (or checks it when `target` is `None`)
/// and returns the report. `Err` when the tree cannot be read or the checkpoint does not fit.
pub fn ingest_ssmix2(
    root: &Path,
    context: &tsunagi_adapters::SourceContext,
    hl7: &Hl7Options,
    options: &BulkOptions,
    target: Option<&Target<'_>>,
    cancel: &AtomicBool,
    show_progress: bool,
) -> Result<Summary, String> {
    let dry_run = target.is_none();
    let (source, warnings) =
        ssmix2::Ssmix2Source::open(root, context.clone(), hl7.clone(), dry_run)?;
    let plan = Planned {
        format: "ssmix2",
        source: root.display().to_string(),
        steps: source.steps(),
        digest: source.digest(),
        warnings,
    };
    run_plan(
        plan,
        &|step| source.convert(step),
        options,
        target,
        cancel,
        show_progress,
    )
}

/// A source as the engine sees it.
struct Planned {
    format: &'static str,
    source: String,
    steps: usize,
    digest: String,
    warnings: Vec<summary::FileIssue>,
}

/// Runs a planned source through the engine, from the checkpoint when resuming.
fn run_plan(
    plan: Planned,
    convert: &(dyn Fn(usize) -> Vec<engine::Unit> + Sync),
    options: &BulkOptions,
    target: Option<&Target<'_>>,
    cancel: &AtomicBool,
    show_progress: bool,
) -> Result<Summary, String> {
    let started = std::time::Instant::now();
    let dry_run = target.is_none();
    let template = Checkpoint {
        source: plan.source.clone(),
        plan: plan.digest,
        done: 0,
        total: plan.steps,
    };
    let start = if options.resume && !dry_run {
        match Checkpoint::load(&options.checkpoint)? {
            Some(saved) if saved.plan == template.plan => saved.done,
            Some(_) => {
                return Err(format!(
                    "the checkpoint {} is of another source or an earlier state of this one: \
                     remove it to start over (stored messages are not written again)",
                    options.checkpoint.display()
                ))
            }
            None => 0,
        }
    } else {
        0
    };
    let mut summary = Summary {
        format: plan.format.into(),
        source: plan.source,
        dry_run,
        warnings: plan.warnings,
        ..Summary::default()
    };
    let engine_options = EngineOptions {
        workers: options.workers,
        batch_messages: options.batch_messages,
        max_entries: options.max_entries,
        start,
        stop_after: options.stop_after,
        checkpoint: (!dry_run).then(|| (options.checkpoint.clone(), template)),
    };
    let bar = progress::Bar::new(plan.steps, start, show_progress);
    let mut on_progress = |done: usize| bar.set(start + done);
    engine::run(
        plan.steps,
        convert,
        &engine_options,
        target,
        cancel,
        &mut on_progress,
        &mut summary,
    );
    bar.finish();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Ingests the HL7 v2 files at `paths` (files, or folders read recursively; each file may hold
/// several messages or a batch) like [`ingest_ssmix2`].
pub fn ingest_hl7v2(
    paths: &[PathBuf],
    context: &tsunagi_adapters::SourceContext,
    hl7: &Hl7Options,
    options: &BulkOptions,
    target: Option<&Target<'_>>,
    cancel: &AtomicBool,
    show_progress: bool,
) -> Result<Summary, String> {
    let dry_run = target.is_none();
    let (source, warnings) = hl7v2::Hl7v2Source::open(paths, context.clone(), hl7.clone(), dry_run);
    let plan = Planned {
        format: "hl7v2",
        source: paths
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        steps: source.steps(),
        digest: source.digest(),
        warnings,
    };
    run_plan(
        plan,
        &|step| source.convert(step),
        options,
        target,
        cancel,
        show_progress,
    )
}

/// `--from dicom`: each path (file, folder, DICOMDIR, zip) becomes one Bundle and one
/// transaction.
fn run_dicom(args: &IngestArgs) -> ExitCode {
    let config = match load(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tsunagi ingest: {message}");
            return ExitCode::from(1);
        }
    };
    let store = match open_store(&config) {
        Ok(store) => store,
        Err(message) => {
            eprintln!("tsunagi ingest: {message}");
            return ExitCode::from(1);
        }
    };
    let settings = SourceSettings::from_config(&config.source);
    let gateway = match Gateway::new(config, store) {
        Ok(gateway) => Arc::new(gateway),
        Err(error) => {
            eprintln!("tsunagi ingest: {error}");
            return ExitCode::from(1);
        }
    };
    let mut report = Vec::new();
    let mut incomplete = false;
    let mut store_failed = false;
    let runtime = actix_web::rt::System::new();
    for path in &args.paths {
        let shown = path.display().to_string();
        let mut shown_at = 0;
        let mut progress = |step: Progress| {
            if !args.quiet
                && step.files_scanned != shown_at
                && step.files_scanned.is_multiple_of(64)
            {
                shown_at = step.files_scanned;
                eprint!(
                    "\r{shown}: {} files scanned, {} studies found",
                    step.files_scanned, step.studies_found
                );
            }
        };
        let converted = convert_path(path, &settings.context, &settings.dicom, &mut progress);
        let converted = match converted {
            Ok(converted) => converted,
            Err(error) => {
                incomplete = true;
                eprintln!("\r{shown}: {error}");
                report.push(json!({"path": shown, "error": error.to_string()}));
                continue;
            }
        };
        let summary = converted.summary;
        let stored = runtime.block_on(gateway.ingest(&converted.conversion, SourceFormat::Dicom));
        if !args.quiet {
            eprintln!(
                "\r{shown}: {} files scanned, {} skipped, {} studies, {} instances",
                summary.files_scanned, summary.files_skipped, summary.studies, summary.instances
            );
        }
        for issue in &converted.conversion.report.entries {
            eprintln!(
                "  {} {}: {}",
                issue.severity.as_str(),
                issue.location,
                issue.message
            );
        }
        let mut entry = json!({
            "path": shown,
            "filesScanned": summary.files_scanned,
            "filesSkipped": summary.files_skipped,
            "studies": summary.studies,
            "instances": summary.instances,
            "report": converted.conversion.report.to_json(),
        });
        match stored {
            Ok(ingested) => {
                let written = ingested.response["entry"].as_array().map_or(0, Vec::len);
                eprintln!("  stored: {written} resources in one transaction");
                entry["stored"] = Value::from(written);
                if !ingested.validation.is_empty() {
                    eprintln!(
                        "  validation: {} issues (stored: mode warn)",
                        ingested.validation.len()
                    );
                    entry["validation"] = operation_outcome(&ingested.validation);
                }
            }
            Err(error) => {
                store_failed = true;
                eprintln!("  not stored: {error}");
                entry["error"] = Value::String(error.to_string());
                if error.validation_outcome().is_some() {
                    // Every finding, each located as Bundle.entry[i].resource….
                    entry["outcome"] = operation_outcome(&error.issues());
                }
            }
        }
        incomplete |= summary.files_skipped > 0;
        report.push(entry);
    }
    if let Some(file) = &args.report {
        let written = serde_json::to_vec_pretty(&Value::Array(report))
            .map_err(|error| error.to_string())
            .and_then(|bytes| std::fs::write(file, bytes).map_err(|error| error.to_string()));
        if let Err(error) = written {
            eprintln!("tsunagi ingest: cannot write {}: {error}", file.display());
            return ExitCode::from(1);
        }
    }
    let _ = std::io::stderr().flush();
    if store_failed {
        ExitCode::from(1)
    } else if incomplete {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn load(args: &IngestArgs) -> Result<Config, String> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(db) = &args.db {
        config.db = db.clone();
    }
    if let Some(mode) = &args.validation {
        config.validation.mode = match mode.as_str() {
            "off" => ValidationMode::Off,
            "enforce" => ValidationMode::Enforce,
            _ => ValidationMode::Warn,
        };
        config.validation.modes.clear();
    }
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}
