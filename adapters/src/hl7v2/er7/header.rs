//! MSH fields read from the raw bytes, before the message is decoded: MSH-1/MSH-2 give the
//! delimiters, MSH-18 (or the bytes themselves) the character set, and a reject for an
//! undecodable message still wants MSH-3…MSH-12.

use super::decode::{self, has_iso2022_designation};
use super::delimiters::DelimiterProblem;
use super::iso2022jp::DecodeFailure;
use super::{Charset, DecodeOptions, Delimiters, Location, ParseError};

/// The MSH fields that could be read safely from raw bytes.
pub(crate) struct RawMsh<'a> {
    /// `parts[0]` is `MSH`, `parts[1]` MSH-2, `parts[k]` MSH-(k+1): only parts read whole.
    parts: Vec<&'a [u8]>,
    /// Whether the scan reached the end of the segment (so absent fields are truly empty).
    complete: bool,
}

/// How the raw scan treats bytes above 0x7F outside ISO 2022 runs.
#[derive(Clone, Copy)]
enum HighBytes {
    /// Cross them when the segment is valid UTF-8, else stop.
    Utf8OrStop,
    /// Stop: the encoding is unknown.
    Stop,
    /// One byte, one character (Latin-1).
    SingleByte,
    /// Shift_JIS: a lead byte and the byte after it form one character.
    ShiftJis,
}

/// The character set MSH-18 declares, read from the raw bytes of `content` (starting with
/// `MSH`). When non-ASCII text before MSH-18 stops the plain scan, the Latin-1 and
/// Shift_JIS readings are tried, and one is accepted only when the MSH-18 it finds names
/// that same set: a reading that confirms itself.
pub(crate) fn declared_charset(
    content: &[u8],
    field_separator: u8,
    repetition_separator: u8,
) -> Declared {
    let plain = RawMsh::scan(content, field_separator).declared(repetition_separator);
    if plain != Declared::Unreadable {
        return plain;
    }
    for (reading, charset) in [
        (HighBytes::SingleByte, Charset::Latin1),
        (HighBytes::ShiftJis, Charset::ShiftJis),
    ] {
        let declared =
            RawMsh::scan_as(content, field_separator, reading).declared(repetition_separator);
        if declared == Declared::Charset(charset) {
            return declared;
        }
    }
    Declared::Unreadable
}

/// What MSH-18 says about the character set.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Declared {
    /// Empty, or only empty repetitions: the bytes must tell.
    Nothing,
    /// MSH-18 could not be read from the raw bytes (text the scan cannot cross comes first).
    Unreadable,
    /// The character set the message is written in.
    Charset(Charset),
    /// A repetition (1-based) names a set this parser does not support.
    Unknown { value: String, repetition: usize },
}

