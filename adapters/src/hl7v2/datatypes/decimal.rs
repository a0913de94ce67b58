//! HL7 v2 NM (numeric) values as FHIR decimals. The source text is kept ("7.20" stays 7.20,
//! the JSON writer keeps it as the number's text); only spellings that NM allows and
//! FHIR does not are rewritten: a leading `+`, leading zeros, and a bare leading or trailing
//! decimal point.

use std::borrow::Cow;

/// The FHIR decimal spelling of an NM value, or `None` when it is not a number
/// (NM grammar: optional sign, digits, optional decimal point and digits; no exponent).
pub fn fhir_decimal(text: &str) -> Option<Cow<'_, str>> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(integer) || !fraction.is_none_or(all_digits) {
        return None;
    }
    let fraction = fraction.filter(|fraction| !fraction.is_empty());
    if integer.is_empty() && fraction.is_none() {
        return None;
    }
    let trimmed_integer = integer.trim_start_matches('0');
    let integer = if trimmed_integer.is_empty() {
        "0"
    } else {
        trimmed_integer
    };
    let canonical_length =
        usize::from(negative) + integer.len() + fraction.map_or(0, |f| f.len() + 1);
    if canonical_length == text.len() {
        // Already FHIR-valid: borrow the source text unchanged.
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(canonical_length);
    if negative {
        out.push('-');
    }
    out.push_str(integer);
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_kept_exactly() {
        for text in ["7.20", "0", "-14", "2.505", "105600", "0.001", "-0.5"] {
            assert_eq!(fhir_decimal(text).as_deref(), Some(text));
            assert!(matches!(fhir_decimal(text), Some(Cow::Borrowed(_))));
        }
    }

    #[test]
    fn nm_only_spellings_are_rewritten() {
        assert_eq!(fhir_decimal("+7.2").as_deref(), Some("7.2"));
        assert_eq!(fhir_decimal("007.20").as_deref(), Some("7.20"));
        assert_eq!(fhir_decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(fhir_decimal("-.5").as_deref(), Some("-0.5"));
        assert_eq!(fhir_decimal("5.").as_deref(), Some("5"));
        assert_eq!(fhir_decimal(" 62 ").as_deref(), Some("62"));
        assert_eq!(fhir_decimal("000").as_deref(), Some("0"));
    }

    #[test]
    fn non_numbers_are_refused() {
        for text in [
            "", "-", ".", "+.", "1e5", "1.2.3", "abc", "<10", "1,5", "--1", "12 3",
        ] {
            assert_eq!(fhir_decimal(text), None, "{text:?}");
        }
    }
}
