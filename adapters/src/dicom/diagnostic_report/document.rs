//! An Encapsulated Document (0042,0011) as `presentedForm`: the bytes without their padding,
//! base64-encoded, with the MIME type, title and creation time.

use super::reader::{Moment, Reader};
use crate::dicom::dataset::DataSet;
use crate::report::ReportCode;
use base64::Engine as _;
use dicom_dictionary_std::tags;
use serde_json::{Map, Value};

/// (0042,0012) MIME type (default `application/pdf`) and (0042,0011) Encapsulated Document
/// without its even-length padding; `None` (reported) when there is no document.
pub fn encapsulated_document<'s>(
    reader: &mut Reader<'_>,
    set: &'s DataSet,
) -> Option<(String, &'s [u8])> {
    let Some(bytes) = set
        .bytes(tags::ENCAPSULATED_DOCUMENT)
        .filter(|bytes| !bytes.is_empty())
    else {
        reader.warn(
            ReportCode::Missing,
            tags::ENCAPSULATED_DOCUMENT,
            "the Encapsulated Document is absent or empty: no DiagnosticReport is made",
        );
        return None;
    };
    let mime = reader
        .value(set, tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT)
        .unwrap_or_else(|| "application/pdf".to_owned());
    // (0042,0015) Encapsulated Document Length is the length before padding, when given.
    let declared = set.int(tags::ENCAPSULATED_DOCUMENT_LENGTH);
    let document = match declared.and_then(|length| usize::try_from(length).ok()) {
        Some(length) if length > 0 && length <= bytes.len() => &bytes[..length],
        _ => {
            if let Some(length) = declared {
                let message = format!(
                    "Encapsulated Document Length {length} does not fit the {} document bytes: it is ignored",
                    bytes.len()
                );
                reader.warn(
                    ReportCode::Invalid,
                    tags::ENCAPSULATED_DOCUMENT_LENGTH,
                    message,
                );
            }
            without_padding(bytes, &mime)
        }
    };
    Some((mime, document))
}

/// `bytes` without the one NUL that pads a value to even length, when it is clearly padding:
/// after a PDF's `%%EOF` (and its line end), or at the end of a text document.
fn without_padding<'b>(bytes: &'b [u8], mime: &str) -> &'b [u8] {
    match bytes.split_last() {
        Some((0, rest))
            if rest.trim_ascii_end().ends_with(b"%%EOF")
                || mime.starts_with("text/")
                || mime.ends_with("xml") =>
        {
            rest
        }
        _ => bytes,
    }
}

/// `presentedForm[0]`: the document as base64 with its type, title and creation time.
pub fn presented_form(
    mime: &str,
    document: &[u8],
    title: Option<&str>,
    creation: Option<&Moment>,
) -> Value {
    let mut attachment = Map::with_capacity(4);
    attachment.insert("contentType".into(), mime.into());
    let data = base64::engine::general_purpose::STANDARD.encode(document);
    attachment.insert("data".into(), data.into());
    if let Some(title) = title {
        attachment.insert("title".into(), title.into());
    }
    if let Some(creation) = creation {
        attachment.insert("creation".into(), creation.value.clone().into());
    }
    Value::Object(attachment)
}