impl<'a> RawMsh<'a> {
    /// Scans the first segment of `content` (which starts with `MSH`) for field separators.
    ///
    /// The header's fields are ASCII in practice, but MSH-3…MSH-17 may hold Japanese text
    /// (an SS-MIX2 fixture has kanji in MSH-13) whose bytes can equal the separator (画 is
    /// `0x32 0x68` … inside `ESC $ B`). So bytes inside an ISO 2022 two-byte or katakana run
    /// are skipped, and other bytes above 0x7F are only crossed when the segment is valid
    /// UTF-8 (whose multi-byte characters never contain ASCII bytes). Otherwise (Shift_JIS,
    /// whose second bytes can be `|`, or Latin-1) the scan stops and later fields stay
    /// unknown; [`declared_charset`] then tries those readings.
    pub(crate) fn scan(content: &'a [u8], field_separator: u8) -> RawMsh<'a> {
        RawMsh::scan_as(content, field_separator, HighBytes::Utf8OrStop)
    }

    fn scan_as(content: &'a [u8], field_separator: u8, high: HighBytes) -> RawMsh<'a> {
        let line_len = content
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(content.len());
        let line = content.get(..line_len).unwrap_or_default();
        let high = match high {
            HighBytes::Utf8OrStop if std::str::from_utf8(line).is_err() => HighBytes::Stop,
            other => other,
        };
        let mut parts = vec![line.get(..3).unwrap_or_default()];
        let mut field_start = 4;
        let mut shifted = false;
        let mut i = 4;
        while let Some(&b) = line.get(i) {
            if b == 0x1B {
                match line.get(i + 1..i + 3) {
                    Some([b'(', b'B' | b'J']) => shifted = false,
                    Some([b'$', _]) | Some([b'(', b'I']) => shifted = true,
                    _ => {}
                }
            } else if b == 0x0E {
                shifted = true;
            } else if b == 0x0F {
                shifted = false;
            } else if shifted {
                // Part of a JIS character.
            } else if b >= 0x80 {
                match high {
                    HighBytes::Stop => {
                        return RawMsh {
                            parts,
                            complete: false,
                        }
                    }
                    // Shift_JIS lead bytes take the next byte with them.
                    HighBytes::ShiftJis if matches!(b, 0x81..=0x9F | 0xE0..=0xFC) => i += 1,
                    _ => {}
                }
            } else if b == field_separator {
                parts.push(line.get(field_start..i).unwrap_or_default());
                field_start = i + 1;
            }
            i += 1;
        }
        parts.push(line.get(field_start..).unwrap_or_default());
        RawMsh {
            parts,
            complete: true,
        }
    }

    /// MSH-`n` (HL7 numbering, `n >= 2`) when it was read whole; an absent trailing field
    /// reads as empty, an unreadable one as `None`.
    pub(crate) fn field(&self, n: usize) -> Option<&'a [u8]> {
        if n < 2 {
            return None;
        }
        match self.parts.get(n - 1) {
            Some(part) => Some(part),
            None if self.complete => Some(&[]),
            None => None,
        }
    }

    /// MSH-`n` as text when it is printable ASCII (safe to echo into a reply in any set).
    pub(crate) fn ascii_field(&self, n: usize) -> Option<&'a str> {
        let bytes = self.field(n)?;
        if bytes.iter().all(|b| (0x20..0x7F).contains(b)) {
            std::str::from_utf8(bytes).ok()
        } else {
            None
        }
    }

    /// The character set MSH-18 declares.
    ///
    /// HL7 2.5 §2.15.9.18: the first repetition is the default set and further repetitions
    /// are alternates switched to by ISO 2022 escape sequences. SS-MIX2 writes `~ISO IR87`:
    /// ASCII (empty) by default, JIS X 0208 as the alternate, which is ISO-2022-JP. So when
    /// the default is ASCII the first non-ASCII alternate decides.
    pub(crate) fn declared(&self, repetition_separator: u8) -> Declared {
        let Some(field) = self.field(18) else {
            return Declared::Unreadable;
        };
        let mut charsets = Vec::new();
        for (index, repetition) in field.split(|&b| b == repetition_separator).enumerate() {
            let value = String::from_utf8_lossy(repetition);
            match Charset::from_msh18(&value) {
                Some(charset) => charsets.push(charset),
                None => {
                    return Declared::Unknown {
                        value: value.trim().to_owned(),
                        repetition: index + 1,
                    }
                }
            }
        }
        if field
            .iter()
            .all(|&b| b == repetition_separator || b == b' ')
        {
            return Declared::Nothing;
        }
        let default = charsets.first().copied().unwrap_or(Charset::Ascii);
        if default == Charset::Ascii {
            let alternate = charsets.iter().copied().find(|&c| c != Charset::Ascii);
            Declared::Charset(alternate.unwrap_or(Charset::Ascii))
        } else {
            Declared::Charset(default)
        }
    }
}

