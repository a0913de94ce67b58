//! A DICOM data set as read from a file header: elements in file order with their raw value
//! bytes, sequences as nested data sets. Text is decoded on access with the character sets the
//! data set declares (items inherit their parent's unless they declare their own).

use super::charset::{CharacterSets, TextKind};
use super::person_name::PersonName;
use dicom_core::{Tag, VR};

/// One element's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementValue {
    /// A primitive value's bytes as stored (padding included).
    Bytes(Vec<u8>),
    /// A sequence's items.
    Items(Vec<DataSet>),
}

/// One data element.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// The element's tag.
    pub tag: Tag,
    /// Its value representation (from the file, or the dictionary for implicit VR).
    pub vr: VR,
    /// Its value.
    pub value: ElementValue,
}

/// A data set (the file's, or one sequence item's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSet {
    /// The elements in the order they were read.
    pub elements: Vec<Element>,
    /// The character sets in force for this data set's text.
    pub charsets: CharacterSets,
    /// True when binary numbers are big endian (Explicit VR Big Endian).
    pub big_endian: bool,
}

impl DataSet {
    /// An empty data set that decodes text with `charsets`.
    pub fn new(charsets: CharacterSets, big_endian: bool) -> Self {
        DataSet {
            elements: Vec::new(),
            charsets,
            big_endian,
        }
    }

    /// The element with `tag`, if present.
    pub fn element(&self, tag: Tag) -> Option<&Element> {
        self.elements.iter().find(|element| element.tag == tag)
    }

    /// The raw bytes of a primitive element (padding included).
    pub fn bytes(&self, tag: Tag) -> Option<&[u8]> {
        match &self.element(tag)?.value {
            ElementValue::Bytes(bytes) => Some(bytes),
            ElementValue::Items(_) => None,
        }
    }

    /// The items of a sequence element (empty when absent or not a sequence).
    pub fn items(&self, tag: Tag) -> &[DataSet] {
        match self.element(tag).map(|element| &element.value) {
            Some(ElementValue::Items(items)) => items,
            _ => &[],
        }
    }

    /// The first item of a sequence element.
    pub fn item(&self, tag: Tag) -> Option<&DataSet> {
        self.items(tag).first()
    }

