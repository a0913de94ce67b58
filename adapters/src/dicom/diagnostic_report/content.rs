//! The SR content tree (0040,A730), walked depth-first with bounded depth and item count: its
//! narrative (one paragraph per valued item, a heading per CONTAINER), the Impression /
//! Conclusion text and codes, the Findings text, modality codes and observer names.

use super::reader::Reader;
use crate::dicom::dataset::DataSet;
use crate::dicom::instance::CodeItem;
use crate::dicom::values::{fhir_date, fhir_time, DCM};
use crate::report::ReportCode;
use dicom_dictionary_std::tags;
use serde_json::{json, Value};

/// Deepest content item nesting walked (the root's Content Sequence is depth 0). The SR
/// templates in use (TID 2000 and friends) stay within 5.
pub const MAX_DEPTH: usize = 16;
/// Most content items walked in one document.
pub const MAX_ITEMS: usize = 10_000;

/// What the content tree yields.
#[derive(Debug, Default)]
pub struct Content {
    /// XHTML fragments (`<p>`, `<h3>`…), already escaped.
    pub html: String,
    /// TEXT values under Impression / Conclusion concepts, in document order.
    pub conclusions: Vec<String>,
    /// TEXT values under Findings concepts, in document order.
    pub findings: Vec<String>,
    /// CodeableConcepts of CODE items under Impression / Conclusion concepts.
    pub conclusion_codes: Vec<Value>,
    /// DCM Codings of CODE items named (DCM, 121139) "Modality".
    pub modalities: Vec<Value>,
    /// PNAME values named (DCM, 121008) "Person Observer Name".
    pub observers: Vec<String>,
    /// Items visited.
    visited: usize,
    /// True once an item was skipped for depth.
    too_deep: bool,
    /// True once an item was skipped for count.
    too_many: bool,
}

/// The report section an item belongs to, from its own or an ancestor's concept name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Other,
    Findings,
    Conclusion,
}

/// Walks `root`'s content tree.
pub fn read_content(reader: &mut Reader<'_>, root: &DataSet) -> Content {
    let mut content = Content::default();
    content.walk(
        reader,
        root.items(tags::CONTENT_SEQUENCE),
        0,
        Section::Other,
    );
    if content.too_deep {
        reader.warn(
            ReportCode::Truncated,
            tags::CONTENT_SEQUENCE,
            format!("content items nested deeper than {MAX_DEPTH} levels are not mapped"),
        );
    }
    if content.too_many {
        reader.warn(
            ReportCode::Truncated,
            tags::CONTENT_SEQUENCE,
            format!("only the first {MAX_ITEMS} content items are mapped"),
        );
    }
    content
}

impl Content {
    fn walk(&mut self, reader: &mut Reader<'_>, items: &[DataSet], depth: usize, section: Section) {
        for item in items {
            if self.visited >= MAX_ITEMS {
                self.too_many = true;
                return;
            }
            self.visited += 1;
            let concept = item
                .item(tags::CONCEPT_NAME_CODE_SEQUENCE)
                .and_then(|code| reader.code(code));
            let section = concept.as_ref().and_then(section_of).unwrap_or(section);
            let name = concept.as_ref().and_then(|code| code.meaning.clone());
            self.item(
                reader,
                item,
                depth,
                section,
                concept.as_ref(),
                name.as_deref(),
            );
            let children = item.items(tags::CONTENT_SEQUENCE);
            if children.is_empty() {
                continue;
            }
            if depth + 1 >= MAX_DEPTH {
                self.too_deep = true;
            } else {
                self.walk(reader, children, depth + 1, section);
            }
        }
    }

    /// One item's own value: narrative, and what the resource picks out of it.
    fn item(
        &mut self,
        reader: &mut Reader<'_>,
        item: &DataSet,
        depth: usize,
        section: Section,
        concept: Option<&CodeItem>,
        name: Option<&str>,
    ) {
        let value_type = item.first_text(tags::VALUE_TYPE).unwrap_or_default();
        let value = match value_type.as_str() {
            "CONTAINER" => {
                if let Some(name) = name {
                    let level = (depth + 3).min(6);
                    self.html.push_str(&format!("<h{level}>"));
                    push_escaped(&mut self.html, name);
                    self.html.push_str(&format!("</h{level}>"));
                }
                return;
            }
            "TEXT" => {
                let text = reader.text(item, tags::TEXT_VALUE);
                if let Some(text) = &text {
                    match section {
                        Section::Conclusion => self.conclusions.push(text.clone()),
                        Section::Findings => self.findings.push(text.clone()),
                        Section::Other => {}
                    }
                }
                text
            }
            "CODE" => self.code_value(reader, item, section, concept),
            "NUM" => num_value(reader, item),
            "PNAME" => {
                let person = reader.name(item, tags::PERSON_NAME);
                if let (Some(person), Some(concept)) = (&person, concept) {
                    if is(concept, "DCM", "121008") {
                        self.observers.push(person.clone());
                    }
                }
                person
            }
            "DATE" => reader
                .value(item, tags::DATE)
                .map(|raw| fhir_date(&raw).unwrap_or(raw)),
            "TIME" => reader
                .value(item, tags::TIME)
                .map(|raw| fhir_time(&raw).unwrap_or(raw)),
            "DATETIME" => reader
                .value(item, tags::DATE_TIME)
                .map(|raw| reader.dt_display(&raw)),
            "UIDREF" => reader.value(item, tags::UID),
            _ => None,
        };
        if let Some(value) = value {
            self.html.push_str("<p>");
            if let Some(name) = name {
                push_escaped(&mut self.html, name);
                self.html.push_str(": ");
            }
            push_escaped(&mut self.html, &value);
            self.html.push_str("</p>");
        }
    }

