//! DICOM Specific Character Set (0008,0005): which character sets a data set declares, and the
//! decoding of SH, LO, UC, ST, LT, UT and PN values with them, including the ISO 2022 code
//! extensions of PS3.5 §6.1.2.5 (escape sequences that switch G0/G1, resets at delimiters).
//!
//! Where the standard leaves room or real data breaks it, results follow pydicom 3, which a
//! comparison test checks us against: bytes above 0x7F under the default repertoire read as
//! Latin-1, `ISO_IR 13` reads as Shift_JIS (half-width katakana and also kanji pairs), JIS X
//! 0201 Roman reads as ASCII, the two-byte sets map as Python's codecs do (`〜`, not `～`), and
//! pydicom's own way of writing mixed sets (see `decode_iso2022`) reads back as it meant.
//!
//! Known differences, on purpose: pydicom decodes a whole PN or SH/LO value without returning
//! to the initial sets at `^`, `=` and `\`, where this decoder does (PS3.5 §6.1.2.5.3), so a
//! G1 switch not repeated after a delimiter reads differently; where pydicom gives up and
//! returns the raw fragment (an escape sequence (0008,0005) does not declare, a misspelt term
//! such as `ISO_IR 87`, NEC and IBM kanji, a bad byte), this decoder still decodes, with
//! U+FFFD only for the bad bytes themselves.

use std::sync::OnceLock;

use encoding_rs::Encoding;

/// The character sets a data set declares: the initial designations (from the first value of
/// (0008,0005)) that every value starts in and returns to at its delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterSets {
    repertoire: Repertoire,
}

/// Why a Specific Character Set value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown character set term {term:?}")]
pub struct CharsetError {
    /// The offending defined term.
    pub term: String,
}

/// How a value's bytes are delimited, which decides where ISO 2022 code extensions reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// PN: resets at `^`, `=` and `\`.
    PersonName,
    /// SH, LO, UC, CS and other multi-valued strings: resets at `\` (and, as pydicom does, at
    /// CR, LF, FF and TAB, which these VRs should not contain).
    MultiValued,
    /// ST, LT, UT: resets at CR, LF, FF and TAB.
    Text,
}

/// Decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// True when some bytes could not be decoded and were replaced by U+FFFD.
    pub replaced: bool,
}

impl Default for CharacterSets {
    /// ISO_IR 6, the default repertoire: what a data set without (0008,0005) uses.
    fn default() -> CharacterSets {
        CharacterSets {
            repertoire: Repertoire::Iso2022(Designations::DEFAULT),
        }
    }
}

impl CharacterSets {
    /// Parses the raw bytes of (0008,0005): backslash-separated defined terms, padding trimmed,
    /// an empty first value meaning the default repertoire. Common misspellings (`ISO IR 100`,
    /// `ISO-IR 100`, `ISO_IR 87` for `ISO 2022 IR 87`, `ISO_IR192`) are accepted; a term that
    /// names no known set is an error.
    pub fn parse(raw: &[u8]) -> Result<CharacterSets, CharsetError> {
        let mut first = None;
        for (position, value) in raw.split(|&b| b == b'\\').enumerate() {
            let value = trim_padding(value);
            let term = Term::parse(value).ok_or_else(|| CharsetError {
                term: String::from_utf8_lossy(value).into_owned(),
            })?;
            if position == 0 {
                first = Some(term);
            }
        }
        let repertoire = match first {
            Some(Term::Iso2022(designations)) => Repertoire::Iso2022(designations),
            Some(Term::Whole(encoding)) => Repertoire::Whole(encoding),
            Some(Term::Empty) | None => Repertoire::Iso2022(Designations::DEFAULT),
        };
        Ok(CharacterSets { repertoire })
    }

    /// Decodes a value's bytes (all of its values when multi-valued; padding is left for the
    /// caller to trim). Never fails: undecodable bytes become U+FFFD and set `replaced`.
    pub fn decode(&self, bytes: &[u8], kind: TextKind) -> Decoded {
        match self.repertoire {
            Repertoire::Whole(encoding) => {
                let (text, replaced) = encoding.decode_without_bom_handling(bytes);
                Decoded {
                    text: text.into_owned(),
                    replaced,
                }
            }
            Repertoire::Iso2022(initial) => {
                if bytes.is_ascii() && !bytes.contains(&ESC) {
                    // G0 is ASCII or JIS X 0201 Roman, which reads as ASCII (see module docs).
                    let text = bytes.iter().map(|&b| char::from(b)).collect();
                    return Decoded {
                        text,
                        replaced: false,
                    };
                }
                decode_iso2022(bytes, initial, kind)
            }
        }
    }
}

/// How values are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repertoire {
    /// ISO 2022 structure (which also covers the single-byte sets without code extensions):
    /// the designations each value starts with.
    Iso2022(Designations),
    /// A stand-alone encoding (UTF-8, GB18030, GBK) that forbids code extensions: the whole
    /// value is decoded at once and further values of (0008,0005) are ignored, as pydicom does.
    Whole(&'static Encoding),
}

