//! The text of a JSON string or number in the output tree: a `'static` text, a short text
//! kept inline (no allocation: most codes, units, dates and values are short), or a `String`.

use std::borrow::Cow;

/// Longest text kept inline.
const INLINE: usize = 30;

/// A string of the output tree.
#[derive(Clone, PartialEq, Eq)]
pub enum Text {
    /// A fixed text (codes, systems).
    Static(&'static str),
    /// A short text copied into place: its length and bytes (always valid UTF-8).
    Inline(u8, [u8; INLINE]),
    /// A longer text.
    Heap(String),
}

impl Text {
    /// The text's bytes (UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Static(text) => text.as_bytes(),
            Text::Inline(len, bytes) => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Text::Heap(text) => text.as_bytes(),
        }
    }

    /// The text (for inline texts, checked again; they were copied from a `&str`).
    pub fn as_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// A copy of `text`, inline when it is short.
    pub fn copy(text: &str) -> Text {
        let bytes = text.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0u8; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Text::Inline(len, inline)
            }
            _ => Text::Heap(text.to_owned()),
        }
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.as_str(), f)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            Text::copy(&text)
        } else {
            Text::Heap(text)
        }
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(text: Cow<'_, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Text::copy(text),
            Cow::Owned(text) => Text::from(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_inline_and_read_back() {
        for text in [
            "",
            "final",
            "2024-04-01T11:15:00+09:00",
            "漢字",
            &"x".repeat(31),
        ] {
            let copied = Text::copy(text);
            assert_eq!(copied.as_bytes(), text.as_bytes());
            assert_eq!(matches!(copied, Text::Inline(..)), text.len() <= INLINE);
            assert_eq!(Text::from(text.to_owned()), copied);
        }
        assert_eq!(Text::Static("a").as_str(), "a");
    }
}
