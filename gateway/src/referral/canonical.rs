//! The bytes a signed document Bundle's signature covers: FHIR R4 canonical JSON
//! (`http://hl7.org/fhir/canonicalization/json#document`).
//!
//! The R4 canonical JSON rules are: no whitespace outside string values, and object properties
//! in alphabetical order. The `#document` method signs everything in the Bundle except the root
//! `Bundle.id` and `Bundle.meta`, so a document can move from server to server unchanged;
//! `Bundle.signature` is left out too, since a signature cannot cover itself.
//!
//! Keys are ordered by their UTF-16 code units (as RFC 8785 does); for the ASCII names FHIR uses
//! this is plain byte order. Strings are escaped as serde_json escapes them, by our own code so
//! the signed bytes do not move with serde_json's. Numbers are written as serde_json writes them:
//! the workspace enables `arbitrary_precision`, so a decimal such as `1.50` keeps its trailing
//! zero (an exponent gets a sign: `1e3` becomes `1e+3`).

use serde_json::{Map, Value};

/// Root properties of a document Bundle that the signature does not cover.
const EXCLUDED_ROOT_PROPERTIES: [&str; 3] = ["id", "meta", "signature"];

/// The canonical JSON of `bundle` without its root `id`, `meta` and `signature`: the exact bytes
/// a referral package's signature is computed over.
///
/// Any JSON value is accepted; only a root object has properties removed.
pub fn signing_input(bundle: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match bundle {
        Value::Object(properties) => {
            write_object(properties, &EXCLUDED_ROOT_PROPERTIES, &mut out);
        }
        other => write_value(other, &mut out),
    }
    out
}

/// The canonical JSON of any value (sorted keys, no whitespace, nothing removed); used for the
/// JWS header so its bytes do not depend on the order it was built in.
pub(crate) fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(properties) => write_object(properties, &[], out),
    }
}