    /// The whole decoded text of an element, padding removed; `None` when absent or empty.
    /// Bytes the declared character sets cannot decode come out as U+FFFD.
    pub fn text(&self, tag: Tag) -> Option<String> {
        let element = self.element(tag)?;
        let ElementValue::Bytes(bytes) = &element.value else {
            return None;
        };
        let kind = match element.vr {
            VR::PN => TextKind::PersonName,
            VR::ST | VR::LT | VR::UT => TextKind::Text,
            _ => TextKind::MultiValued,
        };
        // Plain ASCII without escape sequences reads the same in every character set.
        let decoded = if bytes.is_ascii() && !bytes.contains(&0x1B) {
            String::from_utf8_lossy(bytes).into_owned()
        } else {
            self.charsets.decode(bytes, kind).text
        };
        let trimmed = match kind {
            // Leading spaces are significant in ST/LT/UT.
            TextKind::Text => decoded.trim_end_matches([' ', '\0']),
            _ => decoded.trim_matches([' ', '\0']),
        };
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// The values of a multi-valued text element, each trimmed, empty ones dropped.
    pub fn texts(&self, tag: Tag) -> Vec<String> {
        self.text(tag)
            .map(|text| {
                text.split('\\')
                    .map(|value| value.trim_matches([' ', '\0']))
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first value of a (possibly multi-valued) text element.
    pub fn first_text(&self, tag: Tag) -> Option<String> {
        self.texts(tag).into_iter().next()
    }

    /// A UID value (UI): trailing NUL and spaces removed.
    pub fn uid(&self, tag: Tag) -> Option<String> {
        self.first_text(tag)
    }

    /// A Person Name value.
    pub fn person_name(&self, tag: Tag) -> Option<PersonName> {
        let name = PersonName::parse(&self.text(tag)?);
        (name != PersonName::default()).then_some(name)
    }

    /// An integer: an IS string's first value, or a binary US/SS/UL/SL value.
    pub fn int(&self, tag: Tag) -> Option<i64> {
        let element = self.element(tag)?;
        let ElementValue::Bytes(bytes) = &element.value else {
            return None;
        };
        let read = |width: usize| -> Option<[u8; 4]> {
            let raw = bytes.get(..width)?;
            let mut word = [0u8; 4];
            if self.big_endian {
                word[4 - width..].copy_from_slice(raw);
                word.reverse();
            } else {
                word[..width].copy_from_slice(raw);
            }
            Some(word)
        };
        match element.vr {
            VR::US => read(2).map(|w| i64::from(u16::from_le_bytes([w[0], w[1]]))),
            VR::SS => read(2).map(|w| i64::from(i16::from_le_bytes([w[0], w[1]]))),
            VR::UL => read(4).map(|w| i64::from(u32::from_le_bytes(w))),
            VR::SL => read(4).map(|w| i64::from(i32::from_le_bytes(w))),
            _ => self.first_text(tag)?.trim().parse().ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(elements: Vec<Element>, big_endian: bool) -> DataSet {
        DataSet {
            elements,
            ..DataSet::new(CharacterSets::default(), big_endian)
        }
    }

    fn bytes(group: u16, element: u16, vr: VR, value: &[u8]) -> Element {
        Element {
            tag: Tag(group, element),
            vr,
            value: ElementValue::Bytes(value.to_vec()),
        }
    }

    #[test]
    fn text_is_trimmed_and_split() {
        let set = with(
            vec![
                bytes(0x0008, 0x0060, VR::CS, b"CT"),
                bytes(0x0008, 0x0061, VR::CS, b"CT\\PT "),
                bytes(0x0020, 0x000D, VR::UI, b"1.2.3\0"),
                bytes(0x0008, 0x1030, VR::LO, b"  "),
                bytes(0x4000, 0x4000, VR::LT, b"  indented  "),
            ],
            false,
        );
        assert_eq!(set.text(Tag(0x0008, 0x0060)).as_deref(), Some("CT"));
        assert_eq!(set.texts(Tag(0x0008, 0x0061)), ["CT", "PT"]);
        assert_eq!(set.uid(Tag(0x0020, 0x000D)).as_deref(), Some("1.2.3"));
        assert_eq!(set.text(Tag(0x0008, 0x1030)), None);
        assert_eq!(set.text(Tag(0x4000, 0x4000)).as_deref(), Some("  indented"));
        assert_eq!(set.text(Tag(0x0010, 0x0010)), None);
    }

    #[test]
    fn integers_from_strings_and_binary_in_both_byte_orders() {
        let little = with(
            vec![
                bytes(0x0020, 0x0013, VR::IS, b" 12 "),
                bytes(0x0028, 0x0010, VR::US, &[0x00, 0x02]),
                bytes(0x0028, 0x0011, VR::UL, &[1, 0, 0, 0]),
                bytes(0x0028, 0x0012, VR::SS, &[0xFF, 0xFF]),
            ],
            false,
        );
        assert_eq!(little.int(Tag(0x0020, 0x0013)), Some(12));
        assert_eq!(little.int(Tag(0x0028, 0x0010)), Some(512));
        assert_eq!(little.int(Tag(0x0028, 0x0011)), Some(1));
        assert_eq!(little.int(Tag(0x0028, 0x0012)), Some(-1));
        let big = with(vec![bytes(0x0028, 0x0010, VR::US, &[0x02, 0x00])], true);
        assert_eq!(big.int(Tag(0x0028, 0x0010)), Some(512));
        let short = with(vec![bytes(0x0028, 0x0010, VR::US, &[0x02])], false);
        assert_eq!(short.int(Tag(0x0028, 0x0010)), None);
    }
}
