//! FHIR R4 type names as FHIRPath sees them: the suffixes of choice elements (`valueQuantity`),
//! the names a type specifier (`as Quantity`, `is Patient`) may use, and the subtype relation
//! `as`/`is`/`ofType` test with.

use crate::resource_types::{is_resource_type, RESOURCE_TYPES};

/// The type a choice element's name suffix stands for (`Quantity` in `valueQuantity`, `dateTime`
/// for `DateTime`): the R4 "open" types, the only ones `[x]` elements use. `None` when the suffix
/// is no type, so `valueSet` is never taken for a choice of `value`.
pub(crate) fn choice_suffix_type(suffix: &str) -> Option<&'static str> {
    Some(match suffix {
        "Base64Binary" => "base64Binary",
        "Boolean" => "boolean",
        "Canonical" => "canonical",
        "Code" => "code",
        "Date" => "date",
        "DateTime" => "dateTime",
        "Decimal" => "decimal",
        "Id" => "id",
        "Instant" => "instant",
        "Integer" => "integer",
        "Markdown" => "markdown",
        "Oid" => "oid",
        "PositiveInt" => "positiveInt",
        "String" => "string",
        "Time" => "time",
        "UnsignedInt" => "unsignedInt",
        "Uri" => "uri",
        "Url" => "url",
        "Uuid" => "uuid",
        "Address" => "Address",
        "Age" => "Age",
        "Annotation" => "Annotation",
        "Attachment" => "Attachment",
        "CodeableConcept" => "CodeableConcept",
        "Coding" => "Coding",
        "ContactPoint" => "ContactPoint",
        "Count" => "Count",
        "Distance" => "Distance",
        "Duration" => "Duration",
        "HumanName" => "HumanName",
        "Identifier" => "Identifier",
        "Money" => "Money",
        "Period" => "Period",
        "Quantity" => "Quantity",
        "Range" => "Range",
        "Ratio" => "Ratio",
        "Reference" => "Reference",
        "SampledData" => "SampledData",
        "Signature" => "Signature",
        "Timing" => "Timing",
        "ContactDetail" => "ContactDetail",
        "Contributor" => "Contributor",
        "DataRequirement" => "DataRequirement",
        "Expression" => "Expression",
        "ParameterDefinition" => "ParameterDefinition",
        "RelatedArtifact" => "RelatedArtifact",
        "TriggerDefinition" => "TriggerDefinition",
        "UsageContext" => "UsageContext",
        "Dosage" => "Dosage",
        "Meta" => "Meta",
        _ => return None,
    })
}

/// Data types that are never a choice suffix but may still be named in a type specifier.
const OTHER_TYPES: &[&str] = &[
    "BackboneElement",
    "DomainResource",
    "Element",
    "ElementDefinition",
    "Extension",
    "MarketingStatus",
    "MoneyQuantity",
    "Narrative",
    "Population",
    "ProdCharacteristic",
    "ProductShelfLife",
    "Resource",
    "SimpleQuantity",
    "SubstanceAmount",
    "xhtml",
];

/// The canonical name of a type specifier (`FHIR.` or `System.` prefix already removed), or
/// `None` when FHIR R4 has no such type. FHIRPath's System types map onto their FHIR
/// primitives (`DateTime` → `dateTime`, `String` → `string`), which is what R4's own
/// `value.as(DateTime)` relies on.
pub(crate) fn type_specifier(name: &str) -> Option<&'static str> {
    if let Some(found) = choice_suffix_type(name) {
        return Some(found);
    }
    // Primitives written as themselves: `date`, `dateTime`, `string`, …
    let mut chars = name.chars();
    if let Some(first) = chars.next() {
        if first.is_ascii_lowercase() {
            let mut capitalised = String::with_capacity(name.len());
            capitalised.push(first.to_ascii_uppercase());
            capitalised.push_str(chars.as_str());
            if let Some(found) = choice_suffix_type(&capitalised) {
                if found == name {
                    return Some(found);
                }
            }
        }
    }
    if let Some(found) = OTHER_TYPES.iter().find(|known| **known == name) {
        return Some(found);
    }
    static_resource_type(name)
}

/// `name` as the `'static` entry of [`RESOURCE_TYPES`], when it is a resource type.
pub(crate) fn static_resource_type(name: &str) -> Option<&'static str> {
    RESOURCE_TYPES
        .binary_search(&name)
        .ok()
        .and_then(|index| RESOURCE_TYPES.get(index).copied())
}

/// True when a value of type `actual` is a `wanted` (same type or a FHIR R4 specialisation:
/// `Age` is a `Quantity`, `code` a `string`, every resource a `Resource`).
pub(crate) fn is_a(actual: &str, wanted: &str) -> bool {
    actual == wanted
        || match wanted {
            "Quantity" => matches!(
                actual,
                "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity" | "MoneyQuantity"
            ),
            "string" => matches!(actual, "code" | "id" | "markdown"),
            "uri" => matches!(actual, "url" | "canonical" | "oid" | "uuid"),
            "integer" => matches!(actual, "positiveInt" | "unsignedInt"),
            "Resource" => is_resource_type(actual),
            // The three R4 resources without text, contained and extensions.
            "DomainResource" => {
                is_resource_type(actual) && !matches!(actual, "Bundle" | "Binary" | "Parameters")
            }
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_suffixes_are_types_and_other_suffixes_are_not() {
        assert_eq!(choice_suffix_type("Quantity"), Some("Quantity"));
        assert_eq!(choice_suffix_type("DateTime"), Some("dateTime"));
        assert_eq!(choice_suffix_type("Set"), None);
        assert_eq!(choice_suffix_type("quantity"), None);
    }

    #[test]
    fn type_specifiers_accept_fhir_and_system_spellings() {
        assert_eq!(type_specifier("dateTime"), Some("dateTime"));
        assert_eq!(type_specifier("DateTime"), Some("dateTime"));
        assert_eq!(type_specifier("string"), Some("string"));
        assert_eq!(type_specifier("SimpleQuantity"), Some("SimpleQuantity"));
        assert_eq!(type_specifier("Patient"), Some("Patient"));
        assert_eq!(type_specifier("DomainResource"), Some("DomainResource"));
        assert_eq!(type_specifier("datetime"), None);
        assert_eq!(type_specifier("Patients"), None);
    }

    #[test]
    fn subtypes_follow_the_r4_hierarchy() {
        assert!(is_a("Age", "Quantity"));
        assert!(is_a("code", "string"));
        assert!(is_a("Patient", "Resource"));
        assert!(is_a("Patient", "DomainResource"));
        assert!(!is_a("Bundle", "DomainResource"));
        assert!(!is_a("Quantity", "Age"));
    }
}
