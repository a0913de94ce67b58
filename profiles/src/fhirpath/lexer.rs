//! Splits FHIRPath text into tokens, each with the byte offset it starts at (for errors).

use super::FhirPathError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A name or keyword (`name`, `where`, `and`, `true`); `delimited` when written in
    /// backticks, which makes keywords plain names.
    Identifier { name: String, delimited: bool },
    /// A string literal with its escapes resolved.
    Str(String),
    /// A number literal as written.
    Number(String),
    /// `$this`, `$index`, `$total` (the name after `$`).
    Special(String),
    /// `%resource`, `%context`, … (the name after `%`).
    Environment(String),
    /// Punctuation and symbolic operators: `.` `(` `)` `[` `]` `{` `}` `,` `|` `=` `!=` `~`
    /// `!~` `<` `<=` `>` `>=` `+` `-` `*` `/` `&`.
    Symbol(&'static str),
    /// `@…`: a date, date-time or time literal, the text after `@`.
    DateTime(String),
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) position: usize,
}

const SYMBOLS: &[&str] = &[
    "!=", "!~", "<=", ">=", ".", "(", ")", "[", "]", "{", "}", ",", "|", "=", "~", "<", ">", "+",
    "-", "*", "/", "&",
];

/// The tokens of `text`, or the first lexical error.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, FhirPathError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let start = at;
        if byte.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if text[at..].starts_with("//") {
            at = text[at..].find('\n').map_or(text.len(), |end| at + end);
            continue;
        }
        if text[at..].starts_with("/*") {
            let end = text[at + 2..]
                .find("*/")
                .ok_or_else(|| FhirPathError::new(start, "unterminated comment"))?;
            at += 2 + end + 2;
            continue;
        }
        let kind = if byte.is_ascii_alphabetic() || byte == b'_' {
            at = identifier_end(bytes, at);
            TokenKind::Identifier {
                name: text[start..at].to_owned(),
                delimited: false,
            }
        } else if byte == b'`' {
            let (name, end) = quoted(text, at, b'`')?;
            at = end;
            TokenKind::Identifier {
                name,
                delimited: true,
            }
        } else if byte == b'\'' {
            let (value, end) = quoted(text, at, b'\'')?;
            at = end;
            TokenKind::Str(value)
        } else if byte.is_ascii_digit() {
            at = number_end(bytes, at);
            TokenKind::Number(text[start..at].to_owned())
        } else if byte == b'$' || byte == b'%' {
            let name_start = at + 1;
            let name = match bytes.get(name_start) {
                Some(&quote @ (b'`' | b'\'')) if byte == b'%' => {
                    let (name, end) = quoted(text, name_start, quote)?;
                    at = end;
                    name
                }
                Some(next) if next.is_ascii_alphabetic() || *next == b'_' => {
                    at = identifier_end(bytes, name_start);
                    // FHIR's `%vs-name` and `%ext-name` carry hyphens.
                    let prefix = &text[name_start..at];
                    if byte == b'%'
                        && matches!(prefix, "vs" | "ext")
                        && bytes.get(at) == Some(&b'-')
                    {
                        while bytes
                            .get(at)
                            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                        {
                            at += 1;
                        }
                    }
                    text[name_start..at].to_owned()
                }
                _ => {
                    return Err(FhirPathError::new(
                        start,
                        "expected a name after `$` or `%`",
                    ))
                }
            };
            if byte == b'$' {
                TokenKind::Special(name)
            } else {
                TokenKind::Environment(name)
            }
        } else if byte == b'@' {
            at += 1;
            while let Some(b) = bytes.get(at) {
                let fraction_dot = *b == b'.' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
                if b.is_ascii_digit() || b"-:+TZ".contains(b) || fraction_dot {
                    at += 1;
                } else {
                    break;
                }
            }
            TokenKind::DateTime(text[start + 1..at].to_owned())
        } else if let Some(symbol) = SYMBOLS
            .iter()
            .find(|symbol| text[at..].starts_with(**symbol))
        {
            at += symbol.len();
            TokenKind::Symbol(symbol)
        } else {
            let found = text[at..].chars().next().unwrap_or('?');
            return Err(FhirPathError::new(
                start,
                format!("unexpected character `{found}`"),
            ));
        };
        tokens.push(Token {
            kind,
            position: start,
        });
    }
    Ok(tokens)
}

fn identifier_end(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        at += 1;
    }
    at
}

fn number_end(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    // A fraction only when a digit follows the dot: `1.exists()` is not `1.` then `exists`.
    if bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
        at += 1;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    at
}

/// The text between the quote at `start` and its closing quote, escapes resolved, and the
/// offset just past the closing quote.
fn quoted(text: &str, start: usize, quote: u8) -> Result<(String, usize), FhirPathError> {
    let mut value = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((offset, ch)) = chars.next() {
        let at = start + 1 + offset;
        match ch {
            _ if ch as u32 == u32::from(quote) => return Ok((value, at + 1)),
            '\\' => {
                let (_, escaped) = chars
                    .next()
                    .ok_or_else(|| FhirPathError::new(at, "unterminated escape"))?;
                match escaped {
                    '\'' | '"' | '`' | '\\' | '/' => value.push(escaped),
                    'f' => value.push('\u{c}'),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            let digit = chars
                                .next()
                                .and_then(|(_, hex)| hex.to_digit(16))
                                .ok_or_else(|| {
                                    FhirPathError::new(at, "`\\u` needs four hex digits")
                                })?;
                            code = code * 16 + digit;
                        }
                        let decoded = char::from_u32(code).ok_or_else(|| {
                            FhirPathError::new(at, "`\\u` escape is not a character")
                        })?;
                        value.push(decoded);
                    }
                    other => {
                        return Err(FhirPathError::new(
                            at,
                            format!("unknown escape `\\{other}`"),
                        ))
                    }
                }
            }
            _ => value.push(ch),
        }
    }
    Err(FhirPathError::new(start, "unterminated quoted text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .expect("lexes")
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    #[test]
    fn string_escapes_are_resolved() {
        assert_eq!(
            kinds(r"'it\'s \u00e9\n\\'"),
            vec![TokenKind::Str("it's é\n\\".to_owned())]
        );
    }

    #[test]
    fn two_character_symbols_win_over_one() {
        assert_eq!(
            kinds("a != b"),
            vec![
                TokenKind::Identifier {
                    name: "a".to_owned(),
                    delimited: false
                },
                TokenKind::Symbol("!="),
                TokenKind::Identifier {
                    name: "b".to_owned(),
                    delimited: false
                },
            ]
        );
    }

    #[test]
    fn number_then_dot_function_is_not_a_decimal() {
        assert_eq!(kinds("1.5")[0], TokenKind::Number("1.5".to_owned()));
        assert_eq!(kinds("1.exists()")[0], TokenKind::Number("1".to_owned()));
    }

    #[test]
    fn errors_carry_the_offset() {
        let error = tokenize("name ^ x").expect_err("caret is no token");
        assert_eq!(error.position, 5);
        assert_eq!(tokenize("'open").expect_err("unterminated").position, 0);
        assert_eq!(tokenize(r"'a\q'").expect_err("bad escape").position, 2);
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(kinds("a // note\n/* more */").len(), 1);
    }
}
