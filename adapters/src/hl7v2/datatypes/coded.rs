//! CE / CWE / CNE coded elements as FHIR CodeableConcepts: the identifier triplet (1–3) and the
//! alternate triplet (4–6) each become a Coding, original text (9) the text.

use super::coding_system::{known_system, system_uri};
use super::whole_text;
use crate::context::SourceContext;
use crate::hl7v2::er7::Component;
use crate::hl7v2::er7::Repetition;
use crate::hl7v2::json::{raw_value, Value};
use crate::hl7v2::json_write::{write_key, write_str};
use std::borrow::Cow;

/// The parts of one coded triplet, as text.
pub struct Triplet<'m> {
    /// The code (subcomponents kept, see [`whole_text`]).
    pub code: Cow<'m, str>,
    /// The display text.
    pub text: Cow<'m, str>,
    /// The v2 coding-system name.
    pub system: Cow<'m, str>,
}

/// The identifier triplet of components `parts[0..3]` (CWE-1..3 or CWE-4..6; absent
/// components are empty).
fn triplet_of<'m>(parts: &[Option<Component<'m>>], separator: char) -> Triplet<'m> {
    let text = |i: usize| {
        parts
            .get(i)
            .copied()
            .flatten()
            .map_or(Cow::Borrowed(""), |component| component.text())
    };
    Triplet {
        code: parts
            .first()
            .copied()
            .flatten()
            .map_or(Cow::Borrowed(""), |component| {
                whole_text(&component, separator)
            }),
        text: text(1),
        system: text(2),
    }
}

/// Appends the Coding of a triplet with a code: system, code, display.
fn write_coding(out: &mut Vec<u8>, triplet: &Triplet<'_>, ctx: &SourceContext) {
    out.push(b'{');
    if !triplet.system.is_empty() {
        write_key(out, "system");
        match known_system(&triplet.system) {
            Some(system) => write_str(out, system),
            None => write_str(out, &system_uri(&triplet.system, ctx)),
        }
        out.push(b',');
    }
    write_key(out, "code");
    write_str(out, &triplet.code);
    if !triplet.text.is_empty() {
        out.push(b',');
        write_key(out, "display");
        write_str(out, &triplet.text);
    }
    out.push(b'}');
}

