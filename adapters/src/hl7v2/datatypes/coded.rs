//! CE / CWE / CNE coded elements as FHIR CodeableConcepts: the identifier triplet (1–3) and the
//! alternate triplet (4–6) each become a Coding, original text (9) the text.

use super::coding_system::{known_system, system_uri};
use super::{component_text, component_whole};
use crate::context::SourceContext;
use crate::hl7v2::er7::Repetition;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put, put_static, Obj};

/// The parts of one coded triplet, as text.
pub struct Triplet {
    /// The code (subcomponents kept, see [`component_whole`]).
    pub code: String,
    /// The display text.
    pub text: String,
    /// The v2 coding-system name.
    pub system: String,
}

/// The identifier triplet starting at component `first` (1 or 4).
pub fn triplet(repetition: &Repetition<'_>, first: usize, separator: char) -> Triplet {
    Triplet {
        code: component_whole(repetition, first, separator).into_owned(),
        text: component_text(repetition, first + 1).into_owned(),
        system: component_text(repetition, first + 2).into_owned(),
    }
}

/// The Coding of a triplet; the texts are moved, not copied (this runs for every OBX).
fn coding(triplet: Triplet, ctx: &SourceContext) -> Option<Value> {
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
pub fn codeable_concept(
    repetition: &Repetition<'_>,
    ctx: &SourceContext,
    separator: char,
) -> Option<Value> {
    let primary = triplet(repetition, 1, separator);
    let alternate = triplet(repetition, 4, separator);
    let original_text = component_text(repetition, 9);
    // Text only (no code in either triplet): CWE-2, else the alternate text.
    let fallback_text = if primary.code.is_empty() && alternate.code.is_empty() {
        if primary.text.is_empty() {
            alternate.text.clone()
        } else {
            primary.text.clone()
        }
    } else {
        String::new()
    };
    let mut codings = Vec::with_capacity(2);
    codings.extend(coding(primary, ctx));
    codings.extend(coding(alternate, ctx));
    let text = if original_text.is_empty() {
        fallback_text
    } else {
        original_text.into_owned()
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
