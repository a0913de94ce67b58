//! Original-mode acknowledgements (HL7 2.5 §2.9.2) for the MLLP listener: MSH + MSA (+ ERR),
//! encoded in the sender's character set.

use super::framing::trim_framing;
use super::header::{declared_charset, Declared, RawMsh};
use super::{escape, Charset, Delimiters, Location, Message, ParseError};

/// MSA-1 acknowledgement code (HL7 table 0008, original mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckCode {
    /// `AA`: accepted and processed.
    Accept,
    /// `AE`: processed with an error; the sender should fix and resend.
    Error,
    /// `AR`: rejected (unparsable, unsupported type or version); resending will not help.
    Reject,
}

impl AckCode {
    /// The MSA-1 value.
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// What goes in the ERR segment of an acknowledgement.
pub struct AckError<'a> {
    /// ERR-2: where in the original message, when known.
    pub location: Option<&'a Location>,
    /// ERR-3 code from HL7 table 0357, e.g. `101` required field missing, `207` application
    /// internal error.
    pub hl7_error_code: &'a str,
    /// ERR-4: `E` (error) or `W` (warning).
    pub severity: char,
    /// ERR-8: the message for the sender's staff.
    pub text: &'a str,
}

/// An acknowledgement of `original`: MSH with sender and receiver swapped, MSH-9
/// `ACK^<trigger>^ACK`, the original's MSH-11 processing id, MSH-12 version and MSH-18/MSH-20
/// character set fields; MSA with `code` and the original MSH-10; ERR when `error` is given.
/// The reply uses the original's delimiters, is encoded in its character set, ends each
/// segment with CR, and carries no MLLP framing. `message_time` (MSH-7) and `control_id`
/// (MSH-10) come from the caller, which owns the clock and the id sequence.
pub fn build_ack(
    original: &Message,
    code: AckCode,
    error: Option<&AckError<'_>>,
    message_time: &str,
    control_id: &str,
) -> Vec<u8> {
    let d = original.delimiters();
    let msh = original.segment(1);
    let raw = |n: usize| msh.map_or("", |s| s.field(n).raw());
    let trigger = msh.map_or("", |s| s.field(9).component(2).raw());
    let header = Header {
        sending_application: raw(5),
        sending_facility: raw(6),
        receiving_application: raw(3),
        receiving_facility: raw(4),
        trigger,
        processing_id: raw(11),
        version: raw(12),
        charset: raw(18),
        charset_scheme: raw(20),
    };
    let erl = error
        .and_then(|e| e.location)
        .map(|location| original.erl(location));
    let text = write_ack(
        d,
        &header,
        message_time,
        control_id,
        code,
        raw(10),
        error,
        erl.as_deref(),
    );
    original.charset().encode(&text)
}

/// A reject (`AR`) for bytes that could not be parsed at all. MSH-3…MSH-6, MSH-9.2, MSH-10,
/// MSH-11, MSH-12 and MSH-18 are read from the raw bytes where they are plain ASCII and the
/// delimiters are usable; ERR carries `error` (its table 0357 code, location and message).
/// Encoded in the character set MSH-18 names when it can be read, else ASCII.
pub fn build_reject_for_unparsable(
    bytes: &[u8],
    error: &ParseError,
    message_time: &str,
    control_id: &str,
) -> Vec<u8> {
    let (start, end, _) = trim_framing(bytes);
    let content = bytes.get(start..end).unwrap_or_default();
    let delimiters = content
        .strip_prefix(b"MSH")
        .and_then(|after| Delimiters::from_msh_bytes(after).ok());
    let d = delimiters.clone().unwrap_or_default();
    let raw_msh = delimiters
        .as_ref()
        .map(|d| RawMsh::scan(content, d.field as u8));
    let field = |n: usize| {
        raw_msh
            .as_ref()
            .and_then(|m| m.ascii_field(n))
            .unwrap_or("")
    };
    let trigger = field(9).split(d.component).nth(1).unwrap_or("");
    let declared = delimiters
        .as_ref()
        .map(|d| declared_charset(content, d.field as u8, d.repetition as u8));
    let charset = match declared {
        Some(Declared::Charset(charset)) => charset,
        _ => Charset::Ascii,
    };
    let msh18 = if charset == Charset::Ascii {
        ""
    } else {
        field(18)
    };
    let header = Header {
        sending_application: field(5),
        sending_facility: field(6),
        receiving_application: field(3),
        receiving_facility: field(4),
        trigger,
        processing_id: field(11),
        version: field(12),
        charset: msh18,
        charset_scheme: if msh18.is_empty() { "" } else { field(20) },
    };
    let erl = error
        .location()
        .map(|location| location.erl_with_sequence(occurrence_in_raw(content, location), &d));
    let text = error.to_string();
    let ack_error = AckError {
        location: error.location(),
        hl7_error_code: error.hl7_error_code(),
        severity: 'E',
        text: &text,
    };
    let reply = write_ack(
        &d,
        &header,
        message_time,
        control_id,
        AckCode::Reject,
        field(10),
        Some(&ack_error),
        erl.as_deref(),
    );
    charset.encode(&reply)
}

