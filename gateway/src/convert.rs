//! `tsunagi convert`: legacy files → FHIR transaction Bundles on stdout, one JSON line per
//! Bundle (one per HL7 v2 message; one per DICOM path: a file, folder, DICOMDIR or zip); the
//! conversion report on stderr or in `--report FILE`. Exit 0 when everything converted, 2 when
//! some input failed (the rest is still printed), 1 on usage errors.

use crate::cli::ConvertArgs;
use crate::config::Config;
use crate::ingest::{SourceFormat, SourceSettings};
use serde_json::{json, Value};
use std::io::Write;
use std::process::ExitCode;
use tsunagi_adapters::dicom::convert_path;
use tsunagi_adapters::hl7v2::convert_all;
use tsunagi_adapters::Conversion;

/// Runs `tsunagi convert`.
pub fn run(args: &ConvertArgs) -> ExitCode {
    let settings = match settings_for(args) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("tsunagi convert: {message}");
            return ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut report = Vec::new();
    let mut failed = false;
    let dicom = SourceFormat::named(&args.from) == Some(SourceFormat::Dicom);
    for path in &args.files {
        let file = path.display().to_string();
        if dicom {
            let converted = convert_path(path, &settings.context, &settings.dicom, &mut |_| {});
            let mut entry = json!({"file": file});
            match converted {
                Ok(converted) => {
                    if write_bundle(&mut out, &converted.conversion, args.pretty).is_err() {
                        return ExitCode::from(1);
                    }
                    let summary = converted.summary;
                    failed |= converted.conversion.report.has_errors() || summary.files_skipped > 0;
                    entry["report"] = converted.conversion.report.to_json();
                }
                Err(error) => {
                    failed = true;
                    entry["error"] = Value::String(error.to_string());
                }
            }
            report.push(entry);
            continue;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                failed = true;
                report.push(json!({"file": file, "error": format!("cannot read: {error}")}));
                continue;
            }
        };
        let results = convert_all(&bytes, &settings.context, &settings.hl7);
        if results.is_empty() {
            failed = true;
            report.push(json!({"file": file, "error": "no HL7 v2 message found"}));
        }
        for (raw, result) in results {
            let mut entry =
                json!({"file": file, "message": raw.ordinal, "byteOffset": raw.byte_offset});
            match result {
                Ok(conversion) => {
                    if write_bundle(&mut out, &conversion, args.pretty).is_err() {
                        return ExitCode::from(1);
                    }
                    failed |= conversion.report.has_errors();
                    entry["report"] = conversion.report.to_json();
                }
                Err(error) => {
                    failed = true;
                    entry["error"] = Value::String(error.to_string());
                    if let Some(location) = error.location() {
                        entry["location"] = Value::String(location.to_string());
                    }
                }
            }
            report.push(entry);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    let report = Value::Array(report);
    let written = match &args.report {
        Some(path) => serde_json::to_vec_pretty(&report)
            .map_err(|error| error.to_string())
            .and_then(|bytes| std::fs::write(path, bytes).map_err(|error| error.to_string()))
            .map_err(|error| format!("cannot write report {}: {error}", path.display())),
        None => {
            print_report(&report);
            Ok(())
        }
    };
    if let Err(message) = written {
        eprintln!("tsunagi convert: {message}");
        return ExitCode::from(1);
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// One Bundle on `out`: a compact JSON line, or indented.
fn write_bundle(
    out: &mut impl Write,
    conversion: &Conversion,
    pretty: bool,
) -> std::io::Result<()> {
    if pretty {
        let text = serde_json::to_string_pretty(&conversion.bundle())?;
        writeln!(out, "{text}")
    } else {
        out.write_all(&conversion.bundle_json)?;
        out.write_all(b"\n")
    }
}

/// Source settings from `--config`, then the environment.
fn settings_for(args: &ConvertArgs) -> Result<SourceSettings, String> {
    if SourceFormat::named(&args.from).is_none() {
        return Err(format!(
            "--from '{}': supported formats: hl7v2, dicom",
            args.from
        ));
    }
    let config = Config::load(args.config.as_deref())?;
    config.validate().map_err(|error| error.to_string())?;
    Ok(SourceSettings::from_config(&config.source))
}

/// One stderr line per failed message or report issue.
fn print_report(report: &Value) {
    for entry in report.as_array().into_iter().flatten() {
        let origin = match entry["message"].as_u64() {
            Some(ordinal) => format!("{} message {ordinal}", entry["file"].as_str().unwrap_or("")),
            None => entry["file"].as_str().unwrap_or("").to_string(),
        };
        if let Some(error) = entry["error"].as_str() {
            match entry["location"].as_str() {
                Some(location) => eprintln!("{origin}: error at {location}: {error}"),
                None => eprintln!("{origin}: error: {error}"),
            }
        }
        for issue in entry["report"]["entries"].as_array().into_iter().flatten() {
            eprintln!(
                "{origin}: {} at {}: {}",
                issue["severity"].as_str().unwrap_or("issue"),
                issue["location"].as_str().unwrap_or("-"),
                issue["message"].as_str().unwrap_or("")
            );
        }
    }
}
