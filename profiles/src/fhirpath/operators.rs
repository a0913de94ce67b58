//! The binary and unary operators: logic (three-valued), union, equality and equivalence,
//! comparison, membership, and arithmetic on numbers, strings, quantities and dates.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::ast::{BinaryOp, Expr, ExprKind};
use super::compare::{compare, equals, equivalent};
use super::error::EvalError;
use super::eval::{singleton, truth, Collection, Evaluated, Evaluator, Frame, Item};
use super::quantity::Quantity;
use super::temporal::DurationUnit;
use super::value::FhirPathValue as V;

/// Evaluates `left op right`.
pub(crate) fn binary<'a>(
    ev: &Evaluator<'a, '_>,
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    frame: &Frame<'_, 'a>,
    position: usize,
) -> Evaluated<'a> {
    match op {
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::Implies => {
            let l = truth(&ev.eval(left, frame)?, left.position)?;
            let short = match (op, l) {
                (BinaryOp::And, Some(false)) => Some(Some(false)),
                (BinaryOp::Or, Some(true)) => Some(Some(true)),
                (BinaryOp::Implies, Some(false)) => Some(Some(true)),
                _ => None,
            };
            let result = match short {
                Some(result) => result,
                None => {
                    let r = truth(&ev.eval(right, frame)?, right.position)?;
                    logic(op, l, r)
                }
            };
            Ok(result.map(V::Boolean).into_iter().collect())
        }
        BinaryOp::Union => {
            // Walk the left spine of `a | b | c` iteratively.
            let mut branches = vec![right];
            let mut current = left;
            while let ExprKind::Binary(BinaryOp::Union, l, r) = &current.kind {
                branches.push(r);
                current = l;
            }
            branches.push(current);
            let mut out = Vec::new();
            for branch in branches.into_iter().rev() {
                union_into(&mut out, ev.eval(branch, frame)?);
            }
            Ok(out)
        }
        _ => {
            let l = ev.eval(left, frame)?;
            let r = ev.eval(right, frame)?;
            apply(op, l, r, position, left.position, right.position)
        }
    }
}

/// Adds the items of `items` that are not already in `out` (by `=`).
pub(crate) fn union_into<'a>(out: &mut Collection<'a>, items: Collection<'a>) {
    for item in items {
        if !out.iter().any(|seen| same(seen, &item)) {
            out.push(item);
        }
    }
}

