//! The calls into fhirbolt: strict R4 parsing and JSON/XML writing.

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
    fhirbolt::json::from_json_value::<TypedResource>(value.clone(), strict()).map_err(|error| {
        ModelError::Structure {
            message: error.to_string(),
        }
    })
}

/// Parses R4 XML into the JSON form of the same resource, narratives kept exact.
pub(crate) fn xml_to_value(bytes: &[u8]) -> Result<serde_json::Value, ModelError> {
    let lifted = narrative::lift_from_xml(bytes);
    let source = lifted
        .as_ref()
        .map_or(bytes, |(rewritten, _)| rewritten.as_slice());
    let typed: TypedResource =
        fhirbolt::xml::from_slice(source, strict()).map_err(|error| ModelError::Structure {
            message: error.to_string(),
        })?;
    let mut value =
        fhirbolt::json::to_json_value(typed, Some(SerializationConfig { always_sort: false }))
            .map_err(|error| ModelError::Serialize {
                format: "JSON",
                message: error.to_string(),
            })?;
    if let Some((_, narratives)) = &lifted {
        narrative::restore_into_json(&mut value, narratives);
    }
    Ok(value)
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
