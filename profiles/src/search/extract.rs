//! The index entries of a resource: every search parameter of its type evaluated (FHIRPath,
//! compiled once per definition set) and each selected node turned into [`IndexValue`]s as the
//! FHIR R4 search spec (§3.1.1.4, "Search Parameter Types") maps data types to parameter types.
//!
//! A node's FHIR type is used when the expression made it known (a choice suffix such as
//! `valueQuantity`, or `as`/`ofType`); otherwise the JSON shape decides:
//! - token: a string, boolean or number is a code; an object with `coding` is a
//!   CodeableConcept; one with `value` is a ContactPoint when its `system` is a ContactPoint
//!   system code (`phone`, `email`, …) or it has `rank`, else an Identifier (as is one with
//!   `type` or `assigner`); one with `code`, `system` or `display` is a Coding; one with only
//!   `text` is a CodeableConcept's text.
//! - string: a string is itself; an object gives its HumanName and Address parts (`family`,
//!   each `given`, `prefix`, `suffix`, `text`, each `line`, `city`, `district`, `state`,
//!   `postalCode`, `country`), one entry each.
//! - reference: an object with `reference` and/or `identifier` is a Reference; a string is a
//!   canonical or uri (its text as the url); an inline resource (`Bundle.entry[0].resource`)
//!   gives its type and id.
//! - date: a string is a date/dateTime/instant; an object with `start`/`end` a Period; one with
//!   `event` a Timing (its events).
//! - number: a JSON number, with the range its written precision implies.
//! - quantity: an object with `currency` (or typed Money) is Money; one with a numeric `value`
//!   a Quantity (Age, Duration, … alike).
//! - uri: a string.
//!
//! Left out, so they give no entries: composite and special parameters, Range and SampledData
//! values (R4 lists them under quantity), `Timing.repeat.bounds`, and anything whose shape does
//! not fit its parameter type (a malformed resource yields fewer entries, never an error).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::definitions::{SearchParamDef, SearchParamType, SearchParameters};
use super::values::{date_range, number_range};
use super::{IndexEntry, IndexValue};
use crate::fhirpath::reference::literal_reference_parts;
use crate::fhirpath::{Expression, Node};
use crate::resource_types::RESOURCE_TYPES;

/// The currency system of Money values indexed as quantities (FHIR R4 search, quantity).
const CURRENCY_SYSTEM: &str = "urn:iso:std:iso:4217";

/// Codes of `ContactPoint.system`, which tell a ContactPoint from an Identifier by shape.
const CONTACT_POINT_SYSTEMS: &[&str] = &["phone", "fax", "email", "pager", "url", "sms", "other"];

/// Compiled search parameters of one definition set: for each resource type, the code, type and
/// compiled expression of its parameters.
#[derive(Debug)]
pub struct Extractor {
    /// Parameters that produce entries (not composite or special), compiled once; multi-base
    /// parameters appear once and are shared by their types.
    params: Vec<CompiledParam>,
    /// Resource type → indices into `params`, in [`SearchParameters::for_type`] order (by code).
    by_type: HashMap<String, Vec<usize>>,
    /// `(url, error)` of parameters whose expression did not parse.
    skipped: Vec<(String, String)>,
}

#[derive(Debug)]
struct CompiledParam {
    code: String,
    kind: SearchParamType,
    expression: Expression,
}

