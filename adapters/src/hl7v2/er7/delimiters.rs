//! The message's delimiters, read from MSH-1 (field separator) and MSH-2 (encoding characters).

/// The delimiters a message declares in MSH-1 and MSH-2.
///
/// Component and repetition separators are always present; MSH-2 may stop before the escape
/// character, the subcomponent separator, or the truncation character (HL7 2.7 added `#`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delimiters {
    /// MSH-1, normally `|`.
    pub field: char,
    /// MSH-2 position 1, normally `^`.
    pub component: char,
    /// MSH-2 position 2, normally `~`.
    pub repetition: char,
    /// MSH-2 position 3, normally `\`; without it no escape sequences are recognised.
    pub escape: Option<char>,
    /// MSH-2 position 4, normally `&`.
    pub subcomponent: Option<char>,
    /// MSH-2 position 5 (HL7 2.7+), normally `#`.
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    /// `|^~\&`, the delimiters nearly every sender uses.
    fn default() -> Delimiters {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: Some('\\'),
            subcomponent: Some('&'),
            truncation: None,
        }
    }
}

impl Delimiters {
    /// The MSH-2 text, e.g. `^~\&`. Optional characters are written in order up to the first
    /// missing one, because MSH-2 is positional.
    pub fn encoding_characters(&self) -> String {
        let mut text = String::with_capacity(5);
        text.push(self.component);
        text.push(self.repetition);
        for optional in [self.escape, self.subcomponent, self.truncation] {
            match optional {
                Some(c) => text.push(c),
                None => break,
            }
        }
        text
    }

    /// Reads MSH-1 and MSH-2 from the bytes that follow `MSH`. Returns the delimiters or why
    /// they are unusable. The field separator must be one byte of printable, non-alphanumeric
    /// ASCII; MSH-2 must hold 2 to 5 such distinct characters.
    pub(crate) fn from_msh_bytes(after_msh: &[u8]) -> Result<Delimiters, DelimiterProblem> {
        let Some(&field) = after_msh.first() else {
            return Err(DelimiterProblem::NoFieldSeparator);
        };
        if !is_delimiter_byte(field) {
            return Err(DelimiterProblem::BadFieldSeparator(field));
        }
        let rest = after_msh.get(1..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|&b| b == field || b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let encoding = rest.get(..end).unwrap_or_default();
        if encoding.len() < 2 {
            return Err(DelimiterProblem::TooFewEncodingCharacters(
                String::from_utf8_lossy(encoding).into_owned(),
            ));
        }
        if encoding.len() > 5 {
            return Err(DelimiterProblem::TooManyEncodingCharacters(
                String::from_utf8_lossy(encoding).into_owned(),
            ));
        }
        let mut seen = vec![field];
        for &b in encoding {
            if !is_delimiter_byte(b) || seen.contains(&b) {
                return Err(DelimiterProblem::BadEncodingCharacter(
                    String::from_utf8_lossy(encoding).into_owned(),
                ));
            }
            seen.push(b);
        }
        let at = |i: usize| encoding.get(i).map(|&b| char::from(b));
        Ok(Delimiters {
            field: char::from(field),
            component: at(0).unwrap_or('^'),
            repetition: at(1).unwrap_or('~'),
            escape: at(2),
            subcomponent: at(3),
            truncation: at(4),
        })
    }

    /// Whether `c` is one of the structural separators (not escape or truncation).
    pub(crate) fn is_separator(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || c == self.repetition
            || Some(c) == self.subcomponent
    }
}

/// Why MSH-1/MSH-2 could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DelimiterProblem {
    NoFieldSeparator,
    BadFieldSeparator(u8),
    TooFewEncodingCharacters(String),
    TooManyEncodingCharacters(String),
    BadEncodingCharacter(String),
}

/// Delimiters are printable ASCII punctuation: letters and digits would be ambiguous with
/// data, and controls/space/DEL are never used by senders.
fn is_delimiter_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_usual_set() {
        assert_eq!(Delimiters::default().encoding_characters(), "^~\\&");
        assert_eq!(
            Delimiters::from_msh_bytes(b"|^~\\&|APP"),
            Ok(Delimiters::default())
        );
    }

    #[test]
    fn truncation_character_of_hl7_2_7() {
        let d = Delimiters::from_msh_bytes(b"|^~\\&#|APP").unwrap();
        assert_eq!(d.truncation, Some('#'));
        assert_eq!(d.encoding_characters(), "^~\\&#");
    }

    #[test]
    fn short_msh2_leaves_optional_delimiters_unset() {
        let d = Delimiters::from_msh_bytes(b"#$%#APP").unwrap();
        assert_eq!(d.field, '#');
        assert_eq!((d.component, d.repetition), ('$', '%'));
        assert_eq!((d.escape, d.subcomponent), (None, None));
        assert_eq!(d.encoding_characters(), "$%");
    }

    #[test]
    fn unusable_delimiters_are_refused() {
        assert_eq!(
            Delimiters::from_msh_bytes(b""),
            Err(DelimiterProblem::NoFieldSeparator)
        );
        assert_eq!(
            Delimiters::from_msh_bytes(b"A^~\\&"),
            Err(DelimiterProblem::BadFieldSeparator(b'A'))
        );
        assert!(matches!(
            Delimiters::from_msh_bytes(b"|^|"),
            Err(DelimiterProblem::TooFewEncodingCharacters(_))
        ));
        assert!(matches!(
            Delimiters::from_msh_bytes(b"|^~\\&#*|"),
            Err(DelimiterProblem::TooManyEncodingCharacters(_))
        ));
        assert!(matches!(
            Delimiters::from_msh_bytes(b"|^^\\&|"),
            Err(DelimiterProblem::BadEncodingCharacter(_))
        ));
        assert!(matches!(
            Delimiters::from_msh_bytes(b"|^~ &|"),
            Err(DelimiterProblem::BadEncodingCharacter(_))
        ));
    }
}
