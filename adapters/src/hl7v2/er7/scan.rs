//! Finding segments and fields in decoded text: one pass that records where each segment
//! and each field starts, checking segment ids and limits on the way.

use super::framing::{is_blank_byte, is_blank_line};
use super::{Delimiters, Location, ParseError, ParseLimits};

/// Where a segment sits in the text and where its part offsets are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SegmentSpan {
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Index of its first part in `part_starts`.
    pub(crate) first_part: u32,
    /// Number of parts: the id plus each field.
    pub(crate) part_count: u32,
}

/// Joins the non-blank lines (ended by CR, LF or CRLF) with CR.
pub(crate) fn normalize_terminators(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split(['\r', '\n']) {
        if is_blank_line(line.as_bytes()) {
            continue;
        }
        if !out.is_empty() {
            out.push('\r');
        }
        out.push_str(line);
    }
    out
}

/// The segment spans and part offsets of text whose segments end in CR, checking ids and
/// limits as it goes. `None` when the text is not in that form (a blank or
/// whitespace-only line follows a CR) and must be normalised first.
#[allow(clippy::type_complexity)]
pub(crate) fn split(
    text: &str,
    d: &Delimiters,
    limits: &ParseLimits,
) -> Result<Option<(Vec<SegmentSpan>, Vec<u32>)>, ParseError> {
    let bytes = text.as_bytes();
    let separator = d.field as u8;
    // A typical segment has a dozen or more fields and 80+ bytes.
    let mut segments = Vec::with_capacity(bytes.len() / 80 + 4);
    let mut part_starts: Vec<u32> = Vec::with_capacity(bytes.len() / 6 + 16);
    let mut segment_start = 0usize;
    let mut part_start = 0usize;
    part_starts.push(0);
    let max_field = limits.max_field_bytes;
    for i in DelimiterPositions::new(bytes, separator, b'\r') {
        if i - part_start > max_field {
            return Err(field_too_long(
                text,
                &segments,
                segment_start,
                &part_starts,
                i - part_start,
                limits,
            ));
        }
        if bytes.get(i) == Some(&separator) {
            part_start = i + 1;
            part_starts.push(part_start as u32);
            continue;
        }
        if starts_blank_line(bytes.get(i + 1..).unwrap_or_default()) {
            return Ok(None);
        }
        close_segment(
            text,
            (segment_start, i),
            separator,
            &mut segments,
            &part_starts,
            limits,
        )?;
        segment_start = i + 1;
        part_start = segment_start;
        part_starts.push(segment_start as u32);
    }
    if bytes.len() - part_start > max_field {
        return Err(field_too_long(
            text,
            &segments,
            segment_start,
            &part_starts,
            bytes.len() - part_start,
            limits,
        ));
    }
    close_segment(
        text,
        (segment_start, bytes.len()),
        separator,
        &mut segments,
        &part_starts,
        limits,
    )?;
    Ok(Some((segments, part_starts)))
}

/// The positions of two byte values in a slice, in order, found eight bytes at a time
/// (fields average under ten bytes, so a per-byte loop or a per-hit SIMD search would
/// spend its time on the hits).
struct DelimiterPositions<'a> {
    bytes: &'a [u8],
    first: u64,
    second: u64,
    /// Offset of the word in `pending`.
    base: usize,
    /// High bit set in each byte of the current word that matched, not yet returned.
    pending: u64,
}

const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;

impl<'a> DelimiterPositions<'a> {
    fn new(bytes: &'a [u8], first: u8, second: u8) -> DelimiterPositions<'a> {
        let mut positions = DelimiterPositions {
            bytes,
            first: u64::from_ne_bytes([first; 8]),
            second: u64::from_ne_bytes([second; 8]),
            base: 0,
            pending: 0,
        };
        positions.pending = positions.matches_at(0);
        positions
    }

    /// The match bits of the word starting at `offset` (zero-padded past the end; neither
    /// byte value is zero, so padding never matches).
    fn matches_at(&self, offset: usize) -> u64 {
        let whole_word = self
            .bytes
            .get(offset..offset + 8)
            .and_then(|chunk| <[u8; 8]>::try_from(chunk).ok());
        let word = match whole_word {
            Some(array) => u64::from_le_bytes(array),
            None => {
                let mut array = [0u8; 8];
                let tail = self.bytes.get(offset..).unwrap_or_default();
                for (slot, &b) in array.iter_mut().zip(tail) {
                    *slot = b;
                }
                u64::from_le_bytes(array)
            }
        };
        zero_bytes(word ^ self.first) | zero_bytes(word ^ self.second)
    }
}

/// High bit set in exactly the bytes of `v` that are zero (no false positives).
fn zero_bytes(v: u64) -> u64 {
    !(((v & LOW_SEVEN).wrapping_add(LOW_SEVEN)) | v | LOW_SEVEN)
}

impl Iterator for DelimiterPositions<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.pending == 0 {
            self.base += 8;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.pending = self.matches_at(self.base);
        }
        let byte_index = (self.pending.trailing_zeros() / 8) as usize;
        self.pending &= self.pending - 1;
        Some(self.base + byte_index)
    }
}

