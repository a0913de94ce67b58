//! Source positions (line, column) for validation messages.
//!
//! The validator reports issues by FHIRPath-style location (`Patient.name[0].given[1]`); a
//! client fixing its document wants the line too. These scanners map each location to where it
//! starts in the text the client sent. They are tolerant: malformed or truncated input yields
//! the positions found before the fault, never a panic, because they run beside the real
//! parser only to decorate its messages. Lines are split at `\n`, columns count characters
//! (UTF-8 aware, so a Japanese name before a key moves the key one column per character), and
//! both are 1-based.
// Nothing outside the tests calls these until the validator that reports positions is merged.
#![cfg_attr(not(test), allow(dead_code))]

use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;

/// Largest input scanned; anything after it is treated as truncated. Matches the default
/// `ParseLimits::max_bytes`, so a document the parser accepted is scanned whole.
const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest JSON object/array or XML element nesting followed; twice the parser's default limit.
const MAX_DEPTH: usize = 128;
/// Longest location recorded; a longer one ends the scan (no FHIR path comes near it).
const MAX_KEY_BYTES: usize = 4096;
/// Bytes of all locations together; bounds memory for documents of many tiny values.
const MAX_TOTAL_KEY_BYTES: usize = 64 * 1024 * 1024;
/// Locations kept per XML element. An XML element that may or may not repeat doubles the
/// locations of everything under it (see [`xml_positions`]); this bounds that growth.
const MAX_XML_VARIANTS: usize = 64;
/// XML elements whose child element named after a resource type (upper-case first letter) is a
/// wrapper adding no segment: `<contained><Observation><code>` is `contained[0].code`.
const XML_RESOURCE_CONTAINERS: &[&str] = &["contained", "resource", "outcome", "return"];
/// The UTF-8 byte order mark, skipped without counting a column.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Line and column (1-based) of each JSON value in `text`, keyed by its FHIRPath-style location.
///
/// `root` (the resource type) is placed at the first `{`; an object property is placed at the
/// opening quote of its name and each array element at its first character. A `_name`
/// property (a primitive's id and extensions) places `name` only where `name` itself has not.
/// Nested resources keep the outer path: `Bundle.entry[0].resource.name[0]`.
pub(crate) fn json_positions(text: &[u8], root: &str) -> HashMap<String, (u32, u32)> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let text = &text[..text.len().min(MAX_TEXT_BYTES)];
    let mut scanner = JsonScanner {
        cursor: Cursor::new(text),
        positions: Positions::default(),
    };
    scanner.cursor.skip_whitespace();
    if scanner.cursor.peek() == Some(b'{') {
        let start = scanner.cursor.position();
        // `None` only means the scan stopped early; what it found is kept either way.
        let _ = scanner
            .positions
            .record(root, start, Precedence::Primary)
            .and_then(|()| scanner.value(root, Precedence::Primary, 0));
    }
    scanner.positions.map
}

