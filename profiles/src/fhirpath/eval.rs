//! Evaluates an [`Expr`] over JSON resources. Every step maps collections to collections
//! (FHIRPath's model): arrays are flattened as they are reached, missing elements give the
//! empty collection; operands that must be single items but are not are errors.

use serde_json::Value as Json;

use super::ast::{Expr, ExprKind, TypeSpecifier};
use super::context::{fixed_variable, Environment};
use super::error::EvalError;
use super::functions;
use super::navigation::{push_children, Lookup};
use super::operators;
use super::temporal::DateTimeValue;
use super::types::{is_known_type, item_is, model_type, TypeTest};
use super::value::{FhirPathValue, JsonNode};

/// One item of a collection.
pub(crate) type Item<'a> = FhirPathValue<'a>;
/// A collection.
pub(crate) type Collection<'a> = Vec<Item<'a>>;
/// An evaluation result.
pub(crate) type Evaluated<'a> = Result<Collection<'a>, EvalError>;

/// The scope an expression is evaluated in: `$this` (the focus), `$index`, `$total`.
#[derive(Clone, Copy)]
pub(crate) struct Frame<'f, 'a> {
    pub(crate) this: &'f [Item<'a>],
    pub(crate) index: Option<usize>,
    pub(crate) total: Option<&'f [Item<'a>]>,
}

impl<'f, 'a> Frame<'f, 'a> {
    /// A scope whose focus is `this`.
    pub(crate) fn new(this: &'f [Item<'a>]) -> Frame<'f, 'a> {
        Frame {
            this,
            index: None,
            total: None,
        }
    }
}

/// Evaluation state shared by every step of one evaluation.
pub(crate) struct Evaluator<'a, 'e> {
    pub(crate) env: &'e Environment<'a>,
    /// `%resource`.
    pub(crate) resource: Option<&'a Json>,
    /// `%rootResource`.
    pub(crate) root: Option<&'a Json>,
    /// `%context`.
    pub(crate) context: Collection<'a>,
    /// `now()`, read once per evaluation when first asked for.
    now: std::cell::OnceCell<DateTimeValue>,
}

/// The node for a resource, typed by its `resourceType`.
pub(crate) fn resource_node(resource: &Json) -> Item<'_> {
    let type_name = resource
        .get("resourceType")
        .and_then(Json::as_str)
        .and_then(model_type);
    FhirPathValue::Node(JsonNode::new(resource, type_name))
}

impl<'a, 'e> Evaluator<'a, 'e> {
    /// An evaluator with `resource` as `%resource` and `context` as `%context`.
    pub(crate) fn new(
        env: &'e Environment<'a>,
        resource: Option<&'a Json>,
        context: Collection<'a>,
    ) -> Evaluator<'a, 'e> {
        Evaluator {
            env,
            resource,
            root: env.root_resource.or(resource),
            context,
            now: std::cell::OnceCell::new(),
        }
    }

    /// `now()`: the same instant for the whole evaluation.
    pub(crate) fn now(&self) -> DateTimeValue {
        *self.now.get_or_init(current_date_time)
    }

