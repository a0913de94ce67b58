//! Quantities and the UCUM subset FHIRPath comparisons need: units of mass, length, volume,
//! time (UCUM codes and calendar words) and `'1'`, with prefixes, exponents, `.` and `/`.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;

/// A value with a unit: a UCUM code (`mg`, `'1'`) or a calendar word (`year`, `days`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The amount.
    pub value: Decimal,
    /// The unit as written (`1` when none was).
    pub unit: String,
}

/// Base dimensions: mass (g), length (m), time (s), amount (mol).
type Dimensions = [i8; 4];

/// A unit as a factor of the base units.
#[derive(Debug, Clone, PartialEq)]
struct Canonical {
    factor: Decimal,
    dimensions: Dimensions,
}

/// Calendar words are their UCUM codes' durations (`year` = `a`, `month` = `mo`).
fn calendar_code(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "year" | "years" => "a",
        "month" | "months" => "mo",
        "week" | "weeks" => "wk",
        "day" | "days" => "d",
        "hour" | "hours" => "h",
        "minute" | "minutes" => "min",
        "second" | "seconds" => "s",
        "millisecond" | "milliseconds" => "ms",
        _ => return None,
    })
}

/// Whether `unit` is a calendar word (`year`, `days`).
pub(crate) fn is_calendar_word(unit: &str) -> bool {
    calendar_code(unit).is_some()
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap_or(Decimal::ONE)
}

/// Atoms: (code, factor to the base, dimensions, accepts a prefix).
fn atom(code: &str) -> Option<(Decimal, Dimensions, bool)> {
    Some(match code {
        "g" => (Decimal::ONE, [1, 0, 0, 0], true),
        "m" => (Decimal::ONE, [0, 1, 0, 0], true),
        "l" | "L" => (decimal("0.001"), [0, 3, 0, 0], true),
        "s" => (Decimal::ONE, [0, 0, 1, 0], true),
        "mol" => (Decimal::ONE, [0, 0, 0, 1], true),
        "min" => (Decimal::from(60), [0, 0, 1, 0], false),
        "h" => (Decimal::from(3600), [0, 0, 1, 0], false),
        "d" => (Decimal::from(86_400), [0, 0, 1, 0], false),
        "wk" => (Decimal::from(604_800), [0, 0, 1, 0], false),
        "mo" => (Decimal::from(2_629_800), [0, 0, 1, 0], false),
        "a" => (Decimal::from(31_557_600), [0, 0, 1, 0], false),
        "1" => (Decimal::ONE, [0; 4], false),
        "%" => (decimal("0.01"), [0; 4], false),
        "[lb_av]" => (decimal("453.59237"), [1, 0, 0, 0], false),
        "[oz_av]" => (decimal("28.349523125"), [1, 0, 0, 0], false),
        "[in_i]" => (decimal("0.0254"), [0, 1, 0, 0], false),
        "[ft_i]" => (decimal("0.3048"), [0, 1, 0, 0], false),
        "[mi_i]" => (decimal("1609.344"), [0, 1, 0, 0], false),
        _ => return None,
    })
}

fn prefix(code: char) -> Option<Decimal> {
    Some(match code {
        'k' => Decimal::from(1000),
        'h' => Decimal::from(100),
        'd' => decimal("0.1"),
        'c' => decimal("0.01"),
        'm' => decimal("0.001"),
        'u' | 'µ' => decimal("0.000001"),
        'n' => decimal("0.000000001"),
        'p' => decimal("0.000000000001"),
        _ => return None,
    })
}

