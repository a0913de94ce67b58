//! Equality (`=`), equivalence (`~`) and ordering (`<` …) of single items, after FHIR
//! primitives are converted to System values.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::temporal::DateTimeValue;
use super::value::FhirPathValue as V;

/// A number as a decimal (Integer or Decimal).
fn as_decimal(value: &V<'_>) -> Option<Decimal> {
    match value {
        V::Integer(integer) => Some(Decimal::from(*integer)),
        V::Decimal(decimal) => Some(*decimal),
        _ => None,
    }
}

/// A date/date-time, parsing strings (FHIR JSON strings met without a type).
fn as_date_time(value: &V<'_>) -> Option<DateTimeValue> {
    match value {
        V::Date(date) | V::DateTime(date) => Some(*date),
        V::String(text) => DateTimeValue::parse(text),
        _ => None,
    }
}

fn is_temporal(value: &V<'_>) -> bool {
    matches!(value, V::Date(_) | V::DateTime(_))
}

/// `=` on two items: `None` when the answer is unknown (dates at different precisions,
/// incomparable units).
pub(crate) fn equals(left: &V<'_>, right: &V<'_>) -> Option<bool> {
    let (left, right) = (left.to_system(), right.to_system());
    match (&left, &right) {
        (V::Boolean(l), V::Boolean(r)) => Some(l == r),
        (V::String(l), V::String(r)) => Some(l == r),
        (V::Integer(l), V::Integer(r)) => Some(l == r),
        (V::Time(l), V::Time(r)) => l.compare(r).map(|o| o == Ordering::Equal),
        (V::Quantity(l), V::Quantity(r)) => l.equals(r),
        (V::Node(l), V::Node(r)) => Some(l.value == r.value && l.element == r.element),
        (V::TypeInfo { .. }, V::TypeInfo { .. }) => Some(left == right),
        _ => {
            if let (Some(l), Some(r)) = (as_decimal(&left), as_decimal(&right)) {
                return Some(l == r);
            }
            if is_temporal(&left) || is_temporal(&right) {
                if let (Some(l), Some(r)) = (as_date_time(&left), as_date_time(&right)) {
                    return l.compare(&r).map(|o| o == Ordering::Equal);
                }
            }
            Some(false)
        }
    }
}

/// Lower-cased with runs of whitespace made one space, for string equivalence.
fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `~` on two items.
pub(crate) fn equivalent(left: &V<'_>, right: &V<'_>) -> bool {
    let (left, right) = (left.to_system(), right.to_system());
    match (&left, &right) {
        (V::String(l), V::String(r)) => normalized(l) == normalized(r),
        (V::Quantity(l), V::Quantity(r)) => l.equivalent(r),
        (V::Node(l), V::Node(r)) => l.value == r.value,
        (V::Integer(_) | V::Decimal(_), V::Integer(_) | V::Decimal(_)) => {
            match (as_decimal(&left), as_decimal(&right)) {
                (Some(l), Some(r)) => {
                    let scale = l.scale().min(r.scale());
                    l.round_dp(scale) == r.round_dp(scale)
                }
                _ => false,
            }
        }
        _ => equals(&left, &right) == Some(true),
    }
}

/// Orders two items: `Err(())` when the types cannot be ordered, `Ok(None)` when the answer is
/// unknown (partial precision, incomparable units).
pub(crate) fn compare(left: &V<'_>, right: &V<'_>) -> Result<Option<Ordering>, ()> {
    let (left, right) = (left.to_system(), right.to_system());
    match (&left, &right) {
        (V::String(l), V::String(r)) => Ok(Some(l.cmp(r))),
        (V::Time(l), V::Time(r)) => Ok(l.compare(r)),
        (V::Quantity(l), V::Quantity(r)) => Ok(l.compare(r)),
        _ => {
            if let (Some(l), Some(r)) = (as_decimal(&left), as_decimal(&right)) {
                return Ok(Some(l.cmp(&r)));
            }
            if is_temporal(&left) || is_temporal(&right) {
                if let (Some(l), Some(r)) = (as_date_time(&left), as_date_time(&right)) {
                    return Ok(l.compare(&r));
                }
            }
            Err(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> V<'static> {
        V::Decimal(text.parse().expect("decimal"))
    }

    #[test]
    fn numbers_compare_across_integer_and_decimal() {
        assert_eq!(equals(&V::Integer(1), &dec("1.0")), Some(true));
        assert!(equivalent(&dec("0.67"), &dec("0.7")));
        assert!(!equivalent(&dec("0.64"), &dec("0.7")));
        assert_eq!(
            compare(&V::Integer(2), &dec("1.5")),
            Ok(Some(Ordering::Greater))
        );
        assert_eq!(compare(&V::Integer(2), &V::String("a".into())), Err(()));
    }

    #[test]
    fn strings_are_equivalent_ignoring_case_and_spacing() {
        assert!(equivalent(
            &V::String("Hello  World".into()),
            &V::String(" hello world".into())
        ));
        assert_eq!(
            equals(&V::String("a".into()), &V::String("A".into())),
            Some(false)
        );
    }
}
