//! HL7 escape sequences (HL7 2.5 §2.7): delimiters written as `\F\` and friends, `\Xhh\`
//! bytes, formatting commands, and the `\Cxxyy\` / `\Mxxyyzz\` character-set switches.

use std::borrow::Cow;

use super::decode::decode_fragment;
use super::iso2022jp;
use super::{Charset, Delimiters};

/// `raw` with its escape sequences replaced, taking `\Xhh…\` bytes as UTF-8.
/// Use [`unescape_in`] (or the accessors' `text()`) to decode them in the message's charset.
///
/// - `\F\ \S\ \T\ \R\ \E\ \P\` → the field, component, subcomponent, repetition, escape and
///   truncation characters;
/// - `\Xhh…\` → those bytes decoded in the character set;
/// - `\.br\`, `\.sp\`, `\.ce\` → a line break; `\H\ \N\` (highlighting) and the other
///   formatting commands (`\.fi\ \.nf\ \.in\ \.ti\ \.sk\`) are dropped;
/// - `\Cxxyy\` and `\Mxxyy(zz)\` (§2.7.4/2.7.5) stand for the ISO 2022 escape sequence
///   `ESC xx yy (zz)`: the marker is removed, and 7-bit text up to the next such marker (or
///   the end) is decoded in the designated set (e.g. after `\M2442\` the letters `4A` are the
///   JIS X 0208 code of 漢). Text that is not 7-bit, or not valid in that set, is kept as is:
///   the message's own ESC bytes were already decoded before parsing;
/// - anything else, including an escape character without its closing partner or a
///   locally defined `\Z…\`, is kept as written.
pub fn unescape<'a>(raw: &'a str, d: &Delimiters) -> Cow<'a, str> {
    unescape_in(raw, d, Charset::Utf8)
}

/// Like [`unescape`], decoding `\Xhh…\` bytes in `charset`.
pub fn unescape_in<'a>(raw: &'a str, d: &Delimiters, charset: Charset) -> Cow<'a, str> {
    let Some(esc) = d.escape else {
        return Cow::Borrowed(raw);
    };
    let present = match u8::try_from(esc) {
        Ok(byte) if byte.is_ascii() => raw.as_bytes().contains(&byte),
        _ => raw.contains(esc),
    };
    if !present {
        return Cow::Borrowed(raw);
    }
    let mut out = Unescaped::new(raw.len());
    let esc_len = esc.len_utf8();
    let mut rest = raw;
    while let Some(open) = rest.find(esc) {
        out.push_str(rest.get(..open).unwrap_or_default());
        let after_open = rest.get(open + esc_len..).unwrap_or_default();
        let Some(close) = after_open.find(esc) else {
            // No closing escape character: the rest is plain text.
            out.push_str(rest.get(open..).unwrap_or_default());
            rest = "";
            break;
        };
        let body = after_open.get(..close).unwrap_or_default();
        match Sequence::parse(body, d) {
            Some(Sequence::Text(c)) => out.push(c),
            Some(Sequence::LineBreak) => out.push('\n'),
            Some(Sequence::Nothing) => {}
            Some(Sequence::Bytes(bytes)) => match decode_fragment(&bytes, charset) {
                Some(text) => out.push_str(&text),
                None => out.push_raw(esc, body),
            },
            Some(Sequence::Designation(designation)) => out.switch(designation),
            None => out.push_raw(esc, body),
        }
        rest = after_open.get(close + esc_len..).unwrap_or_default();
    }
    out.push_str(rest);
    Cow::Owned(out.finish())
}

