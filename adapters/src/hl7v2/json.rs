//! The output tree of the mappings and its builders. Objects keep `&'static str` keys in
//! insertion order (FHIR element order), numbers keep their validated decimal text, and
//! [`super::json_write`] turns a tree into compact JSON bytes without any `serde_json::Value`.

pub use super::json_text::Text;
use std::borrow::Cow;

/// A JSON value under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its JSON text (already validated: see [`json_number`]).
    Number(Text),
    /// A string.
    String(Text),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Obj),
}

/// A JSON object under construction: members in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Obj {
    members: Vec<(&'static str, Value)>,
}

impl Obj {
    /// True when the object has a member `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.members.iter().any(|(k, _)| *k == key)
    }

    /// True when the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members, in order.
    pub fn members(&self) -> &[(&'static str, Value)] {
        &self.members
    }

    /// Adds `value` under `key` at the end. Each mapping sets a key at most once (the
    /// golden and property tests check the output against serde_json's own reading of it).
    pub fn insert(&mut self, key: &'static str, value: Value) {
        self.members.push((key, value));
    }

    /// Moves every member of `other` to the end of this object.
    pub fn append(&mut self, other: &mut Obj) {
        self.members.append(&mut other.members);
    }
}

#[cfg(test)]
impl Value {
    /// The value as a serde_json tree (through its JSON text), for assertions.
    pub fn to_serde(&self) -> serde_json::Value {
        let mut out = Vec::new();
        super::json_write::write_value(&mut out, self);
        serde_json::from_slice(&out).unwrap_or_default()
    }
}

#[cfg(test)]
impl Obj {
    /// The object as a serde_json tree, for assertions.
    pub fn to_serde(&self) -> serde_json::Value {
        Value::Object(self.clone()).to_serde()
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(Text::copy(text))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(Text::from(text))
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Self {
        Value::String(Text::copy(text))
    }
}

impl From<Cow<'_, str>> for Value {
    fn from(text: Cow<'_, str>) -> Self {
        Value::String(Text::from(text))
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<Obj> for Value {
    fn from(object: Obj) -> Self {
        Value::Object(object)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

/// A string value that borrows a `'static` text (codes, systems) instead of copying it.
pub fn static_str(text: &'static str) -> Value {
    Value::String(Text::Static(text))
}

/// The decimal text of a FHIR decimal as a JSON number, or `None` when it is not valid JSON
/// number syntax (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`, the only forms the mappings produce).
pub fn json_number(decimal: &str) -> Option<Value> {
    let unsigned = decimal.strip_prefix('-').unwrap_or(decimal);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let integer_ok = digits(integer) && (integer == "0" || !integer.starts_with('0'));
    if !integer_ok || !fraction.is_none_or(digits) {
        return None;
    }
    Some(Value::Number(Text::copy(decimal)))
}

/// An empty object with room for `capacity` keys.
pub fn obj(capacity: usize) -> Obj {
    Obj {
        members: Vec::with_capacity(capacity),
    }
}

/// Inserts `value` under `key`.
pub fn put(object: &mut Obj, key: &'static str, value: impl Into<Value>) {
    object.insert(key, value.into());
}

/// Inserts a `'static` string under `key` without copying it.
pub fn put_static(object: &mut Obj, key: &'static str, text: &'static str) {
    object.insert(key, static_str(text));
}

/// Inserts `value` under `key` when there is one.
pub fn put_some(object: &mut Obj, key: &'static str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        put(object, key, value);
    }
}

/// Inserts a non-empty string under `key`.
pub fn put_str(object: &mut Obj, key: &'static str, text: &str) {
    if !text.is_empty() {
        put(object, key, text);
    }
}

/// Inserts a non-empty array under `key`.
pub fn put_array(object: &mut Obj, key: &'static str, items: Vec<Value>) {
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

/// A Coding of a fixed code system, code and display (nothing copied).
pub fn static_coding(
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) -> Value {
    let mut object = obj(3);
    put_static(&mut object, "system", system);
    put_static(&mut object, "code", code);
    if let Some(display) = display {
        put_static(&mut object, "display", display);
    }
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

/// A CodeableConcept holding one Coding of a fixed code system, code and display.
pub fn static_concept(
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) -> Value {
    let mut object = obj(1);
    put(
        &mut object,
        "coding",
        Value::Array(vec![static_coding(system, code, display)]),
    );
    Value::Object(object)
}

/// A CodeableConcept with only text.
pub fn text_concept(text: &str) -> Value {
    let mut object = obj(1);
    put(&mut object, "text", text);
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked() {
        for good in ["0", "-0", "7.20", "105600", "-0.5"] {
            assert!(json_number(good).is_some(), "{good}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e5", "+1", "1.2.3"] {
            assert!(json_number(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn keys_keep_insertion_order() {
        let mut object = obj(2);
        put(&mut object, "b", "1");
        put(&mut object, "a", true);
        let keys: Vec<&str> = object.members().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["b", "a"]);
        assert!(object.contains_key("a"));
        assert!(!object.contains_key("c"));
    }
}
