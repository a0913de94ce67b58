//! Every official R4 example resource (`hl7.fhir.r4.examples@4.0.1`, fetched by the test with
//! `npm pack` into `~/.cache/tsunagi-fixtures`) validates against its type's base definition
//! with no error, except the examples listed in [`KNOWN_INVALID`], each with the reason the
//! example itself breaks a rule of the specification.

#[path = "../../gateway/tests/common/examples.rs"]
mod examples;

use std::collections::BTreeMap;

use tsunagi_profiles::validate::{Severity, ValidateOptions, Validator};
use tsunagi_profiles::Format;

/// Examples that break a rule of R4 itself, with the rule.
const KNOWN_INVALID: &[(&str, &str)] = &[
    (
        "CapabilityStatement-knowledge-repository.json",
        "a search parameter is declared with type string, but its definition (Library-version) has type token",
    ),
    (
        "CapabilityStatement-measure-processor.json",
        "a search parameter is declared with type string, but its definition (Measure-version) has type token",
    ),
    (
        "CapabilityStatement-terminology-server.json",
        "a search parameter is declared with type token, but its definition (ValueSet-reference) has type uri",
    ),
    (
        "Bundle-hla-1.json",
        "a glstring extension names its part 'uri'; the definition defines 'url' and 'text'",
    ),
    (
        "Questionnaire-zika-virus-exposure-assessment.json",
        "txt-2: its narrative div holds only an empty pre",
    ),
    (
        "ActivityDefinition-blood-tubes-supply.json",
        "txt-2: its narrative div holds only whitespace",
    ),
    (
        "ActivityDefinition-heart-valve-replacement.json",
        "txt-2: its narrative div holds only whitespace",
    ),
    (
        "EventDefinition-example.json",
        "txt-2: its narrative div holds only whitespace",
    ),
    (
        "Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json",
        "entry fullUrl .../Patient/pat12 names another id than its resource (pat2)",
    ),
    (
        "Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json",
        "entry fullUrl .../Patient/pat12 names another id than its resource (pat2)",
    ),
    (
        "Bundle-lri-example.json",
        "entry fullUrls .../Observation/lri-* name other ids than their resources",
    ),
    (
        "Bundle-dataelements.json",
        "20.9 MB, over the 16 MiB document limit the gateway enforces on every input",
    ),
    (
        "Bundle-resources.json",
        "35.1 MB, over the 16 MiB document limit the gateway enforces on every input",
    ),
    (
        "Bundle-v2-valuesets.json",
        "a v2-0550 code ends in a no-break space ('CHEST\u{a0}'), which the code type forbids",
    ),
    (
        "CodeSystem-v2-0550.json",
        "a code ends in a no-break space ('CHEST\u{a0}'), which the code type forbids",
    ),
    (
        "DeviceMetric-example.json",
        "DeviceMetric.parent refers to a DeviceDefinition; R4 allows only Device",
    ),
    (
        "DeviceUseStatement-example.json",
        "reasonReference refers to a Procedure, which R4 does not list",
    ),
    (
        "ImplementationGuide-fhir.json",
        "ImplementationGuide.name (1..1) is missing",
    ),
    ("ig-r4.json", "ImplementationGuide.name (1..1) is missing"),
    (
        "Media-1.2.840.11361907579238403408700.3.1.04.19970327150033.json",
        "uses an extension (nema.org) whose definition is published nowhere",
    ),
    (
        "Patient-dicom.json",
        "uses extensions (nema.org) whose definitions are published nowhere",
    ),
    (
        "MedicationRequest-medrx0301.json",
        "dispenseRequest.performer refers to a Practitioner; R4 allows only Organization",
    ),
    (
        "Observation-clinical-gender.json",
        "performer refers to an Encounter, which R4 does not list",
    ),
    (
        "Questionnaire-bb.json",
        "que-7: an enableWhen with operator 'exists' whose answer is not a boolean",
    ),
    (
        "Questionnaire-qs1.json",
        "items without the required linkId",
    ),
    (
        "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
        "its id is 65 characters, over the 64 an id allows",
    ),
    (
        "StructureDefinition-Definition.json",
        "sdf-4: a logical model that is not abstract and has no baseDefinition",
    ),
    (
        "StructureDefinition-Event.json",
        "sdf-4: a logical model that is not abstract and has no baseDefinition",
    ),
    (
        "StructureDefinition-FiveWs.json",
        "sdf-4: a logical model that is not abstract and has no baseDefinition",
    ),
    (
        "StructureDefinition-Request.json",
        "sdf-4: a logical model that is not abstract and has no baseDefinition",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-author.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-effective.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-end.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-keyword.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-workflow.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-author.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-effective.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-end.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-keyword.json",
        "SearchParameter.base (1..*) is missing",
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-workflow.json",
        "SearchParameter.base (1..*) is missing",
    ),
];

#[test]
fn every_r4_example_is_valid_against_its_base_definition() {
    let Some(dir) = examples::r4_examples_dir() else {
        return;
    };
    let validator = Validator::r4_core();
    let options = ValidateOptions::default();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut checked = 0;
    for path in examples::example_files(&dir) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        checked += 1;
        let outcome = validator.validate_bytes(&bytes, Format::Json, &options);
        if let Some(issue) = outcome
            .issues
            .iter()
            .find(|issue| issue.severity <= Severity::Error)
        {
            failures.insert(
                name,
                format!(
                    "{}: {} ({} errors)",
                    issue.expression,
                    issue.message,
                    outcome.error_count()
                ),
            );
        }
    }
    println!(
        "R4 examples: {checked} validated, {} with errors",
        failures.len()
    );
    for (name, first) in &failures {
        let known = KNOWN_INVALID.iter().any(|(known, _)| known == name);
        println!("  {}{name}: {first}", if known { "(known) " } else { "" });
    }
    let unexpected: Vec<&String> = failures
        .keys()
        .filter(|name| !KNOWN_INVALID.iter().any(|(known, _)| known == *name))
        .collect();
    assert!(checked > 2000, "only {checked} examples were read");
    assert!(
        unexpected.is_empty(),
        "{} examples fail unexpectedly",
        unexpected.len()
    );
}
