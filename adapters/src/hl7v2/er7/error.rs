//! Why a message could not be parsed, with where it happened.

use super::{Charset, Location};

/// A message that cannot be parsed. Every variant found inside the message carries its
/// [`Location`] (boxed, to keep `Result<Message, ParseError>` small); [`ParseError::location`]
/// returns it.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Nothing but framing bytes, whitespace or a BOM.
    #[error("the input holds no HL7 message (only framing bytes, whitespace or nothing)")]
    Empty,

    /// The input is larger than `ParseLimits::max_message_bytes`.
    #[error("the message is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },

    /// The first segment is not MSH (a batch header, or not HL7 v2 at all).
    #[error("{location}: a message must start with MSH, found {found:?}")]
    NoMsh {
        /// What was found instead (at most a few characters).
        found: String,
        /// Segment 1.
        location: Box<Location>,
    },

    /// MSH-1 is missing or not a usable separator.
    #[error("{location}: MSH-1 (field separator) {problem}")]
    BadFieldSeparator {
        /// What is wrong with it.
        problem: String,
        /// MSH-1.
        location: Box<Location>,
    },

    /// MSH-2 is missing, too short/long, or repeats a delimiter.
    #[error("{location}: MSH-2 (encoding characters) {value:?} {problem}")]
    BadEncodingCharacters {
        /// The MSH-2 text found.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
        /// MSH-2.
        location: Box<Location>,
    },

    /// An MSH-18 repetition names a character set this parser does not know.
    #[error("{location}: MSH-18 character set {value:?} is not supported (accepted: ASCII, 8859/1, UNICODE UTF-8, ISO IR87/ISO IR13/ISO IR159 (ISO-2022-JP), Shift_JIS)")]
    UnknownCharset {
        /// The MSH-18 repetition text.
        value: String,
        /// MSH-18 and its repetition.
        location: Box<Location>,
    },

    /// MSH-18 is empty, the bytes are neither ASCII, UTF-8 nor ISO-2022-JP, and no default
    /// character set is configured for the sender.
    #[error("{location}: byte 0x{byte:02X} at offset {byte_offset} is not ASCII, the bytes are not UTF-8, and no character set could be read from MSH-18; set MSH-18 or configure the sender's default character set")]
    CharsetUndetermined {
        /// The first non-ASCII byte.
        byte: u8,
        /// Its offset in the input.
        byte_offset: usize,
        /// Where that byte sits.
        location: Box<Location>,
    },

    /// Bytes that are not valid in the message's character set.
    #[error("{location}: bytes at offset {byte_offset} are not valid {charset:?}: {detail}")]
    Undecodable {
        /// The character set used to decode.
        charset: Charset,
        /// Offset of the first bad byte in the input.
        byte_offset: usize,
        /// What was wrong (e.g. "unknown ISO 2022 escape sequence").
        detail: &'static str,
        /// Where the bad bytes sit (as far as the text before them shows).
        location: Box<Location>,
    },

    /// More segments than `ParseLimits::max_segments`.
    #[error("{location}: more than {limit} segments")]
    TooManySegments {
        /// The configured limit.
        limit: usize,
        /// The first segment over the limit.
        location: Box<Location>,
    },

    /// A field longer than `ParseLimits::max_field_bytes`.
    #[error("{location}: field is {length} bytes, more than the limit of {limit}")]
    FieldTooLong {
        /// Its length in bytes of decoded (UTF-8) text.
        length: usize,
        /// The configured limit.
        limit: usize,
        /// The field.
        location: Box<Location>,
    },

    /// A segment id that is not three upper-case letters or digits starting with a letter.
    #[error("{location}: {id:?} is not a segment id (three upper-case letters or digits)")]
    BadSegmentId {
        /// The text found where the id should be (at most a few characters).
        id: String,
        /// The segment.
        location: Box<Location>,
    },

    /// A second MSH inside what was given as one message.
    #[error("{location}: a second MSH starts inside the message; a file holding several messages must be split first (split_messages)")]
    UnexpectedMsh {
        /// The second MSH.
        location: Box<Location>,
    },
}

impl ParseError {
    /// Where in the message the problem is, when it is inside the message.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ParseError::Empty | ParseError::TooLarge { .. } => None,
            ParseError::NoMsh { location, .. }
            | ParseError::BadFieldSeparator { location, .. }
            | ParseError::BadEncodingCharacters { location, .. }
            | ParseError::UnknownCharset { location, .. }
            | ParseError::CharsetUndetermined { location, .. }
            | ParseError::Undecodable { location, .. }
            | ParseError::TooManySegments { location, .. }
            | ParseError::FieldTooLong { location, .. }
            | ParseError::BadSegmentId { location, .. }
            | ParseError::UnexpectedMsh { location } => Some(location.as_ref()),
        }
    }

    /// The HL7 table 0357 error code an ACK should carry for this error: `100` for segment
    /// structure, `102` for bad bytes or delimiters, `103` for an unknown MSH-18 value, `207`
    /// for the parser's own limits.
    pub fn hl7_error_code(&self) -> &'static str {
        match self {
            ParseError::Empty
            | ParseError::NoMsh { .. }
            | ParseError::BadSegmentId { .. }
            | ParseError::UnexpectedMsh { .. } => "100",
            ParseError::BadFieldSeparator { .. }
            | ParseError::BadEncodingCharacters { .. }
            | ParseError::CharsetUndetermined { .. }
            | ParseError::Undecodable { .. } => "102",
            ParseError::UnknownCharset { .. } => "103",
            ParseError::TooLarge { .. }
            | ParseError::TooManySegments { .. }
            | ParseError::FieldTooLong { .. } => "207",
        }
    }
}