/// What one defined term of (0008,0005) stands for.
enum Term {
    /// An empty value (only meaningful first: the default repertoire).
    Empty,
    /// A set used through ISO 2022; the designations are the initial ones when it comes first.
    Iso2022(Designations),
    /// A stand-alone encoding.
    Whole(&'static Encoding),
}

impl Term {
    /// The term a value names, or `None` when it names no known set. Case, spaces, `_` and `-`
    /// are ignored, and the `ISO_IR n` and `ISO 2022 IR n` spellings are interchangeable.
    fn parse(value: &[u8]) -> Option<Term> {
        let key: String = value
            .iter()
            .filter(|b| !matches!(b, b' ' | b'_' | b'-'))
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect();
        let single = |set| {
            Some(Term::Iso2022(Designations {
                g0: Graphic0::Ascii,
                g1: Graphic1::Single(set),
            }))
        };
        let number = key
            .strip_prefix("ISO2022IR")
            .or_else(|| key.strip_prefix("ISOIR"));
        if let Some(number) = number {
            return match number {
                // JIS X 0208 and 0212 are reached only through escape sequences; pydicom too
                // starts their values in ASCII with no G1.
                "6" | "87" | "159" => Some(Term::Iso2022(Designations::DEFAULT)),
                "13" => Some(Term::Iso2022(Designations::JIS_X_0201)),
                "100" => single(SingleByte::Latin1),
                "101" => single(SingleByte::Latin2),
                "109" => single(SingleByte::Latin3),
                "110" => single(SingleByte::Latin4),
                "126" => single(SingleByte::Greek),
                "127" => single(SingleByte::Arabic),
                "138" => single(SingleByte::Hebrew),
                "144" => single(SingleByte::Cyrillic),
                "148" => single(SingleByte::Latin5),
                "166" => single(SingleByte::Thai),
                "203" => single(SingleByte::Latin9),
                "149" => Some(Term::Iso2022(Designations::g1(DoubleByte::KsX1001))),
                "58" => Some(Term::Iso2022(Designations::g1(DoubleByte::Gb2312))),
                "192" => Some(Term::Whole(encoding_rs::UTF_8)),
                _ => None,
            };
        }
        match key.as_str() {
            "" => Some(Term::Empty),
            "UTF8" => Some(Term::Whole(encoding_rs::UTF_8)),
            "GB18030" => Some(Term::Whole(encoding_rs::GB18030)),
            // `ISO 2022 GBK` and `ISO 2022 58` come from CP 1234, as pydicom reads them.
            "GBK" | "ISO2022GBK" => Some(Term::Whole(encoding_rs::GBK)),
            "ISO202258" | "GB2312" => Some(Term::Iso2022(Designations::g1(DoubleByte::Gb2312))),
            "SHIFTJIS" | "SJIS" => Some(Term::Iso2022(Designations::JIS_X_0201)),
            _ => None,
        }
    }
}

/// The graphic sets designated to G0 (bytes 0x21–0x7E) and G1 (bytes 0xA0–0xFF, 8-bit form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Designations {
    g0: Graphic0,
    g1: Graphic1,
}

impl Designations {
    /// ISO-IR 6 in G0 and nothing in G1: its high bytes read as Latin-1, as pydicom does.
    const DEFAULT: Designations = Designations {
        g0: Graphic0::Ascii,
        g1: Graphic1::Single(SingleByte::Latin1),
    };

    /// ISO_IR 13: JIS X 0201 Roman in G0, katakana in G1 (PS3.5 Annex H.1.1).
    const JIS_X_0201: Designations = Designations {
        g0: Graphic0::Roman,
        g1: Graphic1::Katakana,
    };

    /// ASCII in G0 and a two-byte set in G1 (ISO 2022 IR 149, IR 58).
    const fn g1(set: DoubleByte) -> Designations {
        Designations {
            g0: Graphic0::Ascii,
            g1: Graphic1::Double(set),
        }
    }
}

/// A set that G0 can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Graphic0 {
    /// ISO-IR 6 (`ESC ( B`).
    Ascii,
    /// JIS X 0201 Roman, ISO-IR 14 (`ESC ( J`). Read as ASCII (0x5C is `\`, not `¥`), as
    /// Python's shift_jis codec, and so pydicom, reads it: 0x5C is also the value delimiter.
    Roman,
    /// JIS X 0201 katakana in its 7-bit form (`ESC ( I`; not DICOM's, but seen from JIS
    /// encoders).
    Katakana,
    /// A 94×94 set (`ESC $ B`, `ESC $ ( D`, ...): bytes are read in pairs.
    Double(DoubleByte),
}

/// A set that G1 can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Graphic1 {
    /// The upper half of an ISO 8859 (or TIS 620) set (`ESC - A` ...).
    Single(SingleByte),
    /// JIS X 0201 katakana, ISO-IR 13 (`ESC ) I`), read as Shift_JIS: 0xA1–0xDF are half-width
    /// katakana and a lead byte 0x81–0x9F or 0xE0–0xEF starts a JIS X 0208 pair, as Python's
    /// shift_jis codec (which pydicom uses for ISO_IR 13) reads it.
    Katakana,
    /// A 94×94 set in its 8-bit form (`ESC $ ) C` ...): bytes 0xA1–0xFE in pairs.
    Double(DoubleByte),
}

/// A single-byte set whose upper half holds the letters (PS3.3 Table C.12-2 and C.12-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SingleByte {
    /// ISO-IR 100, ISO 8859-1: byte n is U+00nn (not windows-1252).
    Latin1,
    /// ISO-IR 101, ISO 8859-2.
    Latin2,
    /// ISO-IR 109, ISO 8859-3.
    Latin3,
    /// ISO-IR 110, ISO 8859-4.
    Latin4,
    /// ISO-IR 144, ISO 8859-5.
    Cyrillic,
    /// ISO-IR 127, ISO 8859-6.
    Arabic,
    /// ISO-IR 126, ISO 8859-7.
    Greek,
    /// ISO-IR 138, ISO 8859-8.
    Hebrew,
    /// ISO-IR 148, ISO 8859-9.
    Latin5,
    /// ISO-IR 203, ISO 8859-15.
    Latin9,
    /// ISO-IR 166, TIS 620.
    Thai,
}

impl SingleByte {
    /// Every set, in declaration order (`set as usize` indexes it).
    const ALL: [SingleByte; 11] = [
        SingleByte::Latin1,
        SingleByte::Latin2,
        SingleByte::Latin3,
        SingleByte::Latin4,
        SingleByte::Cyrillic,
        SingleByte::Arabic,
        SingleByte::Greek,
        SingleByte::Hebrew,
        SingleByte::Latin5,
        SingleByte::Latin9,
        SingleByte::Thai,
    ];

