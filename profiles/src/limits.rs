//! Limits applied to every FHIR document a client sends, before fhirbolt sees it.

/// Size and nesting limits for one parsed document (JSON or XML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted document, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of JSON objects/arrays or XML elements.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    /// 16 MiB and 64 levels: the deepest official R4 example nests about 20 levels (a
    /// Questionnaire inside a Bundle), serde_json itself refuses at 128.
    fn default() -> Self {
        ParseLimits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 64,
        }
    }
}
