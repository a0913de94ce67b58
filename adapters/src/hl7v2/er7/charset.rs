//! The character sets a message may be written in, their MSH-18 names, and encoding replies.

use encoding_rs::{EncoderResult, ISO_2022_JP, SHIFT_JIS};

/// A character set an HL7 v2 message can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// 7-bit ASCII (HL7 table 0211 `ASCII`; DICOM-style `ISO IR6`); also MSH-18 left empty.
    Ascii,
    /// ISO 8859-1 (`8859/1`): each byte is the code point of the same value.
    Latin1,
    /// UTF-8 (`UNICODE UTF-8`).
    Utf8,
    /// ISO-2022-JP as used by SS-MIX2 and JAHIS: ASCII by default, switched by ISO 2022 escape
    /// sequences to JIS X 0208 (`ISO IR87`; `ESC $ B`, `ESC $ @`), JIS X 0201 katakana
    /// (`ISO IR13`; `ESC ( I`), JIS X 0212 (`ISO IR159`; `ESC $ ( D`) and back to ASCII or
    /// JIS X 0201 Roman (`ESC ( B`, `ESC ( J`).
    Iso2022Jp,
    /// Shift_JIS in its Windows form (CP932), including NEC and IBM extended kanji such as 髙.
    /// Not an HL7 table 0211 value: chosen by configuration, or MSH-18 `SJIS`/`Shift_JIS`/`CP932`.
    ShiftJis,
}

impl Charset {
    /// The character set named by one MSH-18 repetition, or `None` when it is not supported.
    /// Matching trims, ignores case, spaces, `-` and `_`, so `ISO IR87`, `ISOIR87` and
    /// `iso-ir-87` are the same. An empty value is ASCII (HL7's default).
    pub fn from_msh18(value: &str) -> Option<Charset> {
        let mut key = String::with_capacity(value.len());
        for c in value.trim().chars() {
            if !matches!(c, ' ' | '-' | '_') {
                key.push(c.to_ascii_uppercase());
            }
        }
        let charset = match key.as_str() {
            "" | "ASCII" | "USASCII" | "ISOIR6" | "ISO646" => Charset::Ascii,
            "8859/1" | "ISO8859/1" | "ISO88591" | "88591" | "LATIN1" | "ISOIR100" => {
                Charset::Latin1
            }
            "UNICODEUTF8" | "UTF8" | "ISOIR192" => Charset::Utf8,
            // SS-MIX2 writes `ISO IR87` (sometimes `ISOIR87`); ISO IR13/14/159 name the other
            // JIS sets reachable through the same ISO 2022 escape sequences.
            "ISOIR87" | "ISOIR13" | "ISOIR14" | "ISOIR159" | "ISO2022JP" | "ISO2022IR87"
            | "JIS" | "CSISO2022JP" => Charset::Iso2022Jp,
            "SJIS" | "SHIFTJIS" | "CP932" | "MS932" | "WINDOWS31J" | "XSJIS" | "CSSHIFTJIS" => {
                Charset::ShiftJis
            }
            _ => return None,
        };
        Some(charset)
    }

    /// The MSH-18 value to write for this character set (HL7 table 0211 where it has one).
    pub fn msh18_name(self) -> &'static str {
        match self {
            Charset::Ascii => "ASCII",
            Charset::Latin1 => "8859/1",
            Charset::Utf8 => "UNICODE UTF-8",
            Charset::Iso2022Jp => "ISO IR87",
            Charset::ShiftJis => "SJIS",
        }
    }

    /// `text` in this character set, for replies (ACKs) in the sender's own encoding.
    /// A character the set cannot hold is written as `?`: a reply must always be sendable,
    /// and the text of our replies is ours (codes, ids, English messages) except for
    /// values echoed from the original, which came in this same set. ISO-2022-JP replies
    /// write half-width katakana as full-width (the encoder only designates JIS X 0208).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Ascii => text
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            Charset::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            Charset::Iso2022Jp => encode_with_question_marks(ISO_2022_JP, text),
            Charset::ShiftJis => encode_with_question_marks(SHIFT_JIS, text),
        }
    }
}

/// Encodes with encoding_rs, writing `?` for unmappable characters instead of the HTML
/// numeric references its replacing API produces. encoding_rs' ISO-2022-JP encoder is back
/// in ASCII whenever it reports an unmappable character, so the `?` lands in ASCII.
fn encode_with_question_marks(encoding: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(text.len() + 8);
    let mut rest = text;
    loop {
        let needed = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len().saturating_mul(4).saturating_add(8));
        out.reserve(needed);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = rest.get(read..).unwrap_or_default();
        match result {
            EncoderResult::InputEmpty => return out,
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msh18_names_in_their_usual_spellings() {
        for (value, expected) in [
            ("", Charset::Ascii),
            ("  ", Charset::Ascii),
            ("ASCII", Charset::Ascii),
            ("ISO IR6", Charset::Ascii),
            ("8859/1", Charset::Latin1),
            ("UNICODE UTF-8", Charset::Utf8),
            ("utf-8", Charset::Utf8),
            ("ISO IR87", Charset::Iso2022Jp),
            ("ISOIR87", Charset::Iso2022Jp),
            (" iso_ir 87 ", Charset::Iso2022Jp),
            ("ISO IR13", Charset::Iso2022Jp),
            ("ISO IR159", Charset::Iso2022Jp),
            ("SJIS", Charset::ShiftJis),
            ("Shift_JIS", Charset::ShiftJis),
            ("CP932", Charset::ShiftJis),
        ] {
            assert_eq!(Charset::from_msh18(value), Some(expected), "{value:?}");
        }
        assert_eq!(Charset::from_msh18("UNICODE UTF-16"), None);
        assert_eq!(Charset::from_msh18("8859/2"), None);
        assert_eq!(Charset::from_msh18("GB 18030-2000"), None);
    }

    #[test]
    fn msh18_name_reads_back_as_the_same_charset() {
        for charset in [
            Charset::Ascii,
            Charset::Latin1,
            Charset::Utf8,
            Charset::Iso2022Jp,
            Charset::ShiftJis,
        ] {
            assert_eq!(Charset::from_msh18(charset.msh18_name()), Some(charset));
        }
    }

    #[test]
    fn encode_replaces_unmappable_with_question_mark() {
        assert_eq!(Charset::Ascii.encode("aé"), b"a?");
        assert_eq!(Charset::Latin1.encode("aé€"), b"a\xE9?");
        assert_eq!(Charset::Utf8.encode("é"), "é".as_bytes());
        // 漢 is row 20 cell 26 of JIS X 0208: 0x34 0x41; 😀 has no JIS code.
        assert_eq!(
            Charset::Iso2022Jp.encode("a漢😀b"),
            b"a\x1b$B4A\x1b(B?b".to_vec()
        );
        assert_eq!(Charset::ShiftJis.encode("漢😀"), b"\x8a\xbf?".to_vec());
    }
}
