//! The output tree of the mappings and its builders. Objects keep `&'static str` keys in
//! insertion order (FHIR element order), numbers keep their validated decimal text, and
//! [`super::json_write`] turns a tree into compact JSON bytes without any `serde_json::Value`.

pub use super::json_text::Text;
use super::json_write::{write_key, write_str, write_str_body};
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
    /// JSON text written as is: a fragment already known to be valid JSON (see
    /// [`raw_reference`]), so writing it is a single copy.
    Raw(Cow<'static, [u8]>),
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

/// The same JSON as [`reference`], kept as one written fragment (one allocation instead of
/// an object and its string, and a plain copy when the Bundle is written).
pub fn raw_reference(resource_type: &str, id: &str) -> Value {
    let mut out = Vec::with_capacity(resource_type.len() + id.len() + 17);
    out.extend_from_slice(b"{\"reference\":\"");
    write_str_body(&mut out, resource_type);
    out.push(b'/');
    write_str_body(&mut out, id);
    out.extend_from_slice(b"\"}");
    raw_value(out)
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

/// Appends `{"system":…,"code":…[,"display":…]}`.
fn write_static_coding(
    out: &mut Vec<u8>,
    system: &'static str,
    code: &'static str,
    display: Option<&'static str>,
) {
    out.push(b'{');
    write_key(out, "system");
    write_str(out, system);
    out.push(b',');
    write_key(out, "code");
    write_str(out, code);
    if let Some(display) = display {
        out.push(b',');
        write_key(out, "display");
        write_str(out, display);
    }
    out.push(b'}');
}

/// Written JSON as a [`Value::Raw`].
pub fn raw_value(out: Vec<u8>) -> Value {
    Value::Raw(Cow::Owned(out))
}

/// A CodeableConcept whose Codings (system, code, display) are all fixed, kept as one written
/// fragment (see [`Value::Raw`]).
pub fn static_codings_concept(
    codings: &[(&'static str, &'static str, Option<&'static str>)],
) -> Value {
    let mut out = Vec::with_capacity(16 + codings.len() * 96);
    out.push(b'{');
    write_key(&mut out, "coding");
    out.push(b'[');
    for (index, (system, code, display)) in codings.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_static_coding(&mut out, system, code, *display);
    }
    out.extend_from_slice(b"]}");
    raw_value(out)
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
    static_codings_concept(&[(system, code, display)])
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
    fn raw_references_write_like_reference_objects() {
        for (resource_type, id) in [("Patient", "p1"), ("Observation", "a\"b\\c"), ("X", "")] {
            assert_eq!(
                raw_reference(resource_type, id).to_serde(),
                reference(resource_type, id).to_serde()
            );
        }
        assert!(matches!(raw_reference("Patient", "p1"), Value::Raw(_)));
    }

    #[test]
    fn static_fragments_write_like_trees() {
        let tree_coding = |display: Option<&str>| {
            let mut coding = obj(3);
            put(&mut coding, "system", "http://x/y");
            put(&mut coding, "code", "a\"b");
            put_some(&mut coding, "display", display);
            Value::Object(coding)
        };
        for display in [None, Some("shown")] {
            let mut concept = obj(1);
            put(
                &mut concept,
                "coding",
                vec![tree_coding(display), tree_coding(None)],
            );
            assert_eq!(
                static_codings_concept(&[
                    ("http://x/y", "a\"b", display),
                    ("http://x/y", "a\"b", None)
                ])
                .to_serde(),
                concept.to_serde()
            );
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