/// Line and column (1-based) of each element of a FHIR XML document, keyed like
/// [`json_positions`] keys the same document in JSON.
///
/// XML does not say whether an element repeats in FHIR, so every occurrence is keyed as
/// `Parent.name[i]` and the first one also as `Parent.name`; the children of an element are
/// keyed under each of its keys. The XHTML inside a narrative `div` is not descended into, and
/// the resource-type element inside `contained`, `resource`, `outcome` and `return` adds no
/// segment. Positions are those of each start tag's `<`.
pub(crate) fn xml_positions(text: &[u8], root: &str) -> HashMap<String, (u32, u32)> {
    // quick-xml drops a BOM without counting it in `buffer_position`, so strip it here and
    // count from after it: a BOM takes no column in an editor either.
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let text = &text[..text.len().min(MAX_TEXT_BYTES)];
    let mut reader = Reader::from_reader(text);
    reader.check_end_names(true);
    let mut locator = Locator::new(text);
    let mut positions = Positions::default();
    let mut open: Vec<XmlFrame> = Vec::new();
    // Elements still open inside a narrative `div`, the div itself included.
    let mut narrative_depth = 0usize;
    loop {
        let before = reader.buffer_position();
        let (start, has_children) = match reader.read_event() {
            Ok(Event::Start(start)) => (start, true),
            Ok(Event::Empty(start)) => (start, false),
            Ok(Event::End(_)) => {
                if narrative_depth > 0 {
                    narrative_depth -= 1;
                } else {
                    open.pop();
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        if narrative_depth > 0 {
            narrative_depth += usize::from(has_children);
            continue;
        }
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let position = locator.position(tag_start(text, before));
        let frame = match open.last_mut() {
            None => {
                if positions
                    .record(root, position, Precedence::Primary)
                    .is_none()
                {
                    break;
                }
                XmlFrame::new(vec![root.to_owned()], false)
            }
            Some(parent)
                if parent.holds_resource && name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                XmlFrame::new(parent.keys.clone(), false)
            }
            Some(parent) => {
                let count = parent.child_counts.entry(name.clone()).or_insert(0);
                let index = *count;
                *count += 1;
                let mut keys = Vec::new();
                for parent_key in &parent.keys {
                    if index == 0 {
                        keys.push(format!("{parent_key}.{name}"));
                    }
                    keys.push(format!("{parent_key}.{name}[{index}]"));
                    if keys.len() >= MAX_XML_VARIANTS {
                        break;
                    }
                }
                if keys.iter().any(|key| {
                    positions
                        .record(key, position, Precedence::Primary)
                        .is_none()
                }) {
                    break;
                }
                XmlFrame::new(keys, XML_RESOURCE_CONTAINERS.contains(&name.as_str()))
            }
        };
        if !has_children {
            continue;
        }
        if name == "div" {
            // Narrative.div is the only `div` in R4; its XHTML content has no FHIR path.
            narrative_depth = 1;
        } else if open.len() >= MAX_DEPTH {
            break;
        } else {
            open.push(frame);
        }
    }
    positions.map
}

/// How a location found in the text relates to one already recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precedence {
    /// The value itself: replaces a position a `_name` sibling gave.
    Primary,
    /// Under a `_name` property: fills a location only when nothing else has.
    Extension,
}

/// The locations found so far, with the memory they take.
#[derive(Default)]
struct Positions {
    /// Location to line and column.
    map: HashMap<String, (u32, u32)>,
    /// Bytes of all keys in `map`, against [`MAX_TOTAL_KEY_BYTES`].
    key_bytes: usize,
}

impl Positions {
    /// Records `key` at `position`; `None` when the key or the total is over its limit, which
    /// ends the scan.
    fn record(&mut self, key: &str, position: (u32, u32), precedence: Precedence) -> Option<()> {
        if key.len() > MAX_KEY_BYTES {
            return None;
        }
        match self.map.get_mut(key) {
            Some(existing) => {
                if precedence == Precedence::Primary {
                    *existing = position;
                }
            }
            None => {
                self.key_bytes += key.len();
                if self.key_bytes > MAX_TOTAL_KEY_BYTES {
                    return None;
                }
                self.map.insert(key.to_owned(), position);
            }
        }
        Some(())
    }
}

/// A byte cursor that knows the line and column of the next byte.
struct Cursor<'t> {
    /// The whole input.
    text: &'t [u8],
    /// Offset of the next byte.
    offset: usize,
    /// Line of the next byte (1-based).
    line: u32,
    /// Column of the next byte, in characters (1-based).
    column: u32,
}

impl<'t> Cursor<'t> {
    /// A cursor at the start of `text` (line 1, column 1).
    fn new(text: &'t [u8]) -> Self {
        Cursor {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The next byte, not consumed.
    fn peek(&self) -> Option<u8> {
        self.text.get(self.offset).copied()
    }

    /// Consumes the next byte. A UTF-8 continuation byte adds no column: one character, one column.
    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.offset += 1;
        if byte == b'\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else if byte & 0xC0 != 0x80 {
            self.column = self.column.saturating_add(1);
        }
        Some(byte)
    }

    /// Line and column of the next byte.
    fn position(&self) -> (u32, u32) {
        (self.line, self.column)
    }

    /// Consumes JSON whitespace.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Consumes `expected` or reports that the input does not continue as JSON should.
    fn expect(&mut self, expected: u8) -> Option<()> {
        (self.bump()? == expected).then_some(())
    }
}

/// The recursive-descent JSON scanner behind [`json_positions`]. Every method returns `None`
/// when the input ends or turns malformed; the positions recorded until then stay.
struct JsonScanner<'t> {
    /// Where the scan is.
    cursor: Cursor<'t>,
    /// What it has found.
    positions: Positions,
}