impl Extractor {
    /// Compiles every parameter's expression (a parameter whose expression does not parse is
    /// left out and listed in [`Self::skipped`] with the error). Parameters without an
    /// expression (`_text`, `_content`) and composite and special ones are not indexed.
    pub fn new(params: &SearchParameters) -> Extractor {
        let mut compiled = Vec::new();
        let mut skipped = Vec::new();
        // Definition (by address) → index into `compiled`, to map `for_type`'s answers back.
        let mut index_of: HashMap<*const SearchParamDef, usize> = HashMap::new();
        for def in params.all() {
            // `_id` and `_lastUpdated` are answered from the resource's own row (its id and
            // its version's write time): indexing them again would only cost writes.
            if matches!(def.code.as_str(), "_id" | "_lastUpdated") {
                continue;
            }
            let Some(text) = def.expression.as_deref() else {
                continue;
            };
            match Expression::parse(text) {
                Ok(expression) => {
                    if matches!(
                        def.kind,
                        SearchParamType::Composite | SearchParamType::Special
                    ) {
                        continue;
                    }
                    index_of.insert(std::ptr::from_ref(def), compiled.len());
                    compiled.push(CompiledParam {
                        code: def.code.clone(),
                        kind: def.kind,
                        expression,
                    });
                }
                Err(error) => skipped.push((def.url.clone(), error.to_string())),
            }
        }
        let mut types: HashSet<&str> = RESOURCE_TYPES.iter().copied().collect();
        for def in params.all() {
            types.extend(def.base.iter().map(String::as_str));
        }
        let mut by_type = HashMap::new();
        for res_type in types {
            let indices: Vec<usize> = params
                .for_type(res_type)
                .into_iter()
                .filter_map(|def| index_of.get(&std::ptr::from_ref(def)).copied())
                .collect();
            if !indices.is_empty() {
                by_type.insert(res_type.to_owned(), indices);
            }
        }
        Extractor {
            params: compiled,
            by_type,
            skipped,
        }
    }

    /// The R4 extractor, built once (`OnceLock`) from [`SearchParameters::r4`].
    pub fn r4() -> &'static Extractor {
        static R4: OnceLock<Extractor> = OnceLock::new();
        R4.get_or_init(|| Extractor::new(SearchParameters::r4()))
    }

    /// `(url, parse error)` of each parameter left out because its expression did not parse.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Every index entry of a resource (JSON object with `resourceType`), for all its type's
    /// parameters (own and those with base Resource/DomainResource), deduplicated, ordered by
    /// parameter code and then by document order. Unknown types and non-resources give none.
    pub fn extract(&self, resource: &Value) -> Vec<IndexEntry> {
        let res_type = resource.get("resourceType").and_then(Value::as_str);
        let Some(indices) = res_type.and_then(|res_type| self.by_type.get(res_type)) else {
            return Vec::new();
        };
        // About one entry per parameter is typical; it saves most regrowth.
        let mut entries = Vec::with_capacity(indices.len());
        let mut values = Vec::new();
        for param in indices.iter().filter_map(|&index| self.params.get(index)) {
            for node in param.expression.evaluate(resource) {
                index_values(param.kind, node, &mut values);
            }
            entries.extend(values.drain(..).map(|value| IndexEntry {
                param: param.code.clone(),
                value,
            }));
        }
        entries
    }
}

/// `Extractor::r4().extract(resource)`: the R4 index entries of a resource.
pub fn extract_index(resource: &Value) -> Vec<IndexEntry> {
    Extractor::r4().extract(resource)
}

/// The values one node a parameter of type `kind` selects is indexed under (what composite
/// components are compared with).
pub fn node_values(kind: SearchParamType, node: Node<'_>) -> Vec<IndexValue> {
    let mut values = Vec::new();
    index_values(kind, node, &mut values);
    values
}

/// Appends the values `node` is indexed under for a parameter of type `kind` (not repeating
/// one already in `out`).
fn index_values(kind: SearchParamType, node: Node<'_>, out: &mut Vec<IndexValue>) {
    let mut push = |value: IndexValue| {
        if !out.contains(&value) {
            out.push(value);
        }
    };
    match kind {
        SearchParamType::Token => token_values(node, &mut push),
        SearchParamType::String => string_values(node.value, &mut push),
        SearchParamType::Reference => reference_values(node.value, &mut push),
        SearchParamType::Date => date_values(node, &mut push),
        SearchParamType::Number => number_values(node.value, &mut push),
        SearchParamType::Quantity => quantity_values(node, &mut push),
        SearchParamType::Uri => {
            if let Value::String(uri) = node.value {
                push(IndexValue::Uri { value: uri.clone() });
            }
        }
        SearchParamType::Composite | SearchParamType::Special => {}
    }
}

