//! Golden tests of the DICOM mapping: every input under `tests/data/dicom/` (the `cd-*` media
//! folders, and each file of `single/`) is converted and the Bundle compared with
//! `golden/dicom/<case>.json`, the report with `<case>.report.json`.
//!
//! `TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test dicom_golden` rewrites the expected
//! files; review every change by eye before committing it.

mod common;

use common::golden::check_or_bless;
use std::fs;
use std::path::{Path, PathBuf};
use tsunagi_adapters::dicom::{convert_path, DicomOptions};
use tsunagi_adapters::SourceContext;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/dicom")
}

/// The context every golden case is converted with (a made-up institution and its code).
fn context() -> SourceContext {
    SourceContext {
        institution_code: Some("1319999999".into()),
        ..SourceContext::new("golden-hospital", "+09:00")
    }
}

fn options() -> DicomOptions {
    DicomOptions {
        dicomweb_base: Some("https://pacs.golden-hospital.example/dicom-web".into()),
        ..DicomOptions::default()
    }
}

/// (case name, input path): each `cd-*` folder, and each file in `single/`.
fn cases() -> Vec<(String, PathBuf)> {
    let mut cases = Vec::new();
    for entry in fs::read_dir(data_dir()).expect("data folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() && name.starts_with("cd-") {
            cases.push((name, path));
        } else if path.is_dir() && name == "single" {
            for file in fs::read_dir(&path).expect("single folder") {
                let file = file.expect("entry").path();
                let stem = file
                    .file_stem()
                    .and_then(|stem| stem.to_str())
                    .unwrap_or_default();
                cases.push((format!("single-{stem}"), file));
            }
        }
    }
    cases.sort();
    cases
}

fn outputs(name: &str, input: &Path) -> Vec<(PathBuf, String)> {
    let converted =
        convert_path(input, &context(), &options(), &mut |_| {}).expect("the input scans");
    let conversion = converted.conversion;
    let bundle = serde_json::to_string_pretty(&conversion.bundle()).expect("bundle json");
    let report = serde_json::to_string_pretty(&conversion.report.to_json()).expect("report");
    vec![
        (golden_dir().join(format!("{name}.json")), bundle + "\n"),
        (
            golden_dir().join(format!("{name}.report.json")),
            report + "\n",
        ),
    ]
}

#[test]
fn every_case_matches_its_golden_files() {
    let cases = cases();
    assert!(
        cases.len() >= 3,
        "expected the generated media and single files, found {}",
        cases.len()
    );
    let outputs = cases.iter().flat_map(|(name, input)| outputs(name, input));
    check_or_bless(
        outputs,
        "TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test dicom_golden",
    );
}

#[test]
fn converting_twice_is_byte_identical() {
    for (name, input) in cases() {
        assert_eq!(outputs(&name, &input), outputs(&name, &input), "{name}");
    }
}