    /// The character for a byte 0x80–0xFF, or `None` where the set has none.
    fn high(self, byte: u8) -> Option<char> {
        // Every set has the C1 controls at 0x80–0x9F, and Latin-1 is the identity above.
        if byte < 0xA0 || self == SingleByte::Latin1 {
            return Some(char::from(byte));
        }
        static TABLES: OnceLock<Vec<[char; 96]>> = OnceLock::new();
        let tables = TABLES.get_or_init(|| SingleByte::ALL.map(SingleByte::table).to_vec());
        let table = tables.get(self as usize)?;
        table
            .get(usize::from(byte - 0xA0))
            .copied()
            .filter(|&c| c != '\0')
    }

    /// Bytes 0xA0–0xFF decoded through encoding_rs, `'\0'` where unmapped.
    fn table(self) -> [char; 96] {
        // encoding_rs follows WHATWG, which reads ISO 8859-9 and TIS 620 as windows-1254 and
        // windows-874; these agree with the ISO sets from 0xA0 up, except TIS 620's 0xA0.
        let encoding = match self {
            SingleByte::Latin1 => None,
            SingleByte::Latin2 => Some(encoding_rs::ISO_8859_2),
            SingleByte::Latin3 => Some(encoding_rs::ISO_8859_3),
            SingleByte::Latin4 => Some(encoding_rs::ISO_8859_4),
            SingleByte::Cyrillic => Some(encoding_rs::ISO_8859_5),
            SingleByte::Arabic => Some(encoding_rs::ISO_8859_6),
            SingleByte::Greek => Some(encoding_rs::ISO_8859_7),
            SingleByte::Hebrew => Some(encoding_rs::ISO_8859_8),
            SingleByte::Latin5 => Some(encoding_rs::WINDOWS_1254),
            SingleByte::Latin9 => Some(encoding_rs::ISO_8859_15),
            SingleByte::Thai => Some(encoding_rs::WINDOWS_874),
        };
        let mut table = ['\0'; 96];
        for (byte, slot) in (0xA0..=0xFF_u8).zip(table.iter_mut()) {
            *slot = match encoding {
                Some(encoding) => single_char(encoding, &[byte]).unwrap_or('\0'),
                None => char::from(byte),
            };
        }
        if self == SingleByte::Thai {
            table[0] = '\0';
        }
        table
    }
}

/// A 94×94 two-byte set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DoubleByte {
    /// JIS X 0208, ISO-IR 87 (Japanese kanji, hiragana, katakana).
    Jis0208,
    /// JIS X 0212, ISO-IR 159 (supplementary kanji).
    Jis0212,
    /// KS X 1001, ISO-IR 149 (Korean).
    KsX1001,
    /// GB 2312, ISO-IR 58 (simplified Chinese).
    Gb2312,
}

impl DoubleByte {
    /// The character at row byte `first` and cell byte `second` (each 0x21–0x7E).
    fn get(self, first: u8, second: u8) -> Option<char> {
        static TABLES: [OnceLock<Vec<char>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        if !is_gl_graphic(first) || !is_gl_graphic(second) {
            return None;
        }
        let index = usize::from(first - 0x21) * 94 + usize::from(second - 0x21);
        let table = TABLES.get(self as usize)?.get_or_init(|| self.table());
        table.get(index).copied().filter(|&c| c != '\0')
    }

    /// All 94×94 code points decoded through encoding_rs' EUC form of the set, `'\0'` where
    /// unmapped, then brought in line with Python's codecs.
    fn table(self) -> Vec<char> {
        let (encoding, prefix): (&Encoding, &[u8]) = match self {
            DoubleByte::Jis0208 => (encoding_rs::EUC_JP, &[]),
            DoubleByte::Jis0212 => (encoding_rs::EUC_JP, &[0x8F]),
            DoubleByte::KsX1001 => (encoding_rs::EUC_KR, &[]),
            DoubleByte::Gb2312 => (encoding_rs::GBK, &[]),
        };
        let mut table = Vec::with_capacity(94 * 94);
        let mut bytes = prefix.to_vec();
        for first in 0xA1..=0xFE_u8 {
            for second in 0xA1..=0xFE_u8 {
                bytes.truncate(prefix.len());
                bytes.extend([first, second]);
                // GBK's user-defined rows decode to the Private Use Area: not GB 2312.
                let c = single_char(encoding, &bytes)
                    .filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c));
                table.push(c.unwrap_or('\0'));
            }
        }
        for &(first, second, c) in self.python_differences() {
            let index = usize::from(first - 0x21) * 94 + usize::from(second - 0x21);
            if let Some(slot) = table.get_mut(index) {
                *slot = c;
            }
        }
        table
    }

    /// Code points both map but Python's codecs (so pydicom) and encoding_rs (WHATWG) map
    /// differently, with Python's character. Code points only encoding_rs maps (NEC and IBM
    /// kanji in JIS X 0208 rows 13 and 89–92, a few in KS X 1001) are kept.
    fn python_differences(self) -> &'static [(u8, u8, char)] {
        match self {
            // WHATWG takes these six from Windows (～ ∥ － ￠ ￡ ￢); Python from JIS.
            DoubleByte::Jis0208 => &[
                (0x21, 0x41, '\u{301C}'),
                (0x21, 0x42, '\u{2016}'),
                (0x21, 0x5D, '\u{2212}'),
                (0x21, 0x71, '\u{A2}'),
                (0x21, 0x72, '\u{A3}'),
                (0x22, 0x4C, '\u{AC}'),
            ],
            DoubleByte::Jis0212 => &[(0x22, 0x37, '~')],
            DoubleByte::KsX1001 => &[],
            // GBK's middle dot and em dash; GB 2312 proper has katakana middle dot and bar.
            DoubleByte::Gb2312 => &[(0x21, 0x24, '\u{30FB}'), (0x21, 0x2A, '\u{2015}')],
        }
    }
}

