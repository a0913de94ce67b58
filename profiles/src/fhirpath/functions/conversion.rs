//! Conversions between System types (`toX()` and `convertsToX()`).

use rust_decimal::Decimal;

use super::super::error::EvalError;
use super::super::eval::{Collection, Item};
use super::super::quantity::{is_calendar_word, Quantity};
use super::super::temporal::{DateTimeValue, TimeValue};
use super::super::value::FhirPathValue as V;
use super::Call;

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: &[Item<'a>],
) -> Result<Option<Collection<'a>>, EvalError> {
    let (target, test) = match name.strip_prefix("convertsTo") {
        Some(target) => (target, true),
        None => match name.strip_prefix("to") {
            Some(target) if !target.is_empty() && target != "Chars" => (target, false),
            _ => return Ok(None),
        },
    };
    if !matches!(
        target,
        "Boolean" | "Integer" | "Decimal" | "String" | "Date" | "DateTime" | "Time" | "Quantity"
    ) {
        return Ok(None);
    }
    let Some(item) = call.single(input.to_vec())? else {
        return Ok(Some(Vec::new()));
    };
    let item = item.to_system();
    let converted = match target {
        "Boolean" => to_boolean(&item),
        "Integer" => to_integer(&item),
        "Decimal" => to_decimal(&item),
        "String" => to_string(&item).map(V::String),
        "Date" => to_date(&item),
        "DateTime" => to_date_time(&item),
        "Time" => to_time(&item),
        "Quantity" => {
            let quantity = to_quantity(&item);
            match call.arg_string(0)? {
                Some(unit) => quantity.and_then(|q| q.convert_to(&unit)).map(V::Quantity),
                None => quantity.map(V::Quantity),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(if test {
        vec![V::Boolean(converted.is_some())]
    } else {
        converted.into_iter().collect()
    }))
}

fn to_boolean(item: &V<'_>) -> Option<V<'static>> {
    let value = match item {
        V::Boolean(value) => *value,
        V::Integer(1) => true,
        V::Integer(0) => false,
        V::Decimal(value) if *value == Decimal::ONE => true,
        V::Decimal(value) if value.is_zero() => false,
        V::String(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => true,
            "false" | "f" | "no" | "n" | "0" | "0.0" => false,
            _ => return None,
        },
        _ => return None,
    };
    Some(V::Boolean(value))
}

fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal_text(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => {
            is_integer_text(whole) && is_integer_text(fraction) && !fraction.starts_with(['+', '-'])
        }
        None => is_integer_text(unsigned),
    }
}

fn to_integer(item: &V<'_>) -> Option<V<'static>> {
    match item {
        V::Integer(value) => Some(V::Integer(*value)),
        V::Boolean(value) => Some(V::Integer(i64::from(*value))),
        V::String(text) if is_integer_text(text) => text.parse().ok().map(V::Integer),
        _ => None,
    }
}

fn to_decimal(item: &V<'_>) -> Option<V<'static>> {
    match item {
        V::Integer(value) => Some(V::Decimal(Decimal::from(*value))),
        V::Decimal(value) => Some(V::Decimal(*value)),
        V::Boolean(value) => Some(V::Decimal(if *value {
            Decimal::ONE
        } else {
            Decimal::ZERO
        })),
        V::String(text) if is_decimal_text(text) => text.parse().ok().map(V::Decimal),
        _ => None,
    }
}

/// The String form of a System value.
pub(crate) fn to_string(item: &V<'_>) -> Option<String> {
    Some(match item {
        V::Boolean(value) => value.to_string(),
        V::String(text) => text.clone(),
        V::Integer(value) => value.to_string(),
        V::Decimal(value) => value.to_string(),
        V::Date(value) | V::DateTime(value) => value.to_string(),
        V::Time(value) => value.to_string(),
        V::Quantity(value) => value.to_string(),
        _ => return None,
    })
}

fn to_date(item: &V<'_>) -> Option<V<'static>> {
    let value = match item {
        V::Date(value) | V::DateTime(value) => *value,
        V::String(text) => DateTimeValue::parse(text)?,
        _ => return None,
    };
    Some(V::Date(DateTimeValue {
        hour: None,
        minute: None,
        second: None,
        millis: None,
        offset_minutes: None,
        ..value
    }))
}

fn to_date_time(item: &V<'_>) -> Option<V<'static>> {
    match item {
        V::Date(value) | V::DateTime(value) => Some(V::DateTime(*value)),
        V::String(text) => DateTimeValue::parse(text).map(V::DateTime),
        _ => None,
    }
}

fn to_time(item: &V<'_>) -> Option<V<'static>> {
    match item {
        V::Time(value) => Some(V::Time(*value)),
        V::String(text) => TimeValue::parse(text.strip_prefix('T').unwrap_or(text)).map(V::Time),
        _ => None,
    }
}

/// A quantity from a number, a Boolean or text like `4.5 'mg'` / `4 days`.
fn to_quantity(item: &V<'_>) -> Option<Quantity> {
    let unitless = |value: Decimal| Quantity {
        value,
        unit: "1".to_owned(),
    };
    match item {
        V::Quantity(quantity) => Some(quantity.clone()),
        V::Integer(value) => Some(unitless(Decimal::from(*value))),
        V::Decimal(value) => Some(unitless(*value)),
        V::Boolean(value) => Some(unitless(if *value { Decimal::ONE } else { Decimal::ZERO })),
        V::String(text) => {
            let text = text.trim();
            let (number, unit) = match text.find([' ', '\'']) {
                Some(at) => text.split_at(at),
                None => (text, ""),
            };
            if !is_decimal_text(number) {
                return None;
            }
            let value: Decimal = number.parse().ok()?;
            let unit = unit.trim();
            let unit = if unit.is_empty() {
                "1".to_owned()
            } else if let Some(quoted) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\''))
            {
                quoted.to_owned()
            } else if is_calendar_word(unit) {
                unit.to_owned()
            } else {
                return None;
            };
            Some(Quantity { value, unit })
        }
        _ => None,
    }
}
