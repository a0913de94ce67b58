//! String functions (character positions count Unicode scalar values), regular expressions,
//! and the 2.1.0 additions encode/decode, escape/unescape, join, split, trim.

use regex::Regex;

use super::super::error::EvalError;
use super::super::eval::{Collection, Item};
use super::super::value::FhirPathValue as V;
use super::Call;

/// The functions of this module; `None` when `name` is not one of them.
pub(super) fn call<'a>(
    call: &Call<'_, 'a, '_>,
    name: &str,
    input: &[Item<'a>],
) -> Result<Option<Collection<'a>>, EvalError> {
    if name == "join" {
        let separator = call.arg_string(0)?.unwrap_or_default();
        let mut parts = Vec::new();
        for item in input {
            let system = item.to_system();
            let text = system
                .as_str()
                .ok_or_else(|| call.type_error("join() needs strings"))?;
            parts.push(text.to_owned());
        }
        return Ok(Some(vec![V::String(parts.join(&separator))]));
    }
    if !matches!(
        name,
        "indexOf"
            | "substring"
            | "startsWith"
            | "endsWith"
            | "contains"
            | "upper"
            | "lower"
            | "replace"
            | "matches"
            | "matchesFull"
            | "replaceMatches"
            | "length"
            | "toChars"
            | "encode"
            | "decode"
            | "escape"
            | "unescape"
            | "split"
            | "trim"
    ) {
        return Ok(None);
    }
    let Some(item) = call.single(input.to_vec())? else {
        return Ok(Some(Vec::new()));
    };
    let system = item.to_system();
    let Some(text) = system.as_str() else {
        return Err(call.type_error("expected a String input"));
    };
    let string = |value: String| Some(vec![V::String(value)]);
    let boolean = |value: bool| Some(vec![V::Boolean(value)]);
    let integer = |value: usize| Some(vec![V::Integer(i64::try_from(value).unwrap_or(i64::MAX))]);
    Ok(match name {
        "indexOf" => match call.arg_string(0)? {
            None => Some(Vec::new()),
            Some(needle) => match text.find(&needle) {
                Some(at) => integer(text[..at].chars().count()),
                None => Some(vec![V::Integer(-1)]),
            },
        },
        "substring" => {
            let Some(start) = call.arg_integer(0)? else {
                return Ok(Some(Vec::new()));
            };
            let length = call.arg_integer(1)?;
            let count = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
            if start < 0 || start >= count {
                return Ok(Some(Vec::new()));
            }
            let skip = usize::try_from(start).unwrap_or(0);
            let take = length.map_or(usize::MAX, |l| usize::try_from(l.max(0)).unwrap_or(0));
            string(text.chars().skip(skip).take(take).collect())
        }
        "startsWith" => call
            .arg_string(0)?
            .map(|p| vec![V::Boolean(text.starts_with(&p))]),
        "endsWith" => call
            .arg_string(0)?
            .map(|p| vec![V::Boolean(text.ends_with(&p))]),
        "contains" => call
            .arg_string(0)?
            .map(|p| vec![V::Boolean(text.contains(&p))]),
        "upper" => string(text.to_uppercase()),
        "lower" => string(text.to_lowercase()),
        "replace" => {
            let (Some(pattern), Some(substitution)) = (call.arg_string(0)?, call.arg_string(1)?)
            else {
                return Ok(Some(Vec::new()));
            };
            if pattern.is_empty() {
                let mut out = substitution.clone();
                for ch in text.chars() {
                    out.push(ch);
                    out.push_str(&substitution);
                }
                string(out)
            } else {
                string(text.replace(&pattern, &substitution))
            }
        }
        "matches" => match call.arg_string(0)? {
            None => Some(Vec::new()),
            Some(pattern) => boolean(regex(call, &pattern)?.is_match(text)),
        },
        "matchesFull" => match call.arg_string(0)? {
            None => Some(Vec::new()),
            Some(pattern) => boolean(regex(call, &format!("^(?:{pattern})$"))?.is_match(text)),
        },
        "replaceMatches" => {
            let (Some(pattern), Some(substitution)) = (call.arg_string(0)?, call.arg_string(1)?)
            else {
                return Ok(Some(Vec::new()));
            };
            if pattern.is_empty() {
                return Ok(string(text.to_owned()));
            }
            string(
                regex(call, &pattern)?
                    .replace_all(text, substitution.as_str())
                    .into_owned(),
            )
        }
        "length" => integer(text.chars().count()),
        "toChars" => Some(text.chars().map(|c| V::String(c.to_string())).collect()),
        "split" => match call.arg_string(0)? {
            None => Some(Vec::new()),
            Some(separator) if separator.is_empty() => {
                Some(text.chars().map(|c| V::String(c.to_string())).collect())
            }
            Some(separator) => Some(
                text.split(separator.as_str())
                    .map(|part| V::String(part.to_owned()))
                    .collect(),
            ),
        },
        "trim" => string(text.trim().to_owned()),
        "encode" => match call.arg_string(0)?.as_deref() {
            Some("base64") => string(base64_encode(text.as_bytes(), false)),
            Some("urlbase64") => string(base64_encode(text.as_bytes(), true)),
            Some("hex") => string(text.bytes().map(|b| format!("{b:02x}")).collect()),
            _ => Some(Vec::new()),
        },
        "decode" => {
            let bytes = match call.arg_string(0)?.as_deref() {
                Some("base64") | Some("urlbase64") => base64_decode(text),
                Some("hex") => hex_decode(text),
                _ => None,
            };
            bytes
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .map(|decoded| vec![V::String(decoded)])
                .or(Some(Vec::new()))
        }
        "escape" => match call.arg_string(0)?.as_deref() {
            Some("html") => string(escape_html(text)),
            Some("json") => string(escape_json(text)),
            _ => Some(Vec::new()),
        },
        "unescape" => match call.arg_string(0)?.as_deref() {
            Some("html") => string(unescape_html(text)),
            Some("json") => string(unescape_json(text)),
            _ => Some(Vec::new()),
        },
        _ => None,
    })
}

/// Compiles a FHIRPath regular expression (`.` matches newlines: single-line mode).
fn regex(call: &Call<'_, '_, '_>, pattern: &str) -> Result<Regex, EvalError> {
    regex::RegexBuilder::new(pattern)
        .dot_matches_new_line(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|error| EvalError::Regex {
            position: call.position,
            message: error.to_string(),
        })
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8], url: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                let sextet = usize::try_from((n >> (18 - 6 * index)) & 63).unwrap_or(0);
                let symbol = char::from(BASE64.get(sextet).copied().unwrap_or(b'A'));
                out.push(match (url, symbol) {
                    (true, '+') => '-',
                    (true, '/') => '_',
                    (_, other) => other,
                });
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out
}

fn unescape_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_encode(b"test", false), "dGVzdA==");
        assert_eq!(base64_decode("dGVzdA=="), Some(b"test".to_vec()));
        assert_eq!(hex_decode("74657374"), Some(b"test".to_vec()));
    }
}
