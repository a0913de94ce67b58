//! HL7 v2 data types as FHIR data types: dates (DTM), numbers (NM), coded elements (CE/CWE),
//! names (XPN/XCN), addresses (XAD), telecoms (XTN), identifiers (CX/EI).

pub mod address;
pub mod coded;
pub mod coding_system;
pub mod decimal;
pub mod dtm;
pub mod identifier;
pub mod name;
pub mod telecom;

use super::er7::{Component, Location, Repetition, Segment};
use super::mapping::component_location;
use std::borrow::Cow;

/// Where one field repetition sits, to locate its components in report entries.
#[derive(Clone, Copy)]
pub struct Place<'a, 'm> {
    /// The segment.
    pub segment: &'a Segment<'m>,
    /// The field number.
    pub field: usize,
    /// The 1-based repetition.
    pub repetition: usize,
}

impl Place<'_, '_> {
    /// The location of component `component` of this repetition.
    pub fn component(&self, component: usize) -> Location {
        component_location(self.segment, self.field, self.repetition, component)
    }
}

/// The unescaped text of the first subcomponent of component `j` (1-based).
pub fn component_text<'m>(repetition: &Repetition<'m>, j: usize) -> Cow<'m, str> {
    // `Component::text` is the first subcomponent, unescaped, found in one pass.
    repetition.component(j).text()
}

/// The unescaped text of `component` with all its subcomponents, joined by `separator` (the
/// message's subcomponent separator). JAHIS codes use subcomponents inside code values (`9A100&IMP`,
/// `58368&7`); keeping them whole keeps such codes distinct.
pub fn whole_text<'m>(component: &Component<'m>, separator: char) -> Cow<'m, str> {
    let component = *component;
    let count = component.subcomponent_count();
    if count <= 1 {
        return component.subcomponent_text(1);
    }
    let mut text = String::new();
    for k in 1..=count {
        if k > 1 {
            text.push(separator);
        }
        text.push_str(&component.subcomponent_text(k));
    }
    // A trailing run of empty subcomponents adds nothing but separators.
    let trimmed = text.trim_end_matches(separator).len();
    text.truncate(trimmed);
    Cow::Owned(text)
}

/// `text` made safe as one segment of a URI path: unreserved ASCII (RFC 3986) is kept, every
/// other byte percent-encoded, so local names with spaces or kanji still give valid systems.
pub fn uri_part(text: &str) -> Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if text.bytes().all(unreserved) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0x0F)]));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts_are_percent_encoded() {
        assert_eq!(uri_part("99XY1"), "99XY1");
        assert_eq!(uri_part("GOOD HEALTH"), "GOOD%20HEALTH");
        assert_eq!(uri_part("医"), "%E5%8C%BB");
        assert_eq!(uri_part("a/b"), "a%2Fb");
    }
}
