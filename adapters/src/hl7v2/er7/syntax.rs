//! What the accessors need to split and unescape a message's text: its delimiters, its
//! character set, and a byte-class table built from the delimiters.

use super::{Charset, Delimiters};

/// What the accessors need to split and unescape text.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) delimiters: Delimiters,
    pub(crate) charset: Charset,
    /// For each byte value, which delimiter it is ([`REPETITION`], [`COMPONENT`],
    /// [`SUBCOMPONENT`], [`ESCAPE`] bits). Parsing only accepts ASCII delimiters, so a
    /// byte test is exact on UTF-8 text, and one table look-up replaces several compares.
    pub(crate) classes: [u8; 256],
}

/// Byte class bits in [`Context::classes`].
pub(crate) const REPETITION: u8 = 1;
pub(crate) const COMPONENT: u8 = 2;
pub(crate) const SUBCOMPONENT: u8 = 4;
pub(crate) const ESCAPE: u8 = 8;

impl Context {
    pub(crate) fn new(delimiters: Delimiters, charset: Charset) -> Context {
        let mut classes = [0u8; 256];
        let mut mark = |c: Option<char>, class: u8| {
            // Only ASCII delimiters can be matched byte-wise in UTF-8 (parsing accepts no
            // others).
            if let Some(byte) = c.filter(char::is_ascii).and_then(|c| u8::try_from(c).ok()) {
                classes[usize::from(byte)] |= class;
            }
        };
        mark(Some(delimiters.repetition), REPETITION);
        mark(Some(delimiters.component), COMPONENT);
        mark(delimiters.subcomponent, SUBCOMPONENT);
        mark(delimiters.escape, ESCAPE);
        Context {
            delimiters,
            charset,
            classes,
        }
    }

    /// The text of `raw` before its first byte of a class in `stop`, and whether that text
    /// holds the escape character.
    #[inline]
    pub(crate) fn prefix<'a>(&self, raw: &'a str, stop: u8) -> (&'a str, bool) {
        let mut escaped = false;
        let wanted = stop | ESCAPE;
        for (i, &b) in raw.as_bytes().iter().enumerate() {
            // One well-predicted test per byte; most bytes are neither.
            let class = self.classes[usize::from(b)] & wanted;
            if class != 0 {
                if class & stop != 0 {
                    // `i` is at an ASCII delimiter, so a character boundary.
                    return (raw.get(..i).unwrap_or(raw), escaped);
                }
                escaped = true;
            }
        }
        (raw, escaped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_stops_at_the_first_delimiter_of_the_class_and_notes_escapes() {
        let context = Context::new(Delimiters::default(), Charset::Ascii);
        assert_eq!(context.prefix("ab^cd~e", REPETITION), ("ab^cd", false));
        assert_eq!(
            context.prefix("ab^cd~e", REPETITION | COMPONENT),
            ("ab", false)
        );
        assert_eq!(context.prefix("a\\F\\b&c", SUBCOMPONENT), ("a\\F\\b", true));
        assert_eq!(context.prefix("a\\F\\b&c", 0), ("a\\F\\b&c", true));
        assert_eq!(context.prefix("漢字^x", COMPONENT), ("漢字", false));
    }
}
