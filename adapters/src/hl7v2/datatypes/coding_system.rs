//! The FHIR `Coding.system` URI for an HL7 v2 coding-system name (CWE-3, v2 table 0396).
//!
//! Rules, in order (documented in `docs/mappings/hl7v2.md`):
//! 1. a name with a published FHIR URI (LOINC, SNOMED CT, UCUM, DICOM, JLAC10, HOT …) → that URI;
//! 2. `HL7nnnn` (an HL7 table) → `http://terminology.hl7.org/CodeSystem/v2-nnnn`;
//! 3. a local name (`99zzz`, `L`, `LOCAL`) → `<identifier_base>/codesystem/<name>`, because its
//!    codes only mean something at the sending institution;
//! 4. any other name (national tables without a FHIR URI such as JJ1017, JSHR, JHSD…) →
//!    `urn:tsunagi:codesystem:<name>`: the original name is kept, and the same name from two
//!    institutions gives the same system.

use crate::context::SourceContext;
use std::borrow::Cow;

/// Prefix of rule 4 (names without a known URI).
pub const UNKNOWN_SYSTEM_PREFIX: &str = "urn:tsunagi:codesystem:";

/// The Coding.system for the v2 coding-system `name` (never empty for a non-empty name).
pub fn system_uri<'a>(name: &'a str, ctx: &SourceContext) -> Cow<'a, str> {
    if let Some(uri) = known_system(name) {
        return Cow::Borrowed(uri);
    }
    if let Some(table) = name.strip_prefix("HL7") {
        if table.len() == 4 && table.bytes().all(|b| b.is_ascii_digit()) {
            return Cow::Owned(format!("{}{table}", super::super::codes::V2_TABLE_BASE));
        }
    }
    if is_local(name) {
        let mut uri = ctx.system("codesystem");
        uri.push('/');
        uri.push_str(&super::uri_part(name));
        return Cow::Owned(uri);
    }
    Cow::Owned(format!("{UNKNOWN_SYSTEM_PREFIX}{}", super::uri_part(name)))
}

/// True for the names HL7 reserves for local tables (`99zzz`) and the generic local ones.
pub fn is_local(name: &str) -> bool {
    name.starts_with("99") || name.eq_ignore_ascii_case("L") || name.eq_ignore_ascii_case("LOCAL")
}

/// The published URI of a coding-system name, when it has one.
pub fn known_system(name: &str) -> Option<&'static str> {
    Some(match name {
        "LN" | "LOINC" => "http://loinc.org",
        "SCT" | "SNOMED" | "SNOMEDCT" => "http://snomed.info/sct",
        "UCUM" => "http://unitsofmeasure.org",
        "DCM" => "http://dicom.nema.org/resources/ontology/DCM",
        "I10" => "http://hl7.org/fhir/sid/icd-10",
        "I10C" | "ICD10CM" => "http://hl7.org/fhir/sid/icd-10-cm",
        "I9" | "I9C" | "I9CDX" => "http://hl7.org/fhir/sid/icd-9-cm",
        "C4" | "CPT4" | "CPT" => "http://www.ama-assn.org/go/cpt",
        "NDC" => "http://hl7.org/fhir/sid/ndc",
        "CVX" => "http://hl7.org/fhir/sid/cvx",
        "RXNORM" => "http://www.nlm.nih.gov/research/umls/rxnorm",
        "NPI" => "http://hl7.org/fhir/sid/us-npi",
        // Japanese national code systems with URIs published by JP Core (aliases-jpcore.fsh).
        "JC10" => "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
        "HOT9" => "http://medis.or.jp/CodeSystem/master-HOT9",
        "HOT7" => "http://medis.or.jp/CodeSystem/master-HOT7",
        "HOT13" => "http://medis.or.jp/CodeSystem/master-HOT13",
        "YJ" => "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
        "MDCDX2" => "http://medis.or.jp/CodeSystem/master-disease-exCode",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SourceContext {
        SourceContext::new("toro", "+09:00")
    }

    #[test]
    fn published_systems() {
        assert_eq!(system_uri("LN", &ctx()), "http://loinc.org");
        assert_eq!(
            system_uri("DCM", &ctx()),
            "http://dicom.nema.org/resources/ontology/DCM"
        );
        assert_eq!(
            system_uri("JC10", &ctx()),
            "http://medis.or.jp/CodeSystem/master-JLAC10-17digits"
        );
    }

    #[test]
    fn hl7_tables() {
        assert_eq!(
            system_uri("HL70485", &ctx()),
            "http://terminology.hl7.org/CodeSystem/v2-0485"
        );
        // Not a table number: falls through to the generic rule.
        assert_eq!(
            system_uri("HL7nnnn", &ctx()),
            "urn:tsunagi:codesystem:HL7nnnn"
        );
    }

    #[test]
    fn local_and_unknown_systems() {
        assert_eq!(
            system_uri("99XY1", &ctx()),
            "urn:tsunagi:id:toro/codesystem/99XY1"
        );
        assert_eq!(system_uri("L", &ctx()), "urn:tsunagi:id:toro/codesystem/L");
        assert_eq!(
            system_uri("JJ1017", &ctx()),
            "urn:tsunagi:codesystem:JJ1017"
        );
        assert_eq!(system_uri("JSHR", &ctx()), "urn:tsunagi:codesystem:JSHR");
    }
}