fn write_object(properties: &Map<String, Value>, excluded: &[&str], out: &mut Vec<u8>) {
    let mut entries: Vec<(&String, &Value)> = properties
        .iter()
        .filter(|(name, _)| !excluded.contains(&name.as_str()))
        .collect();
    entries.sort_by(|(left, _), (right, _)| left.encode_utf16().cmp(right.encode_utf16()));
    out.push(b'{');
    for (index, (name, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_value(value, out);
    }
    out.push(b'}');
}

/// Writes `text` as a JSON string the way serde_json does: `"` and `\` escaped, the control
/// characters with a short form (`\b \f \n \r \t`) use it, other control characters become
/// `\u00xx` with lowercase hex, and everything else (including non-ASCII) is written as UTF-8.
fn write_string(text: &str, out: &mut Vec<u8>) {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[usize::from(byte >> 4)]);
                out.push(HEX_DIGITS[usize::from(byte & 0x0f)]);
            }
            // Multi-byte UTF-8 sequences never contain bytes below 0x80, so copying byte by
            // byte keeps them intact.
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(value: &Value) -> String {
        String::from_utf8(signing_input(value)).unwrap()
    }

    fn sample_document() -> Value {
        // Parsed from text so the decimal keeps its written form (`1.50`).
        serde_json::from_str(
            r#"{
            "resourceType": "Bundle",
            "id": "referral-1",
            "meta": {"lastUpdated": "2026-11-26T10:00:00+09:00"},
            "type": "document",
            "timestamp": "2026-11-26T10:00:00+09:00",
            "entry": [
                {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Composition", "status": "final", "title": "診療情報提供書"}},
                {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Patient", "id": "p1", "meta": {"versionId": "3"}, "name": [{"family": "架空", "given": ["太郎"]}]}},
                {"fullUrl": "urn:uuid:3", "resource": {"resourceType": "Observation", "status": "final", "valueQuantity": {"value": 1.50, "unit": "mg"}}}
            ],
            "signature": {"data": "AAAA"}
            }"#,
        )
        .unwrap()
    }

    #[test]
    fn keys_are_sorted_recursively_and_root_id_meta_signature_are_left_out() {
        let value: Value = serde_json::from_str(
            r#"{"resourceType":"Bundle","id":"x","meta":{"v":"1"},"signature":{"data":"Zm9v"},
                "type":"document","entry":[{"resource":{"status":"final","id":"inner","meta":{"a":1}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            text(&value),
            r#"{"entry":[{"resource":{"id":"inner","meta":{"a":1},"status":"final"}}],"resourceType":"Bundle","type":"document"}"#
        );
    }

    #[test]
    fn key_order_of_the_input_does_not_matter() {
        let forward: Value = serde_json::from_str(
            r#"{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"a","resource":{"b":1,"a":2}}]}"#,
        )
        .unwrap();
        let backward: Value = serde_json::from_str(
            r#"{"entry":[{"resource":{"a":2,"b":1},"fullUrl":"a"}],"type":"document","resourceType":"Bundle"}"#,
        )
        .unwrap();
        assert_eq!(signing_input(&forward), signing_input(&backward));
    }

    #[test]
    fn whitespace_between_tokens_does_not_matter_but_whitespace_in_values_does() {
        let compact: Value = serde_json::from_str(r#"{"a":[1,2],"b":{"c":"x y"}}"#).unwrap();
        let spaced: Value =
            serde_json::from_str("{ \"b\" : { \"c\" : \"x y\" } ,\n\t\"a\" : [ 1 , 2 ] }").unwrap();
        assert_eq!(signing_input(&compact), signing_input(&spaced));
        let value_changed: Value = serde_json::from_str(r#"{"a":[1,2],"b":{"c":"x  y"}}"#).unwrap();
        assert_ne!(signing_input(&compact), signing_input(&value_changed));
    }

    #[test]
    fn id_meta_and_signature_do_not_change_the_output() {
        let original = sample_document();
        let mut moved = original.clone();
        moved["id"] = json!("another-server-id");
        moved["meta"] = json!({"versionId": "9", "tag": [{"code": "x"}]});
        moved["signature"] = json!({"data": "QkJCQg=="});
        assert_eq!(signing_input(&original), signing_input(&moved));
        let mut stripped = original.clone();
        let properties = stripped.as_object_mut().unwrap();
        properties.remove("id");
        properties.remove("meta");
        properties.remove("signature");
        assert_eq!(signing_input(&original), signing_input(&stripped));
        assert!(!text(&original).contains("referral-1"));
    }

    #[test]
    fn id_and_meta_inside_entries_are_covered() {
        let original = sample_document();
        let mut changed = original.clone();
        changed["entry"][1]["resource"]["meta"]["versionId"] = json!("4");
        assert_ne!(signing_input(&original), signing_input(&changed));
        let mut changed = original.clone();
        changed["entry"][1]["resource"]["id"] = json!("p2");
        assert_ne!(signing_input(&original), signing_input(&changed));
    }

    #[test]
    fn a_change_in_any_entry_changes_the_output() {
        let original = sample_document();
        let baseline = signing_input(&original);
        let changes: [(&str, Value); 6] = [
            ("/entry/0/resource/title", json!("診療情報提供書 ")),
            ("/entry/0/fullUrl", json!("urn:uuid:9")),
            ("/entry/1/resource/name/0/given/0", json!("次郎")),
            ("/entry/2/resource/valueQuantity/value", json!(1.5)),
            ("/entry/2/resource/valueQuantity/unit", Value::Null),
            ("/timestamp", json!("2026-11-26T10:00:01+09:00")),
        ];
        for (pointer, replacement) in changes {
            let mut changed = original.clone();
            *changed.pointer_mut(pointer).unwrap() = replacement;
            assert_ne!(signing_input(&changed), baseline, "change at {pointer}");
        }
        let mut reordered = original.clone();
        reordered["entry"].as_array_mut().unwrap().swap(0, 1);
        assert_ne!(
            signing_input(&reordered),
            baseline,
            "entry order is significant"
        );
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let value: Value =
            serde_json::from_str(r#"{"a":1.50,"b":1e3,"c":-0,"d":12345678901234567890.000001}"#)
                .unwrap();
        // Digits, including trailing zeros, stay as sent; serde_json gives an exponent a sign.
        assert_eq!(
            text(&value),
            r#"{"a":1.50,"b":1e+3,"c":-0,"d":12345678901234567890.000001}"#
        );
        for number in value.as_object().unwrap().values() {
            assert_eq!(signing_input(number), serde_json::to_vec(number).unwrap());
        }
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let mut every_control_character: String = (0u8..0x20).map(char::from).collect();
        every_control_character.push_str("\"\\/\u{7f}é漢字😀\u{2028}");
        let value = Value::String(every_control_character);
        assert_eq!(signing_input(&value), serde_json::to_vec(&value).unwrap());
        assert_eq!(text(&json!("a\u{1}b")), r#""a\u0001b""#);
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+FF61 sorts before U+1F600 in UTF-8 byte order but after it in UTF-16, where the
        // emoji is a surrogate pair starting with 0xD83D.
        let value = json!({"\u{ff61}": 1, "\u{1f600}": 2, "Z": 3, "a": 4});
        assert_eq!(
            text(&value),
            "{\"Z\":3,\"a\":4,\"\u{1f600}\":2,\"\u{ff61}\":1}"
        );
    }

    #[test]
    fn non_object_roots_are_written_whole() {
        assert_eq!(text(&json!(["id", {"id": 1}])), r#"["id",{"id":1}]"#);
        assert_eq!(text(&Value::Null), "null");
        assert_eq!(text(&json!(true)), "true");
    }
}
