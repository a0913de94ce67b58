//! Golden tests of the SS-MIX2 adapter over a small made-up tree: `golden/ssmix2/tree/` holds
//! the generator's first two patients (so this test also pins the generator's output) plus one
//! hand-made misplaced file; every file is converted with the SS-MIX2 checks and compared with
//! `golden/ssmix2/expected/<file name>.json` and `.report.json` (or `.error.txt`); the walk's
//! findings and the order the files are applied in are compared with `expected/plan.txt`.
//!
//! `TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test ssmix2_golden` rewrites the expected
//! files (and the generated part of the tree); review every change by eye before committing.

mod common;

use common::golden::check_or_bless;
use std::fs;
use std::path::{Path, PathBuf};
use tsunagi_adapters::hl7v2::Hl7Options;
use tsunagi_adapters::ssmix2::{self, generate, TreeLimits};
use tsunagi_adapters::SourceContext;

const BLESS: &str = "TSUNAGI_BLESS=1 cargo test -p tsunagi-adapters --test ssmix2_golden";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ssmix2")
}

fn context() -> SourceContext {
    SourceContext {
        institution_code: Some("1319999999".into()),
        ..SourceContext::new("golden-hospital", "+09:00")
    }
}

/// The generated part of the tree: (file, text). ISO-2022-JP is 7-bit, so the text is ASCII.
fn generated_tree() -> Vec<(PathBuf, String)> {
    generate::generate(2)
        .map(|file| {
            (
                golden_dir().join("tree").join(&file.path),
                String::from_utf8(file.bytes).expect("ISO-2022-JP is 7-bit"),
            )
        })
        .collect()
}

fn outputs() -> Vec<(PathBuf, String)> {
    let root = golden_dir().join("tree");
    let tree = ssmix2::walk(&root, &TreeLimits::default()).expect("walk the golden tree");
    let mut plan_text = String::new();
    for finding in tree.problems.iter().chain(&tree.layout) {
        plan_text.push_str(&format!("walk: {}: {}\n", finding.path, finding.message));
    }
    let plan = ssmix2::plan(tree.files);
    for finding in &plan.findings {
        plan_text.push_str(&format!(
            "versions: {}: {}\n",
            finding.path, finding.message
        ));
    }
    let mut outputs = Vec::new();
    for step in &plan.steps {
        let file = &plan.files[step.file];
        plan_text.push_str(&format!(
            "step: {} (record {}, {})\n",
            file.path,
            step.record,
            if step.is_newest() { "newest" } else { "older" }
        ));
        let bytes = fs::read(root.join(&file.path)).expect("read tree file");
        let stem = file.name.to_string();
        let expected = golden_dir().join("expected");
        let converted = ssmix2::convert_file(file, &bytes, &context(), &Hl7Options::default());
        match converted.result {
            Ok(conversion) => {
                let bundle = serde_json::to_string_pretty(&conversion.bundle()).expect("json");
                let report =
                    serde_json::to_string_pretty(&conversion.report.to_json()).expect("json");
                outputs.push((expected.join(format!("{stem}.json")), bundle + "\n"));
                outputs.push((expected.join(format!("{stem}.report.json")), report + "\n"));
            }
            Err(error) => outputs.push((
                expected.join(format!("{stem}.error.txt")),
                format!("{error}\n"),
            )),
        }
    }
    outputs.push((golden_dir().join("expected/plan.txt"), plan_text));
    outputs
}

#[test]
fn the_golden_tree_is_the_generators_output() {
    let generated = generated_tree();
    if std::env::var_os("TSUNAGI_BLESS").is_some() {
        for (path, _) in &generated {
            fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        }
    }
    check_or_bless(generated, BLESS);
}

#[test]
fn every_file_matches_its_golden_files() {
    if std::env::var_os("TSUNAGI_BLESS").is_some() {
        fs::create_dir_all(golden_dir().join("expected")).expect("create folder");
        // The tree must be written before it is walked.
        for (path, text) in generated_tree() {
            fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
            fs::write(path, text).expect("write tree file");
        }
    }
    let outputs = outputs();
    assert!(
        outputs.len() >= 20,
        "expected the whole tree, got {}",
        outputs.len()
    );
    check_or_bless(outputs, BLESS);
}

#[test]
fn converting_twice_is_byte_identical() {
    assert_eq!(outputs(), outputs());
}
