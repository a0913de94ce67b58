//! The raw message kept as a Binary and a Provenance linking it to every resource it produced,
//! so any record can be traced to the exact bytes it came from. Both are keyed by a digest of
//! the message bytes without transport framing: a byte-identical resend maps onto the same two
//! resources whether it came alone, in a file or in an MLLP frame, while a different message
//! that reuses a control id (MSH-10) does not overwrite them.

use crate::hl7v2::bundle::start_resource;
use crate::hl7v2::codes::{ER7_CONTENT_TYPE, V2_0003};
use crate::hl7v2::datatypes::dtm::{Precision, V2DateTime};
use crate::hl7v2::er7::Segment;
use crate::hl7v2::error::Hl7Error;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{coding, obj, put, reference};
use crate::hl7v2::mapping::Mapping;
use crate::identity::content_key;
use crate::report::ReportCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::borrow::Cow;

/// Adds the Binary (the original bytes, base64) and the Provenance (targets: everything added
/// before it). MSH-7 becomes `Provenance.recorded`; a message without a usable MSH-7 is refused
/// because FHIR requires that element.
pub fn map_source_record(
    m: &mut Mapping<'_>,
    msh: &Segment<'_>,
    raw: &[u8],
) -> Result<(), Hl7Error> {
    let recorded_text = m.text(msh, 7).into_owned();
    let recorded = match V2DateTime::parse(&recorded_text) {
        Ok(time) => {
            if time.precision() < Precision::Hour {
                m.warn(
                    ReportCode::Truncated,
                    &msh.field_location(7),
                    "MSH-7 has no time of day: Provenance.recorded is set to midnight",
                );
            }
            time.to_instant_padded(&m.ctx.timezone)
        }
        Err(error) => {
            return Err(Hl7Error::Mapping {
                location: msh.field_location(7),
                reason: if recorded_text.is_empty() {
                    "MSH-7 (date/time of message) is missing: Provenance.recorded needs it".into()
                } else {
                    format!("MSH-7 (date/time of message) {recorded_text:?}: {error}")
                },
            })
        }
    };
    let key = content_key(message_content(raw));
    let binary_id = m.id("Binary", &key);
    let provenance_id = m.id("Provenance", &key);

    let mut binary = start_resource("Binary", &binary_id, 3);
    put(&mut binary, "contentType", ER7_CONTENT_TYPE);
    if let Some(patient) = &m.patient {
        put(&mut binary, "securityContext", patient.to_reference());
    }
    // Base64 never needs JSON escaping: the string is written once, quotes included.
    let mut data = String::with_capacity(raw.len().div_ceil(3) * 4 + 2);
    data.push('"');
    STANDARD.encode_string(raw, &mut data);
    data.push('"');
    put(
        &mut binary,
        "data",
        Value::Raw(Cow::Owned(data.into_bytes())),
    );
    m.bundle.add("Binary", binary_id.clone(), binary);

    let mut provenance = start_resource("Provenance", &provenance_id, 5);
    put(
        &mut provenance,
        "target",
        m.bundle.references_except(&["Binary", "Provenance"]),
    );
    put(&mut provenance, "recorded", recorded);
    let message_type = msh.field(9);
    m.mark(msh, 9);
    let code = message_type.component(1).subcomponent_text(1).into_owned();
    let trigger = message_type.component(2).subcomponent_text(1).into_owned();
    let structure = message_type.component(3).subcomponent_text(1).into_owned();
    let mut activity = obj(2);
    // Table 0003 has the standard trigger events only; a site-defined one (`Z23`) is named in
    // the text, not coded in a system that does not define it.
    if !trigger.is_empty() && !trigger.starts_with('Z') {
        put(
            &mut activity,
            "coding",
            vec![coding(Some(V2_0003), Some(&trigger), None)],
        );
    }
    let mut text = format!("{code}^{trigger}");
    if !structure.is_empty() {
        text.push('^');
        text.push_str(&structure);
    }
    put(&mut activity, "text", text);
    put(&mut provenance, "activity", Value::Object(activity));
    if let Some(organization) = &m.organization {
        let mut agent = obj(1);
        put(&mut agent, "who", organization.to_reference());
        put(&mut provenance, "agent", vec![Value::Object(agent)]);
    }
    let mut what = match reference("Binary", &binary_id) {
        Value::Object(what) => what,
        _ => obj(2),
    };
    let control_id = m.text(msh, 10).into_owned();
    if !control_id.is_empty() {
        let mut identifier = obj(2);
        put(
            &mut identifier,
            "system",
            m.ctx.system("message-control-id"),
        );
        put(&mut identifier, "value", control_id);
        put(&mut what, "identifier", Value::Object(identifier));
    }
    let mut entity = obj(2);
    put(&mut entity, "role", "source");
    put(&mut entity, "what", Value::Object(what));
    put(&mut provenance, "entity", vec![Value::Object(entity)]);
    m.bundle.add("Provenance", provenance_id, provenance);
    m.source_binary_id = Some(binary_id);
    Ok(())
}

/// The message without transport framing: a leading MLLP start block, UTF-8 BOM or blank
/// lines, and trailing MLLP end block, DOS end-of-file, NUL padding or line ends.
pub fn message_content(raw: &[u8]) -> &[u8] {
    let mut content = raw;
    loop {
        if let Some(rest) = content.strip_prefix(b"\xEF\xBB\xBF") {
            content = rest;
        } else if let Some((first, rest)) = content.split_first() {
            if matches!(first, 0x0B | b'\r' | b'\n' | b' ' | b'\t') {
                content = rest;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    while let Some((last, rest)) = content.split_last() {
        if matches!(last, 0x1C | 0x1A | 0x00 | b'\r' | b'\n' | b' ' | b'\t') {
            content = rest;
        } else {
            break;
        }
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_not_part_of_the_identity() {
        let message = b"MSH|^~\\&|A\rPID|1||X";
        assert_eq!(message_content(message), message);
        assert_eq!(
            message_content(b"\x0bMSH|^~\\&|A\rPID|1||X\r\x1c\r"),
            message
        );
        assert_eq!(
            message_content(b"\xef\xbb\xbfMSH|^~\\&|A\rPID|1||X\n\n"),
            message
        );
        assert_eq!(message_content(b"\r\n"), b"");
    }
}
