//! The calls into fhirbolt: strict R4 parsing and JSON/XML writing.

use std::borrow::Cow;

use fhirbolt::element::Element;
use fhirbolt::FhirReleases;

use crate::{narrative, ModelError};
use fhirbolt::model::r4::Resource as TypedResource;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, SerializationConfig};

/// The two FHIR wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/fhir+json`
    Json,
    /// `application/fhir+xml`
    Xml,
}

impl Format {
    /// The FHIR MIME type of this format.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json",
            Format::Xml => "application/fhir+xml",
        }
    }
}

fn strict() -> Option<DeserializationConfig> {
    Some(DeserializationConfig {
        mode: DeserializationMode::Strict,
    })
}

/// Checks an already-parsed JSON value against the R4 model.
pub(crate) fn check_value_structure(value: &serde_json::Value) -> Result<(), ModelError> {
    typed_from_value(value).map(drop)
}

fn typed_from_value(value: &serde_json::Value) -> Result<TypedResource, ModelError> {
    // fhirbolt panics on a few shapes (an empty array in some places) instead of refusing
    // them: a panic here is a refusal, never a dropped connection.
    let converted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fhirbolt::json::from_json_value::<TypedResource>(value.clone(), strict())
    }));
    match converted {
        Ok(typed) => typed.map_err(|error| ModelError::Structure {
            message: error.to_string(),
        }),
        Err(_) => Err(ModelError::Structure {
            message: "the R4 model cannot read this resource (an empty array or object?)".into(),
        }),
    }
}

/// Parses R4 XML into the JSON form of the same resource, narratives kept exact.
pub(crate) fn xml_to_value(bytes: &[u8]) -> Result<serde_json::Value, ModelError> {
    with_narratives_kept(bytes, |source| {
        let typed: TypedResource =
            fhirbolt::xml::from_slice(source, strict()).map_err(structure)?;
        fhirbolt::json::to_json_value(typed, Some(SerializationConfig { always_sort: false }))
            .map_err(serialize)
    })
}

/// Like [`xml_to_value`], through fhirbolt's generic element model, so that a resource that
/// lacks required elements still converts.
pub(crate) fn xml_to_value_lenient(bytes: &[u8]) -> Result<serde_json::Value, ModelError> {
    with_narratives_kept(bytes, |source| {
        let element: Element<{ FhirReleases::R4 }> =
            fhirbolt::xml::from_slice(source, None).map_err(structure)?;
        let text = fhirbolt::json::to_vec(&element, None).map_err(serialize)?;
        serde_json::from_slice(&text).map_err(serialize)
    })
}

/// Runs an XML → JSON conversion with the declaration normalised and the narratives lifted
/// out before it and put back after it, so their XHTML stays exact.
fn with_narratives_kept(
    bytes: &[u8],
    convert: impl FnOnce(&[u8]) -> Result<serde_json::Value, ModelError>,
) -> Result<serde_json::Value, ModelError> {
    let normalized = normalize_declaration(bytes);
    let bytes = normalized.as_ref();
    let lifted = narrative::lift_from_xml(bytes);
    let source = lifted
        .as_ref()
        .map_or(bytes, |(rewritten, _)| rewritten.as_slice());
    let mut value = convert(source)?;
    if let Some((_, narratives)) = &lifted {
        narrative::restore_into_json(&mut value, narratives);
    }
    Ok(value)
}

fn structure(error: impl std::fmt::Display) -> ModelError {
    ModelError::Structure {
        message: error.to_string(),
    }
}

fn serialize(error: impl std::fmt::Display) -> ModelError {
    ModelError::Serialize {
        format: "JSON",
        message: error.to_string(),
    }
}

/// Writes the JSON form of a resource as R4 XML, narratives kept exact.
pub(crate) fn value_to_xml(value: &serde_json::Value) -> Result<Vec<u8>, ModelError> {
    let mut lifted_value = value.clone();
    let narratives = narrative::lift_from_json(&mut lifted_value);
    let xml = write_xml(&typed_from_value(&lifted_value)?)?;
    match narrative::restore_into_xml(&xml, &narratives) {
        Some(restored) => Ok(restored.into_bytes()),
        // A placeholder went missing: fall back to fhirbolt's own rendering of the original.
        None => Ok(write_xml(&typed_from_value(value)?)?.into_bytes()),
    }
}

fn write_xml(typed: &TypedResource) -> Result<String, ModelError> {
    fhirbolt::xml::to_string(typed, None).map_err(|error| ModelError::Serialize {
        format: "XML",
        message: error.to_string(),
    })
}

/// Rewrites an XML declaration that names UTF-8 in another spelling (`utf-8`, `utf8`) or says
/// `standalone="yes"` into the form fhirbolt accepts; other declarations are left as they are.
fn normalize_declaration(bytes: &[u8]) -> Cow<'_, [u8]> {
    const CANONICAL: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let unmarked = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = unmarked
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let rest = &unmarked[start..];
    if !rest.starts_with(b"<?xml") {
        return Cow::Borrowed(bytes);
    }
    let Some(end) = rest.windows(2).position(|pair| pair == b"?>") else {
        return Cow::Borrowed(bytes);
    };
    let declaration = String::from_utf8_lossy(&rest[..end + 2]).to_ascii_lowercase();
    let names_utf8 = !declaration.contains("encoding")
        || declaration.contains("\"utf-8\"")
        || declaration.contains("'utf-8'")
        || declaration.contains("\"utf8\"");
    if !names_utf8
        || rest[..end + 2] == *CANONICAL
        || !declaration.contains("version=\"1.0\"") && !declaration.contains("version='1.0'")
    {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(CANONICAL);
    out.extend_from_slice(&rest[end + 2..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod declaration_tests {
    use super::normalize_declaration;

    #[test]
    fn utf8_spellings_become_canonical_and_others_stay() {
        let lower = br#"<?xml version="1.0" encoding="utf-8"?><Patient/>"#;
        assert_eq!(
            normalize_declaration(lower).as_ref(),
            br#"<?xml version="1.0" encoding="UTF-8"?><Patient/>"#
        );
        let latin = br#"<?xml version="1.0" encoding="ISO-8859-1"?><Patient/>"#;
        assert_eq!(normalize_declaration(latin).as_ref(), latin);
        let marked = b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Patient/>";
        assert_eq!(
            normalize_declaration(marked).as_ref(),
            br#"<?xml version="1.0" encoding="UTF-8"?><Patient/>"#
        );
        let none = b"<Patient/>";
        assert_eq!(normalize_declaration(none).as_ref(), none);
    }
}
