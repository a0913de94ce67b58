//! A FHIRPath subset: enough to evaluate every `expression` of the FHIR R4 SearchParameter
//! definitions over JSON resources, behind the API a full engine will keep (parse once into an
//! [`Expression`], evaluate it on many resources into [`Node`]s).
//!
//! Supported: paths whose first step may name a type (`Patient.name` yields nothing on an
//! Observation; `Resource` and `DomainResource` match their resources), choice elements
//! (`value` finds `valueQuantity` and types the node `Quantity`), `|`, `=`, `!=`, `and`, `or`,
//! `xor`, `implies`, `is`/`as` (operator and function), `ofType()`, `where()`, `exists()`,
//! `empty()`, `first()`, `last()`, `not()`, `extension(url)`, `hasExtension(url)`, `resolve()`
//! (type of the literal reference only, nothing is fetched: enough for `resolve() is Patient`),
//! `[index]`, `$this`, `%resource`/`%context`, string/number/boolean literals and `{}`.
//! Anything else (arithmetic, comparisons, date and quantity literals, other functions and
//! variables) is refused at parse time with the offset where it starts. Primitive extensions
//! (`_birthDate`) are not navigated. Type tests know the FHIR type of a node only from a choice
//! suffix, an earlier `as`/`ofType`/`extension()`, or a resource's `resourceType`.

mod ast;
mod eval;
mod lexer;
mod parser;
pub(crate) mod reference;
mod types;

#[cfg(test)]
mod tests;

use serde_json::Value;

use eval::{Evaluator, Item};

/// A parsed FHIRPath expression: parse once, evaluate on any number of resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: ast::Expr,
}

impl Expression {
    /// Parses `text`; unsupported or malformed syntax is an error at the offset it starts.
    pub fn parse(text: &str) -> Result<Expression, FhirPathError> {
        parser::parse(text).map(|root| Expression { root })
    }

    /// The nodes the expression selects from `resource` (its `%resource` and initial focus), in
    /// document order per branch. Computed booleans are returned as JSON booleans; literals and
    /// `resolve()` targets, which are no part of the resource, are left out.
    pub fn evaluate<'a>(&self, resource: &'a Value) -> Vec<Node<'a>> {
        let evaluator = Evaluator::new(resource);
        let focus = evaluator.resource_item();
        self.collect(&evaluator, focus)
    }

    /// Like [`Self::evaluate`], with `focus` (a node selected earlier from `resource`, such as
    /// a composite search parameter's base element) as the initial focus; `resource` stays
    /// `%resource`.
    pub fn evaluate_at<'a>(&self, resource: &'a Value, focus: Node<'a>) -> Vec<Node<'a>> {
        let evaluator = Evaluator::new(resource);
        let focus = Item::Json {
            value: focus.value,
            type_name: focus.type_name,
        };
        self.collect(&evaluator, focus)
    }

    fn collect<'a>(&self, evaluator: &Evaluator<'a>, focus: Item<'_, 'a>) -> Vec<Node<'a>> {
        evaluator
            .eval(&self.root, &[focus])
            .into_iter()
            .filter_map(|item| match item {
                Item::Json { value, type_name } => Some(Node { value, type_name }),
                Item::Bool(value) => Some(Node {
                    value: if value { &TRUE } else { &FALSE },
                    type_name: Some("boolean"),
                }),
                Item::Str(_) | Item::Number(_) | Item::Target(_) => None,
            })
            .collect()
    }
}

static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// One node an expression selected: a part of the resource, with its FHIR type name when the
/// expression made it known (`Quantity` for `valueQuantity`, the type an `as`/`ofType` matched,
/// `Extension` from `extension()`); `None` means "look at the JSON".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    /// The JSON value (an array element, never the array).
    pub value: &'a Value,
    /// The FHIR type (`dateTime`, `CodeableConcept`, `Patient`), when known.
    pub type_name: Option<&'static str>,
}

/// Why an expression could not be parsed: the byte offset in the text and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {position}: {message}")]
pub struct FhirPathError {
    /// Byte offset in the expression text where the problem starts.
    pub position: usize,
    /// What is wrong or unsupported there.
    pub message: String,
}

impl FhirPathError {
    fn new(position: usize, message: impl Into<String>) -> FhirPathError {
        FhirPathError {
            position,
            message: message.into(),
        }
    }
}