/// Duplicate test for union/distinct: the same node, or equal values.
pub(crate) fn same(left: &Item<'_>, right: &Item<'_>) -> bool {
    if let (V::Node(l), V::Node(r)) = (left, right) {
        let same_value = match (l.value, r.value) {
            (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        return same_value && l.element == r.element;
    }
    equals(left, right) == Some(true)
}

fn logic(op: BinaryOp, left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match op {
        BinaryOp::And => match (left, right) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinaryOp::Or => match (left, right) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinaryOp::Xor => Some(left? != right?),
        _ => match (left, right) {
            (Some(false), _) | (_, Some(true)) => Some(true),
            (Some(true), right) => right,
            (None, _) => None,
        },
    }
}

/// `=` over collections: empty when either is empty, item by item in order.
pub(crate) fn collections_equal(left: &[Item<'_>], right: &[Item<'_>]) -> Option<bool> {
    if left.is_empty() || right.is_empty() {
        return None;
    }
    if left.len() != right.len() {
        return Some(false);
    }
    let mut result = Some(true);
    for (l, r) in left.iter().zip(right) {
        match equals(l, r) {
            Some(true) => {}
            Some(false) => return Some(false),
            None => result = None,
        }
    }
    result
}

/// `~` over collections: order ignored, empty ~ empty.
fn collections_equivalent(left: &[Item<'_>], right: &[Item<'_>]) -> bool {
    left.len() == right.len()
        && left.iter().all(|l| right.iter().any(|r| equivalent(l, r)))
        && right.iter().all(|r| left.iter().any(|l| equivalent(l, r)))
}

/// Applies a non-logic operator to evaluated operands.
pub(crate) fn apply<'a>(
    op: BinaryOp,
    l: Collection<'a>,
    r: Collection<'a>,
    position: usize,
    left_position: usize,
    right_position: usize,
) -> Evaluated<'a> {
    let boolean = |value: Option<bool>| Ok(value.map(V::Boolean).into_iter().collect());
    match op {
        BinaryOp::Equal => boolean(collections_equal(&l, &r)),
        BinaryOp::NotEqual => boolean(collections_equal(&l, &r).map(|b| !b)),
        BinaryOp::Equivalent => boolean(Some(collections_equivalent(&l, &r))),
        BinaryOp::NotEquivalent => boolean(Some(!collections_equivalent(&l, &r))),
        BinaryOp::In | BinaryOp::Contains => {
            let (element, collection, element_position) = if op == BinaryOp::In {
                (l, r, left_position)
            } else {
                (r, l, right_position)
            };
            match singleton(element, element_position)? {
                None => Ok(Vec::new()),
                Some(item) => boolean(Some(
                    collection.iter().any(|x| equals(&item, x) == Some(true)),
                )),
            }
        }
        BinaryOp::Less | BinaryOp::Greater | BinaryOp::LessOrEqual | BinaryOp::GreaterOrEqual => {
            let (Some(a), Some(b)) = (singleton(l, left_position)?, singleton(r, right_position)?)
            else {
                return Ok(Vec::new());
            };
            let order = compare(&a, &b)
                .map_err(|()| EvalError::type_error(position, "operands cannot be compared"))?;
            boolean(order.map(|order| match op {
                BinaryOp::Less => order.is_lt(),
                BinaryOp::Greater => order.is_gt(),
                BinaryOp::LessOrEqual => order.is_le(),
                _ => order.is_ge(),
            }))
        }
        BinaryOp::Concatenate => {
            let text = |c: Collection<'_>, at: usize| -> Result<String, EvalError> {
                Ok(match singleton(c, at)? {
                    None => String::new(),
                    Some(item) => item
                        .to_system()
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| EvalError::type_error(at, "`&` needs strings"))?,
                })
            };
            Ok(vec![V::String(
                text(l, left_position)? + &text(r, right_position)?,
            )])
        }
        _ => {
            let (Some(a), Some(b)) = (singleton(l, left_position)?, singleton(r, right_position)?)
            else {
                return Ok(Vec::new());
            };
            arithmetic(op, &a.to_system(), &b.to_system(), position)
                .map(|result| result.into_iter().collect())
        }
    }
}

fn as_decimal(value: &V<'_>) -> Option<Decimal> {
    match value {
        V::Integer(integer) => Some(Decimal::from(*integer)),
        V::Decimal(decimal) => Some(*decimal),
        _ => None,
    }
}

/// A number as a unit-less quantity, for quantity arithmetic.
fn as_quantity(value: &V<'_>) -> Option<Quantity> {
    match value {
        V::Quantity(quantity) => Some(quantity.clone()),
        other => as_decimal(other).map(|value| Quantity {
            value,
            unit: "1".to_owned(),
        }),
    }
}

/// A duration as a whole count (truncated) of a calendar unit.
fn duration(quantity: &Quantity) -> Option<(i64, DurationUnit)> {
    let unit = DurationUnit::from_unit(&quantity.unit)?;
    Some((quantity.value.trunc().to_i64()?, unit))
}

