//! Compact JSON output of [`Value`] trees, byte for byte what `serde_json::to_vec` writes for
//! the same tree: no whitespace, strings escaped only for `"`, `\` and control characters
//! (`\b \f \n \r \t`, else `\u00XX` in lower-case hex), everything else (`/`, non-ASCII) as is.

use super::json::{Obj, Value};

/// Appends `value` as compact JSON.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(text) => out.extend_from_slice(text.as_bytes()),
        Value::String(text) => write_bytes(out, text.as_bytes()),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(object) => write_object(out, object),
        Value::Raw(bytes) => out.extend_from_slice(bytes),
    }
}

/// Appends `object` as compact JSON.
pub fn write_object(out: &mut Vec<u8>, object: &Obj) {
    out.push(b'{');
    for (index, (key, value)) in object.members().iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_key(out, key);
        write_value(out, value);
    }
    out.push(b'}');
}

/// Appends `text` as a JSON string, escaped the way serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    write_bytes(out, text.as_bytes());
}

/// Appends UTF-8 `bytes` as a JSON string, escaped the way serde_json escapes it.
fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    write_body(out, bytes);
    out.push(b'"');
}

/// Appends `text` escaped as inside a JSON string, without the quotes (for a string written
/// in parts).
pub fn write_str_body(out: &mut Vec<u8>, text: &str) {
    write_body(out, text.as_bytes());
}

/// Appends UTF-8 `bytes` escaped, without quotes.
fn write_body(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if needs_escape(u64::from_le_bytes(word)) {
            for (k, &byte) in chunk.iter().enumerate() {
                start = escape_byte(out, bytes, start, offset + k, byte);
            }
        }
        offset += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The tail padded with spaces (which never need escaping) is checked as one word.
        let mut word = [b' '; 8];
        if let Some(head) = word.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        if needs_escape(u64::from_le_bytes(word)) {
            for (k, &byte) in rest.iter().enumerate() {
                start = escape_byte(out, bytes, start, offset + k, byte);
            }
        }
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Appends `key` (a member name of our own, never in need of escaping) and the colon.
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// What follows `\\` for each byte: 0 for none (no escape), `u` for `\\u00XX`.
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0C] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Escapes `byte` (at `index` of `bytes`) if it needs it, flushing the plain run since
/// `start`; returns where the next plain run starts.
#[inline]
fn escape_byte(out: &mut Vec<u8>, bytes: &[u8], start: usize, index: usize, byte: u8) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let escape = ESCAPES[usize::from(byte)];
    if escape == 0 {
        return start;
    }
    out.extend_from_slice(bytes.get(start..index).unwrap_or_default());
    if escape == b'u' {
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0x0F)],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', escape]);
    }
    index + 1
}

/// True when any byte of `word` is `"`, `\\` or below 0x20 (may not say which).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Per byte, the high bit is set where the byte is below 0x20 or zero after the XOR (may
    // also be set next to such a byte, never in a word without one); one test for all three.
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | zero_quote | zero_backslash) & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v2::json::{json_number, obj, put};
    use proptest::prelude::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn the_word_test_finds_exactly_the_bytes_to_escape() {
        for filler in [b'a', b' ', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']'] {
            assert!(!needs_escape(u64::from_le_bytes([filler; 8])));
            for byte in 0..=255u8 {
                for at in 0..8 {
                    let mut word = [filler; 8];
                    word[at] = byte;
                    assert_eq!(
                        needs_escape(u64::from_le_bytes(word)),
                        ESCAPES[usize::from(byte)] != 0,
                        "byte {byte:#x} at {at} among {filler:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn tricky_strings_match_serde_json() {
        let mut all_controls = String::new();
        for code in 0u8..0x20 {
            all_controls.push(char::from(code));
        }
        for text in [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            &all_controls,
            "\u{7f} del",
            "漢字かな ｶﾅ　全角",
            "emoji 😀 🇯🇵",
            "line\r\nbreak\ttab",
        ] {
            assert_eq!(
                written(text),
                serde_json::to_string(text).unwrap_or_default()
            );
        }
    }

    #[test]
    fn trees_match_serde_json() {
        let mut object = obj(4);
        put(&mut object, "resourceType", "Observation");
        put(&mut object, "flag", false);
        put(
            &mut object,
            "value",
            json_number("7.20").unwrap_or(Value::Bool(true)),
        );
        put(&mut object, "list", vec!["a\"b".to_owned(), "c".to_owned()]);
        let mut out = Vec::new();
        write_object(&mut out, &object);
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(serde_json::to_vec(&parsed).unwrap_or_default(), out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            r#"{"resourceType":"Observation","flag":false,"value":7.20,"list":["a\"b","c"]}"#
        );
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_like_serde_json(text in any::<String>()) {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap_or_default());
        }

        #[test]
        fn control_heavy_strings_are_escaped_like_serde_json(
            text in "[\\x00-\\x1f\"\\\\/a-z\u{7f}\u{80}-\u{10ffff}]{0,40}"
        ) {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap_or_default());
        }
    }
}