/// `text` with every delimiter, escape character and line break written as an escape
/// sequence, so that `unescape(&escape(s, d), d) == s`. CR becomes `\X0D\` (it would end the
/// segment), LF becomes `\.br\`. Without an escape character in MSH-2 nothing can be escaped
/// and `text` is returned unchanged.
pub fn escape<'a>(text: &'a str, d: &Delimiters) -> Cow<'a, str> {
    let Some(esc) = d.escape else {
        return Cow::Borrowed(text);
    };
    let needs = |c: char| {
        c == esc || c == '\r' || c == '\n' || d.is_separator(c) || Some(c) == d.truncation
    };
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        let code = if c == d.field {
            "F"
        } else if c == d.component {
            "S"
        } else if Some(c) == d.subcomponent {
            "T"
        } else if c == d.repetition {
            "R"
        } else if c == esc {
            "E"
        } else if Some(c) == d.truncation {
            "P"
        } else if c == '\n' {
            ".br"
        } else if c == '\r' {
            "X0D"
        } else {
            out.push(c);
            continue;
        };
        out.push(esc);
        out.push_str(code);
        out.push(esc);
    }
    Cow::Owned(out)
}

/// What one escape sequence stands for.
enum Sequence {
    Text(char),
    LineBreak,
    Nothing,
    Bytes(Vec<u8>),
    /// The bytes after ESC of an ISO 2022 designation.
    Designation(Vec<u8>),
}

impl Sequence {
    fn parse(body: &str, d: &Delimiters) -> Option<Sequence> {
        let delimiter = |c: Option<char>| c.map(Sequence::Text);
        match body {
            "F" => delimiter(Some(d.field)),
            "S" => delimiter(Some(d.component)),
            "T" => delimiter(d.subcomponent),
            "R" => delimiter(Some(d.repetition)),
            "E" => delimiter(d.escape),
            "P" => delimiter(d.truncation),
            "H" | "N" => Some(Sequence::Nothing),
            ".br" | ".ce" => Some(Sequence::LineBreak),
            ".fi" | ".nf" => Some(Sequence::Nothing),
            _ => {
                if let Some(hex) = body.strip_prefix('X') {
                    hex_bytes(hex).map(Sequence::Bytes)
                } else if let Some(hex) = body.strip_prefix('C') {
                    hex_bytes(hex)
                        .filter(|b| b.len() == 2)
                        .map(Sequence::Designation)
                } else if let Some(hex) = body.strip_prefix('M') {
                    hex_bytes(hex)
                        .filter(|b| b.len() == 2 || b.len() == 3)
                        .map(Sequence::Designation)
                } else if let Some(count) = body.strip_prefix(".sp") {
                    is_signed_number(count.trim()).then_some(Sequence::LineBreak)
                } else if [".in", ".ti", ".sk"].iter().any(|command| {
                    body.strip_prefix(command)
                        .is_some_and(|n| is_signed_number(n.trim()))
                }) {
                    Some(Sequence::Nothing)
                } else {
                    None
                }
            }
        }
    }
}

/// `+n`, `-n`, `n` or nothing, as formatting commands take.
fn is_signed_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    digits.bytes().all(|b| b.is_ascii_digit())
}

