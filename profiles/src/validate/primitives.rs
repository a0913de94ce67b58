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

/// The lexical patterns; a pattern that failed to compile (never, they are fixed) is not checked.
struct Patterns {
    code: Option<Regex>,
    id: Option<Regex>,
    oid: Option<Regex>,
    uuid: Option<Regex>,
    date: Option<Regex>,
    date_time: Option<Regex>,
    instant: Option<Regex>,
    time: Option<Regex>,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let build = |pattern: &str| Regex::new(pattern).ok();
        const YEAR: &str = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
        const MONTH: &str = "(0[1-9]|1[0-2])";
        const DAY: &str = "(0[1-9]|[1-2][0-9]|3[0-1])";
        const TIME: &str = "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?";
        const ZONE: &str = "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";
        Patterns {
            code: build(r"^[^\s]+( [^\s]+)*$"),
            id: build(r"^[A-Za-z0-9\-\.]{1,64}$"),
            oid: build(r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$"),
            uuid: build(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
            date: build(&format!("^{YEAR}(-{MONTH}(-{DAY})?)?$")),
            date_time: build(&format!("^{YEAR}(-{MONTH}(-{DAY}(T{TIME}{ZONE})?)?)?$")),
            instant: build(&format!("^{YEAR}-{MONTH}-{DAY}T{TIME}{ZONE}$")),
            time: build(&format!("^{TIME}$")),
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
        "code" if !matches(&patterns.code, text) => invalid("code"),
        "id" if !matches(&patterns.id, text) => invalid("id"),
        "oid" if !matches(&patterns.oid, text) => invalid("oid"),
        "uuid" if !matches(&patterns.uuid, text) => invalid("uuid"),
        "uri" | "url" | "canonical" if text.chars().any(char::is_whitespace) => invalid(type_code),
        "date" | "Date" if !(matches(&patterns.date, text) && calendar_ok(text)) => invalid("date"),
        "dateTime" | "DateTime" if !(matches(&patterns.date_time, text) && calendar_ok(text)) => {
            invalid("dateTime")
        }
        "instant" if !(matches(&patterns.instant, text) && calendar_ok(text)) => invalid("instant"),
        "time" | "Time" if !matches(&patterns.time, text) => invalid("time"),
        "base64Binary" if !base64_ok(text) => invalid("base64Binary"),
        _ => None,
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
