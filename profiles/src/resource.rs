//! [`Resource`]: one FHIR R4 resource in its JSON form, checked by the R4 model.

use crate::codec::{self, Format};
use crate::json_guard::check_json;
use crate::xml_guard::check_xml;
use crate::{is_resource_type, ModelError, ParseLimits};
use serde_json::{Map, Value};

/// A FHIR R4 resource held as its JSON object.
///
/// JSON is the working form: it keeps the client's element order and decimal text exactly
/// (serde_json runs with `arbitrary_precision` and `preserve_order`), it is what the store keeps,
/// and XML is produced from it on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    value: Value,
}

impl Resource {
    /// Parses a client document in `format`, applying `limits` and the strict R4 model.
    pub fn parse(bytes: &[u8], format: Format, limits: &ParseLimits) -> Result<Self, ModelError> {
        match format {
            Format::Json => Self::from_json(bytes, limits),
            Format::Xml => Self::from_xml(bytes, limits),
        }
    }

    /// Parses FHIR JSON: size and depth first, then syntax, then the R4 model.
    pub fn from_json(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ModelError> {
        check_json(bytes, limits)?;
        let value: Value = serde_json::from_slice(bytes).map_err(|error| ModelError::Syntax {
            format: "JSON",
            message: error.to_string(),
        })?;
        check_resource_type(&value)?;
        codec::check_json_structure(bytes)?;
        Ok(Resource { value })
    }

    /// Parses FHIR XML: size, depth and DOCTYPE first, then the R4 model.
    pub fn from_xml(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ModelError> {
        check_xml(bytes, limits)?;
        let value = codec::xml_to_value(bytes)?;
        check_resource_type(&value)?;
        Ok(Resource { value })
    }

    /// Checks a JSON value built in memory against the R4 model.
    pub fn from_value(value: Value) -> Result<Self, ModelError> {
        check_resource_type(&value)?;
        codec::check_value_structure(&value)?;
        Ok(Resource { value })
    }

    /// Wraps a resource taken from an entry of a Bundle that was itself parsed by this crate,
    /// or read back from our own store: the model check already ran, only the shape is checked.
    pub fn from_checked_value(value: Value) -> Result<Self, ModelError> {
        check_resource_type(&value)?;
        Ok(Resource { value })
    }

    /// Reads JSON this gateway wrote itself (the store's bytes): syntax and shape only.
    pub fn from_stored_json(bytes: &[u8]) -> Result<Self, ModelError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|error| ModelError::Syntax {
            format: "JSON",
            message: error.to_string(),
        })?;
        Self::from_checked_value(value)
    }

    /// The `resourceType`, e.g. `"ServiceRequest"`.
    pub fn resource_type(&self) -> &str {
        self.value
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The logical id, if the resource carries one.
    pub fn id(&self) -> Option<&str> {
        self.value.get("id").and_then(Value::as_str)
    }

    /// Sets (or replaces) the logical id.
    pub fn set_id(&mut self, id: &str) {
        self.object_mut()
            .insert("id".into(), Value::String(id.into()));
    }

    /// `meta.versionId`, if present.
    pub fn version_id(&self) -> Option<&str> {
        self.value
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
    }

    /// Sets `meta.versionId` and `meta.lastUpdated`, keeping every other `meta` element.
    pub fn set_version_meta(&mut self, version_id: &str, last_updated: &str) {
        let object = self.object_mut();
        let meta = object
            .entry("meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Value::Object(meta) = meta {
            meta.insert("versionId".into(), Value::String(version_id.into()));
            meta.insert("lastUpdated".into(), Value::String(last_updated.into()));
        }
    }

    /// The JSON object.
    pub fn as_value(&self) -> &Value {
        &self.value
    }

    /// Gives up the wrapper and returns the JSON object.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Calls `rewrite(element_name, text)` on every string value in the resource (array items
    /// get the array's element name) and replaces the string where it returns `Some`. Used to
    /// rewrite references; element types do not change, so the resource stays valid.
    pub fn rewrite_strings(&mut self, rewrite: &mut dyn FnMut(&str, &str) -> Option<String>) {
        rewrite_strings_in("", &mut self.value, rewrite);
    }

    /// Compact JSON bytes.
    pub fn to_json_vec(&self) -> Vec<u8> {
        // Writing a Value to a Vec cannot fail: all keys are strings and there is no IO.
        serde_json::to_vec(&self.value).unwrap_or_default()
    }

    /// Writes the resource in `format`; `pretty` indents JSON (XML is always compact).
    pub fn serialize(&self, format: Format, pretty: bool) -> Result<Vec<u8>, ModelError> {
        match (format, pretty) {
            (Format::Json, false) => Ok(self.to_json_vec()),
            (Format::Json, true) => Ok(serde_json::to_vec_pretty(&self.value).unwrap_or_default()),
            (Format::Xml, _) => codec::value_to_xml(&self.value),
        }
    }

    fn object_mut(&mut self) -> &mut Map<String, Value> {
        if !self.value.is_object() {
            self.value = Value::Object(Map::new());
        }
        match &mut self.value {
            Value::Object(object) => object,
            _ => unreachable!("made an object above"),
        }
    }
}

fn check_resource_type(value: &Value) -> Result<(), ModelError> {
    let Some(object) = value.as_object() else {
        return Err(ModelError::ResourceType(
            "a FHIR resource must be a JSON object".into(),
        ));
    };
    match object.get("resourceType") {
        None => Err(ModelError::ResourceType(
            "the resource has no resourceType".into(),
        )),
        Some(Value::String(name)) if is_resource_type(name) => Ok(()),
        Some(Value::String(name)) => Err(ModelError::ResourceType(format!(
            "'{name}' is not an R4 resource type"
        ))),
        Some(_) => Err(ModelError::ResourceType(
            "resourceType must be a string".into(),
        )),
    }
}

fn rewrite_strings_in(
    name: &str,
    value: &mut Value,
    rewrite: &mut dyn FnMut(&str, &str) -> Option<String>,
) {
    match value {
        Value::String(text) => {
            if let Some(replacement) = rewrite(name, text) {
                *text = replacement;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_strings_in(name, item, rewrite)),
        Value::Object(object) => object
            .iter_mut()
            .for_each(|(key, item)| rewrite_strings_in(key, item, rewrite)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Parses any JSON document (e.g. a JSON Patch) under the same size and depth limits as
/// resources.
pub fn parse_json_value(bytes: &[u8], limits: &ParseLimits) -> Result<Value, ModelError> {
    check_json(bytes, limits)?;
    serde_json::from_slice(bytes).map_err(|error| ModelError::Syntax {
        format: "JSON",
        message: error.to_string(),
    })
}
