//! A hand-written ISO-2022-JP decoder for what Japanese HL7 senders actually emit.
//!
//! encoding_rs' ISO-2022-JP decoder follows the WHATWG rules, which refuse JIS X 0212
//! (`ESC $ ( D`, MSH-18 `ISO IR159`), SO/SI katakana, a designation directly followed by
//! another, and a segment terminator (CR) while a two-byte set is active. This decoder
//! accepts those, and maps the two-byte sets through encoding_rs' EUC-JP decoder (the row and
//! cell bytes with the high bit set are EUC-JP; JIS X 0212 gets the 0x8F prefix).

use encoding_rs::{DecoderResult, EUC_JP};

/// Where and why decoding stopped, with the text decoded before that point (used to say
/// which segment and field the bad bytes are in).
#[derive(Debug)]
pub(crate) struct DecodeFailure {
    /// Offset of the first bad byte in the decoded slice.
    pub offset: usize,
    /// What was wrong.
    pub detail: &'static str,
    /// The text before the bad byte.
    pub decoded: String,
}

/// The graphic set currently designated to G0.
#[derive(Clone, Copy, PartialEq, Eq)]
enum G0 {
    Ascii,
    /// JIS X 0201 Roman: ASCII except 0x5C = ¥ and 0x7E = ‾.
    Roman,
    /// JIS X 0201 katakana (ISO IR13), one byte 0x21..=0x5F each.
    Katakana,
    /// JIS X 0208 (ISO IR87), two bytes 0x21..=0x7E each.
    Jis0208,
    /// JIS X 0212 (ISO IR159), two bytes 0x21..=0x7E each.
    Jis0212,
}

const ESC: u8 = 0x1B;
const SO: u8 = 0x0E;
const SI: u8 = 0x0F;

/// Decodes `bytes` (ISO-2022-JP with the extensions above) to UTF-8.
///
/// A CR or LF returns to ASCII: RFC 1468 requires text to be back in ASCII before a line
/// ends, and some senders leave that out; a segment never starts inside a two-byte set.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, DecodeFailure> {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    decode_into(bytes, &mut out).map(|()| out)
}

/// Like [`decode`], appending to `out`; on failure `out` holds the text before the bad byte.
pub(crate) fn decode_into(bytes: &[u8], out: &mut String) -> Result<(), DecodeFailure> {
    let mut g0 = G0::Ascii;
    let mut shifted_out = false;
    let mut euc = Vec::new();
    let mut i = 0;
    let fail = |offset: usize, detail: &'static str, out: &mut String| DecodeFailure {
        offset,
        detail,
        decoded: std::mem::take(out),
    };
    while let Some(&b) = bytes.get(i) {
        match b {
            ESC => match designation(bytes.get(i + 1..).unwrap_or_default()) {
                Some((Some(set), length)) => {
                    g0 = set;
                    i += length;
                }
                Some((None, length)) => i += length,
                None => return Err(fail(i, "unknown ISO 2022 escape sequence", out)),
            },
            SO => {
                shifted_out = true;
                i += 1;
            }
            SI => {
                shifted_out = false;
                i += 1;
            }
            b'\r' | b'\n' => {
                out.push(char::from(b));
                g0 = G0::Ascii;
                shifted_out = false;
                i += 1;
            }
            _ if shifted_out || g0 == G0::Katakana => {
                match b {
                    0x21..=0x5F => out.push(half_width_katakana(b)),
                    0x00..=0x20 => out.push(char::from(b)),
                    _ => return Err(fail(i, "byte outside JIS X 0201 katakana", out)),
                }
                i += 1;
            }
            _ => match g0 {
                G0::Ascii | G0::Roman | G0::Katakana => {
                    if b >= 0x80 {
                        return Err(fail(i, "byte above 0x7F in 7-bit ISO-2022-JP", out));
                    }
                    // Copy the run of plain bytes up to the next byte that needs a decision.
                    let run_end = bytes
                        .get(i..)
                        .unwrap_or_default()
                        .iter()
                        .position(|&c| matches!(c, ESC | SO | SI | b'\r' | b'\n') || c >= 0x80)
                        .map_or(bytes.len(), |p| i + p);
                    let run = bytes.get(i..run_end).unwrap_or_default();
                    match (g0, std::str::from_utf8(run)) {
                        // The run is 7-bit, so it is already UTF-8.
                        (G0::Ascii, Ok(text)) => out.push_str(text),
                        _ => {
                            for &c in run {
                                out.push(match (g0, c) {
                                    (G0::Roman, 0x5C) => '\u{A5}',
                                    (G0::Roman, 0x7E) => '\u{203E}',
                                    _ => char::from(c),
                                });
                            }
                        }
                    }
                    i = run_end;
                }
                G0::Jis0208 | G0::Jis0212 => {
                    let run_end = bytes
                        .get(i..)
                        .unwrap_or_default()
                        .iter()
                        .position(|&c| matches!(c, ESC | SO | SI | b'\r' | b'\n'))
                        .map_or(bytes.len(), |p| i + p);
                    let run = bytes.get(i..run_end).unwrap_or_default();
                    decode_double_byte_run(run, g0 == G0::Jis0212, &mut euc, out)
                        .map_err(|(at, detail)| fail(i + at, detail, out))?;
                    i = run_end;
                }
            },
        }
    }
    Ok(())
}

