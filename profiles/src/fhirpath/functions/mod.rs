//! The function library: the arity table the parser checks, dispatch by name, and helpers for
//! evaluating arguments (in the caller's scope) and criteria (per input item).

mod boundary;
mod collections;
mod conversion;
mod fhir;
mod math;
mod strings;

use super::ast::{Expr, ExprKind, TypeSpecifier};
use super::error::EvalError;
use super::eval::{check_specifier, singleton, Collection, Evaluated, Evaluator, Frame, Item};
use super::value::FhirPathValue;

/// `(name, fewest arguments, most arguments)` of every function.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("subsetOf", 1, 1),
    ("supersetOf", 1, 1),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    ("ofType", 1, 1),
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    ("union", 1, 1),
    ("combine", 1, 1),
    ("iif", 2, 3),
    ("toBoolean", 0, 0),
    ("convertsToBoolean", 0, 0),
    ("toInteger", 0, 0),
    ("convertsToInteger", 0, 0),
    ("toDecimal", 0, 0),
    ("convertsToDecimal", 0, 0),
    ("toString", 0, 0),
    ("convertsToString", 0, 0),
    ("toDate", 0, 0),
    ("convertsToDate", 0, 0),
    ("toDateTime", 0, 0),
    ("convertsToDateTime", 0, 0),
    ("toTime", 0, 0),
    ("convertsToTime", 0, 0),
    ("toQuantity", 0, 1),
    ("convertsToQuantity", 0, 1),
    ("indexOf", 1, 1),
    ("substring", 1, 2),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 1),
    ("replaceMatches", 2, 2),
    ("length", 0, 0),
    ("toChars", 0, 0),
    ("encode", 1, 1),
    ("decode", 1, 1),
    ("escape", 1, 1),
    ("unescape", 1, 1),
    ("join", 0, 1),
    ("split", 1, 1),
    ("trim", 0, 0),
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("exp", 0, 0),
    ("floor", 0, 0),
    ("ln", 0, 0),
    ("log", 1, 1),
    ("power", 1, 1),
    ("round", 0, 1),
    ("sqrt", 0, 0),
    ("truncate", 0, 0),
    ("children", 0, 0),
    ("descendants", 0, 0),
    ("trace", 1, 2),
    ("now", 0, 0),
    ("today", 0, 0),
    ("timeOfDay", 0, 0),
    ("aggregate", 1, 2),
    ("type", 0, 0),
    ("is", 1, 1),
    ("as", 1, 1),
    ("not", 0, 0),
    ("extension", 1, 1),
    ("hasExtension", 1, 1),
    ("hasValue", 0, 0),
    ("getValue", 0, 0),
    ("resolve", 0, 0),
    ("memberOf", 1, 1),
    ("htmlChecks", 0, 0),
    ("conformsTo", 1, 1),
    ("sort", 0, 16),
    ("comparable", 1, 1),
    ("matchesFull", 1, 1),
    ("precision", 0, 0),
    ("lowBoundary", 0, 1),
    ("highBoundary", 0, 1),
];

/// Checks that `name` is a function taking `count` arguments (the parser's semantic check).
pub(crate) fn check_arity(name: &str, count: usize) -> Result<(), String> {
    match FUNCTIONS.iter().find(|(known, ..)| *known == name) {
        None => Err(format!("unknown function `{name}()`")),
        Some((_, min, max)) if count < *min || count > *max => Err(format!(
            "`{name}()` takes {min} to {max} arguments, not {count}"
        )),
        Some(_) => Ok(()),
    }
}

/// What a call needs besides its input: the evaluator, arguments, caller scope and position.
pub(crate) struct Call<'c, 'a, 'e> {
    pub(crate) ev: &'c Evaluator<'a, 'e>,
    pub(crate) args: &'c [Expr],
    pub(crate) frame: &'c Frame<'c, 'a>,
    pub(crate) position: usize,
}

