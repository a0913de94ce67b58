//! `tsunagi validate` and the `[validation]` start-up checks as a user meets them: the real
//! binary on temp files (exit 0 valid, 1 errors, 2 usage; `file:line:col: severity: expression:
//! message` lines), and `tsunagi serve` refusing to start on packages that do not load, unknown
//! required profiles and unknown modes. All data is made up.

use std::path::{Path, PathBuf};
use std::process::Command;

fn packages() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packages")
}

fn tsunagi(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args(args)
        .env_remove("TSUNAGI_VALIDATION_PACKAGES")
        .env_remove("TSUNAGI_VALIDATION_MODE")
        .env_remove("TSUNAGI_VALIDATION_MODES")
        .output()
        .expect("tsunagi runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const VALID: &str = r#"{
  "resourceType": "Patient",
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Test Taro</div>"},
  "name": [{"family": "Test", "given": ["Taro"]}],
  "gender": "male",
  "birthDate": "1975-06-15"
}
"#;

const INVALID: &str = r#"{
  "resourceType": "Patient",
  "gender": "unknown-gender",
  "birthDate": "1999-02-30"
}
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

#[test]
fn validate_exits_0_for_valid_files_and_1_with_located_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = write(dir.path(), "valid.json", VALID);
    let invalid = write(dir.path(), "invalid.json", INVALID);

    let (code, stdout, stderr) = tsunagi(&["validate", &valid]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("1 file(s): 1 valid, 0 with errors"),
        "{stdout}"
    );

    let (code, stdout, stderr) = tsunagi(&["validate", &valid, &invalid]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{invalid}:3:3: error: Patient.gender: ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{invalid}:4:3: error: Patient.birthDate: ")),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 file(s): 1 valid, 1 with errors"),
        "{stdout}"
    );
}

#[test]
fn validate_reads_xml_by_extension_and_reports_unparseable_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let xml = write(
        dir.path(),
        "patient.xml",
        "<Patient xmlns=\"http://hl7.org/fhir\">\n  <gender value=\"unknown-gender\"/>\n</Patient>\n",
    );
    let (code, stdout, _) = tsunagi(&["validate", &xml]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("{xml}:2:3: error: Patient.gender: ")),
        "{stdout}"
    );

    let broken = write(
        dir.path(),
        "broken.json",
        "{\"resourceType\": \"Patient\",\n",
    );
    let (code, stdout, _) = tsunagi(&["validate", &broken]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("fatal"), "{stdout}");

    let (code, stdout, _) = tsunagi(&["validate", "--format", "json", &xml]);
    assert_eq!(code, 1, "XML read as JSON is unparseable: {stdout}");
    assert!(stdout.contains("fatal"), "{stdout}");
}

#[test]
fn validate_applies_profiles_from_packages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let no_birth_date = write(
        dir.path(),
        "no-birth-date.json",
        &VALID.replace(",\n  \"birthDate\": \"1975-06-15\"", ""),
    );
    let profile = "http://example.org/fhir/StructureDefinition/test-patient";
    let (code, stdout, _) = tsunagi(&["validate", &no_birth_date]);
    assert_eq!(code, 0, "{stdout}");
    let packages = packages();
    let packages = packages.to_str().expect("UTF-8 path");
    let (code, stdout, _) = tsunagi(&[
        "validate",
        "--packages",
        packages,
        "--profile",
        profile,
        &no_birth_date,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("birthDate"), "{stdout}");
}

#[test]
fn validate_usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = write(dir.path(), "valid.json", VALID);
    let (code, _, _) = tsunagi(&["validate"]);
    assert_eq!(code, 2, "no files");
    let (code, _, _) = tsunagi(&["validate", "--format", "yaml", &valid]);
    assert_eq!(code, 2, "unknown format");
    let (code, _, stderr) = tsunagi(&[
        "validate",
        "--profile",
        "http://example.org/fhir/StructureDefinition/nowhere",
        &valid,
    ]);
    assert_eq!(code, 2, "unknown profile: {stderr}");
    let missing =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packages-missing-dependency");
    let (code, _, stderr) = tsunagi(&[
        "validate",
        "--packages",
        missing.to_str().expect("UTF-8 path"),
        &valid,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("example.tsunagi.absent"), "{stderr}");
}