/// One term without operators: prefix? atom exponent?
fn term(text: &str) -> Option<Canonical> {
    let digits_at = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '-')
        .last()
        .map(|(i, _)| i)
        .filter(|i| *i > 0);
    let (body, exponent) = match digits_at {
        Some(at) if text != "1" => (text.get(..at)?, text.get(at..)?.parse::<i8>().ok()?),
        _ => (text, 1),
    };
    let (factor, dimensions) = if let Some((factor, dimensions, _)) = atom(body) {
        (factor, dimensions)
    } else {
        let mut chars = body.chars();
        let first = chars.next()?;
        let (atom_factor, dimensions, prefixable) = atom(chars.as_str())?;
        if !prefixable {
            return None;
        }
        (prefix(first)?.checked_mul(atom_factor)?, dimensions)
    };
    let mut result = Canonical {
        factor: Decimal::ONE,
        dimensions: [0; 4],
    };
    for _ in 0..exponent.unsigned_abs() {
        result.factor = if exponent > 0 {
            result.factor.checked_mul(factor)?
        } else {
            result.factor.checked_div(factor)?
        };
    }
    for (slot, dimension) in result.dimensions.iter_mut().zip(dimensions) {
        *slot = dimension.checked_mul(exponent)?;
    }
    Some(result)
}

/// A unit expression (`mg`, `mg/dL`, `m2`, `kg.m/s2`) in base units; `None` when unknown.
fn canonical(unit: &str) -> Option<Canonical> {
    let unit = calendar_code(unit).unwrap_or(unit);
    let mut result = Canonical {
        factor: Decimal::ONE,
        dimensions: [0; 4],
    };
    let mut divide = false;
    let mut start = 0;
    let bytes = unit.as_bytes();
    for at in 0..=bytes.len() {
        let separator = bytes.get(at).copied();
        if matches!(separator, None | Some(b'.') | Some(b'/')) {
            let text = unit.get(start..at)?;
            if !text.is_empty() {
                let part = term(text)?;
                result.factor = if divide {
                    result.factor.checked_div(part.factor)?
                } else {
                    result.factor.checked_mul(part.factor)?
                };
                for (slot, dimension) in result.dimensions.iter_mut().zip(part.dimensions) {
                    *slot = if divide {
                        slot.checked_sub(dimension)?
                    } else {
                        slot.checked_add(dimension)?
                    };
                }
            } else if at != 0 || separator != Some(b'/') {
                return None;
            }
            divide = separator == Some(b'/');
            start = at + 1;
        }
    }
    Some(result)
}

impl Quantity {
    /// The value in base units and the dimensions, when the unit is known.
    fn in_base(&self) -> Option<(Decimal, Dimensions)> {
        let unit = canonical(&self.unit)?;
        Some((self.value.checked_mul(unit.factor)?, unit.dimensions))
    }

    /// Calendar years/months against UCUM `a`/`mo` (or each other's words): not comparable
    /// for equality (different definitions of a year).
    fn calendar_mismatch(&self, other: &Quantity) -> bool {
        let years_or_months =
            |unit: &str| matches!(unit, "year" | "years" | "month" | "months" | "a" | "mo");
        years_or_months(&self.unit)
            && years_or_months(&other.unit)
            && is_calendar_word(&self.unit) != is_calendar_word(&other.unit)
    }

    /// Orders two quantities after converting to common units; `None` when incomparable.
    pub fn compare(&self, other: &Quantity) -> Option<Ordering> {
        if self.unit == other.unit
            || calendar_code(&self.unit).is_some_and(|code| code == other.unit)
            || calendar_code(&other.unit).is_some_and(|code| code == self.unit)
            || calendar_code(&self.unit)
                .is_some_and(|code| Some(code) == calendar_code(&other.unit))
        {
            return Some(self.value.cmp(&other.value));
        }
        let (left, left_dims) = self.in_base()?;
        let (right, right_dims) = other.in_base()?;
        (left_dims == right_dims).then(|| left.cmp(&right))
    }

    /// FHIRPath `=`: `None` when the units cannot be compared.
    pub fn equals(&self, other: &Quantity) -> Option<bool> {
        if self.calendar_mismatch(other) {
            return None;
        }
        self.compare(other).map(|order| order == Ordering::Equal)
    }

