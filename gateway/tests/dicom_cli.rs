//! `tsunagi ingest --from dicom` as a user runs it: the real binary over a real SQLite file,
//! a progress line and summary on stderr, exit 0 for a clean CD and 2 for a CD with missing or
//! broken files (whose good files are still stored), and `tsunagi convert --from dicom` printing
//! one Bundle per path.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/tests/data/dicom")
        .join(name)
}

fn tsunagi(args: &[&str], db: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args(args)
        .env("TSUNAGI_DB", db)
        .env("TSUNAGI_INSTITUTION", "cli-hospital")
        .output()
        .expect("tsunagi runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn ingest_stores_a_cd_and_names_what_it_left_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("tsunagi.db");
    let cd = data("cd-ct");
    let cd = cd.to_str().expect("UTF-8 path");
    let (code, _, stderr) = tsunagi(&["ingest", "--from", "dicom", cd], &db);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 studies, 8 instances"), "{stderr}");
    assert!(
        stderr.contains("AUTORUN.INF"),
        "unlisted files are named: {stderr}"
    );
    // Patient, ImagingStudy, and the SR's and the PDF's DiagnosticReports.
    assert!(stderr.contains("stored: 4 resources"), "{stderr}");

    let report = dir.path().join("report.json");
    let broken = data("cd-broken");
    let (code, _, stderr) = tsunagi(
        &[
            "ingest",
            "--from",
            "dicom",
            broken.to_str().expect("UTF-8 path"),
            "--report",
            report.to_str().expect("UTF-8 path"),
        ],
        &db,
    );
    assert_eq!(code, 2, "missing and truncated files make exit 2: {stderr}");
    assert!(stderr.contains("not on the media"), "{stderr}");
    assert!(stderr.contains("ends inside its header"), "{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).expect("JSON");
    assert_eq!(report[0]["filesSkipped"], 2, "{report}");
    assert!(
        report[0]["stored"].as_u64().is_some_and(|n| n > 0),
        "the good file is stored: {report}"
    );

    // Ingesting the same CD again changes nothing it should not: still exit 0.
    let (code, _, stderr) = tsunagi(&["ingest", "--from", "dicom", cd], &db);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn convert_prints_one_bundle_per_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("unused.db");
    let cd = data("cd-ct");
    let single = data("single");
    let (code, stdout, stderr) = tsunagi(
        &[
            "convert",
            "--from",
            "dicom",
            cd.to_str().expect("UTF-8"),
            single.to_str().expect("UTF-8"),
        ],
        &db,
    );
    assert_eq!(code, 0, "{stderr}");
    let bundles: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON Bundle per line"))
        .collect();
    assert_eq!(bundles.len(), 2);
    assert!(bundles.iter().all(|bundle| bundle["type"] == "transaction"));
    assert!(!db.exists(), "convert stores nothing");
}
