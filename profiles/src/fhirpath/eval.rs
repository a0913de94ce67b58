//! Evaluates an [`Expr`] over a JSON resource. Every step maps a collection to a collection
//! (FHIRPath's model): arrays are flattened as they are reached, missing elements give the empty
//! collection, and a JSON shape the step does not expect gives nothing rather than an error.

use serde_json::Value;

use super::ast::{Expr, Function, Logic};
use super::reference::literal_reference_parts;
use super::types::{choice_suffix_type, is_a, static_resource_type};

/// One item of a collection. `'e` is the expression's lifetime (literals), `'a` the resource's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'e, 'a> {
    /// A part of the resource, with its FHIR type when a choice suffix, `as`/`ofType` or
    /// `extension()` told it.
    Json {
        value: &'a Value,
        type_name: Option<&'static str>,
    },
    /// A computed boolean (`exists()`, `=`, `and`, …).
    Bool(bool),
    /// A string literal.
    Str(&'e str),
    /// A number literal.
    Number(f64),
    /// What `resolve()` stands for: the target, of which only the type is known.
    Target(Option<&'a str>),
}

type Items<'e, 'a> = Vec<Item<'e, 'a>>;

/// Evaluation state shared by every step.
pub(crate) struct Evaluator<'a> {
    /// The resource `%resource` names.
    resource: &'a Value,
    /// Its `resourceType`, looked up once: every type step of a multi-base parameter's union
    /// (thirty branches for `patient`) tests it.
    resource_type: Option<&'a str>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator over `resource`.
    pub(crate) fn new(resource: &'a Value) -> Evaluator<'a> {
        Evaluator {
            resource,
            resource_type: resource.get("resourceType").and_then(Value::as_str),
        }
    }

    /// The resource as an item (its type is found through [`Self::item_type`]).
    pub(crate) fn resource_item<'e>(&self) -> Item<'e, 'a> {
        Item::Json {
            value: self.resource,
            type_name: None,
        }
    }

    /// The collection `expr` yields with `focus` as its input (and `$this`).
    pub(crate) fn eval<'e>(&self, expr: &'e Expr, focus: &[Item<'e, 'a>]) -> Items<'e, 'a> {
        match expr {
            Expr::Empty => Vec::new(),
            Expr::Bool(value) => vec![Item::Bool(*value)],
            Expr::Str(value) => vec![Item::Str(value)],
            Expr::Number(value) => vec![Item::Number(*value)],
            Expr::This => focus.to_vec(),
            Expr::Resource => vec![self.resource_item()],
            Expr::Start(name) => self.start(focus, name),
            Expr::Child(base, name) => {
                let mut children = Vec::new();
                for item in self.eval(base, focus) {
                    if let Item::Json { value, .. } = item {
                        push_children(&mut children, value, name);
                    }
                }
                children
            }
            Expr::Call(base, function) => {
                let input = self.eval(base, focus);
                self.call(function, input)
            }
            Expr::Index(base, index) => {
                let input = self.eval(base, focus);
                match self.eval(index, focus).as_slice() {
                    [Item::Number(n)] if *n >= 0.0 && n.fract() == 0.0 => {
                        // Saturating float-to-int cast: an index past any real collection.
                        input.get(*n as usize).copied().into_iter().collect()
                    }
                    _ => Vec::new(),
                }
            }
            Expr::Union(branches) => {
                let mut items = Vec::new();
                for branch in branches {
                    for item in self.eval(branch, focus) {
                        if !items.iter().any(|seen| same_item(seen, &item)) {
                            items.push(item);
                        }
                    }
                }
                items
            }
            Expr::Equals {
                left,
                right,
                negated,
            } => {
                let left = self.eval(left, focus);
                let right = self.eval(right, focus);
                if left.is_empty() || right.is_empty() {
                    return Vec::new();
                }
                let equal = left.len() == right.len()
                    && left.iter().zip(&right).all(|(l, r)| items_equal(l, r));
                vec![Item::Bool(equal != *negated)]
            }
            Expr::Logic(operator, left, right) => {
                let left = truth(&self.eval(left, focus));
                let result = match (operator, left) {
                    (Logic::And, Some(false)) => Some(false),
                    (Logic::Or, Some(true)) => Some(true),
                    (Logic::Implies, Some(false)) => Some(true),
                    _ => {
                        let right = truth(&self.eval(right, focus));
                        combine(*operator, left, right)
                    }
                };
                result.map(Item::Bool).into_iter().collect()
            }
            Expr::Is(base, type_name) => match self.eval(base, focus).as_slice() {
                [item] => vec![Item::Bool(self.item_is(item, type_name))],
                _ => Vec::new(),
            },
            Expr::As(base, type_name) => self
                .eval(base, focus)
                .into_iter()
                .filter(|item| self.item_is(item, type_name))
                .map(with_known_type)
                .collect(),
        }
    }

    fn call<'e>(&self, function: &'e Function, input: Items<'e, 'a>) -> Items<'e, 'a> {
        match function {
            Function::Where(criteria) => input
                .into_iter()
                .filter(|item| self.holds(criteria, item))
                .collect(),
            Function::Exists(criteria) => {
                let exists = match criteria {
                    None => !input.is_empty(),
                    Some(criteria) => input.iter().any(|item| self.holds(criteria, item)),
                };
                vec![Item::Bool(exists)]
            }
            Function::Empty => vec![Item::Bool(input.is_empty())],
            Function::First => input.first().copied().into_iter().collect(),
            Function::Last => input.last().copied().into_iter().collect(),
            Function::Not => truth(&input).map(|b| Item::Bool(!b)).into_iter().collect(),
            Function::Extension(url) => {
                let mut extensions = Vec::new();
                for item in &input {
                    for extension in extensions_with_url(item, url) {
                        extensions.push(Item::Json {
                            value: extension,
                            type_name: Some("Extension"),
                        });
                    }
                }
                extensions
            }
            Function::HasExtension(url) => {
                let has = input
                    .iter()
                    .any(|item| extensions_with_url(item, url).next().is_some());
                vec![Item::Bool(has)]
            }
            Function::Resolve => input.iter().filter_map(resolve).collect(),
        }
    }

    /// Whether `criteria`, evaluated with `item` as `$this`, is true.
    fn holds<'e>(&self, criteria: &'e Expr, item: &Item<'e, 'a>) -> bool {
        truth(&self.eval(criteria, std::slice::from_ref(item))) == Some(true)
    }

    /// A path's first identifier: upper-case names filter the focus by type (`Patient.name` is
    /// empty on an Observation), others are children.
    fn start<'e>(&self, focus: &[Item<'e, 'a>], name: &str) -> Items<'e, 'a> {
        let mut items = Vec::new();
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            items.extend(
                focus
                    .iter()
                    .filter(|item| self.item_is(item, name))
                    .copied(),
            );
        } else {
            for item in focus {
                if let Item::Json { value, .. } = item {
                    push_children(&mut items, value, name);
                }
            }
        }
        items
    }

    /// The item's type as far as it is known without a model: its recorded type, a resource's
    /// `resourceType`, a JSON boolean, a literal, a `resolve()` target.
    fn item_type(&self, item: &Item<'_, 'a>) -> Option<&'a str> {
        match item {
            Item::Json {
                type_name: Some(type_name),
                ..
            } => Some(type_name),
            Item::Json { value, .. } if std::ptr::eq(*value, self.resource) => self.resource_type,
            Item::Json { value, .. } => match value {
                Value::Object(object) => object.get("resourceType").and_then(Value::as_str),
                Value::Bool(_) => Some("boolean"),
                _ => None,
            },
            Item::Bool(_) => Some("boolean"),
            Item::Str(_) => Some("string"),
            Item::Number(_) => Some("decimal"),
            Item::Target(target_type) => *target_type,
        }
    }

    fn item_is(&self, item: &Item<'_, 'a>, wanted: &str) -> bool {
        self.item_type(item)
            .is_some_and(|actual| is_a(actual, wanted))
    }
}