/// Reads the escape sequence after an ESC byte: the set it designates (or `None` for an
/// announcer that changes nothing) and its length including the ESC.
fn designation(after_esc: &[u8]) -> Option<(Option<G0>, usize)> {
    match after_esc {
        [b'(', b'B', ..] => Some((Some(G0::Ascii), 3)),
        [b'(', b'J', ..] => Some((Some(G0::Roman), 3)),
        [b'(', b'I', ..] => Some((Some(G0::Katakana), 3)),
        [b'$', b'@' | b'B', ..] => Some((Some(G0::Jis0208), 3)),
        [b'$', b'(', b'@' | b'B', ..] => Some((Some(G0::Jis0208), 4)),
        [b'$', b'(', b'D', ..] => Some((Some(G0::Jis0212), 4)),
        // ESC & @ announces the 1990 revision of JIS X 0208; ESC $ B follows it.
        [b'&', b'@', ..] => Some((None, 3)),
        _ => None,
    }
}

/// The half-width katakana for JIS X 0201 byte 0x21..=0x5F (U+FF61..=U+FF9F).
fn half_width_katakana(b: u8) -> char {
    char::from_u32(0xFF61 + u32::from(b) - 0x21).unwrap_or('\u{FFFD}')
}

/// Decodes a run of row/cell byte pairs; on failure returns the offset in the run and why.
fn decode_double_byte_run(
    run: &[u8],
    jis0212: bool,
    euc: &mut Vec<u8>,
    out: &mut String,
) -> Result<(), (usize, &'static str)> {
    euc.clear();
    let bad = run.iter().position(|&b| !(0x21..=0x7E).contains(&b));
    let pairs_end = match bad {
        Some(p) => p - p % 2,
        None => run.len() - run.len() % 2,
    };
    for pair in run.get(..pairs_end).unwrap_or_default().chunks_exact(2) {
        if jis0212 {
            euc.push(0x8F);
        }
        euc.extend(pair.iter().map(|b| b | 0x80));
    }
    let per_char = if jis0212 { 3 } else { 2 };
    let mut decoder = EUC_JP.new_decoder_without_bom_handling();
    out.reserve(
        decoder
            .max_utf8_buffer_length_without_replacement(euc.len())
            .unwrap_or(euc.len() * 2),
    );
    let (result, read) = decoder.decode_to_string_without_replacement(euc, out, true);
    match result {
        DecoderResult::InputEmpty => {}
        DecoderResult::Malformed(bad_len, after) => {
            let start = read
                .saturating_sub(usize::from(after))
                .saturating_sub(usize::from(bad_len));
            let detail = if jis0212 {
                "no character at this JIS X 0212 code"
            } else {
                "no character at this JIS X 0208 code"
            };
            return Err((start / per_char * 2, detail));
        }
        // The buffer was sized by the decoder itself.
        DecoderResult::OutputFull => return Err((0, "decoder output overflow")),
    }
    match bad {
        Some(p) => Err((p - p % 2, "byte outside a two-byte JIS code")),
        None if run.len() % 2 == 1 => Err((run.len() - 1, "a two-byte JIS code is cut short")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jis_x_0208_between_ascii() {
        // 漢字 = 0x34 0x41, 0x3B 0x7A in JIS X 0208.
        let bytes = b"A\x1b$B4A;z\x1b(BZ";
        assert_eq!(decode(bytes).unwrap(), "A漢字Z");
        // The 1978 designation decodes the same characters.
        assert_eq!(decode(b"\x1b$@4A\x1b(B").unwrap(), "漢");
    }

    #[test]
    fn agrees_with_encoding_rs_on_plain_iso_2022_jp() {
        let text = "山田太郎 ﾔﾏﾀﾞ ヤマダ 髙橋 ①";
        let (bytes, _, _) = encoding_rs::ISO_2022_JP.encode(text);
        let (expected, _, had_errors) = encoding_rs::ISO_2022_JP.decode(&bytes);
        assert!(!had_errors);
        assert_eq!(decode(&bytes).unwrap(), expected);
    }

    #[test]
    fn katakana_roman_and_shift_out() {
        // ESC ( I: 0x36 0x40 = ｶ, ﾞ ... here ｱｲ = 0x31 0x32.
        assert_eq!(decode(b"\x1b(I12\x1b(B!").unwrap(), "ｱｲ!");
        assert_eq!(decode(b"\x1b(J\\~\x1b(B\\").unwrap(), "¥‾\\");
        assert_eq!(decode(b"a\x0e12\x0fb").unwrap(), "aｱｲb");
    }

    #[test]
    fn jis_x_0212_through_euc_jp() {
        // 丂 (U+4E02) is JIS X 0212 row 16 cell 1: 0x30 0x21.
        assert_eq!(decode(b"\x1b$(D0!\x1b(B").unwrap(), "丂");
    }

    #[test]
    fn line_end_returns_to_ascii() {
        assert_eq!(decode(b"\x1b$B4A\rPID").unwrap(), "漢\rPID");
    }

    #[test]
    fn empty_designations_are_accepted() {
        assert_eq!(decode(b"a\x1b$B\x1b(Bb").unwrap(), "ab");
    }

    #[test]
    fn failures_report_offset_and_prefix() {
        let err = decode(b"ab\x1b$B4A\x7f!").unwrap_err();
        assert_eq!((err.offset, err.decoded.as_str()), (7, "ab漢"));
        let err = decode(b"ab\x1b$B4A4").unwrap_err();
        assert_eq!(
            (err.offset, err.detail),
            (7, "a two-byte JIS code is cut short")
        );
        let err = decode(b"x\x1b$Q").unwrap_err();
        assert_eq!(
            (err.offset, err.detail),
            (1, "unknown ISO 2022 escape sequence")
        );
        let err = decode(b"x\xe9").unwrap_err();
        assert_eq!(err.offset, 1);
        // Row 2 cell 15 (0x22 0x2F) is unassigned in JIS X 0208.
        let err = decode(b"\x1b$B4A\"/").unwrap_err();
        assert_eq!((err.offset, err.decoded.as_str()), (5, "漢"));
    }
}
