//! The definitions built into the binary, indexed on first use: FHIR R4 core (StructureDefinitions
//! with snapshots, ValueSets, CodeSystems, ConceptMaps), embedded gzipped from
//! `profiles/data/r4-core.json.gz` (written by `profiles/scripts/gen_r4_core.py`), and Tsunagi's
//! JP Core subset from `profiles/packages/jp-core-subset`.

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

/// The package name of the official JP Core; when an operator loads it, it replaces the subset.
pub(crate) const JP_CORE_PACKAGE: &str = "jp-core.r4";

/// Tsunagi's own JP Core subset (`profiles/packages/jp-core-subset`): the profiles the gateway
/// emits, with JP Core's canonical URLs, as differentials.
const JP_CORE_SUBSET: &[&str] = &[
    include_str!("../../packages/jp-core-subset/package/CodeSystem-jp-simpleobservationcategory-cs.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-diagnosticreport-common.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-diagnosticreport-radiology.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-humanname.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-imagingstudy-radiology.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-observation-common.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-organization.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-patient.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-practitioner.json"),
    include_str!("../../packages/jp-core-subset/package/StructureDefinition-jp-servicerequest-common.json"),
    include_str!("../../packages/jp-core-subset/package/ValueSet-jp-diagnosticreportcategory-vs.json"),
    include_str!("../../packages/jp-core-subset/package/ValueSet-jp-dicommodality-vs.json"),
    include_str!("../../packages/jp-core-subset/package/ValueSet-jp-simpleobservationcategory-vs.json"),
];

/// The JP Core subset index, read on first use.
pub(crate) fn jp_core_subset() -> &'static Index {
    static SUBSET: OnceLock<Index> = OnceLock::new();
    SUBSET.get_or_init(|| {
        let mut index = Index::default();
        for text in JP_CORE_SUBSET {
            if let Ok(resource) = serde_json::from_str::<Value>(text) {
                index.insert(Arc::new(resource));
            }
        }
        index
    })
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
        assert_eq!(
            jp_core_subset().len(),
            JP_CORE_SUBSET.len(),
            "every subset file parses"
        );
    }
}
