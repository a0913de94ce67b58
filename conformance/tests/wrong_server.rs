//! The runner against a deliberately wrong server: the asserts that should catch each wrong
//! answer fail (and only those), warningOnly gives a warning, a failed setup skips the tests,
//! and the binary exits 1 with a JUnit report that says so.

mod common;

use common::wrong_server::WrongServer;
use common::{engine, run_suite, suite_dir};
use serde_json::json;
use tsunagi_conformance::outcome::{PhaseResult, ScriptResult};
use tsunagi_conformance::{RunReport, Status};

fn test<'a>(results: &'a [ScriptResult], script: &str, test: &str) -> &'a PhaseResult {
    results
        .iter()
        .find(|result| result.name == script)
        .unwrap_or_else(|| panic!("no script {script}"))
        .tests
        .iter()
        .find(|phase| phase.id == test)
        .unwrap_or_else(|| panic!("no test {test} in {script}"))
}

fn action_status(phase: &PhaseResult, title: &str) -> (Status, String) {
    let action = phase
        .actions
        .iter()
        .find(|action| action.title == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {}", phase.name));
    (action.status, action.message.clone())
}

#[tokio::test]
async fn core_suite_catches_each_wrong_answer() {
    let server = WrongServer::start().await;
    let results = run_suite(&engine(&server.base), &suite_dir("core")).await;

    let capabilities = test(&results, "tsunagi_core_capabilities", "capabilities");
    assert_eq!(capabilities.status, Status::Fail);
    let (status, message) = action_status(capabilities, "FHIR R4");
    assert_eq!(status, Status::Fail);
    assert!(message.contains("3.0.1"), "{message}");
    assert_eq!(action_status(capabilities, "HTTP 200").0, Status::Pass);
    assert_eq!(
        action_status(capabilities, "JSON is a format").0,
        Status::Fail
    );

    let create = test(&results, "tsunagi_core_crud", "create");
    let (status, message) = action_status(create, "HTTP 201");
    assert_eq!(
        (status, message.as_str()),
        (Status::Fail, "expected HTTP 201 (created), got 200")
    );
    let (status, message) = action_status(create, "ETag is W/\"1\"");
    assert_eq!(status, Status::Fail, "missing ETag must fail: {message}");
    assert_eq!(
        action_status(create, "The body is the stored Patient").0,
        Status::Pass
    );

    let search = test(&results, "tsunagi_core_search", "string");
    let (status, message) = action_status(search, "All three (string search ignores case)");
    assert_eq!(status, Status::Fail);
    assert!(message.contains("found [0]"), "{message}");
    assert_eq!(action_status(search, "searchset").0, Status::Pass);

    let report = RunReport {
        server: server.base.clone(),
        scripts: results,
        duration: std::time::Duration::ZERO,
    };
    assert!(!report.succeeded());
}

fn write_script(
    dir: &std::path::Path,
    name: &str,
    script: serde_json::Value,
) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, script.to_string()).unwrap();
    path
}

fn operation(code: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut operation = json!({"type": {"system": "http://terminology.hl7.org/CodeSystem/testscript-operation-codes", "code": code},
        "encodeRequestUrl": true});
    for (key, value) in extra.as_object().unwrap() {
        operation[key] = value.clone();
    }
    json!({"operation": operation})
}

fn assertion(extra: serde_json::Value) -> serde_json::Value {
    let mut assert = json!({"warningOnly": false});
    for (key, value) in extra.as_object().unwrap() {
        assert[key] = value.clone();
    }
    json!({"assert": assert})
}