/// The one character `bytes` decode to, if they decode cleanly to exactly one.
fn single_char(encoding: &'static Encoding, bytes: &[u8]) -> Option<char> {
    let text = encoding.decode_without_bom_handling_and_without_replacement(bytes)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

const ESC: u8 = 0x1B;

/// What an escape sequence does.
enum Escape {
    /// Designates a set to G0.
    G0(Graphic0),
    /// Designates a set to G1.
    G1(Graphic1),
    /// Changes nothing (`ESC & @`, the JIS X 0208-1990 announcer).
    Nothing,
    /// Not one this decoder knows.
    Unknown,
}

/// Reads the escape sequence after an ESC byte (ISO 2022: intermediate bytes 0x20–0x2F, then
/// a final byte 0x30–0x7E): what it does and how many bytes after the ESC it takes. A malformed
/// sequence (or one with more than three intermediates, which no set uses) takes none, so only
/// the ESC is lost.
fn escape_sequence(after_esc: &[u8]) -> (Escape, usize) {
    let intermediates = after_esc
        .iter()
        .take_while(|b| (0x20..=0x2F).contains(*b))
        .count();
    let Some(&last) = after_esc.get(intermediates) else {
        return (Escape::Unknown, 0);
    };
    if !(0x30..=0x7E).contains(&last) || !(1..=3).contains(&intermediates) {
        return (Escape::Unknown, 0);
    }
    let length = intermediates + 1;
    let double = |set| Escape::G0(Graphic0::Double(set));
    let double_g1 = |set| Escape::G1(Graphic1::Double(set));
    let single = |set| Escape::G1(Graphic1::Single(set));
    let escape = match (after_esc.get(..intermediates).unwrap_or_default(), last) {
        (b"(", b'B') => Escape::G0(Graphic0::Ascii),
        (b"(", b'J') => Escape::G0(Graphic0::Roman),
        (b"(", b'I') => Escape::G0(Graphic0::Katakana),
        (b")", b'I') => Escape::G1(Graphic1::Katakana),
        (b"-", b'A') => single(SingleByte::Latin1),
        (b"-", b'B') => single(SingleByte::Latin2),
        (b"-", b'C') => single(SingleByte::Latin3),
        (b"-", b'D') => single(SingleByte::Latin4),
        (b"-", b'F') => single(SingleByte::Greek),
        (b"-", b'G') => single(SingleByte::Arabic),
        (b"-", b'H') => single(SingleByte::Hebrew),
        (b"-", b'L') => single(SingleByte::Cyrillic),
        (b"-", b'M') => single(SingleByte::Latin5),
        (b"-", b'T') => single(SingleByte::Thai),
        (b"-", b'b') => single(SingleByte::Latin9),
        // The second intermediate `(` is omitted for final bytes @, A and B (ISO 2022).
        (b"$" | b"$(", b'@' | b'B') => double(DoubleByte::Jis0208),
        (b"$" | b"$(", b'A') => double(DoubleByte::Gb2312),
        (b"$(", b'D') => double(DoubleByte::Jis0212),
        (b"$(", b'C') => double(DoubleByte::KsX1001),
        (b"$)", b'@' | b'B') => double_g1(DoubleByte::Jis0208),
        (b"$)", b'A') => double_g1(DoubleByte::Gb2312),
        (b"$)", b'C') => double_g1(DoubleByte::KsX1001),
        (b"$)", b'D') => double_g1(DoubleByte::Jis0212),
        (b"&", b'@') => Escape::Nothing,
        _ => Escape::Unknown,
    };
    (escape, length)
}

impl TextKind {
    /// True when control character `byte` ends a value or line, returning to the initial
    /// designations whatever set is active (a control byte is never part of a pair).
    fn resets_at_control(self, byte: u8) -> bool {
        match self {
            TextKind::PersonName => false,
            TextKind::MultiValued | TextKind::Text => {
                matches!(byte, b'\r' | b'\n' | 0x0C | b'\t')
            }
        }
    }

    /// True when graphic `byte` is a delimiter: it returns to the initial designations when it
    /// stands in an ASCII-like G0, not when it is half of a two-byte character.
    fn resets_at_graphic(self, byte: u8) -> bool {
        match self {
            TextKind::PersonName => matches!(byte, b'^' | b'=' | b'\\'),
            TextKind::MultiValued => byte == b'\\',
            TextKind::Text => false,
        }
    }
}

/// What a step of decoding produced.
enum Piece {
    Char(char),
    Bad,
    Nothing,
}

/// Decodes with ISO 2022 code extensions, starting from (and returning at delimiters to)
/// `initial`.
fn decode_iso2022(bytes: &[u8], initial: Designations, kind: TextKind) -> Decoded {
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2);
    let mut replaced = false;
    let mut current = initial;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        let (piece, used) = if byte == ESC {
            let (escape, length) = escape_sequence(bytes.get(at + 1..).unwrap_or_default());
            let piece = match escape {
                Escape::G0(set) => {
                    // pydicom reads what follows ESC ( B as Latin-1 whole, G1 included, and
                    // its encoder relies on that; returning G1 to its initial set agrees with
                    // it for the usual first values (none, ISO_IR 100) and changes nothing
                    // when G1 was never switched.
                    if set == Graphic0::Ascii {
                        current.g1 = initial.g1;
                    }
                    current.g0 = set;
                    Piece::Nothing
                }
                Escape::G1(set) => {
                    // pydicom reads what follows any escape sequence but JIS X 0208/0212 as
                    // single-byte, and its encoder switches from kanji to a G1 set without
                    // ESC ( B: a G1 designation also ends a two-byte G0.
                    if matches!(current.g0, Graphic0::Double(_)) {
                        current.g0 = initial.g0;
                    }
                    current.g1 = set;
                    Piece::Nothing
                }
                Escape::Nothing => Piece::Nothing,
                Escape::Unknown => Piece::Bad,
            };
            (piece, 1 + length)
        } else if kind.resets_at_control(byte) {
            current = initial;
            (Piece::Char(char::from(byte)), 1)
        } else if byte < 0x80 {
            match current.g0 {
                Graphic0::Ascii | Graphic0::Roman => {
                    if kind.resets_at_graphic(byte) {
                        current = initial;
                    }
                    (Piece::Char(char::from(byte)), 1)
                }
                Graphic0::Katakana => match byte {
                    0x21..=0x5F => (Piece::Char(half_width_katakana(byte + 0x80)), 1),
                    0x60..=0x7E => (Piece::Bad, 1),
                    _ => (Piece::Char(char::from(byte)), 1),
                },
                Graphic0::Double(set) => match next {
                    _ if !is_gl_graphic(byte) => (Piece::Char(char::from(byte)), 1),
                    Some(second) if is_gl_graphic(second) => {
                        (set.get(byte, second).map_or(Piece::Bad, Piece::Char), 2)
                    }
                    // A delimiter that cannot start a pair: the sender forgot to switch back.
                    _ if kind.resets_at_graphic(byte) => {
                        current = initial;
                        (Piece::Char(char::from(byte)), 1)
                    }
                    _ => (Piece::Bad, 1),
                },
            }
        } else {
            match current.g1 {
                Graphic1::Single(set) => (set.high(byte).map_or(Piece::Bad, Piece::Char), 1),
                Graphic1::Katakana => shift_jis(byte, next),
                Graphic1::Double(set) => match next {
                    Some(second) if is_gr_graphic(byte) && is_gr_graphic(second) => (
                        set.get(byte & 0x7F, second & 0x7F)
                            .map_or(Piece::Bad, Piece::Char),
                        2,
                    ),
                    _ => (Piece::Bad, 1),
                },
            }
        };
        match piece {
            Piece::Char(c) => text.push(c),
            Piece::Bad => {
                text.push(char::REPLACEMENT_CHARACTER);
                replaced = true;
            }
            Piece::Nothing => {}
        }
        at += used;
    }
    Decoded { text, replaced }
}

