//! The R4 primitive datatypes: which JSON form each takes and the lexical rules of its value.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

/// Whether `type_code` is an R4 primitive type (or a FHIRPath system type of `id`/`value`).
pub(crate) fn is_primitive(type_code: &str) -> bool {
    matches!(
        type_code,
        "boolean"
            | "integer"
            | "string"
            | "decimal"
            | "uri"
            | "url"
            | "canonical"
            | "base64Binary"
            | "instant"
            | "date"
            | "dateTime"
            | "time"
            | "code"
            | "oid"
            | "id"
            | "markdown"
            | "unsignedInt"
            | "positiveInt"
            | "uuid"
            | "xhtml"
            | "String"
            | "Boolean"
            | "Integer"
            | "Decimal"
            | "Date"
            | "DateTime"
            | "Time"
    )
}

/// The longest string value accepted (1 MiB, as the R4 `string` definition allows).
const MAX_STRING_BYTES: usize = 1024 * 1024;

/// What is wrong with `value` as a `type_code`, or `None` when it is fine.
pub(crate) fn check_primitive(type_code: &str, value: &Value) -> Option<String> {
    match type_code {
        "boolean" | "Boolean" => (!value.is_boolean()).then(|| wrong_json("boolean", value)),
        "integer" | "unsignedInt" | "positiveInt" | "Integer" => check_integer(type_code, value),
        "decimal" | "Decimal" => match value {
            Value::Number(_) => None,
            _ => Some(wrong_json("number", value)),
        },
        "xhtml" => (!value.is_string()).then(|| wrong_json("string", value)),
        _ => match value {
            Value::String(text) => check_string(type_code, text),
            _ => Some(wrong_json("string", value)),
        },
    }
}

fn wrong_json(expected: &str, value: &Value) -> String {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected a JSON {expected}, found {found}")
}

fn check_integer(type_code: &str, value: &Value) -> Option<String> {
    let Value::Number(number) = value else {
        return Some(wrong_json("number", value));
    };
    let Ok(integer) = number.as_str().parse::<i64>() else {
        return Some(format!("{} is not an integer", number.as_str()));
    };
    let (low, high) = match type_code {
        "unsignedInt" => (0, i64::from(i32::MAX)),
        "positiveInt" => (1, i64::from(i32::MAX)),
        _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
    };
    (integer < low || integer > high)
        .then(|| format!("{integer} is outside the range of {type_code} ({low}..{high})"))
}

/// The lexical patterns still checked by regular expression (rare types); a pattern that
/// failed to compile (never, they are fixed) is not checked.
struct Patterns {
    oid: Option<Regex>,
    uuid: Option<Regex>,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let build = |pattern: &str| Regex::new(pattern).ok();
        Patterns {
            oid: build(r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$"),
            uuid: build(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        }
    })
}

fn matches(pattern: &Option<Regex>, text: &str) -> bool {
    pattern
        .as_ref()
        .is_none_or(|pattern| pattern.is_match(text))
}

fn check_string(type_code: &str, text: &str) -> Option<String> {
    if text.len() > MAX_STRING_BYTES {
        return Some(format!("the value is longer than {MAX_STRING_BYTES} bytes"));
    }
    if text.is_empty() {
        return Some("a value must not be empty (use no element instead)".into());
    }
    let patterns = patterns();
    let invalid = |what: &str| Some(format!("'{}' is not a valid {what}", shorten(text)));
    match type_code {
        "code" if !code_ok(text) => invalid("code"),
        "id" if !id_ok(text) => invalid("id"),
        "oid" if !matches(&patterns.oid, text) => invalid("oid"),
        "uuid" if !matches(&patterns.uuid, text) => invalid("uuid"),
        "uri" | "url" | "canonical" if text.chars().any(char::is_whitespace) => invalid(type_code),
        "date" | "Date" if !(temporal_ok(text, Temporal::Date) && calendar_ok(text)) => {
            invalid("date")
        }
        "dateTime" | "DateTime"
            if !(temporal_ok(text, Temporal::DateTime) && calendar_ok(text)) =>
        {
            invalid("dateTime")
        }
        "instant" if !(temporal_ok(text, Temporal::Instant) && calendar_ok(text)) => {
            invalid("instant")
        }
        "time" | "Time" if !temporal_ok(text, Temporal::Time) => invalid("time"),
        "base64Binary" if !base64_ok(text) => invalid("base64Binary"),
        _ => None,
    }
}

/// `[A-Za-z0-9\-\.]{1,64}`.
fn id_ok(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `[^\s]+( [^\s]+)*`: no whitespace but single spaces between words.
fn code_ok(text: &str) -> bool {
    let mut previous_space = true; // a leading space is refused
    for c in text.chars() {
        if c == ' ' {
            if previous_space {
                return false;
            }
            previous_space = true;
        } else if c.is_whitespace() {
            return false;
        } else {
            previous_space = false;
        }
    }
    !previous_space
}

/// The R4 date and time forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Temporal {
    Date,
    DateTime,
    Instant,
    Time,
}

/// Whether `text` has the lexical form of `kind` (the R4 regular expressions, by hand).
fn temporal_ok(text: &str, kind: Temporal) -> bool {
    let bytes = text.as_bytes();
    if kind == Temporal::Time {
        return time_len(bytes) == Some(bytes.len());
    }
    let Some((date_len, full_date)) = date_len(bytes) else {
        return false;
    };
    let rest = &bytes[date_len..];
    match kind {
        Temporal::Date => rest.is_empty(),
        Temporal::DateTime if rest.is_empty() => true,
        _ => {
            let Some(after_t) = rest.strip_prefix(b"T") else {
                return false;
            };
            if !full_date {
                return false;
            }
            let Some(time) = time_len(after_t) else {
                return false;
            };
            zone_ok(&after_t[time..])
        }
    }
}

