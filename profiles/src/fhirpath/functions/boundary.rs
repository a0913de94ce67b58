//! `precision()`, `lowBoundary()` and `highBoundary()` (FHIRPath 2.1.0): the digits a value
//! was given to, and the least/greatest value it may stand for at a wanted precision.

use rust_decimal::{Decimal, RoundingStrategy};

use super::super::error::EvalError;
use super::super::eval::{Collection, Item};
use super::super::quantity::Quantity;
use super::super::temporal::{DateTimeValue, TimeValue};
use super::super::value::FhirPathValue as V;
use super::Call;

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: &[Item<'a>],
) -> Result<Option<Collection<'a>>, EvalError> {
    if !matches!(
        name,
        "precision" | "lowBoundary" | "highBoundary" | "comparable"
    ) {
        return Ok(None);
    }
    let Some(item) = call.single(input.to_vec())? else {
        return Ok(Some(Vec::new()));
    };
    let value = item.to_system();
    if name == "comparable" {
        let other = call.arg_single(0)?.map(|other| other.to_system());
        return Ok(Some(match (&value, other) {
            (V::Quantity(left), Some(V::Quantity(right))) => {
                vec![V::Boolean(left.comparable(&right))]
            }
            _ => Vec::new(),
        }));
    }
    if name == "precision" {
        let digits = match &value {
            V::Integer(_) => Some(0),
            V::Decimal(d) => Some(d.scale()),
            V::Date(d) | V::DateTime(d) => Some(date_digits(d)),
            V::Time(t) => Some(time_digits(t)),
            _ => None,
        };
        return Ok(Some(
            digits
                .map(|d| V::Integer(i64::from(d)))
                .into_iter()
                .collect(),
        ));
    }
    let high = name == "highBoundary";
    let precision = call.arg_integer(0)?;
    let result = match value {
        V::Integer(i) => decimal_boundary(Decimal::from(i), precision, high).map(V::Decimal),
        V::Decimal(d) => decimal_boundary(d, precision, high).map(V::Decimal),
        V::Quantity(q) => decimal_boundary(q.value, precision, high).map(|value| {
            V::Quantity(Quantity {
                value,
                unit: q.unit,
            })
        }),
        V::Date(d) => date_boundary(&d, precision.unwrap_or(8), high).map(V::Date),
        V::DateTime(d) => date_boundary(&d, precision.unwrap_or(17), high).map(V::DateTime),
        V::Time(t) => time_boundary(&t, precision.unwrap_or(9), high).map(V::Time),
        _ => None,
    };
    Ok(Some(result.into_iter().collect()))
}

fn date_digits(value: &DateTimeValue) -> u32 {
    if value.millis.is_some() {
        17
    } else if value.second.is_some() {
        14
    } else if value.minute.is_some() {
        12
    } else if value.hour.is_some() {
        10
    } else if value.day.is_some() {
        8
    } else if value.month.is_some() {
        6
    } else {
        4
    }
}

fn time_digits(value: &TimeValue) -> u32 {
    if value.millis.is_some() {
        9
    } else if value.second.is_some() {
        6
    } else if value.minute.is_some() {
        4
    } else {
        2
    }
}

/// The value minus (plus) half a unit of its last digit, cut to `precision` digits (8 by
/// default) towards minus (plus) infinity.
fn decimal_boundary(value: Decimal, precision: Option<i64>, high: bool) -> Option<Decimal> {
    let precision = u32::try_from(precision.unwrap_or(8))
        .ok()
        .filter(|p| *p <= 28)?;
    let half = Decimal::new(5, value.scale().checked_add(1)?);
    let bound = if high {
        value.checked_add(half)?
    } else {
        value.checked_sub(half)?
    };
    let unit = Decimal::new(1, precision);
    if value.abs() < unit && !value.is_zero() {
        let mut zero = Decimal::new(0, precision);
        zero.set_sign_negative(value.is_sign_negative());
        return Some(zero);
    }
    let strategy = if high {
        RoundingStrategy::ToPositiveInfinity
    } else {
        RoundingStrategy::ToNegativeInfinity
    };
    let mut result = bound.round_dp_with_strategy(precision, strategy);
    result.rescale(precision);
    Some(result)
}

/// The earliest (latest) date-time at `digits` precision (4 year … 17 milliseconds).
fn date_boundary(value: &DateTimeValue, digits: i64, high: bool) -> Option<DateTimeValue> {
    if !matches!(digits, 4 | 6 | 8 | 10 | 12 | 14 | 17) {
        return None;
    }
    let month = value.month.unwrap_or(if high { 12 } else { 1 });
    let last_day = DateTimeValue::parse(&format!("{:04}-{month:02}-01", value.year))
        .and_then(|first| first.add(1, super::super::temporal::DurationUnit::Month))
        .and_then(|next| next.add(-1, super::super::temporal::DurationUnit::Day))
        .and_then(|last| last.day)
        .unwrap_or(28);
    // An hour without minutes stands for hh:00.
    let minute_default = if value.hour.is_some() {
        0
    } else if high {
        59
    } else {
        0
    };
    let full = DateTimeValue {
        year: value.year,
        month: Some(month),
        day: Some(value.day.unwrap_or(if high { last_day } else { 1 })),
        hour: Some(value.hour.unwrap_or(if high { 23 } else { 0 })),
        minute: Some(value.minute.unwrap_or(minute_default)),
        second: Some(value.second.unwrap_or(if high { 59 } else { 0 })),
        millis: Some(value.millis.unwrap_or(if high { 999 } else { 0 })),
        offset_minutes: value
            .offset_minutes
            .or(Some(if high { -12 * 60 } else { 14 * 60 })),
    };
    Some(DateTimeValue {
        month: (digits >= 6).then_some(full.month).flatten(),
        day: (digits >= 8).then_some(full.day).flatten(),
        hour: (digits >= 10).then_some(full.hour).flatten(),
        minute: (digits >= 12).then_some(full.minute).flatten(),
        second: (digits >= 14).then_some(full.second).flatten(),
        millis: (digits >= 17).then_some(full.millis).flatten(),
        offset_minutes: (digits >= 10).then_some(full.offset_minutes).flatten(),
        ..full
    })
}

/// The earliest (latest) time at `digits` precision (2 hour … 9 milliseconds).
fn time_boundary(value: &TimeValue, digits: i64, high: bool) -> Option<TimeValue> {
    if !matches!(digits, 2 | 4 | 6 | 9) {
        return None;
    }
    let fill = |given: Option<u8>, max: u8| Some(given.unwrap_or(if high { max } else { 0 }));
    Some(TimeValue {
        hour: value.hour,
        minute: fill(value.minute, 59).filter(|_| digits >= 4),
        second: fill(value.second, 59).filter(|_| digits >= 6),
        millis: Some(value.millis.unwrap_or(if high { 999 } else { 0 })).filter(|_| digits >= 9),
    })
}
