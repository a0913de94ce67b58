//! The HL7 v2 ER7 ("pipe and hat") parser, with the character sets Japanese senders use.
//!
//! [`Message::parse`] takes the bytes of one message; [`split_messages`] cuts a file or stream
//! into messages first. Parsing runs in this order, and the order matters:
//!
//! 1. Framing is removed: MLLP start/end bytes, a UTF-8 BOM, blank lines, trailing bytes.
//! 2. MSH-1, MSH-2 and MSH-18 are read from the raw bytes. The header is ASCII in practice;
//!    JIS runs in earlier MSH fields are skipped while counting separators.
//! 3. The whole message is decoded to Unicode in the declared or detected [`Charset`].
//!    This must come before splitting: inside `ESC $ B` the kanji 画像 is the bytes `2hA|`,
//!    and Shift_JIS second bytes include `|` and `\`.
//! 4. Segments and fields are located in the decoded text (CR, LF or CRLF terminators).
//!
//! When MSH-18 is empty: a BOM or valid non-ASCII UTF-8 means UTF-8; 7-bit text with ISO 2022
//! escape sequences means ISO-2022-JP; plain 7-bit text is ASCII; otherwise the sender's
//! configured [`DecodeOptions::default_charset`] applies, and without one parsing fails with
//! [`ParseError::CharsetUndetermined`]. Bytes that are not valid in the chosen set are an
//! error naming the byte offset and segment; nothing is silently replaced.

#![warn(missing_docs)]

mod access;
mod ack;
mod charset;
mod decode;
mod delimiters;
mod error;
mod escape;
mod framing;
mod header;
mod iso2022jp;
mod location;
mod message;
mod options;
mod scan;
mod syntax;

pub use access::{Component, Field, Repetition, Segment};
pub use ack::{build_ack, build_reject_for_unparsable, AckCode, AckError};
pub use charset::Charset;
pub use delimiters::Delimiters;
pub use error::ParseError;
pub use escape::{escape, unescape, unescape_in};
pub use framing::{split_messages, RawMessage};
pub use location::Location;
pub use message::{Message, MessageType};
pub use options::{DecodeOptions, ParseLimits};