fn two_digits(bytes: &[u8], at: usize) -> Option<u32> {
    let pair = bytes.get(at..at + 2)?;
    pair.iter()
        .all(u8::is_ascii_digit)
        .then(|| u32::from(pair[0] - b'0') * 10 + u32::from(pair[1] - b'0'))
}

/// The length of a leading `YYYY(-MM(-DD)?)?` and whether it is a full date.
fn date_len(bytes: &[u8]) -> Option<(usize, bool)> {
    let year = bytes.get(..4)?;
    if !year.iter().all(u8::is_ascii_digit) || year == b"0000" {
        return None;
    }
    if bytes.get(4) != Some(&b'-') {
        return Some((4, false));
    }
    let month = two_digits(bytes, 5)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if bytes.get(7) != Some(&b'-') {
        return Some((7, false));
    }
    let day = two_digits(bytes, 8)?;
    if !(1..=31).contains(&day) {
        return None;
    }
    Some((10, true))
}

/// The length of a leading `hh:mm:ss(.fff)?`.
fn time_len(bytes: &[u8]) -> Option<usize> {
    let hours = two_digits(bytes, 0)?;
    let minutes = two_digits(bytes, 3)?;
    let seconds = two_digits(bytes, 6)?;
    if bytes.get(2) != Some(&b':')
        || bytes.get(5) != Some(&b':')
        || hours > 23
        || minutes > 59
        || seconds > 60
    {
        return None;
    }
    if bytes.get(8) != Some(&b'.') {
        return Some(8);
    }
    let fraction = bytes[9..].iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=9).contains(&fraction).then_some(9 + fraction)
}

/// `Z` or `(+|-)hh:mm` up to `+14:00`.
fn zone_ok(bytes: &[u8]) -> bool {
    match bytes {
        b"Z" => true,
        [b'+' | b'-', rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            match (two_digits(rest, 0), two_digits(rest, 3)) {
                (Some(14), Some(0)) => true,
                (Some(hours), Some(minutes)) => hours <= 13 && minutes <= 59,
                _ => false,
            }
        }
        _ => false,
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The day exists in its month (`2023-02-30` does not).
fn calendar_ok(text: &str) -> bool {
    let parts: Vec<&str> = text
        .get(..10.min(text.len()))
        .unwrap_or("")
        .split('-')
        .collect();
    let [year, month, day] = parts.as_slice() else {
        return true;
    };
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return true;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

fn base64_ok(text: &str) -> bool {
    let mut count = 0usize;
    let mut padding = 0usize;
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if padding == 0 => count += 1,
            b'=' => {
                padding += 1;
                count += 1;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => return false,
        }
    }
    padding <= 2 && count.is_multiple_of(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lexical_rules() {
        assert_eq!(check_primitive("date", &json!("2024-02-29")), None);
        assert!(check_primitive("date", &json!("2023-02-29")).is_some());
        assert!(check_primitive("date", &json!("2023-13")).is_some());
        assert_eq!(
            check_primitive("dateTime", &json!("2024-01-01T10:00:00+09:00")),
            None
        );
        assert!(
            check_primitive("dateTime", &json!("2024-01-01T10:00:00")).is_some(),
            "zone needed"
        );
        assert!(check_primitive("instant", &json!("2024-01-01")).is_some());
        assert_eq!(
            check_primitive("instant", &json!("2024-01-01T00:00:00.123Z")),
            None
        );
        assert!(check_primitive("dateTime", &json!("2024-01T10:00:00Z")).is_some());
        assert!(check_primitive("dateTime", &json!("2024-01-01T24:00:00Z")).is_some());
        assert!(check_primitive("dateTime", &json!("2024-01-01T10:00:00+14:30")).is_some());
        assert_eq!(check_primitive("time", &json!("23:59:60")), None);
        assert!(check_primitive("time", &json!("23:59")).is_some());
        assert!(check_primitive("date", &json!("0000")).is_some());
        assert!(check_primitive("code", &json!("a  b")).is_some());
        assert_eq!(check_primitive("code", &json!("a b")), None);
        assert!(check_primitive("id", &json!("x".repeat(65))).is_some());
        assert_eq!(check_primitive("id", &json!("a-1.b")), None);
        assert!(check_primitive("id", &json!("a_1")).is_some());
        assert!(check_primitive("code", &json!(" x")).is_some());
        assert!(check_primitive("string", &json!("")).is_some());
        assert!(check_primitive("string", &json!(1)).is_some());
        assert!(check_primitive("positiveInt", &json!(0)).is_some());
        assert_eq!(check_primitive("unsignedInt", &json!(0)), None);
        assert!(check_primitive("integer", &json!(1.5)).is_some());
        assert!(check_primitive("boolean", &json!("true")).is_some());
        assert_eq!(check_primitive("base64Binary", &json!("aGVsbG8=")), None);
        assert!(check_primitive("base64Binary", &json!("aGVsbG8")).is_some());
        assert!(check_primitive("uri", &json!("http://a b")).is_some());
        assert_eq!(check_primitive("decimal", &json!(1.50)), None);
    }
}