#[tokio::test]
async fn statuses_of_single_asserts_and_the_failed_setup_rule() {
    let server = WrongServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let patient = json!({"resourceType": "Patient", "id": "fx", "name": [{"family": "Kari"}]});
    let asserts = write_script(
        dir.path(),
        "asserts.json",
        json!({
            "resourceType": "TestScript", "id": "asserts", "name": "asserts", "status": "draft",
            "contained": [patient],
            "fixture": [{"id": "patient", "autocreate": false, "autodelete": false, "resource": {"reference": "#fx"}}],
            "test": [{"id": "create", "action": [
                operation("create", json!({"resource": "Patient", "sourceId": "patient", "label": "create"})),
                assertion(json!({"label": "created", "response": "created"})),
                assertion(json!({"label": "etag", "headerField": "ETag", "operator": "notEmpty"})),
                assertion(json!({"label": "location", "headerField": "Location", "operator": "notEmpty", "warningOnly": true})),
                assertion(json!({"label": "type", "resource": "Patient"})),
                assertion(json!({"label": "id", "expression": "Patient.id", "value": "always-the-same"})),
                assertion(json!({"label": "family", "compareToSourceId": "patient", "compareToSourceExpression": "Patient.name.family"})),
                assertion(json!({"label": "bad-expression", "expression": "Patient.name.("})),
            ]}, {"id": "read", "action": [
                operation("read", json!({"targetId": "patient"})),
                assertion(json!({"label": "family-read", "compareToSourceId": "patient", "compareToSourceExpression": "Patient.name.family"})),
                assertion(json!({"label": "request-url", "direction": "request", "requestURL": "/Patient/always-the-same", "operator": "contains"})),
            ]}]
        }),
    );
    let setup_fails = write_script(
        dir.path(),
        "setup.json",
        json!({
            "resourceType": "TestScript", "id": "setup", "name": "setup-fails", "status": "draft",
            "setup": {"action": [
                operation("capabilities", json!({})),
                assertion(json!({"label": "r4", "expression": "CapabilityStatement.fhirVersion", "value": "4.0.1"})),
            ]},
            "test": [{"id": "never", "action": [operation("read", json!({"resource": "Patient", "params": "/x"}))]},
                     {"id": "never-either", "action": [operation("read", json!({"resource": "Patient", "params": "/y"}))]}],
            "teardown": {"action": [operation("delete", json!({"resource": "Patient", "params": "/x"}))]}
        }),
    );
    let engine = engine(&server.base);
    let result = engine.run_file(&asserts).await;
    assert_eq!(result.load_error, None);
    let create = &result.tests[0];
    let statuses: Vec<(&str, Status)> = create
        .actions
        .iter()
        .map(|action| (action.title.as_str(), action.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("create", Status::Pass),
            ("created", Status::Fail),
            ("etag", Status::Fail),
            ("location", Status::Warning),
            ("type", Status::Pass),
            ("id", Status::Pass),
            ("family", Status::Pass),
            ("bad-expression", Status::Error),
        ]
    );
    assert_eq!(create.status, Status::Error);
    let read = &result.tests[1];
    // The server answers the read with another family name than the fixture's.
    let family = read
        .actions
        .iter()
        .find(|action| action.title == "family-read")
        .unwrap();
    assert_eq!(family.status, Status::Fail);
    assert!(
        family.message.contains("Kari") && family.message.contains("Wrong"),
        "{}",
        family.message
    );
    assert_eq!(
        read.actions[2].status,
        Status::Pass,
        "{}",
        read.actions[2].message
    );

    let result = engine.run_file(&setup_fails).await;
    assert_eq!(result.setup.as_ref().unwrap().status, Status::Fail);
    assert!(result
        .tests
        .iter()
        .all(|test| test.status == Status::Skip && test.actions.is_empty()));
    assert!(result.tests[0]
        .skip_reason
        .as_deref()
        .unwrap()
        .starts_with("setup failed"));
    let teardown = result.teardown.as_ref().expect("teardown still runs");
    assert_eq!(teardown.actions.len(), 1);
    assert!(
        teardown.actions[0].message.starts_with("DELETE "),
        "{}",
        teardown.actions[0].message
    );
    let counts = result.counts();
    assert_eq!((counts.tests, counts.failures, counts.skipped), (3, 1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exits_1_and_writes_reports() {
    let server = WrongServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out.xml");
    let markdown = dir.path().join("out.md");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagi-conformance"))
        .args([
            "run",
            "--server",
            &server.base,
            "--timeout",
            "10",
            "--junit",
        ])
        .arg(&junit)
        .arg("--markdown")
        .arg(&markdown)
        .arg(suite_dir("core"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  tsunagi_core_crud › PUT to a new id creates (201)"),
        "{stdout}"
    );
    let shape = common::junit_shape::read(&std::fs::read_to_string(&junit).unwrap());
    shape.assert_consistent();
    assert_eq!(shape.suites, 6);
    assert!(shape.total("failures") >= 10, "{shape:?}");
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    assert!(markdown.contains("Result: **FAIL**"), "{markdown}");
    assert!(markdown.contains("expected HTTP 201 (created), got 200"));

    // Usage errors are 2, not 1.
    let usage = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagi-conformance"))
        .args(["run", "--server", "ftp://nowhere", "x.json"])
        .output()
        .await
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