    /// FHIRPath `~`: equal after conversion, calendar years equivalent to `a`.
    pub fn equivalent(&self, other: &Quantity) -> bool {
        let Some(other) = other.convert_to(&self.unit).or_else(|| {
            calendar_code(&other.unit)
                .filter(|code| {
                    Some(*code) == calendar_code(&self.unit).or(Some(self.unit.as_str()))
                })
                .map(|_| other.clone())
        }) else {
            return false;
        };
        let scale = self.value.scale().min(other.value.scale());
        self.value.round_dp(scale) == other.value.round_dp(scale)
    }

    /// Whether the two units can be converted into each other.
    pub fn comparable(&self, other: &Quantity) -> bool {
        match (canonical(&self.unit), canonical(&other.unit)) {
            (Some(left), Some(right)) => left.dimensions == right.dimensions,
            _ => false,
        }
    }

    /// This quantity in `unit`, when convertible.
    pub fn convert_to(&self, unit: &str) -> Option<Quantity> {
        if unit == self.unit {
            return Some(self.clone());
        }
        let (value, dimensions) = self.in_base()?;
        let target = canonical(unit)?;
        (target.dimensions == dimensions).then_some(())?;
        Some(Quantity {
            value: value.checked_div(target.factor)?.normalize(),
            unit: unit.to_owned(),
        })
    }

    /// The product, units joined with `.` (`'1'` dropped).
    pub fn multiply(&self, other: &Quantity) -> Option<Quantity> {
        let value = self.value.checked_mul(other.value)?;
        let unit = match (self.unit.as_str(), other.unit.as_str()) {
            ("1", unit) | (unit, "1") => unit.to_owned(),
            (left, right) if left == right && !left.contains(['.', '/']) => format!("{left}2"),
            (left, right) => format!("{left}.{right}"),
        };
        Some(Quantity { value, unit })
    }

    /// The quotient, units joined with `/` (same units cancel to `'1'`).
    pub fn divide(&self, other: &Quantity) -> Option<Quantity> {
        if other.value.is_zero() {
            return None;
        }
        let (value, unit) = if self.unit == other.unit {
            (self.value.checked_div(other.value)?, "1".to_owned())
        } else if let Some(converted) = other.convert_to(&self.unit) {
            (self.value.checked_div(converted.value)?, "1".to_owned())
        } else if other.unit == "1" {
            (self.value.checked_div(other.value)?, self.unit.clone())
        } else {
            (
                self.value.checked_div(other.value)?,
                format!("{}/{}", self.unit, other.unit),
            )
        };
        Some(Quantity {
            value: value.normalize(),
            unit,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_calendar_word(&self.unit) {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(value: &str, unit: &str) -> Quantity {
        Quantity {
            value: value.parse().expect("decimal"),
            unit: unit.to_owned(),
        }
    }

    #[test]
    fn units_convert_within_a_dimension() {
        assert_eq!(q("4", "g").equals(&q("4000", "mg")), Some(true));
        assert_eq!(q("1", "m").compare(&q("99", "cm")), Some(Ordering::Greater));
        assert_eq!(q("1", "L").equals(&q("1000", "mL")), Some(true));
        assert_eq!(q("1", "mg/dL").equals(&q("10", "mg/L")), Some(true));
        assert_eq!(q("1", "m2").equals(&q("10000", "cm2")), Some(true));
        assert_eq!(q("1", "g").compare(&q("1", "m")), None);
    }

    #[test]
    fn calendar_words_match_ucum_durations_below_a_month() {
        assert_eq!(q("7", "days").equals(&q("1", "week")), Some(true));
        assert_eq!(q("1", "day").equals(&q("1", "d")), Some(true));
        assert_eq!(q("1", "year").equals(&q("1", "a")), None);
        assert!(q("1", "year").equivalent(&q("1", "a")));
        assert_eq!(q("1", "year").equals(&q("1", "years")), Some(true));
    }
}