/// Whether the text after a CR is an empty or blank line (or nothing).
fn starts_blank_line(rest: &[u8]) -> bool {
    match rest.first() {
        None | Some(b'\r') => true,
        Some(&b) if is_blank_byte(b) => {
            is_blank_line(rest.split(|&b| b == b'\r').next().unwrap_or_default())
        }
        Some(_) => false,
    }
}

fn close_segment(
    text: &str,
    (start, end): (usize, usize),
    separator: u8,
    segments: &mut Vec<SegmentSpan>,
    part_starts: &[u32],
    limits: &ParseLimits,
) -> Result<(), ParseError> {
    let first_part = next_first_part(segments);
    let index = segments.len() + 1;
    let line = text.get(start..end).unwrap_or_default();
    let bytes = line.as_bytes();
    if index > limits.max_segments {
        return Err(ParseError::TooManySegments {
            limit: limits.max_segments,
            location: Box::new(Location::segment(
                index,
                line.chars().take(3).collect::<String>(),
            )),
        });
    }
    let id_ok = is_segment_id(bytes.get(..3)) && bytes.get(3).is_none_or(|&b| b == separator);
    if !id_ok {
        // Control characters are shown as `?` so the text is safe to log and echo.
        let shown: String = line
            .chars()
            .take_while(|&c| c != char::from(separator))
            .take(8)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        return Err(ParseError::BadSegmentId {
            location: Box::new(Location::segment(index, shown.clone())),
            id: shown,
        });
    }
    if index > 1 && bytes.starts_with(b"MSH") {
        return Err(ParseError::UnexpectedMsh {
            location: Box::new(Location::segment(index, "MSH")),
        });
    }
    segments.push(SegmentSpan {
        start: start as u32,
        end: end as u32,
        first_part: first_part as u32,
        part_count: (part_starts.len() - first_part) as u32,
    });
    Ok(())
}

/// Index in `part_starts` of the next segment's first part.
fn next_first_part(segments: &[SegmentSpan]) -> usize {
    segments
        .last()
        .map_or(0, |s| (s.first_part + s.part_count) as usize)
}

/// Three characters, upper-case letters or digits, the first a letter (`PID`, `ZI1`).
fn is_segment_id(id: Option<&[u8]>) -> bool {
    match id {
        Some([first, rest @ ..]) => {
            first.is_ascii_uppercase()
                && rest
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        _ => false,
    }
}

fn field_too_long(
    text: &str,
    segments: &[SegmentSpan],
    segment_start: usize,
    part_starts: &[u32],
    length: usize,
    limits: &ParseLimits,
) -> ParseError {
    // Parts of this segment so far, the long one included.
    let parts = part_starts.len() - next_first_part(segments);
    let id: String = text
        .get(segment_start..)
        .unwrap_or_default()
        .chars()
        .take(3)
        .collect();
    let field = if segments.is_empty() {
        parts
    } else {
        parts - 1
    };
    ParseError::FieldTooLong {
        length,
        limit: limits.max_field_bytes,
        location: Box::new(Location::segment(segments.len() + 1, id).with_field(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_positions_match_a_plain_scan() {
        let samples: [&[u8]; 6] = [
            b"",
            b"|",
            b"MSH|^~\\&|A\rPID|1||x\r",
            b"abcdefgh|",
            b"abcdefg|\rabcdefgh|ij",
            &[
                0x7C, 0x0D, 0xFC, 0x8D, 0x7D, 0xFD, 0x0C, 0x7C, 0x00, 0x01, 0xFF, 0x7C,
            ],
        ];
        for bytes in samples {
            let expected: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'|' || b == b'\r')
                .map(|(i, _)| i)
                .collect();
            let found: Vec<usize> = DelimiterPositions::new(bytes, b'|', b'\r').collect();
            assert_eq!(found, expected, "{bytes:?}");
        }
    }

    fn spans(text: &str) -> Option<Vec<(u32, u32, u32)>> {
        split(text, &Delimiters::default(), &ParseLimits::default())
            .unwrap()
            .map(|(segments, _)| {
                segments
                    .iter()
                    .map(|s| (s.start, s.end, s.part_count))
                    .collect()
            })
    }

    #[test]
    fn split_records_segments_and_parts() {
        assert_eq!(
            spans("MSH|^~\\&|A\rPID|1||3\rNTE"),
            Some(vec![(0, 10, 3), (11, 19, 4), (20, 23, 1)])
        );
    }

    #[test]
    fn blank_lines_ask_for_normalising_first() {
        assert_eq!(spans("MSH|^~\\&\r\rPID|1"), None);
        assert_eq!(spans("MSH|^~\\&\r \t\rPID|1"), None);
        let normalized = normalize_terminators("MSH|^~\\&\r\n\r\n \t\nPID|1\r\n");
        assert_eq!(normalized, "MSH|^~\\&\rPID|1");
        assert!(spans(&normalized).is_some());
    }

    #[test]
    fn a_line_starting_with_blanks_is_a_bad_segment_id_not_a_blank_line() {
        let err = split(
            "MSH|^~\\&\r PID|1",
            &Delimiters::default(),
            &ParseLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ParseError::BadSegmentId { ref id, .. } if id == " PID"),
            "{err}"
        );
    }
}
