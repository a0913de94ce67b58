//! What the caller configures for a parse: the sender's default character set and limits.

use super::Charset;

/// How to decode a message: per-sender settings from the gateway's configuration.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// The institution's configured character set, used when MSH-18 is empty and the bytes
    /// are neither ASCII, UTF-8 nor ISO-2022-JP (typically Shift_JIS exports).
    pub default_charset: Option<Charset>,
    /// Size limits that keep a hostile or broken message from using unbounded memory.
    pub limits: ParseLimits,
}

/// Upper bounds checked while parsing. Defaults: 16 MiB per message, 10,000 segments,
/// 1 MiB per field (an embedded PDF in OBX-5 fits; a runaway message does not).
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Largest input, in bytes, including framing.
    pub max_message_bytes: usize,
    /// Most segments in one message.
    pub max_segments: usize,
    /// Longest field, in bytes of decoded UTF-8 text.
    pub max_field_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> ParseLimits {
        ParseLimits {
            max_message_bytes: 16 * 1024 * 1024,
            max_segments: 10_000,
            max_field_bytes: 1024 * 1024,
        }
    }
}