impl JsonScanner<'_> {
    /// Scans one value whose location is `key`; `depth` counts the objects and arrays around it.
    fn value(&mut self, key: &str, precedence: Precedence, depth: usize) -> Option<()> {
        self.cursor.skip_whitespace();
        match self.cursor.peek()? {
            b'{' | b'[' if depth >= MAX_DEPTH => None,
            b'{' => self.object(key, precedence, depth + 1),
            b'[' => self.array(key, precedence, depth + 1),
            b'"' => self.string(false).map(drop),
            _ => self.scalar(),
        }
    }

    /// Scans an object; the cursor is on its `{`.
    fn object(&mut self, key: &str, precedence: Precedence, depth: usize) -> Option<()> {
        self.cursor.expect(b'{')?;
        self.cursor.skip_whitespace();
        if self.cursor.peek()? == b'}' {
            self.cursor.bump();
            return Some(());
        }
        loop {
            self.cursor.skip_whitespace();
            let name_position = self.cursor.position();
            let name = self.string(true)?;
            self.cursor.skip_whitespace();
            self.cursor.expect(b':')?;
            let (child_key, child_precedence) = match name.strip_prefix('_') {
                Some(primitive) => (format!("{key}.{primitive}"), Precedence::Extension),
                None => (format!("{key}.{name}"), precedence),
            };
            self.positions
                .record(&child_key, name_position, child_precedence)?;
            self.value(&child_key, child_precedence, depth)?;
            self.cursor.skip_whitespace();
            match self.cursor.bump()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// Scans an array, keying each element `key[i]` at its first character.
    fn array(&mut self, key: &str, precedence: Precedence, depth: usize) -> Option<()> {
        self.cursor.expect(b'[')?;
        self.cursor.skip_whitespace();
        if self.cursor.peek()? == b']' {
            self.cursor.bump();
            return Some(());
        }
        for index in 0usize.. {
            self.cursor.skip_whitespace();
            // Truncated after a comma: there is no element to place.
            self.cursor.peek()?;
            let element_key = format!("{key}[{index}]");
            self.positions
                .record(&element_key, self.cursor.position(), precedence)?;
            self.value(&element_key, precedence, depth)?;
            self.cursor.skip_whitespace();
            match self.cursor.bump()? {
                b',' => continue,
                b']' => return Some(()),
                _ => return None,
            }
        }
        None
    }

    /// Scans a string; the cursor is on its opening quote. The decoded text is returned only
    /// when `keep` is set (property names), sparing the copy of every string value.
    fn string(&mut self, keep: bool) -> Option<String> {
        self.cursor.expect(b'"')?;
        let mut bytes = Vec::new();
        loop {
            match self.cursor.bump()? {
                b'"' => break,
                b'\\' => {
                    let escaped = self.cursor.bump()?;
                    if !keep {
                        continue;
                    }
                    match escaped {
                        b'u' => {
                            let decoded = self.unicode_escape()?;
                            let mut buffer = [0u8; 4];
                            bytes.extend_from_slice(decoded.encode_utf8(&mut buffer).as_bytes());
                        }
                        b'b' => bytes.push(0x08),
                        b'f' => bytes.push(0x0C),
                        b'n' => bytes.push(b'\n'),
                        b'r' => bytes.push(b'\r'),
                        b't' => bytes.push(b'\t'),
                        other => bytes.push(other),
                    }
                }
                byte => {
                    if keep {
                        bytes.push(byte);
                    }
                }
            }
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Decodes the rest of a `\uXXXX` escape (and its low surrogate when it is a high one).
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.cursor.peek() == Some(b'\\') {
            self.cursor.bump();
            self.cursor.expect(b'u')?;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Some(char::from_u32(combined).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            return Some(char::REPLACEMENT_CHARACTER);
        }
        Some(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    /// Reads four hex digits.
    fn hex4(&mut self) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = char::from(self.cursor.bump()?).to_digit(16)?;
            value = value * 16 + digit;
        }
        Some(value)
    }

    /// Skips a number, `true`, `false` or `null` (not checked: only its extent matters).
    fn scalar(&mut self) -> Option<()> {
        let start = self.cursor.offset;
        while let Some(byte) = self.cursor.peek() {
            if matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            if matches!(byte, b'{' | b'[' | b'"' | b':') {
                return None;
            }
            self.cursor.bump();
        }
        (self.cursor.offset > start).then_some(())
    }
}

/// One open FHIR element in [`xml_positions`].
struct XmlFrame {
    /// Every location of this element (see [`MAX_XML_VARIANTS`]).
    keys: Vec<String>,
    /// Child elements seen so far, by name, for their `[i]` indexes.
    child_counts: HashMap<String, usize>,
    /// Whether this element wraps a resource (`contained`, `resource`, …).
    holds_resource: bool,
}

impl XmlFrame {
    /// A frame with no children seen yet.
    fn new(keys: Vec<String>, holds_resource: bool) -> Self {
        XmlFrame {
            keys,
            child_counts: HashMap::new(),
            holds_resource,
        }
    }
}

/// Offset of the `<` of the tag quick-xml read from `before`. After markup quick-xml stops on
/// the next `<`; after text it has already consumed it.
fn tag_start(text: &[u8], before: usize) -> usize {
    if text.get(before) != Some(&b'<') && before > 0 && text.get(before - 1) == Some(&b'<') {
        before - 1
    } else {
        before
    }
}

/// Turns byte offsets into line and column, walking forward from the last offset asked.
struct Locator<'t> {
    /// At the offset last asked for.
    cursor: Cursor<'t>,
}

impl<'t> Locator<'t> {
    /// A locator at the start of `text`.
    fn new(text: &'t [u8]) -> Self {
        Locator {
            cursor: Cursor::new(text),
        }
    }

    /// Line and column of `offset`; offsets asked in increasing order cost one pass in all.
    fn position(&mut self, offset: usize) -> (u32, u32) {
        if offset < self.cursor.offset {
            self.cursor = Cursor::new(self.cursor.text);
        }
        while self.cursor.offset < offset && self.cursor.bump().is_some() {}
        self.cursor.position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position recorded for `key`, if any.
    fn at(map: &HashMap<String, (u32, u32)>, key: &str) -> Option<(u32, u32)> {
        map.get(key).copied()
    }

    /// A pretty-printed Patient: nested arrays, a `_` sibling, a contained resource.
    const PATIENT_JSON: &str = r#"{
  "resourceType": "Patient",
  "name": [
    {
      "family": "Chalmers",
      "given": [ "Peter", "James" ]
    },
    { "given": ["Jim"] }
  ],
  "gender" : "male",
  "_birthDate": { "extension": [ { "url": "http://example.org/x" } ] },
  "contained": [ { "resourceType": "Observation", "code": { "text": "x" } } ]
}"#;

    #[test]
    fn json_pretty_printed_with_nested_arrays() {
        let map = json_positions(PATIENT_JSON.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient"), Some((1, 1)));
        assert_eq!(at(&map, "Patient.resourceType"), Some((2, 3)));
        assert_eq!(at(&map, "Patient.name"), Some((3, 3)));
        assert_eq!(at(&map, "Patient.name[0]"), Some((4, 5)));
        assert_eq!(at(&map, "Patient.name[0].family"), Some((5, 7)));
        assert_eq!(at(&map, "Patient.name[0].given"), Some((6, 7)));
        assert_eq!(at(&map, "Patient.name[0].given[0]"), Some((6, 18)));
        assert_eq!(at(&map, "Patient.name[0].given[1]"), Some((6, 27)));
        assert_eq!(at(&map, "Patient.name[1]"), Some((8, 5)));
        assert_eq!(at(&map, "Patient.name[1].given[0]"), Some((8, 17)));
        assert_eq!(at(&map, "Patient.gender"), Some((10, 3)));
        assert_eq!(at(&map, "Patient.contained[0]"), Some((12, 18)));
        assert_eq!(at(&map, "Patient.contained[0].code"), Some((12, 51)));
        assert_eq!(at(&map, "Patient.contained[0].code.text"), Some((12, 61)));
        assert_eq!(at(&map, "Patient.name[2]"), None);
        assert_eq!(at(&map, "Observation.code"), None);
    }

    #[test]
    fn json_primitive_extension_positions_the_primitive_only_when_absent() {
        let map = json_positions(PATIENT_JSON.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient.birthDate"), Some((11, 3)));
        assert_eq!(at(&map, "Patient.birthDate.extension[0]"), Some((11, 34)));
        assert_eq!(
            at(&map, "Patient.birthDate.extension[0].url"),
            Some((11, 36))
        );
        assert_eq!(at(&map, "Patient._birthDate"), None);

        // The value wins over its `_` sibling, whichever comes first.
        let text = br#"{"resourceType":"Patient",
 "_gender": {"id": "a"},
 "gender": "male",
 "birthDate": "1974-12-25",
 "_birthDate": {"id": "b"}}"#;
        let map = json_positions(text, "Patient");
        assert_eq!(at(&map, "Patient.gender"), Some((3, 2)));
        assert_eq!(at(&map, "Patient.birthDate"), Some((4, 2)));
        assert_eq!(at(&map, "Patient.birthDate.id"), Some((5, 17)));
    }

    #[test]
    fn json_primitive_extension_array_fills_missing_elements() {
        let text = br#"{"given": ["Peter", null],
 "_given": [null, {"id": "x"}]}"#;
        let map = json_positions(text, "HumanName");
        assert_eq!(at(&map, "HumanName.given[0]"), Some((1, 12)));
        assert_eq!(at(&map, "HumanName.given[1]"), Some((1, 21)));
        assert_eq!(at(&map, "HumanName.given[1].id"), Some((2, 20)));
    }

    #[test]
    fn json_column_counts_characters_not_bytes() {
        let text =
            "{\"name\": [{\"text\": \"山田 太郎\", \"family\": \"山田\"}],\n \"gender\": \"male\"}";
        let map = json_positions(text.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient.name[0].text"), Some((1, 12)));
        // `{"name": [{"text": "山田 太郎", ` is 28 characters (44 bytes).
        assert_eq!(at(&map, "Patient.name[0].family"), Some((1, 29)));
        assert_eq!(at(&map, "Patient.gender"), Some((2, 2)));
    }

    #[test]
    fn json_escapes_in_names_and_values() {
        let text = br#"{"a\"b": "x\"}\u00e9", "n\u0061me": [1], "c": 2}"#;
        let map = json_positions(text, "R");
        assert_eq!(at(&map, "R.a\"b"), Some((1, 2)));
        assert_eq!(at(&map, "R.name[0]"), Some((1, 38)));
        assert_eq!(at(&map, "R.c"), Some((1, 42)));
    }

    #[test]
    fn json_bundle_resources_are_not_rerooted() {
        let text = br#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","name":[{"family":"A"}]}}]}"#;
        let map = json_positions(text, "Bundle");
        assert!(map.contains_key("Bundle.entry[0].resource.name[0].family"));
        assert!(!map.contains_key("Patient.name[0]"));
    }

    #[test]
    fn json_malformed_input_keeps_what_was_found() {
        let truncated = &PATIENT_JSON.as_bytes()[..PATIENT_JSON.find("\"James\"").unwrap_or(0) + 3];
        let map = json_positions(truncated, "Patient");
        assert_eq!(at(&map, "Patient.name[0].given[0]"), Some((6, 18)));
        assert_eq!(at(&map, "Patient.name[0].given[1]"), Some((6, 27)));
        assert_eq!(at(&map, "Patient.gender"), None);

        for input in [
            &b""[..],
            b"[",
            b"{",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\": [1,",
            b"{\"a\": \"\\u12",
            b"{\"a\" 1}",
            b"{:}",
            b"{\"a\":1 \"b\":2}",
            b"{\"a\":\xff\xfe}",
            b"\"just a string\"",
        ] {
            let map = json_positions(input, "R");
            assert!(map.len() <= 3, "{map:?}");
        }
        // Every prefix of a valid document is scanned without a panic.
        for end in 0..PATIENT_JSON.len() {
            let _ = json_positions(&PATIENT_JSON.as_bytes()[..end], "Patient");
        }
    }

    #[test]
    fn json_depth_is_limited() {
        let deep = format!("{}{}", "{\"a\":".repeat(10_000), "1");
        let map = json_positions(deep.as_bytes(), "R");
        assert!(map.len() <= MAX_DEPTH + 1);
        assert!(map.contains_key("R.a.a"));
        let arrays = format!("{{\"a\":{}", "[".repeat(10_000));
        let map = json_positions(arrays.as_bytes(), "R");
        assert!(map.len() <= MAX_DEPTH + 2);
    }

    #[test]
    fn json_bom_takes_no_column() {
        let map = json_positions(b"\xEF\xBB\xBF{\"id\": \"x\"}", "Patient");
        assert_eq!(at(&map, "Patient"), Some((1, 1)));
        assert_eq!(at(&map, "Patient.id"), Some((1, 2)));
    }

    /// A Patient in XML: a contained resource, a narrative, repeated and single elements.
    const PATIENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <contained>
    <Observation>
      <code><text value="x"/></code>
    </Observation>
  </contained>
  <text>
    <status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>山田 <b>太郎</b></p><name/></div>
  </text>
  <name>
    <family value="山田"/><given value="太郎"/><given value="T"/>
  </name>
  <name><given value="Jim"/></name>
  <gender value="male"/>
</Patient>"#;

    #[test]
    fn xml_elements_keyed_with_and_without_index() {
        let map = xml_positions(PATIENT_XML.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient"), Some((2, 1)));
        assert_eq!(at(&map, "Patient.name"), Some((12, 3)));
        assert_eq!(at(&map, "Patient.name[0]"), Some((12, 3)));
        assert_eq!(at(&map, "Patient.name[1]"), Some((15, 3)));
        assert_eq!(at(&map, "Patient.name[0].given[0]"), Some((13, 25)));
        assert_eq!(at(&map, "Patient.name[0].given"), Some((13, 25)));
        assert_eq!(at(&map, "Patient.name.given[1]"), Some((13, 44)));
        assert_eq!(at(&map, "Patient.name[1].given[0]"), Some((15, 9)));
        assert_eq!(at(&map, "Patient.name[1].given"), Some((15, 9)));
        // Only the first occurrence has the index-less key.
        assert_eq!(at(&map, "Patient.name[0].given[1]"), Some((13, 44)));
        assert_eq!(at(&map, "Patient.name[1].family"), None);
        assert_eq!(at(&map, "Patient.gender"), Some((16, 3)));
        assert_eq!(at(&map, "Patient.gender[0]"), Some((16, 3)));
    }

    #[test]
    fn xml_contained_resource_adds_no_segment() {
        let map = xml_positions(PATIENT_XML.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient.contained[0]"), Some((3, 3)));
        assert_eq!(at(&map, "Patient.contained[0].code"), Some((5, 7)));
        assert_eq!(at(&map, "Patient.contained.code.text"), Some((5, 13)));
        assert!(!map.keys().any(|key| key.contains("Observation")));
    }

    #[test]
    fn xml_narrative_is_not_descended_into() {
        let map = xml_positions(PATIENT_XML.as_bytes(), "Patient");
        assert_eq!(at(&map, "Patient.text.div"), Some((10, 5)));
        assert_eq!(at(&map, "Patient.text.status"), Some((9, 5)));
        assert!(!map.keys().any(|key| key.contains(".div.")), "{map:?}");
        // The element after the div is back in FHIR.
        assert_eq!(at(&map, "Patient.text[0].status[0]"), Some((9, 5)));
    }

    #[test]
    fn xml_bundle_entries() {
        let text = br#"<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><id value="a"/></Patient></resource></entry><entry><resource><Patient><name><family value="B"/></name></Patient></resource></entry></Bundle>"#;
        let map = xml_positions(text, "Bundle");
        assert_eq!(at(&map, "Bundle.entry[0].resource.id"), Some((1, 63)));
        assert!(map.contains_key("Bundle.entry[1].resource.name[0].family"));
        assert!(map.contains_key("Bundle.entry[1].resource.name.family"));
        assert!(!map.contains_key("Bundle.entry.resource.name"));
    }

    #[test]
    fn xml_malformed_input_keeps_what_was_found() {
        let cut = PATIENT_XML.find("<gender").unwrap_or(0);
        let map = xml_positions(&PATIENT_XML.as_bytes()[..cut], "Patient");
        assert_eq!(at(&map, "Patient.name[1]"), Some((15, 3)));
        assert_eq!(at(&map, "Patient.gender"), None);

        let mismatched = b"<Patient><name></given><gender value=\"x\"/></Patient>";
        let map = xml_positions(mismatched, "Patient");
        assert!(map.contains_key("Patient.name"));
        assert!(!map.contains_key("Patient.gender"));

        for end in 0..PATIENT_XML.len() {
            if PATIENT_XML.is_char_boundary(end) {
                let _ = xml_positions(&PATIENT_XML.as_bytes()[..end], "Patient");
            }
        }
        for input in [
            &b""[..],
            b"<",
            b"<a",
            b"<a b=",
            b"</a>",
            b"<a><b></a>",
            b"\xff<a>",
        ] {
            let _ = xml_positions(input, "R");
        }
    }

    #[test]
    fn xml_depth_and_variants_are_limited() {
        let deep = "<a>".repeat(10_000);
        let map = xml_positions(deep.as_bytes(), "R");
        assert!(map.len() <= MAX_DEPTH * MAX_XML_VARIANTS + 1);
        assert!(map.values().all(|(line, _)| *line == 1));
    }
}