/// The original's MSH values echoed in the reply, as written (same delimiters).
struct Header<'a> {
    sending_application: &'a str,
    sending_facility: &'a str,
    receiving_application: &'a str,
    receiving_facility: &'a str,
    trigger: &'a str,
    processing_id: &'a str,
    version: &'a str,
    charset: &'a str,
    charset_scheme: &'a str,
}

#[allow(clippy::too_many_arguments)]
fn write_ack(
    d: &Delimiters,
    header: &Header<'_>,
    message_time: &str,
    control_id: &str,
    code: AckCode,
    original_control_id: &str,
    error: Option<&AckError<'_>>,
    erl: Option<&str>,
) -> String {
    let c = d.component.to_string();
    let message_type = if header.trigger.is_empty() {
        "ACK".to_owned()
    } else {
        format!("ACK{c}{}{c}ACK", header.trigger)
    };
    let mut out = String::with_capacity(256);
    let msh_fields = [
        d.encoding_characters(),
        // The receiver of the original replies: sender and receiver swap places.
        printable(header.sending_application).into_owned(),
        printable(header.sending_facility).into_owned(),
        printable(header.receiving_application).into_owned(),
        printable(header.receiving_facility).into_owned(),
        escape(&printable(message_time), d).into_owned(),
        String::new(),
        message_type,
        escape(&printable(control_id), d).into_owned(),
        printable(header.processing_id).into_owned(),
        printable(header.version).into_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        printable(header.charset).into_owned(),
        String::new(),
        printable(header.charset_scheme).into_owned(),
    ];
    out.push_str("MSH");
    push_fields(&mut out, d, &msh_fields);
    out.push_str("MSA");
    push_fields(
        &mut out,
        d,
        &[
            code.as_str().to_owned(),
            printable(original_control_id).into_owned(),
        ],
    );
    if let Some(error) = error {
        let code = escape(error.hl7_error_code, d);
        let display = escape(error_code_display(error.hl7_error_code), d);
        let err_fields = [
            String::new(),
            printable(erl.unwrap_or("")).into_owned(),
            format!("{code}{c}{display}{c}HL70357"),
            escape(&printable(&error.severity.to_string()), d).into_owned(),
            String::new(),
            String::new(),
            String::new(),
            escape(&printable(error.text), d).into_owned(),
        ];
        out.push_str("ERR");
        push_fields(&mut out, d, &err_fields);
    }
    out
}

/// `text` with control characters (ESC, SO, NUL, …) replaced by `?`. Error texts, ids and the
/// echoed MSH fields can quote bytes of a broken message; echoed raw, an ESC or SO would switch character
/// sets in the receiver's decoder. Line ends were escaped before this point.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Appends `|f1|f2…` without trailing empty fields, then the CR terminator.
fn push_fields(out: &mut String, d: &Delimiters, fields: &[String]) {
    let used = fields
        .iter()
        .rposition(|f| !f.is_empty())
        .map_or(0, |last| last + 1);
    for field in fields.iter().take(used) {
        out.push(d.field);
        out.push_str(field);
    }
    out.push('\r');
}

/// The HL7 table 0357 display text for a code (ERR-3.2).
fn error_code_display(code: &str) -> &'static str {
    match code {
        "0" => "Message accepted",
        "100" => "Segment sequence error",
        "101" => "Required field missing",
        "102" => "Data type error",
        "103" => "Table value not found",
        "200" => "Unsupported message type",
        "201" => "Unsupported event code",
        "202" => "Unsupported processing id",
        "203" => "Unsupported version id",
        "204" => "Unknown key identifier",
        "205" => "Duplicate key identifier",
        "206" => "Application record locked",
        "207" => "Application internal error",
        _ => "",
    }
}

/// ERL-2 for a location in a message that did not parse: how many segments with the same
/// id appear up to its position, counting the raw lines.
fn occurrence_in_raw(content: &[u8], location: &Location) -> usize {
    content
        .split(|&b| b == b'\r' || b == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .take(location.segment_index)
        .filter(|line| line.starts_with(location.segment_id.as_bytes()))
        .count()
        .max(1)
}