/// MSH-1 and MSH-2 from the raw bytes (the header is ASCII in every supported set).
pub(crate) fn read_delimiters(content: &[u8]) -> Result<Delimiters, ParseError> {
    let Some(after_msh) = content.strip_prefix(b"MSH") else {
        let found = describe_start(content);
        return Err(ParseError::NoMsh {
            location: Box::new(Location::segment(1, found.clone())),
            found,
        });
    };
    let msh_field = |n| Location::segment(1, "MSH").with_field(n);
    Delimiters::from_msh_bytes(after_msh).map_err(|problem| match problem {
        DelimiterProblem::NoFieldSeparator => ParseError::BadFieldSeparator {
            problem: "is missing".into(),
            location: Box::new(msh_field(1)),
        },
        DelimiterProblem::BadFieldSeparator(b) => ParseError::BadFieldSeparator {
            problem: format!("is byte 0x{b:02X}, not printable non-alphanumeric ASCII"),
            location: Box::new(msh_field(1)),
        },
        DelimiterProblem::TooFewEncodingCharacters(value) => ParseError::BadEncodingCharacters {
            value,
            problem: "needs at least the component and repetition separators",
            location: Box::new(msh_field(2)),
        },
        DelimiterProblem::TooManyEncodingCharacters(value) => ParseError::BadEncodingCharacters {
            value,
            problem: "has more than 5 characters",
            location: Box::new(msh_field(2)),
        },
        DelimiterProblem::BadEncodingCharacter(value) => ParseError::BadEncodingCharacters {
            value,
            problem: "holds a repeated, alphanumeric, blank or non-ASCII character",
            location: Box::new(msh_field(2)),
        },
    })
}

/// The first bytes of a non-message, readable: printable ASCII as is, other bytes as `\xNN`.
fn describe_start(content: &[u8]) -> String {
    let mut found = String::new();
    for &b in content.iter().take(3) {
        if b.is_ascii_graphic() || b == b' ' {
            found.push(char::from(b));
        } else {
            found.push_str(&format!("\\x{b:02X}"));
        }
    }
    found
}

/// The character set to decode with: MSH-18 when it names one, else the bytes' own evidence,
/// else the sender's configured default.
pub(crate) fn choose_charset(
    content: &[u8],
    offset: usize,
    had_bom: bool,
    d: &Delimiters,
    opts: &DecodeOptions,
) -> Result<Charset, ParseError> {
    match declared_charset(content, d.field as u8, d.repetition as u8) {
        // ISO-2022-JP is ASCII plus escape sequences: a sender that declares ASCII but
        // writes JIS escape sequences (a common MSH-18 slip) is read as ISO-2022-JP.
        Declared::Charset(Charset::Ascii) if has_iso2022_designation(content) => {
            Ok(Charset::Iso2022Jp)
        }
        Declared::Charset(charset) => Ok(charset),
        Declared::Unknown { value, repetition } => Err(ParseError::UnknownCharset {
            value,
            location: Box::new(Location {
                repetition: Some(repetition),
                ..Location::segment(1, "MSH").with_field(18)
            }),
        }),
        Declared::Nothing | Declared::Unreadable => {
            if had_bom {
                return Ok(Charset::Utf8);
            }
            if let Some(charset) = decode::sniff(content) {
                return Ok(charset);
            }
            if let Some(charset) = opts.default_charset {
                return Ok(charset);
            }
            if has_iso2022_designation(content) {
                return Ok(Charset::Iso2022Jp);
            }
            let at = content.iter().position(|&b| b >= 0x80).unwrap_or(0);
            let prefix = String::from_utf8_lossy(content.get(..at).unwrap_or_default());
            Err(ParseError::CharsetUndetermined {
                byte: content.get(at).copied().unwrap_or(0),
                byte_offset: offset + at,
                location: Box::new(Location::at_end_of(&prefix, d)),
            })
        }
    }
}