impl<'a> Call<'_, 'a, '_> {
    /// Argument `index`, evaluated in the caller's scope.
    pub(crate) fn arg(&self, index: usize) -> Evaluated<'a> {
        match self.args.get(index) {
            Some(arg) => self.ev.eval(arg, self.frame),
            None => Ok(Vec::new()),
        }
    }

    /// Argument `index` as at most one item.
    pub(crate) fn arg_single(&self, index: usize) -> Result<Option<Item<'a>>, EvalError> {
        let position = self
            .args
            .get(index)
            .map_or(self.position, |arg| arg.position);
        singleton(self.arg(index)?, position)
    }

    /// Argument `index` as a string (`None` when empty).
    pub(crate) fn arg_string(&self, index: usize) -> Result<Option<String>, EvalError> {
        match self.arg_single(index)? {
            None => Ok(None),
            Some(item) => item
                .to_system()
                .as_str()
                .map(|text| Some(text.to_owned()))
                .ok_or_else(|| self.type_error("expected a String argument")),
        }
    }

    /// Argument `index` as an integer (`None` when empty).
    pub(crate) fn arg_integer(&self, index: usize) -> Result<Option<i64>, EvalError> {
        match self.arg_single(index)?.map(|item| item.to_system()) {
            None => Ok(None),
            Some(FhirPathValue::Integer(value)) => Ok(Some(value)),
            Some(_) => Err(self.type_error("expected an Integer argument")),
        }
    }

    /// Argument `index` read as a type name (`Quantity`, `FHIR.string`).
    pub(crate) fn arg_type(&self, index: usize) -> Result<TypeSpecifier, EvalError> {
        let specifier = self.arg_type_unchecked(index)?;
        check_specifier(&specifier, self.position)?;
        Ok(specifier)
    }

    fn arg_type_unchecked(&self, index: usize) -> Result<TypeSpecifier, EvalError> {
        let arg = self
            .args
            .get(index)
            .ok_or_else(|| self.type_error("expected a type name"))?;
        match &arg.kind {
            ExprKind::Identifier(name) => Ok(TypeSpecifier {
                namespace: None,
                name: name.clone(),
            }),
            ExprKind::Member(base, name) => match &base.kind {
                ExprKind::Identifier(namespace) => Ok(TypeSpecifier {
                    namespace: Some(namespace.clone()),
                    name: name.clone(),
                }),
                _ => Err(self.type_error("expected a type name")),
            },
            _ => Err(self.type_error("expected a type name")),
        }
    }

    /// Evaluates argument `index` once per input item (`$this`, `$index` set).
    pub(crate) fn per_item(
        &self,
        index: usize,
        input: &[Item<'a>],
    ) -> Result<Vec<Collection<'a>>, EvalError> {
        let Some(arg) = self.args.get(index) else {
            return Ok(Vec::new());
        };
        input
            .iter()
            .enumerate()
            .map(|(at, item)| {
                let frame = Frame {
                    this: std::slice::from_ref(item),
                    index: Some(at),
                    total: None,
                };
                self.ev.eval(arg, &frame)
            })
            .collect()
    }

    /// A type error at the call.
    pub(crate) fn type_error(&self, message: &str) -> EvalError {
        EvalError::type_error(self.position, message)
    }

    /// The input as at most one item (an error when there are several).
    pub(crate) fn single(&self, input: Collection<'a>) -> Result<Option<Item<'a>>, EvalError> {
        singleton(input, self.position)
    }
}

/// Calls function `name` on `input`.
pub(crate) fn call<'a>(
    ev: &Evaluator<'a, '_>,
    name: &str,
    input: Collection<'a>,
    args: &[Expr],
    frame: &Frame<'_, 'a>,
    position: usize,
) -> Evaluated<'a> {
    let call = Call {
        ev,
        args,
        frame,
        position,
    };
    if let Some(result) = collections::call(&call, name, &input)? {
        return Ok(result);
    }
    if let Some(result) = conversion::call(&call, name, &input)? {
        return Ok(result);
    }
    if let Some(result) = boundary::call(&call, name, &input)? {
        return Ok(result);
    }
    if let Some(result) = strings::call(&call, name, &input)? {
        return Ok(result);
    }
    if let Some(result) = math::call(&call, name, &input)? {
        return Ok(result);
    }
    if let Some(result) = fhir::call(&call, name, input)? {
        return Ok(result);
    }
    Err(EvalError::semantic(
        position,
        format!("unknown function `{name}()`"),
    ))
}