/// A resource as an item typed by its `resourceType` (when that is an R4 type), for nodes an
/// `as` selected.
fn typed_resource_item<'e, 'a>(resource: &'a Value) -> Item<'e, 'a> {
    Item::Json {
        value: resource,
        type_name: resource
            .get("resourceType")
            .and_then(Value::as_str)
            .and_then(static_resource_type),
    }
}

/// Appends `value.name`, flattened. When there is no element `name`, a choice element
/// `name<Type>` (`valueQuantity` for `value`) is taken, typed by its suffix.
///
/// One linear pass instead of a hash lookup: FHIR objects are small, a missing element (the
/// common case across a type's parameters) needs the pass for choices anyway, and comparing
/// first bytes skips nearly every key without a `memcmp`.
fn push_children<'e, 'a>(items: &mut Items<'e, 'a>, value: &'a Value, name: &str) {
    let Value::Object(object) = value else {
        return;
    };
    let first = name.as_bytes().first();
    let mut choice = None;
    for (key, child) in object {
        if key.as_bytes().first() != first {
            continue;
        }
        if key == name {
            return push_flattened(items, child, None);
        }
        if choice.is_none() {
            choice = key
                .strip_prefix(name)
                .filter(|suffix| suffix.starts_with(|c: char| c.is_ascii_uppercase()))
                .and_then(choice_suffix_type)
                .map(|type_name| (child, type_name));
        }
    }
    if let Some((child, type_name)) = choice {
        push_flattened(items, child, Some(type_name));
    }
}

