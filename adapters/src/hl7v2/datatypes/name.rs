//! XPN (PID-5) and XCN (ORC-12, OBR-16, PV1-7 …) person names as FHIR HumanNames. Japanese
//! messages send one repetition per writing system, told apart by the name representation code
//! (HL7 table 4000: `I` ideographic/kanji, `P` phonetic/kana, `A` alphabetic); each becomes its
//! own HumanName with the iso21090-EN-representation extension (IDE, SYL, ABC), as JP Core asks.

use super::{component_text, Place};
use crate::hl7v2::codes::{name_representation, name_use, EN_REPRESENTATION};
use crate::hl7v2::er7::Repetition;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put, put_str, Obj};
use crate::hl7v2::mapping::Mapping;
use crate::report::ReportCode;

/// Which component holds which part of the name.
pub struct NameLayout {
    family: usize,
    given: usize,
    middle: usize,
    suffix: usize,
    prefix: usize,
    degree: usize,
    name_type: usize,
    representation: usize,
}

/// XPN: family^given^middle^suffix^prefix^degree^type^representation.
pub const XPN: NameLayout = NameLayout {
    family: 1,
    given: 2,
    middle: 3,
    suffix: 4,
    prefix: 5,
    degree: 6,
    name_type: 7,
    representation: 8,
};

/// XCN: id^family^given^middle^suffix^prefix^degree^…^type (10)^…^representation (15).
pub const XCN: NameLayout = NameLayout {
    family: 2,
    given: 3,
    middle: 4,
    suffix: 5,
    prefix: 6,
    degree: 7,
    name_type: 10,
    representation: 15,
};

/// The ideographic space JP Core examples put between family and given name in `text`.
const FULL_WIDTH_SPACE: char = '\u{3000}';

/// The HumanName of one name repetition, or `None` when it has no family or given name.
/// Unknown name type or representation codes are reported and left out.
pub fn human_name(
    m: &mut Mapping<'_>,
    repetition: &Repetition<'_>,
    place: Place<'_, '_>,
    layout: &NameLayout,
) -> Option<Value> {
    // FN (family name) has subcomponents; the surname is the first.
    let family = component_text(repetition, layout.family);
    let given: Vec<String> = [layout.given, layout.middle]
        .into_iter()
        .map(|j| component_text(repetition, j).into_owned())
        .filter(|part| !part.is_empty())
        .collect();
    if family.is_empty() && given.is_empty() {
        return None;
    }
    let mut name: Obj = obj(7);
    let representation_code = component_text(repetition, layout.representation);
    let representation = if representation_code.is_empty() {
        None
    } else {
        let mapped = name_representation(&representation_code);
        if mapped.is_none() {
            m.warn(
                ReportCode::UnknownCode,
                &place.component(layout.representation),
                format!("name representation code {representation_code:?} is not in HL7 table 4000 (I, P, A)"),
            );
        }
        mapped
    };
    if let Some(code) = representation {
        let mut extension = obj(2);
        put(&mut extension, "url", EN_REPRESENTATION);
        put(&mut extension, "valueCode", code);
        put(
            &mut name,
            "extension",
            Value::Array(vec![Value::Object(extension)]),
        );
    }
    let type_code = component_text(repetition, layout.name_type);
    if !type_code.is_empty() {
        match name_use(&type_code) {
            Some(Some(name_use)) => put(&mut name, "use", name_use),
            Some(None) => m.inform(
                ReportCode::Unmapped,
                &place.component(layout.name_type),
                format!("name type {type_code:?} has no HumanName.use equivalent"),
            ),
            None => m.warn(
                ReportCode::UnknownCode,
                &place.component(layout.name_type),
                format!("name type {type_code:?} is not in HL7 table 0200"),
            ),
        }
    }
    if matches!(representation, Some("IDE" | "SYL")) {
        // Japanese names: family name, ideographic space, given name.
        let mut text = family.clone().into_owned();
        let given_text = given.join("");
        if !text.is_empty() && !given_text.is_empty() {
            text.push(FULL_WIDTH_SPACE);
        }
        text.push_str(&given_text);
        put(&mut name, "text", text);
    }
    put_str(&mut name, "family", &family);
    if !given.is_empty() {
        put(&mut name, "given", given);
    }
    let prefix = component_text(repetition, layout.prefix);
    if !prefix.is_empty() {
        put(&mut name, "prefix", vec![prefix.into_owned()]);
    }
    let suffix: Vec<String> = [layout.suffix, layout.degree]
        .into_iter()
        .map(|j| component_text(repetition, j).into_owned())
        .filter(|part| !part.is_empty())
        .collect();
    if !suffix.is_empty() {
        put(&mut name, "suffix", suffix);
    }
    Some(Value::Object(name))
}

/// A one-line display of a name repetition ("family given"), for references without an id.
pub fn display_name(repetition: &Repetition<'_>, layout: &NameLayout) -> String {
    let parts: Vec<String> = [layout.prefix, layout.given, layout.middle, layout.family]
        .into_iter()
        .map(|j| component_text(repetition, j).into_owned())
        .filter(|part| !part.is_empty())
        .collect();
    parts.join(" ")
}