/// Runs `tsunagi serve` with `toml` as its config file; it must exit at once (1) and say why.
fn serve_refuses(toml: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("tsunagi.toml");
    let db = dir.path().join("tsunagi.db");
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndb = \"{}\"\n{toml}",
        db.display().to_string().replace('\\', "\\\\")
    );
    std::fs::write(&config, text).expect("write config");
    let (code, stdout, stderr) = tsunagi(&["serve", "--config", config.to_str().expect("path")]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!db.exists(), "refused before the store was created");
    stderr
}

#[test]
fn serve_refuses_packages_that_do_not_load_unknown_profiles_and_modes() {
    let missing =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packages-missing-dependency");
    let stderr = serve_refuses(&format!(
        "[validation]\npackages = \"{}\"\n",
        missing.display().to_string().replace('\\', "\\\\")
    ));
    assert!(
        stderr.contains("validation.packages") && stderr.contains("example.tsunagi.absent"),
        "{stderr}"
    );

    let stderr = serve_refuses(
        "[validation]\nrequired_profiles = { ImagingStudy = [\"http://example.org/fhir/StructureDefinition/nowhere\"] }\n",
    );
    assert!(
        stderr.contains("validation.required_profiles.ImagingStudy"),
        "{stderr}"
    );

    let stderr = serve_refuses("[validation]\nmode = \"strict\"\n");
    assert!(
        stderr.contains("mode") && stderr.contains("strict"),
        "{stderr}"
    );

    let stderr = serve_refuses("[validation]\nmodes = { Patientz = \"enforce\" }\n");
    assert!(stderr.contains("validation.modes.Patientz"), "{stderr}");
}

/// `tsunagi ingest --from dicom` of the made-up CD with a Patient profile no converted Patient
/// meets (`Patient.photo` 1..1): exit status and report for `mode`.
fn ingest_with_photo_required(mode: &str) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("tsunagi.toml");
    let packages = packages().display().to_string().replace('\\', "\\\\");
    std::fs::write(
        &config,
        format!(
            "db = \"{}\"\n[source]\ninstitution = \"cli-hospital\"\n[validation]\npackages = \"{packages}\"\nmode = \"off\"\nmodes = {{ Patient = \"{mode}\" }}\nrequired_profiles = {{ Patient = [\"http://example.org/fhir/StructureDefinition/test-patient-photo\"] }}\n",
            dir.path().join("tsunagi.db").display().to_string().replace('\\', "\\\\")
        ),
    )
    .expect("write config");
    let report = dir.path().join("report.json");
    let cd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/tests/data/dicom/cd-ct");
    let (code, _, stderr) = tsunagi(&[
        "ingest",
        "--from",
        "dicom",
        "--quiet",
        "--config",
        config.to_str().expect("path"),
        "--report",
        report.to_str().expect("path"),
        cd.to_str().expect("path"),
    ]);
    let report = std::fs::read(&report).expect("report written");
    let report: serde_json::Value = serde_json::from_slice(&report).expect("report JSON");
    (code, report, stderr)
}

#[test]
fn ingest_cli_refuses_a_cd_under_enforce_and_counts_issues_under_warn() {
    let (code, report, stderr) = ingest_with_photo_required("enforce");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not stored"), "{stderr}");
    let outcome = &report[0]["outcome"];
    assert!(
        outcome["issue"]
            .as_array()
            .is_some_and(|issues| issues.iter().any(|issue| {
                issue["expression"][0]
                    .as_str()
                    .is_some_and(|place| place.starts_with("Bundle.entry["))
            })),
        "{report}"
    );
    assert!(report[0].get("stored").is_none(), "{report}");

    let (code, report, stderr) = ingest_with_photo_required("warn");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("validation: "), "{stderr}");
    assert!(
        report[0]["stored"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    assert!(report[0]["validation"]["issue"].is_array(), "{report}");
}