fn push_flattened<'e, 'a>(
    items: &mut Items<'e, 'a>,
    value: &'a Value,
    type_name: Option<&'static str>,
) {
    match value {
        Value::Null => {}
        Value::Array(elements) => items.extend(
            elements
                .iter()
                .filter(|element| !element.is_null())
                .map(|element| Item::Json {
                    value: element,
                    type_name,
                }),
        ),
        _ => items.push(Item::Json { value, type_name }),
    }
}

/// Records a resource's type on an item that matched a type test without one.
fn with_known_type<'e, 'a>(item: Item<'e, 'a>) -> Item<'e, 'a> {
    match item {
        Item::Json {
            value,
            type_name: None,
        } if value.is_object() => typed_resource_item(value),
        other => other,
    }
}

fn resolve<'e, 'a>(item: &Item<'e, 'a>) -> Option<Item<'e, 'a>> {
    let Item::Json { value, .. } = item else {
        return None;
    };
    let reference = match value {
        Value::Object(object) => object.get("reference")?.as_str()?,
        Value::String(canonical) => canonical,
        _ => return None,
    };
    Some(Item::Target(
        literal_reference_parts(reference).map(|(target_type, _)| target_type),
    ))
}

fn extensions_with_url<'a, 'u>(
    item: &Item<'_, 'a>,
    url: &'u str,
) -> impl Iterator<Item = &'a Value> + 'u
where
    'a: 'u,
{
    let extensions = match item {
        Item::Json { value, .. } => value.get("extension").and_then(Value::as_array),
        _ => None,
    };
    extensions
        .into_iter()
        .flatten()
        .filter(move |extension| extension.get("url").and_then(Value::as_str) == Some(url))
}

/// FHIRPath singleton evaluation of a collection as a boolean: empty is unknown, one boolean is
/// itself, one other item is true, several are unknown (an error in full FHIRPath).
pub(crate) fn truth(items: &[Item<'_, '_>]) -> Option<bool> {
    match items {
        [] => None,
        [Item::Bool(value)]
        | [Item::Json {
            value: Value::Bool(value),
            ..
        }] => Some(*value),
        [_] => Some(true),
        _ => None,
    }
}

/// Three-valued logic, FHIRPath N1 §6.5.
fn combine(operator: Logic, left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match operator {
        Logic::And => match (left, right) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Logic::Or => match (left, right) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Logic::Xor => Some(left? != right?),
        Logic::Implies => match (left, right) {
            (Some(false), _) | (_, Some(true)) => Some(true),
            (Some(true), right) => right,
            (None, _) => None,
        },
    }
}

/// FHIRPath `=` on two items: same value of comparable types; different types are unequal.
fn items_equal(left: &Item<'_, '_>, right: &Item<'_, '_>) -> bool {
    match (scalar(left), scalar(right)) {
        (Some(left), Some(right)) => left == right,
        _ => match (left, right) {
            (Item::Json { value: l, .. }, Item::Json { value: r, .. }) => l == r,
            _ => false,
        },
    }
}

#[derive(PartialEq)]
enum Scalar<'s> {
    Bool(bool),
    Str(&'s str),
    Number(f64),
}

fn scalar<'s>(item: &Item<'s, 's>) -> Option<Scalar<'s>> {
    match item {
        Item::Bool(value) => Some(Scalar::Bool(*value)),
        Item::Str(value) => Some(Scalar::Str(value)),
        Item::Number(value) => Some(Scalar::Number(*value)),
        Item::Json { value, .. } => match value {
            Value::Bool(value) => Some(Scalar::Bool(*value)),
            Value::String(value) => Some(Scalar::Str(value)),
            Value::Number(number) => number.as_f64().map(Scalar::Number),
            _ => None,
        },
        Item::Target(_) => None,
    }
}

/// Union's duplicate test: the same part of the resource (by address) or the same value.
fn same_item(left: &Item<'_, '_>, right: &Item<'_, '_>) -> bool {
    match (left, right) {
        (Item::Json { value: l, .. }, Item::Json { value: r, .. }) => std::ptr::eq(*l, *r),
        (Item::Json { .. }, _) | (_, Item::Json { .. }) => false,
        _ => left == right,
    }
}
