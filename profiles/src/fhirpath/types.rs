//! FHIR R4 type names as FHIRPath sees them: the suffixes of choice elements (`valueQuantity`),
//! the names a type specifier (`as Quantity`, `is Patient`) may use, and the subtype relation
//! `as`/`is`/`ofType` test with.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use super::ast::TypeSpecifier;
use super::navigation::node_type;
use super::value::{is_string_primitive, FhirPathValue, JsonNode};
use crate::model::TypeModel;
use crate::resource_types::is_resource_type;

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

/// The model's own `'static` spelling of a type name (`Patient`, `HumanName`,
/// `Patient.contact`), when the R4 model has such a type.
pub(crate) fn model_type(name: &str) -> Option<&'static str> {
    static NAMES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    NAMES
        .get_or_init(|| TypeModel::r4().names().collect())
        .get(name)
        .copied()
}

/// The System types, by name.
const SYSTEM_TYPES: &[&str] = &[
    "Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity",
];

/// `name` as a `'static` System type name.
pub(crate) fn system_type(name: &str) -> Option<&'static str> {
    SYSTEM_TYPES.iter().find(|known| **known == name).copied()
}

/// The System type a FHIR primitive implicitly converts to (`dateTime` → `DateTime`).
pub(crate) fn system_of_fhir(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "boolean" => "Boolean",
        "integer" | "positiveInt" | "unsignedInt" => "Integer",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" | "instant" => "DateTime",
        "time" => "Time",
        "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity"
        | "MoneyQuantity" => "Quantity",
        other if is_string_primitive(other) => "String",
        other => return other.strip_prefix("System.").and_then(system_type),
    })
}

/// Whether a FHIR type `actual` is `wanted` or derives from it, by the model (with the R4
/// Quantity profiles, which the model lists as plain types).
pub(crate) fn fhir_is_a(actual: &str, wanted: &str) -> bool {
    if actual == wanted || TypeModel::r4().is_a(actual, wanted) {
        return true;
    }
    match wanted {
        "Quantity" => matches!(actual, "SimpleQuantity" | "MoneyQuantity"),
        // Resources the model does not know still count as resources.
        "Resource" | "DomainResource" => is_resource_type(actual) && wanted == "Resource",
        _ => false,
    }
}
/// The type of an item as `(namespace, name)`: `("FHIR", "boolean")` for a FHIR primitive,
/// `("System", "Integer")` for a System value.
pub(crate) fn item_type(item: &FhirPathValue<'_>) -> Option<(&'static str, &'static str)> {
    let system = |name: &'static str| Some(("System", name));
    match item {
        FhirPathValue::Node(node) => {
            let actual = node_type(node).or_else(|| guessed_type(node))?;
            match actual.strip_prefix("System.") {
                Some(name) => system(name),
                None => Some(("FHIR", actual)),
            }
        }
        FhirPathValue::Boolean(_) => system("Boolean"),
        FhirPathValue::String(_) => system("String"),
        FhirPathValue::Integer(_) => system("Integer"),
        FhirPathValue::Decimal(_) => system("Decimal"),
        FhirPathValue::Date(_) => system("Date"),
        FhirPathValue::DateTime(_) => system("DateTime"),
        FhirPathValue::Time(_) => system("Time"),
        FhirPathValue::Quantity(_) => system("Quantity"),
        FhirPathValue::TypeInfo { .. } => None,
        FhirPathValue::UnresolvedReference(type_name) => Some(("FHIR", *type_name)),
    }
}

/// The FHIR type of a JSON node met without a model type, from its JSON kind.
fn guessed_type(node: &JsonNode<'_>) -> Option<&'static str> {
    match node.value? {
        Value::Bool(_) => Some("boolean"),
        Value::String(_) => Some("string"),
        Value::Number(number) if number.as_str().contains(['.', 'e', 'E']) => Some("decimal"),
        Value::Number(_) => Some("integer"),
        _ => None,
    }
}

/// How a type test matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeTest {
    /// `is`: subtypes match; FHIR and System types are apart (`Patient.active.is(Boolean)`
    /// is false).
    Is,
    /// `as()`/`ofType()`: a primitive matches its own type only (`code` is no `string`); a
    /// System type name also matches the FHIR primitives converting to it, as R4's own
    /// expressions (`value.as(DateTime)`) expect.
    As,
    /// The `as` operator, which R4's search expressions apply to collections: like `As`, with
    /// primitive subtypes too (`(ConceptMap.source as uri)` keeps a canonical).
    AsOperator,
}

/// Whether `item` is of the specified type, tested as `test` says.
pub(crate) fn item_is(item: &FhirPathValue<'_>, specifier: &TypeSpecifier, test: TypeTest) -> bool {
    let strict = test == TypeTest::Is;
    let namespace = specifier.namespace.as_deref();
    let wanted = specifier.name.as_str();
    let Some((actual_namespace, actual)) = item_type(item) else {
        return false;
    };
    if actual_namespace == "System" {
        return namespace != Some("FHIR") && actual == wanted;
    }
    if actual == wanted {
        return namespace != Some("System") || test != TypeTest::Is;
    }
    // Concrete resources derive from no other resource: skip the model walk.
    if !matches!(wanted, "Resource" | "DomainResource")
        && is_resource_type(actual)
        && is_resource_type(wanted)
    {
        return false;
    }
    // `as`/`ofType` take a primitive as its own type only (`code` is no `string` there).
    let is_primitive = actual.starts_with(|c: char| c.is_ascii_lowercase());
    let fhir_match = if test != TypeTest::As || !is_primitive {
        fhir_is_a(actual, wanted)
    } else {
        actual == wanted
    };
    match namespace {
        Some("System") => !strict && system_of_fhir(actual) == Some(wanted),
        Some(_) => fhir_match,
        None => {
            fhir_match
                || (!strict
                    && model_type(wanted).is_none()
                    && system_of_fhir(actual) == Some(wanted))
        }
    }
}

/// Whether a type specifier names a type that exists (in its namespace, when given).
pub(crate) fn is_known_type(specifier: &TypeSpecifier) -> bool {
    let name = specifier.name.as_str();
    match specifier.namespace.as_deref() {
        // A non-System name there is simply no match (`Patient.is(System.Patient)`).
        Some("System") => true,
        Some(_) => model_type(name).is_some(),
        None => system_type(name).is_some() || model_type(name).is_some(),
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
    fn subtypes_follow_the_r4_model() {
        assert!(fhir_is_a("Age", "Quantity"));
        assert!(fhir_is_a("code", "string"));
        assert!(fhir_is_a("Patient", "Resource"));
        assert!(fhir_is_a("Patient", "DomainResource"));
        assert!(!fhir_is_a("Bundle", "DomainResource"));
        assert!(!fhir_is_a("Quantity", "Age"));
        assert_eq!(model_type("Patient.contact"), Some("Patient.contact"));
        assert_eq!(system_of_fhir("dateTime"), Some("DateTime"));
    }
}
