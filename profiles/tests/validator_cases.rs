//! The self-contained R4 validator cases of the official FHIR test data
//! (`shared/data/fhir-test-cases/validator/manifest-r4-selfcontained.json`): each case's
//! instance is validated (after loading its supporting definitions) and our verdict (valid: no
//! error or fatal issue) compared with the reference validator's expected outcome, for the base
//! validation and, where a case has one, the validation against its profile. Prints the
//! confusion matrix and every disagreement; at least 90% must agree.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tsunagi_profiles::package::Registry;
use tsunagi_profiles::validate::{ValidateOptions, Validator};
use tsunagi_profiles::{parse_xml_value, Format, ParseLimits};

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

fn format_of(path: &Path) -> Format {
    if path.extension().is_some_and(|ext| ext == "xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

/// A definition file (JSON or XML) as JSON; `None` when it cannot be read.
fn load_definition(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    match format_of(path) {
        Format::Json => serde_json::from_slice(&bytes).ok(),
        // Definitions are read as the reference runner reads them: an XML Schema location on
        // the root (which instances may not carry) is passed over.
        Format::Xml => {
            parse_xml_value(&without_schema_location(&bytes), &ParseLimits::default()).ok()
        }
    }
}

fn without_schema_location(bytes: &[u8]) -> Vec<u8> {
    let mut out = String::from_utf8_lossy(bytes).into_owned();
    for attribute in ["xsi:schemaLocation=\"", "xmlns:xsi=\""] {
        while let Some(start) = out.find(attribute) {
            let value_start = start + attribute.len();
            let Some(length) = out[value_start..].find('"') else {
                break;
            };
            out.replace_range(start..value_start + length + 1, "");
        }
    }
    out.into_bytes()
}

fn add_definitions(registry: &mut Registry, folder: &Path, files: &[&str]) {
    for file in files {
        let loaded = load_definition(&folder.join(file));
        if loaded.is_none() {
            println!("  (supporting file {file} could not be read)");
        }
        if let Some(resource) = loaded {
            // A Bundle of definitions adds each entry.
            if resource["resourceType"] == "Bundle" {
                for entry in resource["entry"].as_array().into_iter().flatten() {
                    let _ = registry.add_resource(entry["resource"].clone());
                }
            } else {
                let _ = registry.add_resource(resource);
            }
        }
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether the reference outcome file has an error or fatal issue (a missing file is an empty
/// outcome, as the reference runner reads it).
fn expected_invalid(folder: &Path, name: &str, step: &str) -> bool {
    let file = folder
        .join("outcomes/java")
        .join(format!("R4.{}-{step}.json", name.replace('/', "-")));
    let Some(outcome) = std::fs::read(&file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        return false;
    };
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|issue| matches!(issue["severity"].as_str(), Some("error" | "fatal")))
}

#[derive(Default)]
struct Matrix {
    /// (expected invalid, we said invalid)
    counts: [[usize; 2]; 2],
    disagreements: Vec<String>,
}

#[test]
fn official_r4_validator_cases() {
    let folder: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fhir-test-cases/validator");
    let manifest_path = folder.join("manifest-r4-selfcontained.json");
    let Some(manifest) = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        assert!(
            !running_in_ci(),
            "CI is set and {} is missing",
            manifest_path.display()
        );
        println!(
            "SKIPPED: {} is absent (the shared test data is not checked out)",
            manifest_path.display()
        );
        return;
    };
    let mut matrix = Matrix::default();
    for case in manifest["test-cases"].as_array().into_iter().flatten() {
        let name = case["name"].as_str().unwrap_or("");
        let file = case["file"].as_str().unwrap_or("");
        let mut registry = Registry::new();
        add_definitions(&mut registry, &folder, &strings(&case["supporting"]));
        add_definitions(&mut registry, &folder, &strings(&case["profiles"]));
        let mut steps = vec![("base", None::<String>)];
        if let Some(profile) = case.get("profile") {
            add_definitions(&mut registry, &folder, &strings(&profile["supporting"]));
            if let Some(source) = profile["source"].as_str() {
                let canonical = if source.contains("://") {
                    Some(source.to_owned())
                } else {
                    let loaded = load_definition(&folder.join(source));
                    if loaded.is_none() {
                        println!("  (profile {source} of {name} could not be read)");
                    }
                    loaded.and_then(|definition| {
                        let url = definition["url"].as_str().map(str::to_owned);
                        let _ = registry.add_resource(definition);
                        url
                    })
                };
                steps.push(("profile", canonical));
            }
        }
        let validator = Validator::new(Arc::new(registry));
        let Ok(bytes) = std::fs::read(folder.join(file)) else {
            continue;
        };
        for (step, profile) in steps {
            let flag = |key: &str| case.get(key).and_then(Value::as_bool);
            let options = ValidateOptions {
                profiles: profile.into_iter().collect(),
                reject_example_urls: flag("examples") == Some(false),
                security_checks: flag("security-checks") == Some(true),
                no_html_in_markdown: flag("noHtmlInMarkdown") == Some(true),
                allow_comments: flag("allow-comments") == Some(true),
            };
            let outcome = validator.validate_bytes(&bytes, format_of(Path::new(file)), &options);
            let expected = expected_invalid(&folder, name, step);
            if std::env::var("VALIDATOR_CASE").is_ok_and(|wanted| wanted == name) {
                println!("{name} [{step}]:");
                for issue in &outcome.issues {
                    println!(
                        "  {:?} {}: {}",
                        issue.severity, issue.expression, issue.message
                    );
                }
            }
            let ours = !outcome.is_valid();
            matrix.counts[usize::from(expected)][usize::from(ours)] += 1;
            if expected != ours {
                let first = outcome
                    .issues
                    .iter()
                    .find(|issue| issue.severity <= tsunagi_profiles::validate::Severity::Error)
                    .map(|issue| format!("{}: {}", issue.expression, issue.message))
                    .unwrap_or_default();
                matrix.disagreements.push(format!(
                    "{name} [{step}]: expected {}, we said {} {first}",
                    if expected { "invalid" } else { "valid" },
                    if ours { "invalid" } else { "valid" },
                ));
            }
        }
    }
    let [[valid_valid, valid_invalid], [invalid_valid, invalid_invalid]] = matrix.counts;
    let total = valid_valid + valid_invalid + invalid_valid + invalid_invalid;
    let agree = valid_valid + invalid_invalid;
    println!(
        "validator cases: {agree}/{total} agree ({:.1}%)",
        100.0 * agree as f64 / total.max(1) as f64
    );
    println!("                     we: valid  invalid");
    println!("expected valid          {valid_valid:>6} {valid_invalid:>8}   (false rejects)");
    println!("expected invalid        {invalid_valid:>6} {invalid_invalid:>8}   (false accepts)");
    for line in &matrix.disagreements {
        println!("  {line}");
    }
    assert!(total > 300, "only {total} verdicts were compared");
    assert!(
        agree * 10 >= total * 9,
        "agreement {agree}/{total} is below 90%"
    );
}
