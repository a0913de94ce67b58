//! The items of FHIRPath collections: parts of the resource (JSON nodes with their FHIR type)
//! and System values (Boolean, String, Integer, Decimal, Date, DateTime, Time, Quantity).

use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::quantity::Quantity;
use super::temporal::{DateTimeValue, TimeValue};

/// A literal in an expression: a System value with no tie to any resource.
pub(crate) type Literal = FhirPathValue<'static>;

/// One item of a FHIRPath collection.
#[derive(Debug, Clone, PartialEq)]
pub enum FhirPathValue<'a> {
    /// A part of a resource, with its FHIR type when known.
    Node(JsonNode<'a>),
    /// System.Boolean.
    Boolean(bool),
    /// System.String.
    String(String),
    /// System.Integer.
    Integer(i64),
    /// System.Decimal (exact).
    Decimal(Decimal),
    /// System.Date.
    Date(DateTimeValue),
    /// System.DateTime.
    DateTime(DateTimeValue),
    /// System.Time.
    Time(TimeValue),
    /// System.Quantity.
    Quantity(Quantity),
    /// What `type()` returns: a namespace and a type name (`FHIR`, `boolean`).
    TypeInfo {
        /// `FHIR` or `System`.
        namespace: &'static str,
        /// The type name.
        name: String,
    },
    /// A `resolve()` target that was not found; only the reference's type is known.
    UnresolvedReference(&'static str),
}

/// A node of the resource: a JSON value and, for primitives, the `_name` sibling holding its
/// `id` and `extension`s. A primitive that only has extensions has no `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonNode<'a> {
    /// The JSON value (never an array), absent for a primitive with only extensions.
    pub value: Option<&'a Json>,
    /// The primitive's `_name` object, when present.
    pub element: Option<&'a Json>,
    /// The FHIR type (`dateTime`, `HumanName`, `Patient.contact`), when known.
    pub type_name: Option<&'static str>,
}

impl<'a> JsonNode<'a> {
    /// A node for `value` of type `type_name`.
    pub(crate) fn new(value: &'a Json, type_name: Option<&'static str>) -> JsonNode<'a> {
        JsonNode {
            value: Some(value),
            element: None,
            type_name,
        }
    }
}

/// FHIR primitive types that are System Strings.
pub(crate) fn is_string_primitive(type_name: &str) -> bool {
    matches!(
        type_name,
        "string"
            | "code"
            | "id"
            | "uri"
            | "url"
            | "canonical"
            | "oid"
            | "uuid"
            | "markdown"
            | "base64Binary"
            | "xhtml"
            | "System.String"
    )
}

/// A JSON number as a System Integer or Decimal, by its text.
pub(crate) fn number_value(number: &serde_json::Number) -> Option<FhirPathValue<'static>> {
    let text = number.as_str();
    if let Ok(integer) = text.parse::<i64>() {
        return Some(FhirPathValue::Integer(integer));
    }
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
        .map(FhirPathValue::Decimal)
}

impl<'a> FhirPathValue<'a> {
    /// The System value this item stands for in operators: a FHIR primitive converts to its
    /// System type, a Quantity (and subtypes) to a System Quantity; other items as they are.
    pub fn to_system(&self) -> FhirPathValue<'a> {
        let FhirPathValue::Node(node) = self else {
            return self.clone();
        };
        let Some(value) = node.value else {
            return self.clone();
        };
        let type_name = node.type_name.unwrap_or("");
        match value {
            Json::Bool(flag) => FhirPathValue::Boolean(*flag),
            Json::Number(number) => match type_name {
                "decimal" | "System.Decimal" => number
                    .as_str()
                    .parse::<Decimal>()
                    .map(FhirPathValue::Decimal)
                    .unwrap_or_else(|_| self.clone()),
                _ => number_value(number).unwrap_or_else(|| self.clone()),
            },
            Json::String(text) => match type_name {
                "date" => DateTimeValue::parse(text)
                    .map(FhirPathValue::Date)
                    .unwrap_or_else(|| FhirPathValue::String(text.clone())),
                "dateTime" | "instant" => DateTimeValue::parse(text)
                    .map(FhirPathValue::DateTime)
                    .unwrap_or_else(|| FhirPathValue::String(text.clone())),
                "time" => TimeValue::parse(text)
                    .map(FhirPathValue::Time)
                    .unwrap_or_else(|| FhirPathValue::String(text.clone())),
                "integer" | "positiveInt" | "unsignedInt" => text
                    .parse::<i64>()
                    .map(FhirPathValue::Integer)
                    .unwrap_or_else(|_| FhirPathValue::String(text.clone())),
                "decimal" => text
                    .parse::<Decimal>()
                    .map(FhirPathValue::Decimal)
                    .unwrap_or_else(|_| FhirPathValue::String(text.clone())),
                _ => FhirPathValue::String(text.clone()),
            },
            Json::Object(object) => {
                let is_quantity = matches!(
                    type_name,
                    "Quantity"
                        | "Age"
                        | "Count"
                        | "Distance"
                        | "Duration"
                        | "SimpleQuantity"
                        | "MoneyQuantity"
                );
                if !is_quantity {
                    return self.clone();
                }
                let amount = match object.get("value") {
                    Some(Json::Number(number)) => number.as_str().parse::<Decimal>().ok(),
                    _ => None,
                };
                let Some(amount) = amount else {
                    return self.clone();
                };
                let ucum = object.get("system").and_then(Json::as_str)
                    == Some("http://unitsofmeasure.org");
                let unit = object
                    .get("code")
                    .and_then(Json::as_str)
                    .filter(|_| ucum || object.get("system").is_none())
                    .or_else(|| object.get("unit").and_then(Json::as_str))
                    .unwrap_or("1");
                let unit = match unit {
                    "a" if !ucum => "year",
                    other => other,
                };
                FhirPathValue::Quantity(Quantity {
                    value: amount,
                    unit: unit.to_owned(),
                })
            }
            Json::Null | Json::Array(_) => self.clone(),
        }
    }

    /// The JSON node, when the item is one.
    pub fn as_node(&self) -> Option<&JsonNode<'a>> {
        match self {
            FhirPathValue::Node(node) => Some(node),
            _ => None,
        }
    }

    /// The text of a string item (System String or FHIR string-like primitive).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            FhirPathValue::String(text) => Some(text),
            FhirPathValue::Node(JsonNode {
                value: Some(Json::String(text)),
                ..
            }) => Some(text),
            _ => None,
        }
    }
}