/// Components 1 to 9 of a CE/CWE repetition, split in one pass.
fn first_nine<'m>(repetition: &Repetition<'m>) -> [Option<Component<'m>>; 9] {
    let mut parts: [Option<Component<'m>>; 9] = [None; 9];
    for (slot, component) in parts.iter_mut().zip(repetition.components()) {
        *slot = Some(component);
    }
    parts
}

/// The CodeableConcept of a CE/CWE repetition, or `None` when it holds neither a code nor text.
/// It is written straight to JSON (one allocation; this runs for every OBX).
pub fn codeable_concept(
    repetition: &Repetition<'_>,
    ctx: &SourceContext,
    separator: char,
) -> Option<Value> {
    let parts = first_nine(repetition);
    let primary = triplet_of(parts.get(0..3).unwrap_or_default(), separator);
    let alternate = triplet_of(parts.get(3..6).unwrap_or_default(), separator);
    let original_text = parts
        .get(8)
        .copied()
        .flatten()
        .map_or(Cow::Borrowed(""), |component| component.text());
    let has_codings = !primary.code.is_empty() || !alternate.code.is_empty();
    // Text only (no code in either triplet): CWE-2, else the alternate text.
    let text = if !original_text.is_empty() {
        &original_text
    } else if has_codings {
        ""
    } else if primary.text.is_empty() {
        &alternate.text
    } else {
        &primary.text
    };
    if !has_codings && text.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(
        48 + primary.code.len()
            + primary.text.len()
            + alternate.code.len()
            + alternate.text.len()
            + text.len(),
    );
    out.push(b'{');
    if has_codings {
        write_key(&mut out, "coding");
        out.push(b'[');
        let mut first = true;
        for triplet in [&primary, &alternate] {
            if triplet.code.is_empty() {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_coding(&mut out, triplet, ctx);
        }
        out.push(b']');
    }
    if !text.is_empty() {
        if has_codings {
            out.push(b',');
        }
        write_key(&mut out, "text");
        write_str(&mut out, text);
    }
    out.push(b'}');
    Some(raw_value(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v2::er7::{DecodeOptions, Message};
    use crate::hl7v2::json::{obj, put, put_static, Obj};
    use crate::hl7v2::json_write::write_value;

    /// The Coding of a triplet; the texts are moved, not copied (this runs for every OBX).
    fn tree_coding(triplet: Triplet<'_>, ctx: &SourceContext) -> Option<Value> {
        if triplet.code.is_empty() {
            return None;
        }
        let mut coding = obj(3);
        if !triplet.system.is_empty() {
            match known_system(&triplet.system) {
                Some(system) => put_static(&mut coding, "system", system),
                None => put(
                    &mut coding,
                    "system",
                    system_uri(&triplet.system, ctx).into_owned(),
                ),
            }
        }
        put(&mut coding, "code", triplet.code);
        if !triplet.text.is_empty() {
            put(&mut coding, "display", triplet.text);
        }
        Some(Value::Object(coding))
    }

    /// The CodeableConcept of a CE/CWE repetition, or `None` when it holds neither a code nor text.
    fn tree_concept(
        repetition: &Repetition<'_>,
        ctx: &SourceContext,
        separator: char,
    ) -> Option<Value> {
        let parts = first_nine(repetition);
        let primary = triplet_of(parts.get(0..3).unwrap_or_default(), separator);
        let alternate = triplet_of(parts.get(3..6).unwrap_or_default(), separator);
        let original_text = parts
            .get(8)
            .copied()
            .flatten()
            .map_or(Cow::Borrowed(""), |component| component.text());
        // Text only (no code in either triplet): CWE-2, else the alternate text.
        let fallback_text = if primary.code.is_empty() && alternate.code.is_empty() {
            if primary.text.is_empty() {
                alternate.text.clone()
            } else {
                primary.text.clone()
            }
        } else {
            Cow::Borrowed("")
        };
        let mut codings = Vec::with_capacity(2);
        codings.extend(tree_coding(primary, ctx));
        codings.extend(tree_coding(alternate, ctx));
        let text = if original_text.is_empty() {
            fallback_text
        } else {
            original_text
        };
        if codings.is_empty() && text.is_empty() {
            return None;
        }
        let mut concept: Obj = obj(2);
        if !codings.is_empty() {
            put(&mut concept, "coding", Value::Array(codings));
        }
        if !text.is_empty() {
            put(&mut concept, "text", text);
        }
        Some(Value::Object(concept))
    }

    #[test]
    fn written_concepts_match_the_tree_built_ones() {
        let ctx = SourceContext::new("toro", "+09:00");
        for value in [
            "",
            "^",
            "A^Glucose^LN",
            "A^Glucose^LN^B^Sugar^99LOC^^^Original",
            "^^^B^Sugar^HL70001",
            "^only text",
            "^^^^alternate text",
            "^^^^^^^^original only",
            "58368&7^Code\\T\\with amp^JC10",
            "A\\F\\B^quote \"here\"^L",
            "9A100&IMP&&^x^^Y^^I10",
            "C^display",
        ] {
            let text = format!("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rOBX|1|CE|{value}\r");
            let message = Message::parse(text.as_bytes(), &DecodeOptions::default())
                .expect("the test message parses");
            let Some(obx) = message.segments().nth(1) else {
                panic!("no OBX");
            };
            let field = obx.field(3);
            let repetition = field.repetitions().next();
            let written = |value: Option<Value>| {
                value.map(|value| {
                    let mut out = Vec::new();
                    write_value(&mut out, &value);
                    String::from_utf8(out).unwrap_or_default()
                })
            };
            let new = repetition.and_then(|r| codeable_concept(&r, &ctx, '&'));
            let old = repetition.and_then(|r| tree_concept(&r, &ctx, '&'));
            assert_eq!(written(new), written(old), "{value}");
        }
    }
}