    /// A CODE item's meaning; its code is kept as a conclusion code or a modality.
    fn code_value(
        &mut self,
        reader: &mut Reader<'_>,
        item: &DataSet,
        section: Section,
        concept: Option<&CodeItem>,
    ) -> Option<String> {
        let (code, coding) = reader.coding(item.item(tags::CONCEPT_CODE_SEQUENCE)?)?;
        if section == Section::Conclusion {
            let mut concept_json = json!({ "coding": [coding] });
            if let (Some(meaning), Some(object)) = (&code.meaning, concept_json.as_object_mut()) {
                object.insert("text".into(), meaning.clone().into());
            }
            self.conclusion_codes.push(concept_json);
        }
        if concept.is_some_and(|concept| is(concept, "DCM", "121139")) && code.scheme == "DCM" {
            let known = self
                .modalities
                .iter()
                .any(|modality| modality["code"] == code.value.as_str());
            if !known {
                self.modalities
                    .push(json!({ "system": DCM, "code": code.value }));
            }
        }
        Some(code.meaning.unwrap_or(code.value))
    }
}

/// A NUM item's first measured value and its unit's meaning (no unit for UCUM `1`).
fn num_value(reader: &mut Reader<'_>, item: &DataSet) -> Option<String> {
    let measured = item.item(tags::MEASURED_VALUE_SEQUENCE)?;
    let number = reader.value(measured, tags::NUMERIC_VALUE)?;
    let unit = measured
        .item(tags::MEASUREMENT_UNITS_CODE_SEQUENCE)
        .and_then(|unit| reader.code(unit))
        .filter(|unit| !(unit.scheme == "UCUM" && unit.value == "1"))
        .map(|unit| unit.meaning.unwrap_or(unit.value));
    Some(match unit {
        Some(unit) => format!("{number} {unit}"),
        None => number,
    })
}

fn is(code: &CodeItem, scheme: &str, value: &str) -> bool {
    code.scheme == scheme && code.value == value
}

/// The section a concept name opens: DICOM CID 7001 headings and TID 2000 entries.
fn section_of(concept: &CodeItem) -> Option<Section> {
    let conclusion = [
        ("DCM", "121072"), // Impressions
        ("DCM", "121073"), // Impression
        ("DCM", "121076"), // Conclusions
        ("DCM", "121077"), // Conclusion
        ("LN", "19005-8"), // Radiology Imaging study [Impression] (narrative)
    ];
    let findings = [
        ("DCM", "121070"), // Findings
        ("DCM", "121071"), // Finding
        ("LN", "18782-3"), // Radiology Study observation (narrative)
    ];
    let matches = |table: &[(&str, &str)]| {
        table
            .iter()
            .any(|(scheme, value)| is(concept, scheme, value))
    };
    if matches(&conclusion) {
        Some(Section::Conclusion)
    } else if matches(&findings) {
        Some(Section::Findings)
    } else {
        None
    }
}

/// Appends `text` as XHTML character data: `& < > "` escaped, line breaks (CR LF, CR, LF) as
/// `<br/>`, and characters XML forbids (C0 controls other than TAB, U+FFFE, U+FFFF) dropped.
pub fn push_escaped(out: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br/>");
            }
            '\n' => out.push_str("<br/>"),
            '\t' => out.push('\t'),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// `text` with the characters a FHIR string should not hold (C0 controls other than TAB, CR
/// and LF) dropped, and outer whitespace trimmed.
pub fn clean_string(text: &str) -> String {
    text.chars()
        .filter(|c| *c >= ' ' || matches!(c, '\t' | '\r' | '\n'))
        .collect::<String>()
        .trim()
        .to_owned()
}
