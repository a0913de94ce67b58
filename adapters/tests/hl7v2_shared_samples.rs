//! Converts the public sample messages under `shared/data/` (see its PROVENANCE.md): the
//! SS-MIX2 standard-storage samples (ISO-2022-JP) and the Microsoft FHIR-Converter HL7 v2
//! inputs, whose expected FHIR outputs are compared field by field with ours.
//!
//! The folder sits beside the repository (`../../shared/data` from this crate). When it is
//! absent the tests say so and pass, except under CI (`CI` set), where they must run.
//! `cargo test -p tsunagi-adapters --test hl7v2_shared_samples -- --nocapture` prints the
//! comparison that `docs/mappings/hl7v2-ms-fhir-converter-comparison.md` summarises.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

mod common;
use common::{files_under, shared_folder};
use tsunagi_adapters::hl7v2::{convert, Hl7Error, Hl7Options};
use tsunagi_adapters::SourceContext;

fn context() -> SourceContext {
    SourceContext::new("shared-samples", "+09:00")
}

fn resources<'a>(bundle: &'a Value, resource_type: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| &entry["resource"])
                .filter(|resource| resource["resourceType"] == resource_type)
                .collect()
        })
        .unwrap_or_default()
}

/// The SS-MIX2 data types (folder names) whose messages are converted; the others are
/// message types the adapter refuses as unsupported.
const SSMIX2_CONVERTED: &[&str] = &[
    "ADT-00", "ADT-22", "ADT-42", "ADT-52", "OMG-01", "OMG-02", "OMG-03", "OMG-11", "OMG-12",
    "OMG-13", "OML-01", "OML-11",
];

#[test]
fn every_ssmix2_sample_converts_or_fails_with_a_located_error() {
    let Some(data) = shared_folder("") else {
        return;
    };
    let files = files_under(&data.join("ssmix2-samples"));
    assert!(
        files.len() >= 20,
        "expected the SS-MIX2 samples, found {}",
        files.len()
    );
    let mut converted = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("read sample");
        let data_type = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        // The checker fixtures of the 0000001 tree are deliberately broken (PROVENANCE.md).
        let fixture = file.to_string_lossy().contains("/0000001/");
        match convert(&bytes, &context(), &Hl7Options::default()) {
            Ok(conversion) => {
                assert!(
                    SSMIX2_CONVERTED.contains(&data_type) && !fixture,
                    "{}: converted, but a {data_type} sample was expected to be refused",
                    file.display()
                );
                assert!(
                    !conversion.report.has_errors(),
                    "{}: report has errors: {:?}",
                    file.display(),
                    conversion.report
                );
                assert_eq!(resources(&conversion.bundle(), "Patient").len(), 1);
                converted += 1;
            }
            Err(error) => {
                assert!(
                    !SSMIX2_CONVERTED.contains(&data_type) || fixture,
                    "{}: {error}",
                    file.display()
                );
                let located = error.location().is_some() || matches!(error, Hl7Error::Parse(_));
                assert!(
                    located,
                    "{}: error without a location: {error}",
                    file.display()
                );
                if !fixture {
                    assert!(
                        matches!(error, Hl7Error::UnsupportedMessageType { .. }),
                        "{}: expected an unsupported message type, got {error}",
                        file.display()
                    );
                }
                eprintln!("{}: {error}", file.display());
            }
        }
    }
    assert_eq!(converted, SSMIX2_CONVERTED.len());
}

fn ssmix2_bundle(data: &Path, relative: &str) -> Value {
    let bytes = std::fs::read(data.join("ssmix2-samples").join(relative)).expect("sample");
    convert(&bytes, &context(), &Hl7Options::default())
        .expect("converts")
        .bundle()
}

