//! Small helpers for building FHIR JSON without `json!`: objects are filled key by key in FHIR
//! element order (serde_json `preserve_order` keeps insertion order), with capacity reserved,
//! so the output is stable and cheap to build.

use serde_json::{Map, Value};

/// A JSON object under construction.
pub type Obj = Map<String, Value>;

/// An empty object with room for `capacity` keys.
pub fn obj(capacity: usize) -> Obj {
    Map::with_capacity(capacity)
}

/// Inserts `value` under `key`.
pub fn put(object: &mut Obj, key: &str, value: impl Into<Value>) {
    object.insert(key.to_owned(), value.into());
}

/// Inserts `value` under `key` when there is one.
pub fn put_some(object: &mut Obj, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        put(object, key, value);
    }
}

/// Inserts a non-empty string under `key`.
pub fn put_str(object: &mut Obj, key: &str, text: &str) {
    if !text.is_empty() {
        put(object, key, text);
    }
}

/// Inserts a non-empty array under `key`.
pub fn put_array(object: &mut Obj, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        put(object, key, Value::Array(items));
    }
}

/// `{"reference": "<Type>/<id>"}`, the literal reference every link in our Bundles uses.
pub fn reference(resource_type: &str, id: &str) -> Value {
    let mut text = String::with_capacity(resource_type.len() + 1 + id.len());
    text.push_str(resource_type);
    text.push('/');
    text.push_str(id);
    let mut object = obj(1);
    put(&mut object, "reference", text);
    Value::Object(object)
}

/// `{"display": text}`: a reference to someone the message names but does not identify.
pub fn display_reference(text: &str) -> Value {
    let mut object = obj(1);
    put(&mut object, "display", text);
    Value::Object(object)
}

/// A Coding with whichever of system, code and display are given.
pub fn coding(system: Option<&str>, code: Option<&str>, display: Option<&str>) -> Value {
    let mut object = obj(3);
    put_some(&mut object, "system", system);
    put_some(&mut object, "code", code);
    put_some(&mut object, "display", display);
    Value::Object(object)
}

/// A CodeableConcept holding one Coding.
pub fn concept(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut object = obj(1);
    put(
        &mut object,
        "coding",
        Value::Array(vec![coding(Some(system), Some(code), display)]),
    );
    Value::Object(object)
}

/// A CodeableConcept with only text.
pub fn text_concept(text: &str) -> Value {
    let mut object = obj(1);
    put(&mut object, "text", text);
    Value::Object(object)
}
