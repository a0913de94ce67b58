//! Bytes → Unicode text in the message's character set, and the sniffing used when MSH-18
//! names none.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, SHIFT_JIS};

use super::iso2022jp::{self, DecodeFailure};
use super::Charset;

/// Decodes a whole message. ASCII and UTF-8 input is borrowed, not copied.
pub(crate) fn decode(bytes: &[u8], charset: Charset) -> Result<Cow<'_, str>, DecodeFailure> {
    match charset {
        Charset::Utf8 => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| prefix_failure(bytes, e.valid_up_to(), "invalid UTF-8")),
        Charset::Ascii => match bytes.iter().position(|&b| b >= 0x80) {
            None => Ok(Cow::Borrowed(ascii_str(bytes))),
            Some(at) => Err(prefix_failure(bytes, at, "byte above 0x7F in ASCII")),
        },
        Charset::Latin1 => Ok(if bytes.is_ascii() {
            Cow::Borrowed(ascii_str(bytes))
        } else {
            Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
        }),
        Charset::Iso2022Jp => {
            if bytes.is_ascii() && !bytes.iter().any(|&b| matches!(b, 0x1B | 0x0E | 0x0F)) {
                Ok(Cow::Borrowed(ascii_str(bytes)))
            } else {
                iso2022jp::decode(bytes).map(Cow::Owned)
            }
        }
        Charset::ShiftJis => {
            if bytes.is_ascii() {
                Ok(Cow::Borrowed(ascii_str(bytes)))
            } else {
                decode_shift_jis(bytes).map(Cow::Owned)
            }
        }
    }
}

/// Decodes a few bytes (an `\Xhh\` escape) in `charset`; `None` when they are not valid.
pub(crate) fn decode_fragment(bytes: &[u8], charset: Charset) -> Option<String> {
    decode(bytes, charset).ok().map(Cow::into_owned)
}

/// What the bytes look like when MSH-18 names no character set. ISO 2022 escape sequences in
/// otherwise 7-bit text mean ISO-2022-JP; 7-bit text without them is ASCII; anything else
/// that is valid UTF-8 is UTF-8. `None` when it is none of these.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Charset> {
    if bytes.is_ascii() {
        return Some(if has_iso2022_designation(bytes) {
            Charset::Iso2022Jp
        } else {
            Charset::Ascii
        });
    }
    std::str::from_utf8(bytes).ok().map(|_| Charset::Utf8)
}

/// Whether the bytes hold an ISO 2022 designation of a JIS set (`ESC $`, `ESC ( I`,
/// `ESC ( J`) or a shift-out to katakana.
pub(crate) fn has_iso2022_designation(bytes: &[u8]) -> bool {
    // Two SIMD searches rule out the usual case before the pairwise look.
    if !bytes.contains(&0x1B) && !bytes.contains(&0x0E) {
        return false;
    }
    bytes
        .windows(2)
        .any(|w| matches!(w, [0x1B, b'$' | b'('] | [0x0E, _]))
}

fn decode_shift_jis(bytes: &[u8]) -> Result<String, DecodeFailure> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(2));
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::Malformed(bad, after) => Err(DecodeFailure {
            offset: read
                .saturating_sub(usize::from(after))
                .saturating_sub(usize::from(bad)),
            detail: "invalid Shift_JIS (CP932)",
            decoded: out,
        }),
        DecoderResult::OutputFull => Err(DecodeFailure {
            offset: read,
            detail: "decoder output overflow",
            decoded: out,
        }),
    }
}

/// A failure at `at` whose prefix is known to be ASCII/UTF-8.
fn prefix_failure(bytes: &[u8], at: usize, detail: &'static str) -> DecodeFailure {
    let prefix = bytes.get(..at).unwrap_or_default();
    DecodeFailure {
        offset: at,
        detail,
        decoded: String::from_utf8_lossy(prefix).into_owned(),
    }
}

/// The bytes as text, for bytes already checked to be ASCII.
fn ascii_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_utf8_are_borrowed() {
        assert!(matches!(
            decode(b"MSH|", Charset::Utf8),
            Ok(Cow::Borrowed("MSH|"))
        ));
        assert!(matches!(
            decode("é".as_bytes(), Charset::Utf8),
            Ok(Cow::Borrowed("é"))
        ));
        assert!(matches!(
            decode(b"MSH|", Charset::ShiftJis),
            Ok(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn latin1_maps_bytes_to_code_points() {
        assert_eq!(
            decode(b"Jos\xe9 \x80", Charset::Latin1).unwrap(),
            "José \u{80}"
        );
    }

    #[test]
    fn shift_jis_ibm_extended_kanji() {
        // 髙 (U+9AD9) is IBM extended kanji 0xFB 0xFC in CP932.
        assert_eq!(decode(b"\xfb\xfc", Charset::ShiftJis).unwrap(), "髙");
        let err = decode(b"ab\x81", Charset::ShiftJis).unwrap_err();
        assert_eq!((err.offset, err.decoded.as_str()), (2, "ab"));
    }

    #[test]
    fn failures_carry_offsets() {
        let err = decode(b"ab\xffc", Charset::Utf8).unwrap_err();
        assert_eq!((err.offset, err.decoded.as_str()), (2, "ab"));
        let err = decode(b"abc\xe9", Charset::Ascii).unwrap_err();
        assert_eq!(err.offset, 3);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"MSH|^~\\&|"), Some(Charset::Ascii));
        assert_eq!(sniff(b"PID|\x1b$B4A\x1b(B"), Some(Charset::Iso2022Jp));
        assert_eq!(sniff("PID|山田".as_bytes()), Some(Charset::Utf8));
        assert_eq!(sniff(b"PID|\x8eR\x93c"), None);
    }
}
