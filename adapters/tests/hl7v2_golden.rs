//! Golden tests of the HL7 v2 mapping: every `golden/hl7v2/<case>.hl7` is converted and the
//! Bundle compared with `<case>.json`, the report with `<case>.report.json`; a message that
//! cannot be converted is compared with `<case>.error.txt` (the error's text).
//!
//! `TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test hl7v2_golden` rewrites the expected
//! files; review every change by eye before committing it.

mod common;

use common::golden::check_or_bless;
use std::fs;
use std::path::{Path, PathBuf};
use tsunagi_adapters::hl7v2::{convert, Hl7Options};
use tsunagi_adapters::SourceContext;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hl7v2")
}

/// The context every golden case is converted with (a made-up institution and its code).
fn context() -> SourceContext {
    SourceContext {
        institution_code: Some("1319999999".into()),
        ..SourceContext::new("golden-hospital", "+09:00")
    }
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("golden folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "hl7"))
        .collect();
    cases.sort();
    cases
}

/// The expected outputs of one case: (file name, content).
fn outputs(input: &Path) -> Vec<(PathBuf, String)> {
    let bytes = fs::read(input).expect("read input");
    let stem = input.file_stem().and_then(|s| s.to_str()).expect("name");
    match convert(&bytes, &context(), &Hl7Options::default()) {
        Ok(conversion) => {
            let tree = conversion.bundle();
            // The compact bytes are exactly what serde_json writes for the same tree.
            assert_eq!(
                serde_json::to_vec(&tree).expect("compact json"),
                conversion.bundle_json,
                "{stem}: compact bytes"
            );
            let bundle = serde_json::to_string_pretty(&tree).expect("bundle json");
            let report =
                serde_json::to_string_pretty(&conversion.report.to_json()).expect("report json");
            vec![
                (golden_dir().join(format!("{stem}.json")), bundle + "\n"),
                (
                    golden_dir().join(format!("{stem}.report.json")),
                    report + "\n",
                ),
            ]
        }
        Err(error) => vec![(
            golden_dir().join(format!("{stem}.error.txt")),
            format!("{error}\nHL7 error code: {}\n", error.hl7_error_code()),
        )],
    }
}

#[test]
fn every_case_matches_its_golden_files() {
    let cases = cases();
    assert!(
        cases.len() >= 18,
        "expected the full set of golden inputs, found {}",
        cases.len()
    );
    let outputs = cases.iter().flat_map(|input| outputs(input));
    check_or_bless(
        outputs,
        "TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test hl7v2_golden",
    );
}

#[test]
fn converting_twice_is_byte_identical() {
    for input in cases() {
        let first = outputs(&input);
        let second = outputs(&input);
        assert_eq!(first, second, "{}", input.display());
    }
}
