//! The type and id a literal reference names. `resolve()` uses the type; search indexing uses
//! both, through this one function so the two always agree.

use crate::resource_types::is_resource_type;

/// `(type, id)` of a literal reference: relative (`Patient/123`), absolute
/// (`http://example.org/fhir/Patient/123`) or versioned (`Patient/123/_history/2`). `None` for
/// contained (`#p1`), `urn:uuid:`/`urn:oid:` and conditional references, and whenever the
/// segment before the id is not an R4 resource type or the id is not a valid FHIR id.
pub(crate) fn literal_reference_parts(reference: &str) -> Option<(&str, &str)> {
    let mut segments = reference.rsplit('/');
    let (mut id, mut target_type) = (segments.next()?, segments.next()?);
    if target_type == "_history" {
        (id, target_type) = (segments.next()?, segments.next()?);
    }
    (is_fhir_id(id) && is_resource_type(target_type)).then_some((target_type, id))
}

/// FHIR R4 `id`: 1 to 64 of `A-Z a-z 0-9 - .`.
fn is_fhir_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_absolute_and_versioned_references_split() {
        assert_eq!(
            literal_reference_parts("Patient/123"),
            Some(("Patient", "123"))
        );
        assert_eq!(
            literal_reference_parts("http://x/fhir/Patient/1/_history/2"),
            Some(("Patient", "1"))
        );
        assert_eq!(
            literal_reference_parts("https://x/fhir/ServiceRequest/a.b-c"),
            Some(("ServiceRequest", "a.b-c"))
        );
    }

    #[test]
    fn references_without_a_type_and_id_do_not_split() {
        for reference in [
            "#p1",
            "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0",
            "Patient?identifier=x|1",
            "Patients/1",
            "Patient/",
            "123",
            "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1",
        ] {
            assert_eq!(literal_reference_parts(reference), None, "{reference}");
        }
    }
}
