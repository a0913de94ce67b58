//! Framing around messages: MLLP blocks, BOMs, blank lines, batch envelopes, and splitting a
//! file or stream that holds several messages.
//!
//! Everything here works on bytes, before decoding. That is safe for every supported
//! character set because CR (0x0D) and LF (0x0A) never occur inside a multi-byte character of
//! UTF-8, ISO-2022-JP or Shift_JIS, and segment ids are ASCII.

/// MLLP start block (HL7 v2 minimal lower layer protocol).
const MLLP_START: u8 = 0x0B;
/// MLLP end block.
const MLLP_END: u8 = 0x1C;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One message's bytes inside a larger input, as found by [`split_messages`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawMessage<'a> {
    /// The message, from its `MSH` to the end of its last segment (framing trimmed).
    pub bytes: &'a [u8],
    /// Where `bytes` starts in the input.
    pub byte_offset: usize,
    /// 1-based position among the pieces returned.
    pub ordinal: usize,
}

/// The content of a single message with framing removed: returns `(start, end, had_bom)`.
/// Leading MLLP start bytes, BOMs and whitespace go; so do trailing MLLP end bytes, CR/LF,
/// whitespace, NUL padding and DOS end-of-file (0x1A) bytes.
pub(crate) fn trim_framing(bytes: &[u8]) -> (usize, usize, bool) {
    let mut start = 0;
    let mut had_bom = false;
    loop {
        let rest = bytes.get(start..).unwrap_or_default();
        if rest.starts_with(UTF8_BOM) {
            had_bom = true;
            start += UTF8_BOM.len();
        } else if rest.first().is_some_and(|&b| is_leading_filler(b)) {
            start += 1;
        } else {
            break;
        }
    }
    let mut end = bytes.len();
    while end > start && bytes.get(end - 1).is_some_and(|&b| is_trailing_filler(b)) {
        end -= 1;
    }
    (start, end, had_bom)
}

/// Bytes that make a line blank: spaces, tabs, form feeds, NUL padding and the DOS
/// end-of-file byte. A line of only these is dropped wherever lines are read.
pub(crate) fn is_blank_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0C | 0x00 | 0x1A)
}

/// Whether a line holds only [`is_blank_byte`] bytes (or nothing).
pub(crate) fn is_blank_line(line: &[u8]) -> bool {
    line.iter().all(|&b| is_blank_byte(b))
}

fn is_leading_filler(b: u8) -> bool {
    matches!(
        b,
        MLLP_START | MLLP_END | b' ' | b'\t' | b'\r' | b'\n' | 0x0C | 0x00
    )
}

fn is_trailing_filler(b: u8) -> bool {
    matches!(
        b,
        MLLP_END | MLLP_START | b' ' | b'\t' | b'\r' | b'\n' | 0x0C | 0x00 | 0x1A
    )
}

/// Splits a file or stream holding several messages: MLLP frames, batch files
/// (`FHS`/`BHS` … `BTS`/`FTS`, whose envelope segments are dropped), or messages simply
/// following each other. A message starts at each segment that begins with `MSH`.
///
/// Text that belongs to no message (before the first MSH, or between an envelope segment
/// and the next MSH) is returned as a piece of its own, so that parsing it reports an error
/// instead of the bytes vanishing unnoticed.
pub fn split_messages(bytes: &[u8]) -> Vec<RawMessage<'_>> {
    let mut pieces = Vec::new();
    let mut current: Option<usize> = None;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let rest = bytes.get(line_start..).unwrap_or_default();
        let line_len = rest
            .iter()
            .position(|&b| matches!(b, b'\r' | b'\n' | MLLP_START | MLLP_END))
            .unwrap_or(rest.len());
        let line = rest.get(..line_len).unwrap_or_default();
        let content = line.strip_prefix(UTF8_BOM).unwrap_or(line);
        match segment_kind(content) {
            LineKind::MessageStart => {
                close_piece(bytes, current, line_start, &mut pieces);
                current = Some(line_start);
            }
            LineKind::Envelope => {
                close_piece(bytes, current, line_start, &mut pieces);
                current = None;
            }
            LineKind::Blank => {}
            LineKind::Other => {
                if current.is_none() {
                    current = Some(line_start);
                }
            }
        }
        line_start += line_len + 1;
    }
    close_piece(bytes, current, bytes.len(), &mut pieces);
    pieces
}

