//! ED (encapsulated data: source^type^subtype^encoding^data) as a FHIR Attachment with
//! base64 data, for DiagnosticReport.presentedForm.

use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::er7::{Location, Repetition};
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put};
use crate::hl7v2::mapping::Mapping;
use crate::report::ReportCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The Attachment of an ED value, or `None` (reported) when its data cannot be decoded.
pub fn ed_attachment(
    m: &mut Mapping<'_>,
    value: &Repetition<'_>,
    location: &Location,
    title: Option<String>,
) -> Option<Value> {
    let type_of_data = component_text(value, 2);
    let subtype = component_text(value, 3);
    let encoding = component_text(value, 4);
    let data = component_text(value, 5);
    let bytes = match encoding.to_ascii_uppercase().as_str() {
        "BASE64" => {
            let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            match STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => bytes,
                Err(_) => {
                    m.warn(
                        ReportCode::Invalid,
                        location,
                        "ED data is marked Base64 but is not valid base64",
                    );
                    return None;
                }
            }
        }
        "HEX" => match hex_decode(&data) {
            Some(bytes) => bytes,
            None => {
                m.warn(
                    ReportCode::Invalid,
                    location,
                    "ED data is marked Hex but is not hexadecimal",
                );
                return None;
            }
        },
        "A" | "" => data.as_bytes().to_vec(),
        other => {
            m.warn(
                ReportCode::UnknownCode,
                location,
                format!("ED encoding {other:?} is not A, Hex or Base64"),
            );
            return None;
        }
    };
    let mut attachment = obj(3);
    put(
        &mut attachment,
        "contentType",
        content_type(&type_of_data, &subtype),
    );
    put(&mut attachment, "data", STANDARD.encode(bytes));
    if let Some(title) = title {
        put(&mut attachment, "title", title);
    }
    Some(Value::Object(attachment))
}

/// A MIME type from ED-2 (type of data, HL7 table 0191) and ED-3 (subtype, table 0291).
fn content_type(type_of_data: &str, subtype: &str) -> String {
    let major = match type_of_data.to_ascii_uppercase().as_str() {
        "IM" | "IMAGE" => "image",
        "TEXT" | "TX" | "FT" => "text",
        "AU" | "AUDIO" => "audio",
        "VIDEO" => "video",
        "MULTIPART" => "multipart",
        _ => "application",
    };
    let subtype = subtype.trim().to_ascii_lowercase();
    let valid = !subtype.is_empty()
        && subtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'));
    if !valid {
        return "application/octet-stream".into();
    }
    let subtype = match subtype.as_str() {
        "jpg" => "jpeg",
        "tif" => "tiff",
        "txt" => "plain",
        other => other,
    };
    format!("{major}/{subtype}")
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pairs = digits.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_from_ed_parts() {
        assert_eq!(content_type("IM", "JPEG"), "image/jpeg");
        assert_eq!(content_type("AP", "PDF"), "application/pdf");
        assert_eq!(content_type("TEXT", "RTF"), "text/rtf");
        assert_eq!(content_type("AP", ""), "application/octet-stream");
        assert_eq!(content_type("AP", "x y"), "application/octet-stream");
    }

    #[test]
    fn hex_data() {
        assert_eq!(hex_decode("48 69").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(hex_decode("4"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
