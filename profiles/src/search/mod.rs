//! FHIR search, as far as it concerns the model: the R4 `SearchParameter` definitions
//! ([`definitions`]), the values a resource is indexed under for each parameter ([`extract`],
//! by evaluating the definitions' FHIRPath expressions), and how search values are normalised
//! and compared ([`values`]: date ranges, number precision ranges, string folding). The gateway
//! stores the entries and runs queries; nothing here does IO.

pub mod compartments;
pub mod definitions;
pub mod extract;
pub mod values;

pub use definitions::{SearchParamDef, SearchParamType, SearchParameters};
pub use extract::{extract_index, node_values};

/// One value a resource is indexed under, typed by its search parameter's type.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexValue {
    /// token: a code with its system (Coding, CodeableConcept, Identifier, code, boolean,
    /// ContactPoint), and the text `:text` searches (Coding.display, CodeableConcept.text,
    /// Identifier.type.text).
    Token {
        /// The system, when the value has one.
        system: Option<String>,
        /// The code or value (`true`/`false` for booleans).
        code: Option<String>,
        /// Display text, for `:text`.
        text: Option<String>,
    },
    /// string: the text as written (normalise with [`values::fold_string`] to match).
    String {
        /// The value.
        value: String,
    },
    /// reference: a literal reference split into type and id when it has that shape, the
    /// reference text itself, and a logical reference's identifier (`:identifier`).
    Reference {
        /// The target type (`Patient` in `Patient/123` or an absolute URL ending so).
        target_type: Option<String>,
        /// The target id.
        target_id: Option<String>,
        /// `Reference.reference` as written (absolute, relative or canonical URL).
        url: Option<String>,
        /// `Reference.identifier` system and value.
        identifier: Option<(Option<String>, String)>,
    },
    /// date: the instant range the value covers, in milliseconds since the Unix epoch (UTC),
    /// both ends inclusive (`2024` covers 2024-01-01T00:00:00.000 to 2024-12-31T23:59:59.999).
    Date {
        /// First millisecond covered.
        low: i64,
        /// Last millisecond covered.
        high: i64,
    },
    /// number: the value and the range its precision implies (`100` is 99.5 to 100.5).
    Number {
        /// The value.
        value: f64,
        /// Lower bound of the implied range.
        low: f64,
        /// Upper bound of the implied range.
        high: f64,
    },
    /// quantity: a number with its unit system, code and human unit.
    Quantity {
        /// The value.
        value: f64,
        /// Lower bound of the implied range.
        low: f64,
        /// Upper bound of the implied range.
        high: f64,
        /// `Quantity.system`.
        system: Option<String>,
        /// `Quantity.code`.
        code: Option<String>,
        /// `Quantity.unit`.
        unit: Option<String>,
    },
    /// uri: the URI as written.
    Uri {
        /// The value.
        value: String,
    },
}

/// One index entry: the parameter's code (as used in queries, e.g. `patient`) and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The search parameter's code.
    pub param: String,
    /// The value.
    pub value: IndexValue,
}
