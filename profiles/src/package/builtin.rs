//! The definitions built into the binary: FHIR R4 core (StructureDefinitions with snapshots,
//! ValueSets, CodeSystems, ConceptMaps), embedded gzipped from `profiles/data/r4-core.json.gz`
//! (written by `profiles/scripts/gen_r4_core.py`) and indexed on first use.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::registry::Index;

const R4_CORE_GZ: &[u8] = include_bytes!("../../data/r4-core.json.gz");

/// The R4 core index, read on first use.
pub(crate) fn r4_core() -> &'static Index {
    static CORE: OnceLock<Index> = OnceLock::new();
    CORE.get_or_init(|| {
        let mut index = Index::default();
        for resource in r4_core_resources() {
            index.insert(Arc::new(resource));
        }
        index
    })
}

fn r4_core_resources() -> Vec<Value> {
    let mut text = Vec::new();
    // The file is generated and embedded: a defect here shows in every validation test.
    if flate2::read::GzDecoder::new(R4_CORE_GZ)
        .read_to_end(&mut text)
        .is_err()
    {
        return Vec::new();
    }
    let Ok(mut document) = serde_json::from_slice::<Value>(&text) else {
        return Vec::new();
    };
    match document.get_mut("resources").map(Value::take) {
        Some(Value::Array(resources)) => resources,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_holds_types_profiles_and_terminology() {
        let core = r4_core();
        let patient = core
            .get(
                "StructureDefinition",
                "http://hl7.org/fhir/StructureDefinition/Patient",
                None,
            )
            .expect("Patient");
        assert!(patient.pointer("/snapshot/element/0/path").is_some());
        assert!(core
            .get(
                "ValueSet",
                "http://hl7.org/fhir/ValueSet/administrative-gender",
                None
            )
            .is_some());
        assert!(core
            .get(
                "CodeSystem",
                "http://hl7.org/fhir/administrative-gender",
                None
            )
            .is_some());
        assert!(core
            .get(
                "StructureDefinition",
                "http://hl7.org/fhir/StructureDefinition/vitalsigns",
                None
            )
            .is_some());
    }
}
