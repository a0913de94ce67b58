//! Existence, filtering and projection, subsetting, combining, `iif`, `aggregate` and `not`.

use std::cmp::Ordering;

use super::super::ast::ExprKind;
use super::super::compare::{compare, equals};
use super::super::error::EvalError;
use super::super::eval::{filter_type, truth, Collection, Frame, Item};
use super::super::operators::{same, union_into};
use super::super::types::TypeTest;
use super::super::value::FhirPathValue;
use super::Call;

/// Most items `repeat()` and `descendants()` collect before giving up.
pub(crate) const MAX_REPEAT_ITEMS: usize = 100_000;

fn boolean<'a>(value: bool) -> Option<Collection<'a>> {
    Some(vec![FhirPathValue::Boolean(value)])
}

fn contains(collection: &[Item<'_>], item: &Item<'_>) -> bool {
    collection
        .iter()
        .any(|other| equals(item, other) == Some(true))
}

/// The input's items as Booleans (an error for other items).
fn booleans(call: &Call<'_, '_, '_>, input: &[Item<'_>]) -> Result<Vec<bool>, EvalError> {
    input
        .iter()
        .map(|item| match item.to_system() {
            FhirPathValue::Boolean(value) => Ok(value),
            _ => Err(call.type_error("expected Booleans")),
        })
        .collect()
}

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: &[Item<'a>],
) -> Result<Option<Collection<'a>>, EvalError> {
    Ok(match name {
        "empty" => boolean(input.is_empty()),
        "exists" => {
            if call.args.is_empty() {
                boolean(!input.is_empty())
            } else {
                boolean(!filter(call, input)?.is_empty())
            }
        }
        "all" => {
            let results = call.per_item(0, input)?;
            let mut all = true;
            for result in &results {
                if truth(result, call.position)? != Some(true) {
                    all = false;
                }
            }
            boolean(all)
        }
        "allTrue" => boolean(booleans(call, input)?.iter().all(|b| *b)),
        "anyTrue" => boolean(booleans(call, input)?.iter().any(|b| *b)),
        "allFalse" => boolean(booleans(call, input)?.iter().all(|b| !*b)),
        "anyFalse" => boolean(booleans(call, input)?.iter().any(|b| !*b)),
        "subsetOf" => {
            let other = call.arg(0)?;
            boolean(input.iter().all(|item| contains(&other, item)))
        }
        "supersetOf" => {
            let other = call.arg(0)?;
            boolean(other.iter().all(|item| contains(input, item)))
        }
        "count" => Some(vec![FhirPathValue::Integer(
            i64::try_from(input.len()).unwrap_or(i64::MAX),
        )]),
        "distinct" => {
            let mut out = Vec::new();
            union_into(&mut out, input.to_vec());
            Some(out)
        }
        "isDistinct" => {
            let mut out = Vec::new();
            union_into(&mut out, input.to_vec());
            boolean(out.len() == input.len())
        }
        "where" => Some(filter(call, input)?),
        "select" => Some(call.per_item(0, input)?.into_iter().flatten().collect()),
        "repeat" => Some(repeat(call, input)?),
        "ofType" => Some(filter_type(
            input.to_vec(),
            &call.arg_type(0)?,
            TypeTest::As,
        )),
        "single" => Some(call.single(input.to_vec())?.into_iter().collect()),
        "first" => Some(input.first().cloned().into_iter().collect()),
        "last" => Some(input.last().cloned().into_iter().collect()),
        "tail" => Some(input.iter().skip(1).cloned().collect()),
        "skip" => {
            let count = call.arg_integer(0)?.unwrap_or(0);
            let count = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
            Some(input.iter().skip(count).cloned().collect())
        }
        "take" => {
            let count = call.arg_integer(0)?.unwrap_or(0);
            let count = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
            Some(input.iter().take(count).cloned().collect())
        }
        "intersect" => {
            let other = call.arg(0)?;
            let mut out: Collection<'a> = Vec::new();
            for item in input {
                if contains(&other, item) && !out.iter().any(|seen| same(seen, item)) {
                    out.push(item.clone());
                }
            }
            Some(out)
        }
        "exclude" => {
            let other = call.arg(0)?;
            Some(
                input
                    .iter()
                    .filter(|item| !contains(&other, item))
                    .cloned()
                    .collect(),
            )
        }
        "union" => {
            let mut out = Vec::new();
            union_into(&mut out, input.to_vec());
            union_into(&mut out, call.arg(0)?);
            Some(out)
        }
        "combine" => {
            let mut out = input.to_vec();
            out.extend(call.arg(0)?);
            Some(out)
        }
        "iif" => Some(iif(call, input)?),
        "sort" => Some(sort(call, input)?),
        "aggregate" => Some(aggregate(call, input)?),
        "not" => match truth(input, call.position)? {
            None => Some(Vec::new()),
            Some(value) => boolean(!value),
        },
        _ => None,
    })
}

