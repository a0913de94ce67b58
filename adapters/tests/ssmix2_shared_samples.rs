//! The SS-MIX2 adapter over the public sample tree `shared/data/ssmix2-samples` (see its
//! PROVENANCE.md): every file is planned and converted, or refused with a located reason; the
//! folder/message mismatches the samples are known for are reported; kanji and kana names come
//! out as IDE/SYL HumanNames. Skips (saying so) when the folder is absent, unless `CI` is set.

mod common;

use common::shared_folder;
use serde_json::Value;
use tsunagi_adapters::hl7v2::Hl7Options;
use tsunagi_adapters::ssmix2::{self, is_converted, TreeLimits};
use tsunagi_adapters::SourceContext;

#[test]
fn every_sample_file_is_converted_or_refused_with_a_reason() {
    let Some(root) = shared_folder("ssmix2-samples") else {
        return;
    };
    let tree = ssmix2::walk(&root, &TreeLimits::default()).expect("walk");
    // Every sample has an SS-MIX2 name (the odd fixture's name is valid, its folder is not).
    assert!(tree.problems.is_empty(), "{:?}", tree.problems);
    let misplaced: Vec<&str> = tree.layout.iter().map(|f| f.path.as_str()).collect();
    assert!(
        misplaced.iter().all(|path| path.contains("/ADT-31/")),
        "{misplaced:?}"
    );
    assert!(!misplaced.is_empty(), "the ADT-31 fixture is misplaced");
    let plan = ssmix2::plan(tree.files);
    assert_eq!(plan.steps.len(), 22);
    let context = SourceContext::new("shared-samples", "+09:00");
    let mut converted = 0;
    let mut pid_mismatches = 0;
    for step in &plan.steps {
        let file = &plan.files[step.file];
        let bytes = std::fs::read(root.join(&file.path)).expect("read");
        if !is_converted(&file.name.data_type) {
            continue;
        }
        let result = ssmix2::convert_file(file, &bytes, &context, &Hl7Options::default()).result;
        let conversion = match result {
            Ok(conversion) => conversion,
            Err(error) => panic!("{}: {error}", file.path),
        };
        converted += 1;
        assert!(!conversion.report.has_errors(), "{}", file.path);
        pid_mismatches += conversion
            .report
            .entries
            .iter()
            .filter(|entry| {
                entry
                    .message
                    .contains("differs from the folder's patient id")
            })
            .count();
        let bundle = conversion.bundle();
        let patient = bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| &entry["resource"])
            .find(|resource| resource["resourceType"] == "Patient")
            .expect("a Patient");
        let forms: Vec<(&str, &str)> = patient["name"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|name| {
                (
                    name["extension"][0]["valueCode"].as_str().unwrap_or(""),
                    name["text"].as_str().unwrap_or(""),
                )
            })
            .collect();
        let kanji = forms
            .iter()
            .find(|(code, _)| *code == "IDE")
            .expect("kanji name");
        let kana = forms
            .iter()
            .find(|(code, _)| *code == "SYL")
            .expect("kana name");
        assert!(
            kanji
                .1
                .chars()
                .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
            "{}: {kanji:?}",
            file.path
        );
        assert!(
            kana.1
                .chars()
                .all(|c| ('\u{30A0}'..='\u{30FF}').contains(&c) || c == '\u{3000}' || c == ' '),
            "{}: {kana:?}",
            file.path
        );
        assert_ne!(patient["identifier"], Value::Null);
    }
    assert_eq!(converted, 12, "the 12 samples of converted data types");
    // OMG-01/02/03, OMG-11/12/13 and OML-11 carry another PID-3 than their folder.
    assert!(pid_mismatches >= 5, "{pid_mismatches}");
}
