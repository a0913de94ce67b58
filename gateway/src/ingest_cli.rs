//! `tsunagi ingest --from dicom PATH…`: converts DICOM media (a file, a folder, a DICOMDIR or a
//! zip) and stores each path's Bundle in the configured store as one transaction, through the
//! same ingest as `POST $ingest` (links to orders, study merge). A progress line on stderr
//! counts files scanned and studies found; a summary follows. Exit 0 when everything was
//! stored, 2 when some file was left out or some path failed, 1 on usage or store errors.
//!
//! It opens the store itself, so run it against a stopped gateway or a shared PostgreSQL
//! store; with a running single-node gateway, `POST $ingest` of a zip does the same online.

use crate::cli::IngestArgs;
use crate::config::Config;
use crate::ingest::{SourceFormat, SourceSettings};
use crate::outcome::operation_outcome;
use crate::store::Store;
use crate::Gateway;
use serde_json::{json, Value};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use tsunagi_adapters::dicom::{convert_path, Progress};

/// Runs `tsunagi ingest`.
pub fn run(args: &IngestArgs) -> ExitCode {
    if SourceFormat::named(&args.from) != Some(SourceFormat::Dicom) {
        eprintln!(
            "tsunagi ingest: --from '{}': supported: dicom (HL7 v2 arrives over MLLP or $ingest)",
            args.from
        );
        return ExitCode::from(1);
    }
    let config = match load(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tsunagi ingest: {message}");
            return ExitCode::from(1);
        }
    };
    let store: Arc<dyn Store> = match crate::store::open(&config) {
        Ok(opened) => opened.store,
        Err(error) => {
            eprintln!(
                "tsunagi ingest: cannot open the store {}: {error}",
                crate::store::describe(&config.db)
            );
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
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}