/// `where(criteria)`.
fn filter<'a>(call: &Call<'_, 'a, '_>, input: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    let results = call.per_item(0, input)?;
    let mut out = Vec::new();
    for (item, result) in input.iter().zip(&results) {
        let position = call.args.first().map_or(call.position, |arg| arg.position);
        if truth(result, position)? == Some(true) {
            out.push(item.clone());
        }
    }
    Ok(out)
}

/// `repeat(projection)`: the projection applied again to what it yields, new items only.
fn repeat<'a>(call: &Call<'_, 'a, '_>, input: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    let mut out: Collection<'a> = Vec::new();
    let mut pending: Collection<'a> = input.to_vec();
    while !pending.is_empty() {
        let mut next = Vec::new();
        for result in call.per_item(0, &pending)? {
            for item in result {
                if !out.iter().any(|seen| same(seen, &item)) {
                    out.push(item.clone());
                    next.push(item);
                }
            }
        }
        if out.len() > MAX_REPEAT_ITEMS {
            return Err(EvalError::Limit {
                position: call.position,
            });
        }
        pending = next;
    }
    Ok(out)
}

/// `iif(criterion, true-result [, otherwise-result])`: results evaluated only when chosen.
fn iif<'a>(call: &Call<'_, 'a, '_>, input: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    if input.len() > 1 {
        return Err(EvalError::NotSingleton {
            position: call.position,
            count: input.len(),
        });
    }
    let frame = Frame {
        this: input,
        index: call.frame.index,
        total: call.frame.total,
    };
    let evaluate = |index: usize| match call.args.get(index) {
        Some(arg) => call.ev.eval(arg, &frame),
        None => Ok(Vec::new()),
    };
    let criterion = evaluate(0)?;
    let position = call.args.first().map_or(call.position, |arg| arg.position);
    let chosen = match criterion.as_slice() {
        [] => false,
        [item] => match item.to_system() {
            FhirPathValue::Boolean(value) => value,
            _ => return Err(call.type_error("iif() needs a Boolean criterion")),
        },
        _ => {
            return Err(EvalError::NotSingleton {
                position,
                count: criterion.len(),
            })
        }
    };
    evaluate(if chosen { 1 } else { 2 })
}

/// `sort([key, …])`: by the items themselves, or by keys (`-key` descending); items without
/// a key last (first when descending), incomparable keys left in order.
fn sort<'a>(call: &Call<'_, 'a, '_>, input: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    let mut keyed = Vec::with_capacity(input.len());
    for (at, item) in input.iter().enumerate() {
        let mut keys = Vec::new();
        if call.args.is_empty() {
            keys.push((Some(item.clone()), false));
        }
        for arg in call.args {
            let (expr, descending) = match &arg.kind {
                ExprKind::Negate(inner) => (&**inner, true),
                _ => (arg, false),
            };
            let frame = Frame {
                this: std::slice::from_ref(item),
                index: Some(at),
                total: None,
            };
            let key = call.ev.eval(expr, &frame)?.into_iter().next();
            keys.push((key, descending));
        }
        keyed.push((keys, item.clone()));
    }
    keyed.sort_by(|(left, _), (right, _)| {
        for ((l, descending), (r, _)) in left.iter().zip(right) {
            let order = match (l, r) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(l), Some(r)) => compare(l, r).ok().flatten().unwrap_or(Ordering::Equal),
            };
            let order = if *descending { order.reverse() } else { order };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// `aggregate(aggregator [, init])`: `$total` carried from item to item.
fn aggregate<'a>(call: &Call<'_, 'a, '_>, input: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    let mut total = call.arg(1)?;
    let Some(aggregator) = call.args.first() else {
        return Ok(total);
    };
    for (at, item) in input.iter().enumerate() {
        let frame = Frame {
            this: std::slice::from_ref(item),
            index: Some(at),
            total: Some(&total),
        };
        total = call.ev.eval(aggregator, &frame)?;
    }
    Ok(total)
}