    /// The collection `expr` yields in `frame`.
    pub(crate) fn eval(&self, expr: &Expr, frame: &Frame<'_, 'a>) -> Evaluated<'a> {
        let position = expr.position;
        match &expr.kind {
            ExprKind::Empty => Ok(Vec::new()),
            ExprKind::Invalid(message) => Err(EvalError::type_error(position, message.clone())),
            ExprKind::Literal(value) => Ok(vec![value.clone()]),
            ExprKind::This => Ok(frame.this.to_vec()),
            ExprKind::Index => Ok(frame
                .index
                .and_then(|index| i64::try_from(index).ok())
                .map(FhirPathValue::Integer)
                .into_iter()
                .collect()),
            ExprKind::Total => Ok(frame.total.map(<[_]>::to_vec).unwrap_or_default()),
            ExprKind::Variable(name) => self.variable(name, position),
            ExprKind::Identifier(name) => self.identifier(frame.this, name, position),
            ExprKind::Member(base, name) => {
                let input = self.eval(base, frame)?;
                self.members(&input, name, position)
            }
            ExprKind::Call { base, name, args } => {
                let input = match base {
                    Some(base) => self.eval(base, frame)?,
                    None => frame.this.to_vec(),
                };
                functions::call(self, name, input, args, frame, position)
            }
            ExprKind::Indexer(base, index) => {
                let input = self.eval(base, frame)?;
                let index = self.eval(index, frame)?;
                match singleton(index, position)? {
                    None => Ok(Vec::new()),
                    Some(FhirPathValue::Integer(at)) => Ok(usize::try_from(at)
                        .ok()
                        .and_then(|at| input.into_iter().nth(at))
                        .into_iter()
                        .collect()),
                    Some(_) => Err(EvalError::type_error(
                        position,
                        "an index must be an Integer",
                    )),
                }
            }
            ExprKind::Negate(operand) => {
                let operand = self.eval(operand, frame)?;
                operators::negate(operand, position)
            }
            ExprKind::Binary(op, left, right) => {
                operators::binary(self, *op, left, right, frame, position)
            }
            ExprKind::Is(base, specifier) => {
                check_specifier(specifier, position)?;
                let input = self.eval(base, frame)?;
                match singleton(input, position)? {
                    None => Ok(Vec::new()),
                    Some(item) => Ok(vec![FhirPathValue::Boolean(item_is(
                        &item,
                        specifier,
                        TypeTest::Is,
                    ))]),
                }
            }
            ExprKind::As(base, specifier) => {
                // Lenient like R4's own search expressions, which apply `as` to collections.
                check_specifier(specifier, position)?;
                let input = self.eval(base, frame)?;
                Ok(filter_type(input, specifier, TypeTest::AsOperator))
            }
        }
    }

    fn variable(&self, name: &str, position: usize) -> Evaluated<'a> {
        match name {
            "context" => Ok(self.context.clone()),
            "resource" => Ok(self.resource.map(resource_node).into_iter().collect()),
            "rootResource" => Ok(self.root.map(resource_node).into_iter().collect()),
            _ => {
                if let Some(value) = self.env.variables.get(name) {
                    return Ok(value.clone());
                }
                fixed_variable(name)
                    .map(|text| vec![FhirPathValue::String(text)])
                    .ok_or_else(|| {
                        EvalError::semantic(position, format!("unknown variable `%{name}`"))
                    })
            }
        }
    }

    /// A path's first identifier: a type name filters the focus by type (`Patient.name` is
    /// empty on an Observation), other names are children.
    fn identifier(&self, focus: &[Item<'a>], name: &str, position: usize) -> Evaluated<'a> {
        if name.starts_with(|c: char| c.is_ascii_uppercase()) && model_type(name).is_some() {
            let specifier = TypeSpecifier {
                namespace: None,
                name: name.to_owned(),
            };
            let matching: Collection<'a> = focus
                .iter()
                .filter(|item| item_is(item, &specifier, TypeTest::As))
                .cloned()
                .collect();
            if !matching.is_empty() || focus.iter().all(|item| item.as_node().is_some()) {
                return Ok(matching);
            }
        }
        self.members(focus, name, position)
    }

    /// The children named `name` of every item; a name the model says the type does not have
    /// is a semantic error.
    pub(crate) fn members(&self, input: &[Item<'a>], name: &str, position: usize) -> Evaluated<'a> {
        let mut nodes = Vec::new();
        let mut out = Vec::new();
        let (mut unknown, mut known) = (false, false);
        for item in input {
            match item {
                FhirPathValue::Node(node) => {
                    nodes.clear();
                    match push_children(&mut nodes, node, name) {
                        Lookup::Unknown => unknown = true,
                        Lookup::Known | Lookup::Untyped => known = true,
                    }
                    out.extend(nodes.drain(..).map(FhirPathValue::Node));
                }
                FhirPathValue::TypeInfo {
                    namespace,
                    name: type_name,
                } => match name {
                    "namespace" => out.push(FhirPathValue::String((*namespace).to_owned())),
                    "name" => out.push(FhirPathValue::String(type_name.clone())),
                    _ => {}
                },
                _ => {}
            }
        }
        if unknown && !known && !name.starts_with('_') {
            return Err(EvalError::semantic(
                position,
                format!("`{name}` is no element of the input's type"),
            ));
        }
        Ok(out)
    }
}

/// An error for a type name that names no type.
pub(crate) fn check_specifier(specifier: &TypeSpecifier, position: usize) -> Result<(), EvalError> {
    if is_known_type(specifier) {
        Ok(())
    } else {
        Err(EvalError::semantic(
            position,
            format!("unknown type `{}`", specifier.name),
        ))
    }
}

/// The items of `input` that are of the specified type (`as`, `ofType`), typed to it.
pub(crate) fn filter_type<'a>(
    input: Collection<'a>,
    specifier: &TypeSpecifier,
    test: TypeTest,
) -> Collection<'a> {
    input
        .into_iter()
        .filter(|item| item_is(item, specifier, test))
        .collect()
}

/// The single item of a collection, none when empty; an error when there are several.
pub(crate) fn singleton(
    collection: Collection<'_>,
    position: usize,
) -> Result<Option<Item<'_>>, EvalError> {
    let count = collection.len();
    if count > 1 {
        return Err(EvalError::NotSingleton { position, count });
    }
    Ok(collection.into_iter().next())
}

/// FHIRPath singleton evaluation as a Boolean: empty is unknown, one Boolean is itself, one
/// other item is true, several are an error.
pub(crate) fn truth(collection: &[Item<'_>], position: usize) -> Result<Option<bool>, EvalError> {
    match collection {
        [] => Ok(None),
        [item] => Ok(Some(match item.to_system() {
            FhirPathValue::Boolean(value) => value,
            _ => true,
        })),
        _ => Err(EvalError::NotSingleton {
            position,
            count: collection.len(),
        }),
    }
}

/// The current UTC date and time from the system clock.
fn current_date_time() -> DateTimeValue {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(0))
        .unwrap_or(0);
    let epoch = DateTimeValue {
        year: 1970,
        month: Some(1),
        day: Some(1),
        hour: Some(0),
        minute: Some(0),
        second: Some(0),
        millis: Some(0),
        offset_minutes: Some(0),
    };
    epoch
        .add(millis, super::temporal::DurationUnit::Millisecond)
        .unwrap_or(epoch)
}