pub(crate) fn undecodable(
    failure: DecodeFailure,
    offset: usize,
    charset: Charset,
    d: &Delimiters,
) -> ParseError {
    ParseError::Undecodable {
        charset,
        byte_offset: offset + failure.offset,
        detail: failure.detail,
        location: Box::new(Location::at_end_of(&failure.decoded, d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msh18_second_repetition_selects_iso_ir87() {
        let msh = b"MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID";
        let raw = RawMsh::scan(msh, b'|');
        assert_eq!(raw.field(18), Some(&b"~ISO IR87"[..]));
        assert_eq!(raw.field(20), Some(&b"ISO 2022-1994"[..]));
        assert_eq!(raw.field(25), Some(&b""[..]));
        assert_eq!(raw.declared(b'~'), Declared::Charset(Charset::Iso2022Jp));
    }

    #[test]
    fn jis_bytes_before_msh18_are_skipped() {
        // MSH-13 holds 番号 (0x48 0x56, 0x39 0x66); 画 (0x32 0x68) followed by 像's 0x41 0x7C
        // puts a `|` byte inside the kanji run.
        let msh = b"MSH|^~\\&|A|B|C|D|1||RAS^O17|2|P|2.5|\x1b$BHV9f2hA|\x1b(B|||||~ISOIR87\r";
        let raw = RawMsh::scan(msh, b'|');
        assert_eq!(raw.field(18), Some(&b"~ISOIR87"[..]));
        assert_eq!(raw.declared(b'~'), Declared::Charset(Charset::Iso2022Jp));
    }

    #[test]
    fn utf8_text_is_crossed_but_shift_jis_stops_the_scan() {
        let msh = "MSH|^~\\&|病院|B|C|D|1||ADT^A01|2|P|2.5||||||UNICODE UTF-8".as_bytes();
        let raw = RawMsh::scan(msh, b'|');
        assert_eq!(raw.declared(b'~'), Declared::Charset(Charset::Utf8));
        // ポ is 0x83 0x7C in Shift_JIS: its second byte is `|`.
        let msh = b"MSH|^~\\&|\x83\x7C|B|C|D|1||ADT^A01|2|P|2.5||||||SJIS";
        let raw = RawMsh::scan(msh, b'|');
        assert_eq!(raw.field(3), None);
        assert_eq!(raw.declared(b'~'), Declared::Unreadable);
        // Read as Shift_JIS, MSH-18 confirms the reading.
        assert_eq!(
            declared_charset(msh, b'|', b'~'),
            Declared::Charset(Charset::ShiftJis)
        );
        let latin1 = b"MSH|^~\\&|L\xe4bor|B|C|D|1||ADT^A01|2|P|2.5||||||8859/1";
        assert_eq!(
            declared_charset(latin1, b'|', b'~'),
            Declared::Charset(Charset::Latin1)
        );
        // A reading that does not confirm itself is not used (then decoding as UTF-8 would
        // have failed anyway; detection reports the byte).
        let mismatch = b"MSH|^~\\&|L\xe4bor|B|C|D|1||ADT^A01|2|P|2.5||||||UNICODE UTF-8";
        assert_eq!(declared_charset(mismatch, b'|', b'~'), Declared::Unreadable);
    }

    #[test]
    fn empty_and_unknown_declarations() {
        let raw = RawMsh::scan(b"MSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5||||||~", b'|');
        assert_eq!(raw.declared(b'~'), Declared::Nothing);
        let raw = RawMsh::scan(b"MSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5", b'|');
        assert_eq!(raw.declared(b'~'), Declared::Nothing);
        let raw = RawMsh::scan(
            b"MSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5||||||ASCII~KS X 1001",
            b'|',
        );
        assert_eq!(
            raw.declared(b'~'),
            Declared::Unknown {
                value: "KS X 1001".into(),
                repetition: 2
            }
        );
        let raw = RawMsh::scan(
            b"MSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5||||||UNICODE UTF-8~ISO IR87",
            b'|',
        );
        assert_eq!(raw.declared(b'~'), Declared::Charset(Charset::Utf8));
    }
}