enum LineKind {
    MessageStart,
    Envelope,
    Blank,
    Other,
}

fn segment_kind(line: &[u8]) -> LineKind {
    if is_blank_line(line) {
        return LineKind::Blank;
    }
    let id = line.get(..3).unwrap_or_default();
    // The id must end there: `MSHX…` is not an MSH segment.
    let id_ends = line.get(3).is_none_or(|b| !b.is_ascii_alphanumeric());
    match id {
        b"MSH" if id_ends => LineKind::MessageStart,
        b"FHS" | b"BHS" | b"BTS" | b"FTS" if id_ends => LineKind::Envelope,
        _ => LineKind::Other,
    }
}

fn close_piece<'a>(
    bytes: &'a [u8],
    start: Option<usize>,
    end: usize,
    pieces: &mut Vec<RawMessage<'a>>,
) {
    let Some(start) = start else { return };
    let slice = bytes.get(start..end).unwrap_or_default();
    let (from, mut to, _) = trim_framing(slice);
    // The last segment's terminator belongs to the message (HL7 ends every segment with one),
    // so the kept raw bytes are the message as sent, minus transport framing only.
    let tail = slice.get(to..).unwrap_or_default();
    if tail.starts_with(b"\r\n") {
        to += 2;
    } else if tail.starts_with(b"\r") || tail.starts_with(b"\n") {
        to += 1;
    }
    if from < to {
        pieces.push(RawMessage {
            bytes: slice.get(from..to).unwrap_or_default(),
            byte_offset: start + from,
            ordinal: pieces.len() + 1,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(pieces: &[RawMessage<'a>]) -> Vec<&'a [u8]> {
        pieces.iter().map(|p| p.bytes).collect()
    }

    #[test]
    fn trim_removes_mllp_bom_and_trailing_bytes() {
        let framed = b"\x0b\xEF\xBB\xBFMSH|^~\\&|A\rPID|1\r\x1c\r";
        let (start, end, bom) = trim_framing(framed);
        assert!(bom);
        assert_eq!(&framed[start..end], b"MSH|^~\\&|A\rPID|1");
        assert_eq!(trim_framing(b" \r\n\x1c"), (4, 4, false));
    }

    #[test]
    fn consecutive_messages_split_at_msh() {
        let input = b"MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\nPID|2\n";
        let pieces = split_messages(input);
        assert_eq!(
            texts(&pieces),
            [&b"MSH|^~\\&|A\rPID|1\r"[..], &b"MSH|^~\\&|B\nPID|2\n"[..]]
        );
        assert_eq!(pieces[1].byte_offset, 17);
        assert_eq!((pieces[0].ordinal, pieces[1].ordinal), (1, 2));
    }

    #[test]
    fn batch_file_envelopes_dropped() {
        let input = b"FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rBTS|2\rFTS|1\r";
        assert_eq!(
            texts(&split_messages(input)),
            [&b"MSH|^~\\&|A\rPID|1\r"[..], &b"MSH|^~\\&|B\r"[..]]
        );
    }

    #[test]
    fn mllp_frames_split() {
        let input = b"\x0bMSH|^~\\&|A\r\x1c\r\x0bMSH|^~\\&|B\r\x1c\r";
        assert_eq!(
            texts(&split_messages(input)),
            [&b"MSH|^~\\&|A\r"[..], &b"MSH|^~\\&|B\r"[..]]
        );
    }

    #[test]
    fn stray_text_is_kept_as_its_own_piece() {
        let input = b"garbage\rMSH|^~\\&|A\r";
        assert_eq!(
            texts(&split_messages(input)),
            [&b"garbage\r"[..], &b"MSH|^~\\&|A\r"[..]]
        );
        assert!(split_messages(b"\r\n \x1c").is_empty());
    }
}
