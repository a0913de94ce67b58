//! The store's query language: what FHIR search asks of the indexes, already parsed and
//! normalised (no HTTP, no FHIR syntax left). Every backend evaluates the same structure
//! against its index tables (see `schema_v3.sql`).

use serde::{Deserialize, Serialize};

use super::residual::Residual;

/// How a date, number or quantity value compares with the search value (FHIR prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prefix {
    /// `eq`: the value's range lies within the search range.
    Eq,
    /// `ne`: not `eq`.
    Ne,
    /// `gt`: the value's range extends above the search range.
    Gt,
    /// `lt`: the value's range extends below the search range.
    Lt,
    /// `ge`: `gt` or overlapping.
    Ge,
    /// `le`: `lt` or overlapping.
    Le,
    /// `sa`: starts after the search range ends.
    Sa,
    /// `eb`: ends before the search range starts.
    Eb,
    /// `ap`: overlaps the search range widened by 10 %.
    Ap,
}

/// How a string parameter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StringMatch {
    /// Default: the folded value starts with the folded search text.
    Prefix,
    /// `:exact`: equal as written.
    Exact,
    /// `:contains`: the folded value contains the folded search text.
    Contains,
}

/// How a uri parameter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UriMatch {
    /// Equal.
    Exact,
    /// `:below`: the value starts with the search URI.
    Below,
    /// `:above`: the search URI starts with the value.
    Above,
}

/// One alternative of a search clause (values separated by `,` are alternatives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// `_id`.
    Id(String),
    /// `_lastUpdated`: the version's write time against a millisecond range.
    LastUpdated {
        /// The comparison.
        prefix: Prefix,
        /// First ms of the search range.
        low: i64,
        /// Last ms of the search range.
        high: i64,
    },
    /// token: `system|code`, `|code`, `system|`, `code`; `:text` on display text.
    Token {
        /// `None`: any system; `Some(None)`: no system; `Some(Some(s))`: that system.
        system: Option<Option<String>>,
        /// `None`: any code.
        code: Option<String>,
    },
    /// token `:in` (`:not-in` with the clause negated): a code of this ValueSet; replaced by
    /// its tokens before the query runs (`search::terminology`).
    ValueSet(String),
    /// token `:below` / `:above`: `code` or a code below (above) it in the stored CodeSystem
    /// `system`; replaced by tokens before the query runs.
    Subsumed {
        /// The code system URL.
        system: String,
        /// The code.
        code: String,
        /// `:below` (true) or `:above`.
        below: bool,
    },
    /// token `:text`: the folded display text starts with this.
    TokenText(String),
    /// string.
    String {
        /// The search text, folded unless `Exact`.
        value: String,
        /// How it matches.
        mode: StringMatch,
    },
    /// reference: by target type and/or id, or by URL as written.
    Reference {
        /// The target type, when the search names it.
        target_type: Option<String>,
        /// The target id.
        target_id: Option<String>,
        /// An absolute or canonical URL compared as written.
        url: Option<String>,
    },
    /// reference `:identifier`.
    ReferenceIdentifier {
        /// `None`: any system.
        system: Option<String>,
        /// The identifier value.
        value: String,
    },
    /// date: the value's range against the search range.
    Date {
        /// The comparison.
        prefix: Prefix,
        /// First ms of the search range.
        low: i64,
        /// Last ms of the search range.
        high: i64,
    },
    /// number or quantity: the value against the search number and its implied range.
    Number {
        /// The comparison.
        prefix: Prefix,
        /// The search number.
        value: f64,
        /// Lower end of its implied range.
        low: f64,
        /// Upper end of its implied range.
        high: f64,
        /// Quantities: unit system, when given.
        system: Option<String>,
        /// Quantities: unit code (matched against code or unit), when given.
        code: Option<String>,
    },
    /// uri.
    Uri {
        /// The search URI.
        value: String,
        /// How it matches.
        mode: UriMatch,
    },
    /// `_has`: a live `source_type` resource whose reference parameter `param` points at this
    /// resource meets `inner` (a resource-level condition).
    Has {
        /// The referring type.
        source_type: String,
        /// Its reference parameter.
        param: String,
        /// What the referring resource must meet.
        inner: Box<Clause>,
    },
    /// A reference under any of `params` points at `target_type/target_id` (compartment
    /// membership; a resource-level condition).
    ReferencesAny {
        /// The reference parameters.
        params: Vec<String>,
        /// The compartment owner's type.
        target_type: String,
        /// Its id.
        target_id: String,
    },
    /// A test on the resource itself (composite tuples, `:of-type`, `_text`, `_content`; a
    /// resource-level condition).
    Residual(Residual),
    /// Chained: the reference parameter points at a resource of `target_type` meeting `inner`.
    Chain {
        /// The target type.
        target_type: String,
        /// What the target must meet.
        inner: Box<Clause>,
    },
}

/// Which index table a clause reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexKind {
    /// `search_token`.
    Token,
    /// `search_string`.
    String,
    /// `search_reference`.
    Reference,
    /// `search_date`.
    Date,
    /// `search_number` (numbers and quantities).
    Number,
    /// `search_uri`.
    Uri,
    /// No table: `_id` and `_lastUpdated` read the version itself.
    Resource,
}

/// One `name=value,value` of a search: the resource must meet one of `any_of` (or, with
/// `negate`, none of them; with `missing`, have or lack any value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clause {
    /// The search parameter's code.
    pub param: String,
    /// The index table.
    pub kind: IndexKind,
    /// The alternatives.
    pub any_of: Vec<Condition>,
    /// `:not`: no value of the parameter meets any alternative.
    pub negate: bool,
    /// `:missing=true|false`: the resource lacks (true) or has (false) any value.
    pub missing: Option<bool>,
}

/// One `_sort` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortKey {
    /// The parameter's code (`_id`, `_lastUpdated` or an indexed parameter).
    pub param: String,
    /// Its index table.
    pub kind: IndexKind,
    /// `-` in front: descending.
    pub descending: bool,
}
