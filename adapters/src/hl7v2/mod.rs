//! HL7 v2 (ER7) → FHIR R4: the parser with its character sets ([`er7`]) and the mappings.
//!
//! [`convert`] turns one message into a transaction Bundle of PUTs to deterministic ids plus a
//! conversion report; [`convert_all`] does the same for a file of several messages or a batch.
//! Which segment and field ends up where is listed in `docs/mappings/hl7v2.md`.

pub mod er7;

mod bundle;
mod codes;
mod datatypes;
mod error;
mod json;
mod json_text;
mod json_write;
mod mapping;
mod message_kind;
mod messages;
mod report_location;
mod resources;
mod structure;

pub use error::Hl7Error;
pub use report_location::report_location;

use crate::context::SourceContext;
use crate::report::Conversion;
use mapping::Mapping;
use message_kind::{MessageKind, Unsupported};
use resources::encounter::map_encounter;
use resources::organization::map_organization;
use resources::patient::{map_patient, patient_key};
use resources::source_record::map_source_record;
use structure::Structure;

/// Options of the HL7 v2 adapter.
#[derive(Debug, Clone, Default)]
pub struct Hl7Options {
    /// How bytes are decoded (default character set, parser limits).
    pub decode: er7::DecodeOptions,
}

/// Converts the one HL7 v2 message in `bytes`.
pub fn convert(
    bytes: &[u8],
    ctx: &SourceContext,
    opts: &Hl7Options,
) -> Result<Conversion, Hl7Error> {
    let message = er7::Message::parse(bytes, &opts.decode)?;
    convert_message(&message, bytes, ctx)
}

/// Converts every message of a file (several messages, a batch, MLLP frames), each on its own:
/// one failing message does not stop the others.
pub fn convert_all<'a>(
    bytes: &'a [u8],
    ctx: &SourceContext,
    opts: &Hl7Options,
) -> Vec<(er7::RawMessage<'a>, Result<Conversion, Hl7Error>)> {
    er7::split_messages(bytes)
        .into_iter()
        .map(|raw| {
            let result = convert(raw.bytes, ctx, opts);
            (raw, result)
        })
        .collect()
}

/// The business key of the raw-message `Binary` and `Provenance` of `raw`: a digest of the
/// message bytes without transport framing, so the same message gives the same key however it
/// arrived. Bulk ingest uses it to tell whether a message is already stored.
pub fn source_record_key(raw: &[u8]) -> String {
    crate::identity::content_key(resources::source_record::message_content(raw))
}

/// Converts a message the caller has already parsed (the MLLP edge needs the `Message` for
/// its ACK); `raw` is the message's original bytes, kept in the Bundle as a Binary.
pub fn convert_message(
    message: &er7::Message,
    raw: &[u8],
    ctx: &SourceContext,
) -> Result<Conversion, Hl7Error> {
    let msh = message.segments().next().ok_or_else(|| Hl7Error::Mapping {
        location: er7::Location::segment(1, "MSH"),
        reason: "the message has no MSH segment".into(),
    })?;
    let message_type = message.message_type();
    let kind = match MessageKind::of(&message_type.code, &message_type.trigger) {
        Ok(kind) => kind,
        Err(why) => {
            return Err(Hl7Error::UnsupportedMessageType {
                message_type: msh.field(9).raw().to_owned(),
                location: msh.field_location(9),
                trigger_only: why == Unsupported::TriggerEvent,
            })
        }
    };
    let mut structure = Structure::read(message, kind);
    let mut m = Mapping::new(message, ctx);
    // MSH-18 was consumed by the decoder (character set).
    m.mark(&msh, 18);
    map_organization(&mut m, &msh);

    let pid = structure.pid.take().ok_or_else(|| Hl7Error::Mapping {
        location: msh.location(),
        reason: "the message has no PID segment: its resources would have no subject".into(),
    })?;
    let patient_key = patient_key(&pid).unwrap_or_default();
    map_patient(&mut m, &pid, structure.pd1.as_ref())?;
    if let Some(pv1) = &structure.pv1 {
        let event = match kind {
            MessageKind::Adt(event) => Some(event),
            _ => None,
        };
        map_encounter(&mut m, pv1, &patient_key, event, structure.evn.as_ref());
    }
    match kind {
        MessageKind::Order(flavor) => messages::orders::map_orders(&mut m, &mut structure, flavor)?,
        MessageKind::Result(_) => messages::results::map_results(&mut m, &mut structure)?,
        MessageKind::Adt(_) => {}
    }
    for (segment, reason) in &structure.skipped {
        m.skip(segment, reason);
    }
    map_source_record(&mut m, &msh, raw)?;
    m.report_unmapped();
    Ok(Conversion {
        source_binary_id: m.source_binary_id.take(),
        bundle_json: m.bundle.finish(),
        report: m.report,
    })
}
