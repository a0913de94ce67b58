//! A FHIRPath engine (FHIRPath N1 / 2.0.0 with the FHIR R4 additions) over JSON resources.
//!
//! Parse once into an [`Expression`] (or [`compile_cached`]), evaluate on many resources:
//! [`Expression::evaluate_values`] gives the full FHIRPath collection ([`FhirPathValue`]:
//! typed JSON nodes and System values) or an [`EvalError`]; [`Expression::evaluate`] gives the
//! view search indexing uses (resource nodes and computed booleans, [`Node`]). Nodes are typed
//! from the R4 type model as they are navigated; `resolve()` and `memberOf()` consult the hooks
//! of an [`Environment`].

mod ast;
mod cache;
mod compare;
mod context;
mod error;
mod eval;
mod functions;
mod lexer;
mod navigation;
mod operators;
mod parser;
mod quantity;
pub(crate) mod reference;
mod temporal;
mod types;
mod value;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use cache::compile_cached;
pub use context::{Environment, ReferenceResolver, Terminology};
pub use error::EvalError;
pub use quantity::Quantity;
pub use temporal::{DateTimeValue, TimeValue};
pub use value::{FhirPathValue, JsonNode};

use eval::{resource_node, Evaluator, Frame};

/// The R4 type name `name` as the `'static` name nodes carry (`None` when the model lacks it).
pub(crate) fn static_type_name(name: &str) -> Option<&'static str> {
    types::model_type(name)
}

/// A parsed FHIRPath expression: parse once, evaluate on any number of resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: ast::Expr,
}

impl Expression {
    /// Parses `text`; malformed syntax, unknown functions and wrong argument counts are errors
    /// at the offset they start.
    pub fn parse(text: &str) -> Result<Expression, FhirPathError> {
        parser::parse(text).map(|root| Expression { root })
    }

    /// The collection the expression yields on `resource` (its `%resource`, `%context` and
    /// initial focus).
    pub fn evaluate_values<'a>(
        &self,
        resource: &'a Value,
        env: &Environment<'a>,
    ) -> Result<Vec<FhirPathValue<'a>>, EvalError> {
        self.evaluate_values_at(Some(resource), vec![resource_node(resource)], env)
    }

    /// The collection the expression yields with `focus` as its initial focus and `%context`;
    /// `resource` (when any) is `%resource`.
    pub fn evaluate_values_at<'a>(
        &self,
        resource: Option<&'a Value>,
        focus: Vec<FhirPathValue<'a>>,
        env: &Environment<'a>,
    ) -> Result<Vec<FhirPathValue<'a>>, EvalError> {
        let evaluator = Evaluator::new(env, resource, focus.clone());
        evaluator.eval(&self.root, &Frame::new(&focus))
    }

    /// The nodes the expression selects from `resource` (its `%resource` and initial focus), in
    /// document order per branch. Computed booleans are returned as JSON booleans; other
    /// computed values and literals are left out; `resolve()` only tells a literal reference's
    /// type (`resolve() is Patient`), as search indexes references as written; an evaluation
    /// error gives nothing.
    pub fn evaluate<'a>(&self, resource: &'a Value) -> Vec<Node<'a>> {
        let env = Environment::search_view();
        Self::nodes(self.evaluate_values(resource, &env))
    }

    /// Like [`Self::evaluate`], with `focus` (a node selected earlier from `resource`, such as
    /// a composite search parameter's base element) as the initial focus; `resource` stays
    /// `%resource`.
    pub fn evaluate_at<'a>(&self, resource: &'a Value, focus: Node<'a>) -> Vec<Node<'a>> {
        let env = Environment::search_view();
        let focus = FhirPathValue::Node(JsonNode::new(focus.value, focus.type_name));
        Self::nodes(self.evaluate_values_at(Some(resource), vec![focus], &env))
    }

    fn nodes<'a>(result: Result<Vec<FhirPathValue<'a>>, EvalError>) -> Vec<Node<'a>> {
        result
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| match item {
                FhirPathValue::Node(JsonNode {
                    value: Some(value),
                    type_name,
                    ..
                }) => Some(Node { value, type_name }),
                FhirPathValue::Boolean(value) => Some(Node {
                    value: if value { &TRUE } else { &FALSE },
                    type_name: Some("boolean"),
                }),
                _ => None,
            })
            .collect()
    }
}

static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// One node an expression selected: a part of the resource, with its FHIR type name when
/// known (from the R4 model, a choice suffix, or an `as`/`ofType`); `None` means "look at the
/// JSON".
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
    /// What is wrong there.
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