/// True for the graphic bytes of a 94-set in GL.
fn is_gl_graphic(byte: u8) -> bool {
    (0x21..=0x7E).contains(&byte)
}

/// True for the graphic bytes of a 94-set in GR.
fn is_gr_graphic(byte: u8) -> bool {
    (0xA1..=0xFE).contains(&byte)
}

/// The half-width katakana for JIS X 0201 byte 0xA1–0xDF (U+FF61–U+FF9F).
fn half_width_katakana(byte: u8) -> char {
    char::from_u32(0xFEC0 + u32::from(byte)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Decodes a high byte read as Shift_JIS, with `next` as the possible trail byte; on a bad
/// lead or trail only the lead byte is lost, as with Python's shift_jis codec.
fn shift_jis(lead: u8, next: Option<u8>) -> (Piece, usize) {
    match (lead, next) {
        (0xA1..=0xDF, _) => (Piece::Char(half_width_katakana(lead)), 1),
        (0x81..=0x9F | 0xE0..=0xEF, Some(trail @ (0x40..=0x7E | 0x80..=0xFC))) => {
            let lead_offset = if lead < 0xA0 {
                lead - 0x81
            } else {
                lead - 0xC1
            };
            let trail_offset = if trail < 0x80 {
                trail - 0x40
            } else {
                trail - 0x41
            };
            let (row_step, cell) = if trail_offset < 0x5E {
                (0, trail_offset)
            } else {
                (1, trail_offset - 0x5E)
            };
            let row = 2 * lead_offset + row_step + 0x21;
            match DoubleByte::Jis0208.get(row, cell + 0x21) {
                Some(c) => (Piece::Char(c), 2),
                None => (Piece::Bad, 1),
            }
        }
        _ => (Piece::Bad, 1),
    }
}

/// `value` without leading and trailing spaces and NULs.
fn trim_padding(value: &[u8]) -> &[u8] {
    let is_padding = |b: &u8| matches!(b, b' ' | b'\0');
    let start = value
        .iter()
        .position(|b| !is_padding(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_padding(b))
        .map_or(start, |p| p + 1);
    value.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn charsets(raw: &str) -> CharacterSets {
        CharacterSets::parse(raw.as_bytes()).expect("known terms")
    }

    fn decode(raw_charsets: &str, bytes: &[u8], kind: TextKind) -> Decoded {
        charsets(raw_charsets).decode(bytes, kind)
    }

    fn text(raw_charsets: &str, bytes: &[u8], kind: TextKind) -> String {
        let decoded = decode(raw_charsets, bytes, kind);
        assert!(!decoded.replaced, "{bytes:x?} decodes cleanly");
        decoded.text
    }

    /// PS3.5 Example H.3-1: `\ISO 2022 IR 87`, JIS X 0208 by escape, back to ASCII by ESC ( B.
    const ANNEX_H_3_1: &[u8] = b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\
        \x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";

    /// PS3.5 Example H.3-2: `ISO 2022 IR 13\ISO 2022 IR 87`, half-width katakana in G1 from
    /// the start, back to JIS X 0201 Roman by ESC ( J.
    const ANNEX_H_3_2: &[u8] = b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\
        \x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J";

    #[test]
    fn annex_h_3_1_iso_2022_ir_87() {
        assert_eq!(
            text("\\ISO 2022 IR 87", ANNEX_H_3_1, TextKind::PersonName),
            "Yamada^Tarou=山田^太郎=やまだ^たろう"
        );
    }

    #[test]
    fn annex_h_3_2_half_width_katakana_and_kanji() {
        assert_eq!(
            text(
                "ISO 2022 IR 13\\ISO 2022 IR 87",
                ANNEX_H_3_2,
                TextKind::PersonName
            ),
            "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
        );
    }

    #[test]
    fn jis_x_0212_by_escape() {
        // 丂 is JIS X 0212 0x30 0x21; Python maps 0x22 0x37 to `~` where WHATWG has `～`.
        assert_eq!(
            text(
                "\\ISO 2022 IR 87\\ISO 2022 IR 159",
                b"Yamada=\x1b$B;3\x1b$(D0!\"7\x1b(B",
                TextKind::PersonName
            ),
            "Yamada=山丂~"
        );
    }

    #[test]
    fn jis_x_0208_maps_as_python() {
        // WHATWG (encoding_rs) gives the Windows ～ ∥ － ￠ ￡ ￢ here.
        assert_eq!(
            text(
                "\\ISO 2022 IR 87",
                b"\x1b$B!A!B!]!q!r\"L\x1b(B",
                TextKind::Text
            ),
            "〜‖−¢£¬"
        );
    }

    #[test]
    fn latin_1_is_not_windows_1252() {
        let bytes = b"\x80\x93Jos\xe9 \xa4";
        assert_eq!(
            text("ISO_IR 100", bytes, TextKind::Text),
            "\u{80}\u{93}José ¤"
        );
        // Python's iso8859_9 keeps the C1 controls where encoding_rs' windows-1254 has €.
        assert_eq!(
            text("ISO_IR 148", b"\x80\xdd\xfe", TextKind::Text),
            "\u{80}İş"
        );
        assert_eq!(text("ISO_IR 203", b"\xa4", TextKind::Text), "€");
    }

    #[test]
    fn single_byte_sets() {
        assert_eq!(
            text("ISO_IR 144", b"\xb8\xd2\xd0\xdd\xde\xd2", TextKind::Text),
            "Иванов"
        );
        assert_eq!(text("ISO_IR 126", b"\xc4\xe9\xef", TextKind::Text), "Διο");
        assert_eq!(
            text("ISO_IR 138", b"\xf9\xf8\xe5\xef", TextKind::Text),
            "שרון"
        );
        assert_eq!(
            text("ISO_IR 127", b"\xe2\xc8\xc7\xe6\xea", TextKind::Text),
            "قباني"
        );
        assert_eq!(text("ISO_IR 166", b"\xa1\xd2\xc3", TextKind::Text), "การ");
        assert_eq!(text("ISO_IR 101", b"\xa3\xf3d\xbc", TextKind::Text), "Łódź");
        // TIS 620 has no 0xA0 (windows-874 has NBSP there); ISO 8859-3 has no 0xA5.
        let thai = decode("ISO_IR 166", b"\xa0", TextKind::Text);
        assert_eq!((thai.text.as_str(), thai.replaced), ("\u{FFFD}", true));
        assert!(decode("ISO_IR 109", b"\xa5", TextKind::Text).replaced);
    }

    #[test]
    fn default_repertoire_reads_high_bytes_as_latin_1_like_pydicom() {
        for raw in ["", "ISO_IR 6", "ISO 2022 IR 6", " \0"] {
            assert_eq!(text(raw, b"M\xfcller", TextKind::Text), "Müller", "{raw:?}");
        }
        assert_eq!(CharacterSets::parse(b"").unwrap(), CharacterSets::default());
        assert_eq!(CharacterSets::default(), charsets("ISO_IR 6"));
    }

    #[test]
    fn utf_8_and_chinese_stand_alone_sets() {
        assert_eq!(
            text(
                "ISO_IR 192",
                "Wang^XiaoDong=王^小東=".as_bytes(),
                TextKind::PersonName
            ),
            "Wang^XiaoDong=王^小東="
        );
        let bad = decode("ISO_IR 192", b"ab\xe7\x8e", TextKind::Text);
        assert_eq!((bad.text.as_str(), bad.replaced), ("ab\u{FFFD}", true));
        // pydicom's chrX2.dcm (GB18030) and the GBK reading of the same bytes.
        let gb = b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=";
        assert_eq!(
            text("GB18030", gb, TextKind::PersonName),
            "Wang^XiaoDong=王^小东="
        );
        assert_eq!(
            text("GBK", gb, TextKind::PersonName),
            "Wang^XiaoDong=王^小东="
        );
        // Stand-alone sets allow no code extensions: further values are ignored, ESC is text.
        assert_eq!(
            text("ISO_IR 192\\ISO 2022 IR 87", b"\x1b$B;3", TextKind::Text),
            "\u{1b}$B;3"
        );
    }

    #[test]
    fn korean_annex_i() {
        // pydicom's chrI2.dcm, PS3.5 Example I.2-1: KS X 1001 designated to G1 per component.
        let bytes = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\
            \x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
        assert_eq!(
            text("\\ISO 2022 IR 149", bytes, TextKind::PersonName),
            "Hong^Gildong=洪^吉洞=홍^길동"
        );
    }

    #[test]
    fn simplified_chinese_annex_k() {
        // PS3.5 Example K.1-1: GB 2312 designated to G1 per component.
        let bytes = b"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=";
        assert_eq!(
            text("\\ISO 2022 IR 58", bytes, TextKind::PersonName),
            "Zhang^XiaoDong=张^小东="
        );
        // GB 2312 proper, as Python reads it, not GBK's middle dot.
        assert_eq!(
            text("\\ISO 2022 IR 58", b"\x1b$)A\xa1\xa4", TextKind::Text),
            "・"
        );
    }

    #[test]
    fn iso_ir_13_reads_as_shift_jis_like_pydicom() {
        // Half-width katakana, and the kanji pairs non-conforming senders put there, trail
        // byte 0x5C included (表, ソ).
        assert_eq!(
            text(
                "ISO_IR 13",
                b"\xb1\xb2 \x95\x5c\x83\x5c\\x",
                TextKind::MultiValued
            ),
            "ｱｲ 表ソ\\x"
        );
        // As Python's shift_jis with errors="replace": a bad lead byte alone is lost.
        let bad = decode("ISO_IR 13", b"\xb1\x81 \xf0@", TextKind::Text);
        assert_eq!(
            (bad.text.as_str(), bad.replaced),
            ("ｱ\u{FFFD} \u{FFFD}@", true)
        );
    }

    #[test]
    fn delimiters_reset_to_the_initial_sets() {
        let raw = "ISO 2022 IR 100\\ISO 2022 IR 144";
        // ESC - L puts Cyrillic in G1 (0xC8 Ш; Latin-1 È) until a delimiter of the kind.
        let resets: [(u8, [bool; 3]); 7] = [
            // (delimiter, resets for [PersonName, MultiValued, Text])
            (b'^', [true, false, false]),
            (b'=', [true, false, false]),
            (b'\\', [true, true, false]),
            (b'\r', [false, true, true]),
            (b'\n', [false, true, true]),
            (0x0C, [false, true, true]),
            (b'\t', [false, true, true]),
        ];
        for (delimiter, resets) in resets {
            let bytes = [0x1B, b'-', b'L', 0xC8, delimiter, 0xC8];
            let kinds = [TextKind::PersonName, TextKind::MultiValued, TextKind::Text];
            for (kind, reset) in kinds.into_iter().zip(resets) {
                let after = if reset { 'È' } else { 'Ш' };
                let expected = format!("Ш{}{after}", char::from(delimiter));
                assert_eq!(text(raw, &bytes, kind), expected, "{delimiter:#x} {kind:?}");
            }
        }
        // The initial G0 comes back too: after CR, 4A is ASCII again.
        assert_eq!(
            text("\\ISO 2022 IR 87", b"\x1b$B;3\r4A", TextKind::Text),
            "山\r4A"
        );
    }

    #[test]
    fn delimiter_bytes_inside_a_kanji_pair_are_not_delimiters() {
        // JIS X 0208 0x3D5C 旬, 0x5C3D 椽, 0x5E3D 渊, 0x3D5E 殉, 0x5C5E 權.
        let bytes = b"\x1b$B=\\\\=^==^\\^\x1b(B^x";
        let expected = "旬椽渊殉權^x";
        for kind in [TextKind::PersonName, TextKind::MultiValued, TextKind::Text] {
            assert_eq!(text("\\ISO 2022 IR 87", bytes, kind), expected, "{kind:?}");
        }
        // The sender forgot ESC ( B: `^T` is still a pair (0x5E54 湟) ...
        assert_eq!(
            text("\\ISO 2022 IR 87", b"\x1b$B;3ED^T", TextKind::PersonName),
            "山田湟"
        );
        // ... but a delimiter that cannot start a pair ends the two-byte run.
        for (bytes, expected) in [
            (&b"\x1b$B;3ED^"[..], "山田^"),
            (b"\x1b$B;3ED=\x1b$B$d", "山田=や"),
            (b"\x1b$B;3ED\\", "山田\\"),
        ] {
            assert_eq!(
                text("\\ISO 2022 IR 87", bytes, TextKind::PersonName),
                expected
            );
        }
    }

    #[test]
    fn pydicom_encoder_quirks() {
        // pydicom switches from kanji to a G1 set without ESC ( B, and reads what follows as
        // single-byte: so does this decoder.
        assert_eq!(
            text(
                "ISO 2022 IR 100\\ISO 2022 IR 87",
                b"\x1b$B;3\x1b-ACT\xe9",
                TextKind::Text
            ),
            "山CTé"
        );
        // ... and writes Latin-1 after ESC ( B when the first value is the default.
        assert_eq!(
            text(
                "ISO 2022 IR 6\\ISO 2022 IR 144",
                b"\x1b-L\xc8\x1b(B\xc8",
                TextKind::Text
            ),
            "ШÈ"
        );
    }

    #[test]
    fn space_and_controls_inside_a_two_byte_run() {
        assert_eq!(
            text(
                "\\ISO 2022 IR 87",
                b"\x1b$B;3 ED\x1b(B",
                TextKind::PersonName
            ),
            "山 田"
        );
    }

    #[test]
    fn bad_bytes_become_replacement_characters() {
        let cases: [(&[u8], &str); 6] = [
            // Unknown escape sequence: the whole sequence is one U+FFFD.
            (b"a\x1b$)Zb", "a\u{FFFD}b"),
            // ESC with no final byte.
            (b"a\x1b", "a\u{FFFD}"),
            (b"a\x1b$", "a\u{FFFD}$"),
            // A pair cut short by the end of the value.
            (b"\x1b$B;3E", "山\u{FFFD}"),
            // Row 2 cell 15 (0x22 0x2F) is unassigned: one U+FFFD for the pair.
            (b"\x1b$B\"/;3", "\u{FFFD}山"),
            // Half of a pair before an escape sequence.
            (b"\x1b$B;\x1b(Bx", "\u{FFFD}x"),
        ];
        for (bytes, expected) in cases {
            let decoded = decode("\\ISO 2022 IR 87", bytes, TextKind::PersonName);
            assert_eq!(decoded.text, expected, "{bytes:x?}");
            assert!(decoded.replaced, "{bytes:x?}");
        }
    }

    #[test]
    fn escapes_are_honoured_even_when_not_declared() {
        // pydicom returns the escape sequence as text here; the kanji are what was meant.
        for raw in ["", "ISO_IR 100", "ISO_IR 13"] {
            assert_eq!(
                text(raw, b"\x1b$B;3ED\x1b(B", TextKind::PersonName),
                "山田",
                "{raw:?}"
            );
        }
    }

    #[test]
    fn lenient_term_spellings() {
        let kanji = b"\x1b$B;3ED\x1b(B";
        for raw in [
            "ISO_IR 87",
            "ISO IR 87",
            "\\ISO 2022 IR87",
            "ISO_2022_IR_87",
            " ISO 2022 IR 87\0",
        ] {
            assert_eq!(text(raw, kanji, TextKind::PersonName), "山田", "{raw:?}");
        }
        for raw in [
            "ISO-IR 100",
            "ISO IR 100",
            "iso_ir 100",
            "ISO_IR100",
            "ISO_IR 100  ",
        ] {
            assert_eq!(charsets(raw), charsets("ISO_IR 100"), "{raw:?}");
        }
        for raw in ["ISO IR 192", "ISO-IR 192", "UTF-8", "utf8"] {
            assert_eq!(charsets(raw), charsets("ISO_IR 192"), "{raw:?}");
        }
        assert_eq!(charsets("ISO 2022 GBK"), charsets("GBK"));
        assert_eq!(charsets("SHIFT_JIS"), charsets("ISO_IR 13"));
        assert_eq!(charsets("ISO 2022 58"), charsets("ISO 2022 IR 58"));
    }

    #[test]
    fn unknown_terms_are_errors() {
        for (raw, term) in [
            ("ISO_IR 999", "ISO_IR 999"),
            ("ISO_IR 100\\KLINGON ", "KLINGON"),
            ("ISO 2022 IR", "ISO 2022 IR"),
            ("latin1", "latin1"),
        ] {
            assert_eq!(
                CharacterSets::parse(raw.as_bytes()),
                Err(CharsetError { term: term.into() }),
                "{raw:?}"
            );
        }
        let error = CharacterSets::parse(b"\xff").unwrap_err();
        assert_eq!(error.term, "\u{FFFD}");
        assert_eq!(error.to_string(), "unknown character set term \"\u{FFFD}\"");
    }

    #[test]
    fn long_values_decode_in_linear_time() {
        let mut bytes = Vec::new();
        for _ in 0..20_000 {
            bytes.extend_from_slice(b"\x1b$B;3ED\x1b(B^\xb1");
        }
        let decoded = decode(
            "ISO 2022 IR 13\\ISO 2022 IR 87",
            &bytes,
            TextKind::PersonName,
        );
        assert_eq!(decoded.text.chars().count(), 20_000 * 4);
        assert!(!decoded.replaced);
    }

    const TERMS: &[&str] = &[
        "",
        "ISO_IR 6",
        "ISO 2022 IR 6",
        "ISO_IR 13",
        "ISO 2022 IR 13",
        "ISO 2022 IR 87",
        "ISO 2022 IR 159",
        "ISO_IR 100",
        "ISO 2022 IR 100",
        "ISO_IR 101",
        "ISO_IR 109",
        "ISO_IR 110",
        "ISO_IR 126",
        "ISO_IR 127",
        "ISO_IR 138",
        "ISO_IR 144",
        "ISO_IR 148",
        "ISO_IR 166",
        "ISO_IR 203",
        "ISO 2022 IR 149",
        "ISO 2022 IR 58",
        "ISO_IR 192",
        "GB18030",
        "GBK",
        "no such set",
    ];

    /// Escape sequences and delimiters, so random values switch sets often.
    const PIECES: &[&[u8]] = &[
        b"\x1b(B",
        b"\x1b(J",
        b"\x1b(I",
        b"\x1b)I",
        b"\x1b$B",
        b"\x1b$(D",
        b"\x1b$)C",
        b"\x1b$)A",
        b"\x1b-A",
        b"\x1b-L",
        b"\x1b-T",
        b"\x1b$",
        b"\x1b",
        b"^",
        b"=",
        b"\\",
        b"\r\n",
        b";3",
        b"\x95\x5c",
        b"\xb1",
    ];

    fn kind() -> impl Strategy<Value = TextKind> {
        prop::sample::select(vec![
            TextKind::PersonName,
            TextKind::MultiValued,
            TextKind::Text,
        ])
    }

    fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..4),
                prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
            ],
            0..24,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(
            terms in prop::collection::vec(prop::sample::select(TERMS), 1..4),
            bytes in value_bytes(),
            kind in kind(),
        ) {
            if let Ok(sets) = CharacterSets::parse(terms.join("\\").as_bytes()) {
                let decoded = sets.decode(&bytes, kind);
                // Every character takes at least one byte.
                prop_assert!(decoded.text.chars().count() <= bytes.len());
            }
        }

        #[test]
        fn pure_ascii_decodes_to_itself(
            terms in prop::collection::vec(prop::sample::select(TERMS), 1..4),
            text in "[\\x00-\\x1a\\x1c-\\x7f]{0,40}",
            kind in kind(),
        ) {
            if let Ok(sets) = CharacterSets::parse(terms.join("\\").as_bytes()) {
                let decoded = sets.decode(text.as_bytes(), kind);
                prop_assert_eq!(decoded.text, text);
                prop_assert!(!decoded.replaced);
            }
        }

        #[test]
        fn padding_and_spelling_do_not_change_a_term(
            term in prop::sample::select(TERMS),
            padding in "[ \\x00]{0,3}",
        ) {
            let padded = format!("{}{padding}", term.replace(' ', "-"));
            prop_assert_eq!(
                CharacterSets::parse(padded.as_bytes()).ok(),
                CharacterSets::parse(term.as_bytes()).ok()
            );
        }
    }
}