/// The string field `name` of `object`, owned.
fn string_field(object: &Map<String, Value>, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn token(system: Option<String>, code: Option<String>, text: Option<String>) -> IndexValue {
    IndexValue::Token { system, code, text }
}

fn token_values(node: Node<'_>, push: &mut impl FnMut(IndexValue)) {
    let object = match node.value {
        Value::String(code) => return push(token(None, Some(code.clone()), None)),
        Value::Bool(flag) => return push(token(None, Some(flag.to_string()), None)),
        Value::Number(number) => return push(token(None, Some(number.as_str().to_owned()), None)),
        Value::Object(object) => object,
        Value::Null | Value::Array(_) => return,
    };
    let has = |name: &str| object.contains_key(name);
    match node.type_name {
        Some("CodeableConcept") => codeable_concept_tokens(object, push),
        Some("Coding") => coding_token(object, push),
        Some("Identifier") => identifier_token(object, push),
        Some("ContactPoint") => contact_point_token(object, push),
        _ if has("coding") => codeable_concept_tokens(object, push),
        _ if has("value") && is_contact_point(object) => contact_point_token(object, push),
        _ if has("value") || has("type") || has("assigner") => identifier_token(object, push),
        _ if has("code") || has("system") || has("display") => coding_token(object, push),
        _ => codeable_concept_tokens(object, push),
    }
}

fn is_contact_point(object: &Map<String, Value>) -> bool {
    object.contains_key("rank")
        || object
            .get("system")
            .and_then(Value::as_str)
            .is_some_and(|system| CONTACT_POINT_SYSTEMS.contains(&system))
}

fn coding_token(coding: &Map<String, Value>, push: &mut impl FnMut(IndexValue)) {
    let (system, code) = (string_field(coding, "system"), string_field(coding, "code"));
    let display = string_field(coding, "display");
    if system.is_some() || code.is_some() || display.is_some() {
        push(token(system, code, display));
    }
}

/// Each coding, then the text alone (for `:text`).
fn codeable_concept_tokens(concept: &Map<String, Value>, push: &mut impl FnMut(IndexValue)) {
    let codings = concept.get("coding").and_then(Value::as_array);
    for coding in codings.into_iter().flatten().filter_map(Value::as_object) {
        coding_token(coding, push);
    }
    if let Some(text) = string_field(concept, "text") {
        push(token(None, None, Some(text)));
    }
}

fn identifier_token(identifier: &Map<String, Value>, push: &mut impl FnMut(IndexValue)) {
    let (system, value) = (
        string_field(identifier, "system"),
        string_field(identifier, "value"),
    );
    if system.is_none() && value.is_none() {
        return;
    }
    let type_text = identifier
        .get("type")
        .and_then(Value::as_object)
        .and_then(|concept| string_field(concept, "text"));
    push(token(system, value, type_text));
}

fn contact_point_token(contact: &Map<String, Value>, push: &mut impl FnMut(IndexValue)) {
    if let Some(value) = string_field(contact, "value") {
        push(token(None, Some(value), None));
    }
}

/// The HumanName and Address fields a string parameter indexes, in spec order.
const TEXT_PARTS: &[&str] = &[
    "family",
    "given",
    "prefix",
    "suffix",
    "text",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
];

fn string_values(value: &Value, push: &mut impl FnMut(IndexValue)) {
    let mut push_text = |text: &Value| {
        if let Value::String(text) = text {
            push(IndexValue::String {
                value: text.clone(),
            });
        }
    };
    match value {
        Value::String(_) => push_text(value),
        Value::Object(object) => {
            for part in TEXT_PARTS.iter().filter_map(|name| object.get(*name)) {
                match part {
                    Value::Array(items) => items.iter().for_each(&mut push_text),
                    single => push_text(single),
                }
            }
        }
        _ => {}
    }
}

/// True for an absolute URL or URN (as opposed to a relative `Type/id`).
fn is_absolute(url: &str) -> bool {
    url.contains("://") || url.starts_with("urn:")
}

fn reference_values(value: &Value, push: &mut impl FnMut(IndexValue)) {
    let object = match value {
        Value::String(url) => {
            return push(IndexValue::Reference {
                target_type: None,
                target_id: None,
                url: Some(url.clone()),
                identifier: None,
            })
        }
        Value::Object(object) => object,
        _ => return,
    };
    if let Some(resource_type) = object.get("resourceType").and_then(Value::as_str) {
        if let Some(id) = object.get("id").and_then(Value::as_str) {
            push(IndexValue::Reference {
                target_type: Some(resource_type.to_owned()),
                target_id: Some(id.to_owned()),
                url: None,
                identifier: None,
            });
        }
        return;
    }
    let url = object.get("reference").and_then(Value::as_str);
    let identifier = object
        .get("identifier")
        .and_then(Value::as_object)
        .and_then(|identifier| {
            Some((
                string_field(identifier, "system"),
                string_field(identifier, "value")?,
            ))
        });
    if url.is_none() && identifier.is_none() {
        return;
    }
    // Only relative references name a local resource: `http://other/fhir/Patient/1` is another
    // server's patient and is found by its URL, not as `Patient/1`.
    let parts = url
        .filter(|url| !is_absolute(url))
        .and_then(literal_reference_parts);
    push(IndexValue::Reference {
        target_type: parts.map(|(target_type, _)| target_type.to_owned()),
        target_id: parts.map(|(_, id)| id.to_owned()),
        url: url.map(str::to_owned),
        identifier,
    });
}

fn date_values(node: Node<'_>, push: &mut impl FnMut(IndexValue)) {
    let object = match node.value {
        Value::String(text) => {
            if let Some((low, high)) = date_range(text) {
                push(IndexValue::Date { low, high });
            }
            return;
        }
        Value::Object(object) => object,
        _ => return,
    };
    let is_timing = node.type_name == Some("Timing")
        || (node.type_name.is_none() && object.contains_key("event"));
    if is_timing {
        let events = object.get("event").and_then(Value::as_array);
        for event in events.into_iter().flatten().filter_map(Value::as_str) {
            if let Some((low, high)) = date_range(event) {
                push(IndexValue::Date { low, high });
            }
        }
        return;
    }
    // A Period: an open end is unbounded; an end that is present but no date spoils the
    // period (indexing it as open would make it match everything).
    let end = |name: &str| -> Option<Option<(i64, i64)>> {
        match object.get(name) {
            None => Some(None),
            Some(text) => text.as_str().and_then(date_range).map(Some),
        }
    };
    if let (Some(start), Some(end)) = (end("start"), end("end")) {
        if start.is_some() || end.is_some() {
            push(IndexValue::Date {
                low: start.map_or(i64::MIN, |(low, _)| low),
                high: end.map_or(i64::MAX, |(_, high)| high),
            });
        }
    }
}

fn number_values(value: &Value, push: &mut impl FnMut(IndexValue)) {
    if let Value::Number(number) = value {
        if let Some((value, low, high)) = number_range(number.as_str()) {
            push(IndexValue::Number { value, low, high });
        }
    }
}

fn quantity_values(node: Node<'_>, push: &mut impl FnMut(IndexValue)) {
    let Value::Object(object) = node.value else {
        return;
    };
    let Some(Value::Number(number)) = object.get("value") else {
        return;
    };
    let Some((value, low, high)) = number_range(number.as_str()) else {
        return;
    };
    let is_money = node.type_name == Some("Money")
        || (node.type_name.is_none() && object.contains_key("currency"));
    let quantity = if is_money {
        IndexValue::Quantity {
            value,
            low,
            high,
            system: Some(CURRENCY_SYSTEM.to_owned()),
            code: string_field(object, "currency"),
            unit: None,
        }
    } else if node.type_name.is_none_or(|type_name| {
        matches!(
            type_name,
            "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity"
        )
    }) {
        IndexValue::Quantity {
            value,
            low,
            high,
            system: string_field(object, "system"),
            code: string_field(object, "code"),
            unit: string_field(object, "unit"),
        }
    } else {
        return;
    };
    push(quantity);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The entries of `param`, in order.
    fn of<'e>(entries: &'e [IndexEntry], param: &str) -> Vec<&'e IndexValue> {
        entries
            .iter()
            .filter(|entry| entry.param == param)
            .map(|entry| &entry.value)
            .collect()
    }

    fn string(value: &str) -> IndexValue {
        IndexValue::String {
            value: value.to_owned(),
        }
    }

    fn code(system: Option<&str>, code: &str) -> IndexValue {
        token(system.map(str::to_owned), Some(code.to_owned()), None)
    }

    fn absolute(url: &str) -> IndexValue {
        IndexValue::Reference {
            target_type: None,
            target_id: None,
            url: Some(url.to_owned()),
            identifier: None,
        }
    }

    fn reference(target_type: &str, target_id: &str, url: &str) -> IndexValue {
        IndexValue::Reference {
            target_type: Some(target_type.to_owned()),
            target_id: Some(target_id.to_owned()),
            url: Some(url.to_owned()),
            identifier: None,
        }
    }

    fn day(date: &str) -> IndexValue {
        let (low, high) = date_range(date).expect("test date");
        IndexValue::Date { low, high }
    }

    #[test]
    fn r4_expressions_all_compile() {
        assert_eq!(Extractor::r4().skipped(), &[] as &[(String, String)]);
    }

    #[test]
    fn patient_names_identifiers_dates_codes_and_addresses() {
        let patient = json!({
            "resourceType": "Patient", "id": "p1", "active": true, "gender": "female",
            "birthDate": "1980-04-01",
            "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11312345671",
                            "value": "00123", "type": {"text": "MRN"}}],
            "name": [{"family": "山田", "given": ["花子"], "text": "山田 花子"},
                     {"use": "official", "family": "Yamada", "given": ["Hanako", "H."]}],
            "telecom": [{"system": "phone", "value": "03-1234-5678"},
                        {"system": "email", "value": "h@example.jp"}],
            "address": [{"line": ["1-2-3 Chiyoda"], "city": "Chiyoda-ku", "state": "Tokyo",
                         "postalCode": "100-0001"}]
        });
        let entries = Extractor::r4().extract(&patient);
        assert_eq!(
            of(&entries, "family"),
            vec![&string("山田"), &string("Yamada")]
        );
        assert_eq!(
            of(&entries, "given"),
            vec![&string("花子"), &string("Hanako"), &string("H.")]
        );
        assert_eq!(
            of(&entries, "name"),
            vec![
                &string("山田"),
                &string("花子"),
                &string("山田 花子"),
                &string("Yamada"),
                &string("Hanako"),
                &string("H.")
            ]
        );
        assert_eq!(
            of(&entries, "identifier"),
            vec![&token(
                Some("urn:oid:1.2.392.100495.20.3.51.11312345671".to_owned()),
                Some("00123".to_owned()),
                Some("MRN".to_owned())
            )]
        );
        assert_eq!(of(&entries, "birthdate"), vec![&day("1980-04-01")]);
        assert_eq!(of(&entries, "gender"), vec![&code(None, "female")]);
        assert_eq!(of(&entries, "phone"), vec![&code(None, "03-1234-5678")]);
        assert_eq!(
            of(&entries, "telecom"),
            vec![&code(None, "03-1234-5678"), &code(None, "h@example.jp")]
        );
        assert_eq!(of(&entries, "address-city"), vec![&string("Chiyoda-ku")]);
        assert_eq!(
            of(&entries, "address-postalcode"),
            vec![&string("100-0001")]
        );
        assert_eq!(of(&entries, "active"), vec![&code(None, "true")]);
        // `_id` and `_lastUpdated` come from the resource row, not the index.
        assert!(of(&entries, "_id").is_empty());
        assert_eq!(of(&entries, "deceased"), vec![&code(None, "false")]);
        assert!(entries.iter().all(|entry| entry.param != "_text"));
    }

    fn observation() -> Value {
        json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "meta": {"lastUpdated": "2024-05-01T09:00:00.000+09:00",
                     "profile": ["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult_common"],
                     "tag": [{"system": "http://example.org/tags", "code": "lab"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7",
                                 "display": "Glucose [Mass/volume] in Serum or Plasma"},
                                {"system": "urn:oid:1.2.392.200119.4.504", "code": "3D010000001926101"}],
                     "text": "血糖"},
            "subject": {"reference": "Patient/p1", "display": "山田 花子"},
            "encounter": {"reference": "Encounter/e1"},
            "effectiveDateTime": "2024-05-01T08:30:00+09:00",
            "issued": "2024-05-01T09:00:00.000+09:00",
            "performer": [{"reference": "Practitioner/dr1"}, {"reference": "Organization/lab"}],
            "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"},
            "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                            "code": "N"}]}],
            "specimen": {"reference": "Specimen/s1"},
            "basedOn": [{"reference": "ServiceRequest/sr1"}],
            "referenceRange": [{"low": {"value": 3.9, "unit": "mmol/L"},
                                "high": {"value": 6.1, "unit": "mmol/L"}, "text": "3.9-6.1"}]
        })
    }

    #[test]
    fn observation_code_value_date_subject_and_patient() {
        let entries = Extractor::r4().extract(&observation());
        assert_eq!(
            of(&entries, "code"),
            vec![
                &token(
                    Some("http://loinc.org".to_owned()),
                    Some("2345-7".to_owned()),
                    Some("Glucose [Mass/volume] in Serum or Plasma".to_owned())
                ),
                &code(Some("urn:oid:1.2.392.200119.4.504"), "3D010000001926101"),
                &token(None, None, Some("血糖".to_owned())),
            ]
        );
        let (value, low, high) = number_range("5.4").expect("decimal");
        assert_eq!(
            of(&entries, "value-quantity"),
            vec![&IndexValue::Quantity {
                value,
                low,
                high,
                system: Some("http://unitsofmeasure.org".to_owned()),
                code: Some("mmol/L".to_owned()),
                unit: Some("mmol/L".to_owned()),
            }]
        );
        assert_eq!(
            of(&entries, "date"),
            vec![&day("2024-05-01T08:30:00+09:00")]
        );
        let subject = reference("Patient", "p1", "Patient/p1");
        assert_eq!(of(&entries, "subject"), vec![&subject]);
        assert_eq!(of(&entries, "patient"), vec![&subject]);
        assert_eq!(
            of(&entries, "based-on"),
            vec![&reference("ServiceRequest", "sr1", "ServiceRequest/sr1")]
        );
        assert!(of(&entries, "_lastUpdated").is_empty());
        assert_eq!(
            of(&entries, "_tag"),
            vec![&code(Some("http://example.org/tags"), "lab")]
        );
        assert!(matches!(
            of(&entries, "_profile")[..],
            [IndexValue::Uri { .. }]
        ));
        // Composite parameters give no entries.
        assert!(of(&entries, "code-value-quantity").is_empty());
    }

    #[test]
    fn observation_effective_period_is_one_range_and_open_ends_are_unbounded() {
        let mut observation = observation();
        let object = observation.as_object_mut().expect("object");
        object.remove("effectiveDateTime");
        object.insert(
            "effectivePeriod".to_owned(),
            json!({"start": "2024-05-01", "end": "2024-05-03"}),
        );
        let entries = Extractor::r4().extract(&observation);
        let start = date_range("2024-05-01").expect("date").0;
        let end = date_range("2024-05-03").expect("date").1;
        assert_eq!(
            of(&entries, "date"),
            vec![&IndexValue::Date {
                low: start,
                high: end
            }]
        );
        object_period(&mut observation, json!({"start": "2024-05-01"}));
        let entries = Extractor::r4().extract(&observation);
        assert_eq!(
            of(&entries, "date"),
            vec![&IndexValue::Date {
                low: start,
                high: i64::MAX
            }]
        );
    }

    fn object_period(observation: &mut Value, period: Value) {
        if let Some(object) = observation.as_object_mut() {
            object.insert("effectivePeriod".to_owned(), period);
        }
    }

    #[test]
    fn observation_about_a_group_has_no_patient() {
        let mut observation = observation();
        observation["subject"] = json!({"reference": "Group/g1"});
        let entries = Extractor::r4().extract(&observation);
        assert_eq!(
            of(&entries, "subject"),
            vec![&reference("Group", "g1", "Group/g1")]
        );
        assert!(of(&entries, "patient").is_empty());
    }

    #[test]
    fn service_request_patient_status_and_based_on() {
        let order = json!({
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "basedOn": [{"reference": "CarePlan/cp1"},
                        {"identifier": {"system": "urn:example:placer", "value": "ORD-1"}}],
            "requisition": {"system": "urn:example:req", "value": "R-9"}
        });
        let entries = Extractor::r4().extract(&order);
        assert_eq!(
            of(&entries, "patient"),
            vec![&reference("Patient", "p1", "Patient/p1")]
        );
        assert_eq!(of(&entries, "status"), vec![&code(None, "active")]);
        assert_eq!(
            of(&entries, "based-on"),
            vec![
                &reference("CarePlan", "cp1", "CarePlan/cp1"),
                &IndexValue::Reference {
                    target_type: None,
                    target_id: None,
                    url: None,
                    identifier: Some((Some("urn:example:placer".to_owned()), "ORD-1".to_owned())),
                }
            ]
        );
        assert_eq!(
            of(&entries, "requisition"),
            vec![&code(Some("urn:example:req"), "R-9")]
        );
    }

    #[test]
    fn imaging_study_basedon_identifier_and_modality() {
        let study = json!({
            "resourceType": "ImagingStudy", "status": "available",
            "identifier": [{"system": "urn:dicom:uid", "value": "urn:oid:1.2.3.4"},
                           {"type": {"text": "Accession"}, "value": "ACC-7"}],
            "subject": {"reference": "Patient/p1"},
            "basedOn": [{"reference": "ServiceRequest/sr1"}],
            "series": [
                {"uid": "1.2.3.4.1", "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CT"}},
                {"uid": "1.2.3.4.2", "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CT"}},
                {"uid": "1.2.3.4.3", "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "SR"}}
            ]
        });
        let entries = Extractor::r4().extract(&study);
        assert_eq!(
            of(&entries, "basedon"),
            vec![&reference("ServiceRequest", "sr1", "ServiceRequest/sr1")]
        );
        assert_eq!(
            of(&entries, "identifier"),
            vec![
                &code(Some("urn:dicom:uid"), "urn:oid:1.2.3.4"),
                &token(None, Some("ACC-7".to_owned()), Some("Accession".to_owned())),
            ]
        );
        let dcm = Some("http://dicom.nema.org/resources/ontology/DCM");
        assert_eq!(
            of(&entries, "modality"),
            vec![&code(dcm, "CT"), &code(dcm, "SR")],
            "the duplicate CT is indexed once"
        );
    }

    #[test]
    fn diagnostic_report_result_and_patient() {
        let report = json!({
            "resourceType": "DiagnosticReport", "status": "final",
            "code": {"text": "CT report"},
            "subject": {"reference": "https://fhir.example.jp/r4/Patient/p1"},
            "result": [{"reference": "Observation/o1"}, {"reference": "Observation/o2"}]
        });
        let entries = Extractor::r4().extract(&report);
        assert_eq!(
            of(&entries, "result"),
            vec![
                &reference("Observation", "o1", "Observation/o1"),
                &reference("Observation", "o2", "Observation/o2")
            ]
        );
        // `resolve() is Patient` still selects it, but an absolute URL names a resource on
        // another server: indexed by its URL only, never as the local `Patient/p1`.
        assert_eq!(
            of(&entries, "patient"),
            vec![&absolute("https://fhir.example.jp/r4/Patient/p1")]
        );
    }

    #[test]
    fn versioned_absolute_reference_keeps_its_url() {
        let encounter = json!({"resourceType": "Encounter", "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": "http://x/fhir/Patient/1/_history/2"}});
        let entries = Extractor::r4().extract(&encounter);
        assert_eq!(
            of(&entries, "subject"),
            vec![&absolute("http://x/fhir/Patient/1/_history/2")]
        );
    }

    #[test]
    fn multi_base_parameter_does_not_leak_across_types() {
        // clinical-patient's expression names AllergyIntolerance.patient, …; a Condition must
        // only get its own branch, and a type the expression does not name gets nothing.
        let condition = json!({"resourceType": "Condition",
            "subject": {"reference": "Patient/p1"}, "recorder": {"reference": "Patient/p2"}});
        let entries = Extractor::r4().extract(&condition);
        assert_eq!(
            of(&entries, "patient"),
            vec![&reference("Patient", "p1", "Patient/p1")]
        );
        let account = json!({"resourceType": "Account", "status": "active",
            "subject": [{"reference": "Patient/p3"}]});
        let entries = Extractor::r4().extract(&account);
        assert_eq!(
            of(&entries, "patient"),
            vec![&reference("Patient", "p3", "Patient/p3")]
        );
        assert!(of(&entries, "code").is_empty());
    }

    #[test]
    fn money_is_a_quantity_in_iso_4217() {
        let item = json!({"resourceType": "ChargeItem", "status": "billed",
            "code": {"text": "x"}, "subject": {"reference": "Patient/p1"},
            "priceOverride": {"value": 1500, "currency": "JPY"}});
        let entries = Extractor::r4().extract(&item);
        let (value, low, high) = number_range("1500").expect("integer");
        assert_eq!(
            of(&entries, "price-override"),
            vec![&IndexValue::Quantity {
                value,
                low,
                high,
                system: Some(CURRENCY_SYSTEM.to_owned()),
                code: Some("JPY".to_owned()),
                unit: None,
            }]
        );
    }

    #[test]
    fn boolean_is_a_true_or_false_token() {
        let patient = json!({"resourceType": "Patient", "active": false});
        let entries = Extractor::r4().extract(&patient);
        assert_eq!(of(&entries, "active"), vec![&code(None, "false")]);
    }

    #[test]
    fn malformed_shapes_and_non_resources_yield_nothing_or_less() {
        let extractor = Extractor::r4();
        assert!(extractor.extract(&json!([1, 2])).is_empty());
        assert!(extractor.extract(&json!({"resourceType": 7})).is_empty());
        assert!(extractor
            .extract(&json!({"resourceType": "NoSuchType", "id": "x"}))
            .is_empty());
        let odd = json!({"resourceType": "Observation", "code": "not a concept",
            "subject": [5, {"display": "x"}], "effectivePeriod": {"start": 2024},
            "valueQuantity": {"value": "5"}, "meta": {"tag": [null, 5]}});
        let entries = extractor.extract(&odd);
        assert_eq!(of(&entries, "code"), vec![&code(None, "not a concept")]);
        assert!(of(&entries, "date").is_empty());
        assert!(of(&entries, "value-quantity").is_empty());
        assert!(of(&entries, "patient").is_empty());
    }

    #[test]
    fn definitions_that_do_not_parse_are_skipped_with_the_error() {
        let defs = SearchParameters::from_resources(&[
            json!({"url": "urn:a", "code": "a", "base": ["Patient"], "type": "token",
                   "expression": "Patient.gender"}),
            json!({"url": "urn:b", "code": "b", "base": ["Patient"], "type": "token",
                   "expression": "Patient.name.frobnicate() > 1"}),
        ]);
        let extractor = Extractor::new(&defs);
        assert_eq!(extractor.skipped().len(), 1);
        assert_eq!(extractor.skipped()[0].0, "urn:b");
        assert!(extractor.skipped()[0].1.contains("frobnicate"));
        let entries = extractor.extract(&json!({"resourceType": "Patient", "gender": "male"}));
        assert_eq!(
            entries,
            vec![IndexEntry {
                param: "a".to_owned(),
                value: code(None, "male")
            }]
        );
    }

    #[test]
    fn extractor_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Extractor>();
    }

    /// Not a benchmark (timing is printed, not asserted): run with `--release` to see the
    /// number that matters; a debug build is several times slower.
    #[test]
    fn extraction_timing_of_a_typical_observation() {
        let observation = observation();
        let extractor = Extractor::r4();
        let entries = extractor.extract(&observation);
        let rounds = 2_000;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(extractor.extract(std::hint::black_box(&observation)));
        }
        let per_call = started.elapsed() / rounds;
        eprintln!(
            "extract: {} entries from a typical Observation in {per_call:?} per call",
            entries.len()
        );
    }
}
