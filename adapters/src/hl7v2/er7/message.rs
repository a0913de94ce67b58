//! A parsed message: the decoded text plus the byte spans of its segments and fields.
//!
//! Parsing decodes the whole message to Unicode first (a JIS or Shift_JIS byte can equal a
//! delimiter), normalises segment terminators to CR, then records where each segment and
//! field starts in one pass. Components and subcomponents are split lazily by the accessors,
//! and text is unescaped only when asked for, so a parse costs one copy of the input and two
//! small vectors of offsets.

use std::borrow::Cow;

use super::decode;
use super::framing::trim_framing;
use super::header::{choose_charset, read_delimiters, undecodable};
use super::scan::{normalize_terminators, split, SegmentSpan};
use super::syntax::Context;
use super::{Charset, DecodeOptions, Delimiters, Location, ParseError, ParseLimits, Segment};

/// One parsed HL7 v2 message. It owns its decoded text; accessors borrow from it.
#[derive(Clone)]
pub struct Message {
    /// The decoded message, segments joined by CR, no trailing terminator.
    pub(crate) text: String,
    pub(crate) context: Context,
    pub(crate) segments: Vec<SegmentSpan>,
    /// Start offsets of each segment's parts (id, then each field), all segments in order.
    pub(crate) part_starts: Vec<u32>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("charset", &self.context.charset)
            .field("delimiters", &self.context.delimiters)
            .field("segment_count", &self.segments.len())
            .field("text", &self.text)
            .finish()
    }
}

/// The message type from MSH-9: code, trigger event, and message structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageType {
    /// MSH-9.1, e.g. `ORU`.
    pub code: String,
    /// MSH-9.2, e.g. `R01`.
    pub trigger: String,
    /// MSH-9.3, e.g. `ORU_R01`; empty when the sender left it out (before HL7 2.3.1).
    pub structure: String,
}

impl Message {
    /// Parses one message. Tolerates a UTF-8 BOM, MLLP framing (`0x0B … 0x1C 0x0D`), a
    /// trailing `0x1C`, CR, LF or CRLF terminators, a missing final terminator and blank
    /// lines. The character set comes from MSH-18, else from the bytes, else from
    /// `opts.default_charset` (see the module documentation).
    pub fn parse(bytes: &[u8], opts: &DecodeOptions) -> Result<Message, ParseError> {
        let limits = &opts.limits;
        if bytes.len() > limits.max_message_bytes {
            return Err(ParseError::TooLarge {
                size: bytes.len(),
                limit: limits.max_message_bytes,
            });
        }
        let (start, end, had_bom) = trim_framing(bytes);
        let content = bytes.get(start..end).unwrap_or_default();
        if content.is_empty() {
            return Err(ParseError::Empty);
        }
        let delimiters = read_delimiters(content)?;
        let charset = choose_charset(content, start, had_bom, &delimiters, opts)?;
        let decoded = decode::decode(content, charset)
            .map_err(|failure| undecodable(failure, start, charset, &delimiters))?;
        Message::from_decoded(decoded, Context::new(delimiters, charset), limits)
    }

    fn from_decoded(
        decoded: Cow<'_, str>,
        context: Context,
        limits: &ParseLimits,
    ) -> Result<Message, ParseError> {
        if u32::try_from(decoded.len()).is_err() {
            return Err(ParseError::TooLarge {
                size: decoded.len(),
                limit: u32::MAX as usize,
            });
        }
        // Most messages already have single CRs between segments: split them where they
        // are, and copy (if borrowed) only once. Otherwise rewrite the terminators first.
        let canonical = if decoded.as_bytes().contains(&b'\n') {
            None
        } else {
            split(&decoded, &context.delimiters, limits)?
        };
        let (text, (segments, part_starts)) = match canonical {
            Some(spans) => (decoded.into_owned(), spans),
            None => {
                let text = normalize_terminators(&decoded);
                // Normalised text has no blank lines, so `split` cannot refuse it; the
                // fallback error is only there to avoid a panic path.
                let spans = split(&text, &context.delimiters, limits)?.ok_or(ParseError::Empty)?;
                (text, spans)
            }
        };
        Ok(Message {
            text,
            context,
            segments,
            part_starts,
        })
    }

    /// The decoded message, segments joined by CR (escape sequences still in place).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The character set the message was decoded from: declared in MSH-18 or detected.
    pub fn charset(&self) -> Charset {
        self.context.charset
    }

    /// The delimiters from MSH-1 and MSH-2.
    pub fn delimiters(&self) -> &Delimiters {
        &self.context.delimiters
    }

    /// The number of segments, MSH included.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Every segment in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_>> + '_ {
        (0..self.segments.len()).map(move |i| Segment::new(self, i))
    }

    /// The segment at 1-based position `index` (1 is MSH).
    pub fn segment(&self, index: usize) -> Option<Segment<'_>> {
        let i = index.checked_sub(1)?;
        (i < self.segments.len()).then(|| Segment::new(self, i))
    }

    /// The first segment with this id.
    pub fn first(&self, id: &str) -> Option<Segment<'_>> {
        self.segments().find(|s| s.id() == id)
    }

    /// The message type from MSH-9.
    pub fn message_type(&self) -> MessageType {
        let msh9 = self.msh().field(9);
        MessageType {
            code: msh9.component(1).text().into_owned(),
            trigger: msh9.component(2).text().into_owned(),
            structure: msh9.component(3).text().into_owned(),
        }
    }

    /// MSH-10, the message control id, unescaped.
    pub fn control_id(&self) -> Cow<'_, str> {
        self.msh().field(10).text()
    }

    /// The ERR-2 (ERL) text for a location in this message, with ERL-2 as HL7 defines it:
    /// the occurrence of that segment id (1 for the first OBX, 2 for the second …).
    pub fn erl(&self, location: &Location) -> String {
        let occurrence = self
            .segments()
            .take(location.segment_index)
            .filter(|s| s.id() == location.segment_id)
            .count()
            .max(1);
        location.erl_with_sequence(occurrence, self.delimiters())
    }

    /// The MSH segment (always present: parsing refuses a message without it).
    fn msh(&self) -> Segment<'_> {
        Segment::new(self, 0)
    }

    /// The text of part `part` of segment `segment` (0-based both), or `""` when absent.
    #[inline]
    pub(crate) fn part(&self, segment: usize, part: usize) -> &str {
        let Some(span) = self.segments.get(segment) else {
            return "";
        };
        if part >= span.part_count as usize {
            return "";
        }
        let first = span.first_part as usize;
        let start = self
            .part_starts
            .get(first + part)
            .copied()
            .unwrap_or(span.end);
        let end = if part + 1 < span.part_count as usize {
            // The next part starts right after a one-byte (ASCII) field separator.
            self.part_starts
                .get(first + part + 1)
                .map_or(span.end, |next| next - 1)
        } else {
            span.end
        };
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}