#[test]
fn ssmix2_kanji_and_kana_names_come_out_right() {
    let Some(data) = shared_folder("") else {
        return;
    };
    // PID-5 of OMG-11 is 患者^花子^^^^^L^I~カンジャ^ハナコ^^^^^L^P in ISO-2022-JP.
    let bundle = ssmix2_bundle(
        &data,
        "999/901/9999013/20111220/OMG-11/9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1",
    );
    let patient = resources(&bundle, "Patient")[0];
    let kanji = &patient["name"][0];
    assert_eq!(kanji["family"], "患者");
    assert_eq!(kanji["given"][0], "花子");
    assert_eq!(kanji["text"], "患者\u{3000}花子");
    assert_eq!(kanji["extension"][0]["valueCode"], "IDE");
    let kana = &patient["name"][1];
    assert_eq!(kana["family"], "カンジャ");
    assert_eq!(kana["given"][0], "ハナコ");
    assert_eq!(kana["extension"][0]["valueCode"], "SYL");
    assert_eq!(patient["identifier"][0]["value"], "3330000333");
    // The ultrasound study of the same message, keyed by its Study Instance UID.
    let study = resources(&bundle, "ImagingStudy")[0];
    assert_eq!(
        study["identifier"][0]["value"],
        "urn:oid:1.2.392.1114.20045.43233.5.300001"
    );
    assert_eq!(study["modality"][0]["code"], "US");
    assert_eq!(
        resources(&bundle, "ServiceRequest").len(),
        2,
        "parent and child order"
    );

    // A JIS name inside an XCN (the ordering doctor) and a JAHIS sub-coded OBX code.
    let ecg = ssmix2_bundle(
        &data,
        "999/901/9999013/20111220/OMG-13/9999013_20111220_OMG-13_999999999999999_20111220224447339_01_1",
    );
    let report = resources(&ecg, "DiagnosticReport")[0];
    assert_eq!(report["code"]["coding"][0]["display"], "標準１２誘導心電図");
    assert_eq!(report["conclusion"], "心筋虚血疑い");
    let codes: BTreeSet<String> = resources(&ecg, "Observation")
        .iter()
        .map(|o| {
            o["code"]["coding"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        codes.contains("9A100&IMP") && codes.contains("58368&7"),
        "{codes:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Microsoft FHIR-Converter samples.

/// Where a sample's expected output is: `expected/<RootTemplate>/<stem>-expected.json`.
fn expected_for(data: &Path, stem: &str) -> Option<Value> {
    let expected = data.join("hl7v2-peer-samples/ms-fhir-converter/expected");
    for template in std::fs::read_dir(&expected).ok()? {
        let path = template.ok()?.path().join(format!("{stem}-expected.json"));
        if path.is_file() {
            let text = std::fs::read_to_string(path).ok()?;
            return serde_json::from_str(&text).ok();
        }
    }
    None
}

fn strings(values: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    values
        .into_iter()
        .filter_map(|value| value.as_str().map(str::to_owned))
        .collect()
}

fn identifier_values(resources: &[&Value]) -> BTreeSet<String> {
    strings(resources.iter().flat_map(|resource| {
        resource["identifier"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|identifier| identifier["value"].clone())
    }))
}

fn family_names(patient: &Value) -> BTreeSet<String> {
    strings(
        patient["name"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|name| name["family"].clone()),
    )
}

fn codes(resources: &[&Value]) -> BTreeSet<String> {
    strings(resources.iter().flat_map(|resource| {
        resource["code"]["coding"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|coding| coding["code"].clone())
    }))
}

/// `code=value unit` for every Observation with a quantity or string value.
fn observation_values(observations: &[&Value]) -> BTreeSet<String> {
    observations
        .iter()
        .filter_map(|observation| {
            let code = observation["code"]["coding"][0]["code"].as_str()?;
            if let Some(quantity) = observation.get("valueQuantity") {
                let value: f64 = quantity["value"].to_string().parse().ok()?;
                let unit = quantity["unit"].as_str().unwrap_or("");
                Some(format!("{code}={value} {unit}"))
            } else {
                let text = observation["valueString"].as_str()?;
                Some(format!("{code}={text}"))
            }
        })
        .collect()
}

/// Fields that must agree with Microsoft's expected output, as sets of text: what we produce
/// must be among what they produce (they map more segments, e.g. IN1, NK1, PID-19).
struct Comparison {
    file: String,
    missing: Vec<String>,
}

fn compare(file: &str, ours: &Value, theirs: &Value) -> Comparison {
    let mut missing = Vec::new();
    let mut check = |what: &str, ours: BTreeSet<String>, theirs: BTreeSet<String>| {
        for value in ours.difference(&theirs) {
            missing.push(format!("{what}: ours {value:?} not in theirs {theirs:?}"));
        }
    };
    let our_patient = resources(ours, "Patient");
    let their_patients = resources(theirs, "Patient");
    check(
        "patient identifiers",
        identifier_values(&our_patient),
        identifier_values(&their_patients),
    );
    check(
        "patient family names",
        our_patient.iter().flat_map(|p| family_names(p)).collect(),
        their_patients
            .iter()
            .flat_map(|p| family_names(p))
            .collect(),
    );
    let our_orders: Vec<&Value> = resources(ours, "ServiceRequest")
        .into_iter()
        .chain(resources(ours, "DiagnosticReport"))
        .collect();
    let their_orders: Vec<&Value> = resources(theirs, "ServiceRequest")
        .into_iter()
        .chain(resources(theirs, "DiagnosticReport"))
        .collect();
    check(
        "order numbers",
        identifier_values(&our_orders),
        identifier_values(&their_orders),
    );
    check(
        "order and report codes",
        codes(&our_orders),
        codes(&their_orders),
    );
    let our_observations = resources(ours, "Observation");
    let their_observations = resources(theirs, "Observation");
    check(
        "observation codes",
        codes(&our_observations),
        codes(&their_observations),
    );
    check(
        "observation values and units",
        observation_values(&our_observations),
        observation_values(&their_observations),
    );
    Comparison {
        file: file.to_owned(),
        missing,
    }
}

/// Differences that are deliberate, each explained in
/// docs/mappings/hl7v2-ms-fhir-converter-comparison.md: (file, what, value fragment).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    // The ORC is glued to the end of GT1 (a missing segment terminator): Microsoft's template
    // then finds no order; we convert the OBR group that follows.
    ("MDHHS-OML-O21-1", "order numbers", "\"ORD723222\""),
    ("MDHHS-OML-O21-1", "order numbers", "\"R-783274\""),
    ("MDHHS-OML-O21-1", "order and report codes", "\"6532-6\""),
    ("MDHHS-OML-O21-1", "observation codes", "\"AOE15\""),
    // ORC and OBR disagree on the order number; ORC (the common order segment) wins for us.
    ("MDHHS-OML-O21-2", "order numbers", "\"R783274\""),
    ("OMG-O19-02", "order numbers", "\"1101\""),
    ("OMG-O19-02", "order numbers", "\"NI-2\""),
    ("OML-O21-03", "order numbers", "\"1101\""),
    ("OML-O21-03", "order numbers", "\"NI-2\""),
    // RP (reference pointer) values: we keep the Observation (code, status) without a value
    // and report the value as unsupported; Microsoft drops the OBX.
    ("OMG-O19-01", "observation codes", "\"3DHISTECH_LD\""),
    ("OMG-O19-02", "observation codes", "\"3DHISTECH_LD\""),
    ("OMG-O19-02", "observation codes", "\"4DHISTECH_LD\""),
    ("OML-O21-03", "observation codes", "\"3DHISTECH_LD\""),
    ("OML-O21-03", "observation codes", "\"4DHISTECH_LD\""),
    ("OML-O21-01", "observation codes", "\"1063-7\""),
    ("OML-O21-01", "observation codes", "\"3DHISTH_SLD\""),
    ("OML-O21-02", "observation codes", "\"1063-7\""),
    ("ORM-O01-02", "observation codes", "\"1063-7\""),
    ("ORU-R01-01", "observation codes", "\"1063-7\""),
    // NM values with repetitions (`60~120`): we keep the first (reported as truncated);
    // Microsoft writes no value.
    (
        "OMG-O19-02",
        "observation values and units",
        "\"3DHISTECH_SLD=80 \"",
    ),
    (
        "OMG-O19-02",
        "observation values and units",
        "\"7ISTECH_SLD=80 \"",
    ),
    (
        "OML-O21-03",
        "observation values and units",
        "\"3DHISTECH_SLD=80 \"",
    ),
    (
        "OML-O21-03",
        "observation values and units",
        "\"7ISTECH_SLD=80 \"",
    ),
    (
        "OML-O21-01",
        "observation values and units",
        "\"8867-4=27 \"",
    ),
    (
        "OML-O21-02",
        "observation values and units",
        "\"8867-4=27 \"",
    ),
    (
        "ORU-R01-01",
        "observation values and units",
        "\"8867-4=27 \"",
    ),
    (
        "ORM-O01-01",
        "observation values and units",
        "\"8867-4=60 beats/min\"",
    ),
];

#[test]
fn microsoft_samples_agree_on_identifiers_names_orders_codes_and_values() {
    let Some(data) = shared_folder("") else {
        return;
    };
    let inputs = files_under(&data.join("hl7v2-peer-samples/ms-fhir-converter/input"));
    assert_eq!(inputs.len(), 30, "PROVENANCE.md lists 30 inputs");
    let mut compared = 0;
    let mut unexplained = Vec::new();
    for input in &inputs {
        let stem = input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = std::fs::read(input).expect("read input");
        let conversion = match convert(&bytes, &context(), &Hl7Options::default()) {
            Ok(conversion) => conversion,
            Err(error) => {
                assert!(error.location().is_some(), "{stem}: {error}");
                println!("{stem}: not converted: {error}");
                continue;
            }
        };
        assert!(
            !conversion.report.has_errors(),
            "{stem}: {:?}",
            conversion.report
        );
        let Some(expected) = expected_for(&data, &stem) else {
            println!("{stem}: converted; no expected output upstream");
            continue;
        };
        compared += 1;
        let comparison = compare(&stem, &conversion.bundle(), &expected);
        if comparison.missing.is_empty() {
            println!("{stem}: identifiers, names, order numbers, codes, values and units agree");
        }
        for difference in &comparison.missing {
            println!("{}: {difference}", comparison.file);
            let explained = KNOWN_DIFFERENCES.iter().any(|(file, what, fragment)| {
                *file == comparison.file
                    && difference.starts_with(what)
                    && difference.contains(fragment)
            });
            if !explained {
                unexplained.push(format!("{}: {difference}", comparison.file));
            }
        }
    }
    assert_eq!(compared, 29, "29 inputs have an expected output upstream");
    assert!(
        unexplained.is_empty(),
        "unexplained differences:\n{}",
        unexplained.join("\n")
    );
}
