//! Property tests of the HL7 v2 mapping: whatever bytes arrive (here: golden messages with
//! random edits to delimiters, digits and letters), conversion never panics, and every
//! Bundle it does produce is a well-formed transaction of PUTs with unique deterministic ids
//! whose Patient references resolve inside the Bundle.

use proptest::prelude::*;
use serde_json::Value;
use std::collections::HashSet;
use tsunagi_adapters::hl7v2::{convert, Hl7Options};
use tsunagi_adapters::SourceContext;

const INPUTS: &[&[u8]] = &[
    include_bytes!("golden/hl7v2/oru_r01_lab.hl7"),
    include_bytes!("golden/hl7v2/omi_z23_jis.hl7"),
    include_bytes!("golden/hl7v2/omg_o19_parent_child.hl7"),
    include_bytes!("golden/hl7v2/oul_r22.hl7"),
    include_bytes!("golden/hl7v2/adt_a01.hl7"),
];

/// Bytes that matter to an ER7 parser and mapper: delimiters, terminators, digits, letters.
const ALPHABET: &[u8] = b"|^~\\&\r\n0123456789.+-ABFHIMNOPRSTXZ \x1b";

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = proptest::sample::select(ALPHABET.to_vec());
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(input: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Replace(at, b) => {
                if let Some(slot) = bytes.get_mut(at % len) {
                    *slot = b;
                }
            }
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) => {
                if !bytes.is_empty() {
                    bytes.remove(at % bytes.len());
                }
            }
        }
    }
    bytes
}

fn check_bundle(bundle: &Value) -> Result<(), String> {
    if bundle["resourceType"] != "Bundle" || bundle["type"] != "transaction" {
        return Err("not a transaction Bundle".into());
    }
    let entries = bundle["entry"].as_array().ok_or("no entries")?;
    let mut ids = HashSet::new();
    for entry in entries {
        let resource = &entry["resource"];
        let kind = resource["resourceType"].as_str().ok_or("no resourceType")?;
        let id = resource["id"].as_str().ok_or("no id")?;
        if !ids.insert(format!("{kind}/{id}")) {
            return Err(format!("{kind}/{id} twice"));
        }
        if entry["fullUrl"] != format!("urn:uuid:{id}").as_str()
            || entry["request"]["method"] != "PUT"
            || entry["request"]["url"] != format!("{kind}/{id}").as_str()
        {
            return Err(format!("bad entry for {kind}/{id}"));
        }
    }
    let patients: Vec<&str> = ids
        .iter()
        .filter(|id| id.starts_with("Patient/"))
        .map(String::as_str)
        .collect();
    let text = bundle.to_string();
    for part in text.split("\"reference\":\"Patient/").skip(1) {
        let id = part.split('"').next().unwrap_or_default();
        if !patients.contains(&format!("Patient/{id}").as_str()) {
            return Err(format!("dangling Patient/{id}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn edited_messages_never_panic_and_bundles_stay_well_formed(
        which in 0..INPUTS.len(),
        edits in proptest::collection::vec(edit(), 1..12),
    ) {
        let bytes = apply(INPUTS[which], &edits);
        let ctx = SourceContext::new("props", "+09:00");
        let first = convert(&bytes, &ctx, &Hl7Options::default());
        let second = convert(&bytes, &ctx, &Hl7Options::default());
        match (first, second) {
            (Ok(first), Ok(second)) => {
                prop_assert_eq!(&first.bundle_json, &second.bundle_json, "deterministic");
                let tree = first.bundle();
                prop_assert_eq!(
                    serde_json::to_vec(&tree).unwrap_or_default(),
                    first.bundle_json.clone(),
                    "compact bytes are serde_json's"
                );
                if let Err(problem) = check_bundle(&tree) {
                    prop_assert!(false, "{}", problem);
                }
            }
            (Err(first), Err(second)) => prop_assert_eq!(first.to_string(), second.to_string()),
            _ => prop_assert!(false, "the same bytes converted once and failed once"),
        }
    }
}
