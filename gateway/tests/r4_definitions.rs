//! The R4 facts hard-coded in the gateway agree with the official definitions in
//! `hl7.fhir.r4.examples@4.0.1`.

mod common;

use common::examples::{example_files, r4_examples_dir};
use serde_json::Value;
use std::collections::BTreeSet;
use tsunagi_profiles::RESOURCE_TYPES;

#[test]
fn resource_type_list_matches_the_r4_structure_definitions() {
    let Some(dir) = r4_examples_dir() else { return };
    let mut defined = BTreeSet::new();
    for file in example_files(&dir) {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !name.starts_with("StructureDefinition-") {
            continue;
        }
        let definition: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read definition")).expect("JSON");
        let is_concrete_resource = definition["kind"] == "resource"
            && definition["abstract"] == false
            && definition["derivation"] == "specialization";
        if is_concrete_resource {
            defined.insert(definition["type"].as_str().unwrap_or_default().to_owned());
        }
    }
    let listed: BTreeSet<String> = RESOURCE_TYPES.iter().map(|name| name.to_string()).collect();
    assert_eq!(listed, defined);
}