/// Pairs of hex digits as bytes; `None` for an odd count, no digits, or a non-hex character.
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || hex.len() & 1 == 1 {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// The text being built, with the character set switched by `\C…\`/`\M…\` markers.
struct Unescaped {
    out: String,
    /// The active designation (bytes after ESC) and the text written since it.
    switched: Option<(Vec<u8>, String)>,
}

impl Unescaped {
    fn new(capacity: usize) -> Unescaped {
        Unescaped {
            out: String::with_capacity(capacity),
            switched: None,
        }
    }

    fn target(&mut self) -> &mut String {
        match &mut self.switched {
            Some((_, text)) => text,
            None => &mut self.out,
        }
    }

    fn push_str(&mut self, s: &str) {
        self.target().push_str(s);
    }

    fn push(&mut self, c: char) {
        self.target().push(c);
    }

    /// A sequence kept as written.
    fn push_raw(&mut self, esc: char, body: &str) {
        let target = self.target();
        target.push(esc);
        target.push_str(body);
        target.push(esc);
    }

    fn switch(&mut self, designation: Vec<u8>) {
        self.flush();
        // ESC ( B designates ASCII: back to plain text.
        if designation != b"(B" {
            self.switched = Some((designation, String::new()));
        }
    }

    /// Decodes the text written since the last designation in the designated set.
    fn flush(&mut self) {
        let Some((designation, text)) = self.switched.take() else {
            return;
        };
        if text.is_ascii() {
            let mut bytes = Vec::with_capacity(designation.len() + text.len() + 4);
            bytes.push(0x1B);
            bytes.extend_from_slice(&designation);
            bytes.extend_from_slice(text.as_bytes());
            bytes.extend_from_slice(b"\x1B(B");
            if let Ok(decoded) = iso2022jp::decode(&bytes) {
                self.out.push_str(&decoded);
                return;
            }
        }
        self.out.push_str(&text);
    }

    fn finish(mut self) -> String {
        self.flush();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Delimiters {
        Delimiters::default()
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(unescape("Yamada", &d()), Cow::Borrowed("Yamada")));
        assert!(matches!(escape("Yamada", &d()), Cow::Borrowed("Yamada")));
    }

    #[test]
    fn delimiter_sequences() {
        assert_eq!(
            unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", &d()),
            "a|b^c&d~e\\f"
        );
        assert_eq!(
            escape("a|b^c&d~e\\f", &d()),
            "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
        );
        let with_truncation = Delimiters {
            truncation: Some('#'),
            ..d()
        };
        assert_eq!(unescape("1\\P\\2", &with_truncation), "1#2");
        assert_eq!(unescape("1\\P\\2", &d()), "1\\P\\2");
    }

    #[test]
    fn formatting_commands() {
        assert_eq!(unescape("line1\\.br\\line2", &d()), "line1\nline2");
        assert_eq!(
            unescape("\\H\\bold\\N\\ \\.in+4\\x\\.sp 2\\y", &d()),
            "bold x\ny"
        );
        assert_eq!(escape("a\nb\rc", &d()), "a\\.br\\b\\X0D\\c");
    }

    #[test]
    fn hex_bytes_in_the_message_charset() {
        assert_eq!(unescape("\\X0D0A\\", &d()), "\r\n");
        assert_eq!(unescape("caf\\XC3A9\\", &d()), "café");
        assert_eq!(unescape_in("caf\\XE9\\", &d(), Charset::Latin1), "café");
        assert_eq!(unescape_in("\\X8ABF\\", &d(), Charset::ShiftJis), "漢");
        // Not valid UTF-8: left as written.
        assert_eq!(unescape("caf\\XE9\\", &d()), "caf\\XE9\\");
    }

    #[test]
    fn malformed_escapes_are_left_as_text() {
        assert_eq!(unescape("a\\b", &d()), "a\\b");
        assert_eq!(unescape("\\Q\\", &d()), "\\Q\\");
        assert_eq!(unescape("\\X1\\", &d()), "\\X1\\");
        assert_eq!(unescape("\\Zlocal\\", &d()), "\\Zlocal\\");
        assert_eq!(unescape("\\\\", &d()), "\\\\");
    }

    #[test]
    fn charset_escapes_decode_the_text_they_switch() {
        // \M2442\ = ESC $ B (JIS X 0208): 4A;z = 漢字; \C2842\ = ESC ( B back to ASCII.
        assert_eq!(unescape("A\\M2442\\4A;z\\C2842\\B", &d()), "A漢字B");
        // A JIS byte pair containing `|` has to be escaped: 画像 = 2hA| .
        assert_eq!(unescape("\\M2442\\2hA\\F\\\\C2842\\", &d()), "画像");
        // \C2849\ = ESC ( I, half-width katakana; no closing marker: to the end.
        assert_eq!(unescape("\\C2849\\12", &d()), "ｱｲ");
        // Text that was already decoded (raw ESC bytes) is kept; markers never leak.
        assert_eq!(unescape("\\M2442\\漢字\\C2842\\", &d()), "漢字");
        // An unknown set: markers dropped, text kept.
        assert_eq!(unescape("\\C2D41\\abc", &d()), "abc");
    }

    #[test]
    fn escape_then_unescape_is_identity_for_odd_text() {
        for text in ["\\C2842\\", "\\X41\\", "|^~\\&", "\r\n", "\\.br\\", ""] {
            assert_eq!(unescape(&escape(text, &d()), &d()), text, "{text:?}");
        }
    }
}