/// Arithmetic on two System values: `Ok(None)` for an empty result (division by zero,
/// overflow), an error for operand types the operator does not take.
fn arithmetic<'a>(
    op: BinaryOp,
    a: &V<'a>,
    b: &V<'a>,
    position: usize,
) -> Result<Option<V<'a>>, EvalError> {
    let mismatch = || EvalError::type_error(position, "operand types do not fit the operator");
    Ok(match (op, a, b) {
        (BinaryOp::Add, V::String(x), V::String(y)) => Some(V::String(format!("{x}{y}"))),
        (BinaryOp::Add | BinaryOp::Subtract, V::Date(d) | V::DateTime(d), V::Quantity(q)) => {
            let (amount, unit) = duration(q).ok_or_else(mismatch)?;
            let amount = if op == BinaryOp::Subtract {
                amount.checked_neg()
            } else {
                Some(amount)
            };
            let shifted = amount.and_then(|amount| d.add(amount, unit));
            shifted.map(|value| {
                if matches!(a, V::Date(_)) {
                    V::Date(value)
                } else {
                    V::DateTime(value)
                }
            })
        }
        (BinaryOp::Add | BinaryOp::Subtract, V::Time(t), V::Quantity(q)) => {
            let (amount, unit) = duration(q).ok_or_else(mismatch)?;
            let amount = if op == BinaryOp::Subtract {
                amount.checked_neg()
            } else {
                Some(amount)
            };
            amount.and_then(|amount| t.add(amount, unit)).map(V::Time)
        }
        (_, V::Integer(x), V::Integer(y)) => match op {
            BinaryOp::Add => x.checked_add(*y).map(V::Integer),
            BinaryOp::Subtract => x.checked_sub(*y).map(V::Integer),
            BinaryOp::Multiply => x.checked_mul(*y).map(V::Integer),
            BinaryOp::Div => x.checked_div(*y).map(V::Integer),
            BinaryOp::Mod => x.checked_rem(*y).map(V::Integer),
            _ => Decimal::from(*x)
                .checked_div(Decimal::from(*y))
                .map(|d| V::Decimal(d.normalize())),
        },
        (_, V::Quantity(_), _) | (_, _, V::Quantity(_)) => {
            let (Some(x), Some(y)) = (as_quantity(a), as_quantity(b)) else {
                return Err(mismatch());
            };
            match op {
                BinaryOp::Add | BinaryOp::Subtract => {
                    let y = y.convert_to(&x.unit).ok_or_else(mismatch)?;
                    let value = if op == BinaryOp::Add {
                        x.value.checked_add(y.value)
                    } else {
                        x.value.checked_sub(y.value)
                    };
                    value.map(|value| {
                        V::Quantity(Quantity {
                            value,
                            unit: x.unit,
                        })
                    })
                }
                BinaryOp::Multiply => x.multiply(&y).map(V::Quantity),
                BinaryOp::Divide => x.divide(&y).map(V::Quantity),
                _ => return Err(mismatch()),
            }
        }
        _ => {
            let (Some(x), Some(y)) = (as_decimal(a), as_decimal(b)) else {
                return Err(mismatch());
            };
            match op {
                BinaryOp::Add => x.checked_add(y).map(V::Decimal),
                BinaryOp::Subtract => x.checked_sub(y).map(V::Decimal),
                BinaryOp::Multiply => x.checked_mul(y).map(V::Decimal),
                BinaryOp::Divide => x.checked_div(y).map(|d| V::Decimal(d.normalize())),
                BinaryOp::Div => x
                    .checked_div(y)
                    .and_then(|d| d.trunc().to_i64())
                    .map(V::Integer),
                BinaryOp::Mod => x.checked_rem(y).map(V::Decimal),
                _ => return Err(mismatch()),
            }
        }
    })
}

/// Unary minus.
pub(crate) fn negate(operand: Collection<'_>, position: usize) -> Evaluated<'_> {
    let Some(item) = singleton(operand, position)? else {
        return Ok(Vec::new());
    };
    let negated = match item.to_system() {
        V::Integer(value) => value.checked_neg().map(V::Integer),
        V::Decimal(value) => Some(V::Decimal(-value)),
        V::Quantity(quantity) => Some(V::Quantity(Quantity {
            value: -quantity.value,
            unit: quantity.unit,
        })),
        _ => {
            return Err(EvalError::type_error(
                position,
                "only numbers can be negated",
            ))
        }
    };
    Ok(negated.into_iter().collect())
}
