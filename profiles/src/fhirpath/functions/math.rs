//! Math functions. Exact where the result is exact (abs, ceiling, floor, round, truncate,
//! integer powers); through `f64` for exp, ln, log, sqrt and fractional powers.

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use super::super::error::EvalError;
use super::super::eval::{Collection, Item};
use super::super::quantity::Quantity;
use super::super::value::FhirPathValue as V;
use super::Call;

fn from_f64(value: f64) -> Option<V<'static>> {
    value
        .is_finite()
        .then(|| Decimal::from_f64(value))
        .flatten()
        .map(|d| V::Decimal(d.normalize()))
}

fn as_f64(value: &V<'_>) -> Option<f64> {
    match value {
        V::Integer(integer) => integer.to_f64(),
        V::Decimal(decimal) => decimal.to_f64(),
        _ => None,
    }
}

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: &[Item<'a>],
) -> Result<Option<Collection<'a>>, EvalError> {
    if !matches!(
        name,
        "abs"
            | "ceiling"
            | "exp"
            | "floor"
            | "ln"
            | "log"
            | "power"
            | "round"
            | "sqrt"
            | "truncate"
    ) {
        return Ok(None);
    }
    let Some(item) = call.single(input.to_vec())? else {
        return Ok(Some(Vec::new()));
    };
    let value = item.to_system();
    if !matches!(value, V::Integer(_) | V::Decimal(_) | V::Quantity(_)) {
        return Err(call.type_error("expected a number"));
    }
    let to_integer = |d: Decimal| d.to_i64().map(V::Integer);
    let result = match (name, &value) {
        ("abs", V::Integer(i)) => i.checked_abs().map(V::Integer),
        ("abs", V::Decimal(d)) => Some(V::Decimal(d.abs())),
        ("abs", V::Quantity(q)) => Some(V::Quantity(Quantity {
            value: q.value.abs(),
            unit: q.unit.clone(),
        })),
        (_, V::Quantity(_)) => return Err(call.type_error("expected a number")),
        ("ceiling", V::Integer(i)) | ("floor", V::Integer(i)) | ("truncate", V::Integer(i)) => {
            Some(V::Integer(*i))
        }
        ("ceiling", V::Decimal(d)) => to_integer(d.ceil()),
        ("floor", V::Decimal(d)) => to_integer(d.floor()),
        ("truncate", V::Decimal(d)) => to_integer(d.trunc()),
        ("round", _) => {
            let precision = call.arg_integer(0)?.unwrap_or(0);
            let places = u32::try_from(precision)
                .map_err(|_| call.type_error("round() needs a precision of 0 or more"))?;
            let decimal = match value {
                V::Integer(i) => Decimal::from(i),
                V::Decimal(d) => d,
                _ => Decimal::ZERO,
            };
            Some(V::Decimal(decimal.round_dp_with_strategy(
                places,
                RoundingStrategy::MidpointAwayFromZero,
            )))
        }
        ("exp", _) => as_f64(&value).and_then(|x| from_f64(x.exp())),
        ("ln", _) => as_f64(&value)
            .filter(|x| *x > 0.0)
            .and_then(|x| from_f64(x.ln())),
        ("sqrt", _) => as_f64(&value)
            .filter(|x| *x >= 0.0)
            .and_then(|x| from_f64(x.sqrt())),
        ("log", _) => {
            let base = call.arg_single(0)?.map(|b| b.to_system());
            match (as_f64(&value), base.as_ref().and_then(as_f64)) {
                (Some(x), Some(base)) if x > 0.0 && base > 0.0 && base != 1.0 => {
                    from_f64(x.ln() / base.ln())
                }
                _ => None,
            }
        }
        ("power", _) => {
            let exponent = call.arg_single(0)?.map(|e| e.to_system());
            match (&value, &exponent) {
                (V::Integer(base), Some(V::Integer(exponent))) if *exponent >= 0 => {
                    u32::try_from(*exponent)
                        .ok()
                        .and_then(|e| base.checked_pow(e))
                        .map(V::Integer)
                }
                (_, Some(exponent)) => match (as_f64(&value), as_f64(exponent)) {
                    (Some(x), Some(y)) => {
                        let result = x.powf(y);
                        if result.is_nan() {
                            None
                        } else {
                            from_f64(result)
                        }
                    }
                    _ => None,
                },
                (_, None) => None,
            }
        }
        _ => None,
    };
    Ok(Some(result.into_iter().collect()))
}
