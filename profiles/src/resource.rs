//! [`Resource`]: one FHIR R4 resource in its JSON form, checked by the R4 model.

use crate::codec;
use crate::codec::Format;
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
        // The model is checked on the parsed value: one fhirbolt instantiation instead of two
        // (its generic deserialiser is most of this crate's build time).
        check_resource_type(&value)?;
        codec::check_value_structure(&value)?;
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
    /// A new `id` goes right after `resourceType`, where readers expect it.
    pub fn set_id(&mut self, id: &str) {
        let object = self.object_mut();
        let id = Value::String(id.into());
        match object.get_mut("id") {
            Some(existing) => *existing = id,
            None => {
                let position = usize::from(object.contains_key("resourceType")).min(object.len());
                object.shift_insert(position, "id".into(), id);
            }
        }
    }

    /// `meta.versionId`, if present.
    pub fn version_id(&self) -> Option<&str> {
        self.value
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
    }

    /// Sets `meta.versionId` and `meta.lastUpdated`, keeping every other `meta` element; a new
    /// `meta` goes right after `id`.
    pub fn set_version_meta(&mut self, version_id: &str, last_updated: &str) {
        let object = self.object_mut();
        if !object.contains_key("meta") {
            let position = ["resourceType", "id"]
                .iter()
                .filter(|key| object.contains_key(**key))
                .count()
                .min(object.len());
            object.shift_insert(position, "meta".into(), Value::Object(Map::new()));
        }
        let Some(meta) = object.get_mut("meta") else {
            return;
        };
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

/// Parses FHIR XML into its JSON form without the R4 model's cardinality checks (missing
/// required elements are left for a validator to report); unknown elements are still errors.
/// Under the same size, depth and DOCTYPE rules as resources.
pub fn parse_xml_value(bytes: &[u8], limits: &ParseLimits) -> Result<Value, ModelError> {
    check_xml(bytes, limits)?;
    codec::xml_to_value_lenient(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bytes: 1 << 20,
        max_depth: 64,
    };

    #[test]
    fn json_keeps_decimal_text_and_element_order() {
        let text = br#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}}"#;
        let resource = Resource::from_json(text, &LIMITS).unwrap();
        assert_eq!(resource.to_json_vec(), text.to_vec());
    }

    #[test]
    fn new_id_and_meta_go_first_and_other_meta_is_kept() {
        let text = br#"{"resourceType":"Patient","active":true}"#;
        let mut resource = Resource::from_json(text, &LIMITS).unwrap();
        resource.set_id("p1");
        resource.set_version_meta("1", "2026-01-01T00:00:00.000Z");
        assert_eq!(
            String::from_utf8(resource.to_json_vec()).unwrap(),
            r#"{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00.000Z"},"active":true}"#
        );
        let tagged = br#"{"resourceType":"Patient","meta":{"tag":[{"code":"t"}]}}"#;
        let mut resource = Resource::from_json(tagged, &LIMITS).unwrap();
        resource.set_version_meta("2", "2026-01-01T00:00:00.000Z");
        assert_eq!(resource.as_value()["meta"]["tag"][0]["code"], "t");
        assert_eq!(resource.version_id(), Some("2"));
    }

    #[test]
    fn xml_and_json_describe_the_same_resource() {
        let xml = br#"<Patient xmlns="http://hl7.org/fhir"><id value="a"/><active value="true"/><name><family value="Yamada"/></name></Patient>"#;
        let from_xml = Resource::from_xml(xml, &LIMITS).unwrap();
        let json =
            br#"{"resourceType":"Patient","id":"a","active":true,"name":[{"family":"Yamada"}]}"#;
        let from_json = Resource::from_json(json, &LIMITS).unwrap();
        assert_eq!(from_xml.as_value(), from_json.as_value());
        let written = from_json.serialize(Format::Xml, false).unwrap();
        let back = Resource::from_xml(&written, &LIMITS).unwrap();
        assert_eq!(back.as_value(), from_json.as_value());
    }

    #[test]
    fn unknown_elements_and_types_are_refused_with_a_reason() {
        let unknown = br#"{"resourceType":"Patient","colour":"blue"}"#;
        assert!(matches!(
            Resource::from_json(unknown, &LIMITS),
            Err(ModelError::Structure { .. })
        ));
        let not_r4 = br#"{"resourceType":"Mystery"}"#;
        assert!(matches!(
            Resource::from_json(not_r4, &LIMITS),
            Err(ModelError::ResourceType(_))
        ));
        let broken = br#"{"resourceType":"Patient","#;
        assert!(matches!(
            Resource::from_json(broken, &LIMITS),
            Err(ModelError::Syntax { .. })
        ));
    }

    #[test]
    fn deep_json_and_xml_are_refused_before_parsing() {
        let deep_json = format!(
            "{{\"resourceType\":\"Patient\",\"x\":{}{}}}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert!(matches!(
            Resource::from_json(deep_json.as_bytes(), &LIMITS),
            Err(ModelError::TooDeep { .. })
        ));
        let deep_xml = format!(
            "<Patient xmlns=\"http://hl7.org/fhir\">{}{}</Patient>",
            "<extension>".repeat(2000),
            "</extension>".repeat(2000)
        );
        assert!(matches!(
            Resource::from_xml(deep_xml.as_bytes(), &LIMITS),
            Err(ModelError::TooDeep { .. })
        ));
    }
}
