//! Our suites are real R4 TestScripts: each validates against the base TestScript definition
//! (the runner reads more leniently than that, other tools may not), and every fixture file a
//! script names exists.

use std::path::Path;

use tsunagi_conformance::script::TestScript;
use tsunagi_profiles::validate::{Severity, ValidateOptions, Validator};

#[test]
fn suite_scripts_are_valid_r4_test_scripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let files = tsunagi_conformance::collect_scripts(&[root]).unwrap();
    assert!(files.len() >= 7, "{files:?}");
    let validator = Validator::r4_core();
    for file in &files {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let outcome = validator.validate(&value, &ValidateOptions::default());
        let errors: Vec<String> = outcome
            .issues
            .iter()
            .filter(|issue| matches!(issue.severity, Severity::Error | Severity::Fatal))
            .map(|issue| format!("{}: {}", issue.expression, issue.message))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        let script = TestScript::from_value(value).unwrap();
        assert!(!script.tests.is_empty(), "{}", file.display());
        for fixture in &script.fixtures {
            let reference = fixture.reference.as_deref().unwrap();
            let path = file.parent().unwrap().join(reference);
            assert!(
                path.is_file(),
                "{}: fixture {reference} missing",
                file.display()
            );
        }
    }
}
