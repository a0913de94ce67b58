//! Logical ids and version tags.

use crate::GatewayError;

/// True for a valid FHIR logical id: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
}

/// Checks an id from a URL or body, naming `location` when it is invalid.
pub fn check_id(id: &str, location: &str) -> Result<(), GatewayError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(GatewayError::invalid(
            format!("'{id}' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)"),
            location,
        ))
    }
}

/// A new server-assigned id (random UUID).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The weak ETag for a version: `W/"3"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// Parses an ETag/If-Match value (`W/"3"`, `"3"` or `3`) into a version number.
pub fn parse_version_tag(text: &str, location: &str) -> Result<u64, GatewayError> {
    let trimmed = text.trim();
    let unweak = trimmed.strip_prefix("W/").unwrap_or(trimmed);
    let bare = unweak.trim_matches('"');
    bare.parse().map_err(|_| {
        GatewayError::invalid(
            format!("'{text}' is not a version tag like W/\"3\""),
            location,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_r4_pattern() {
        assert!(is_valid_id("a-1.B"));
        assert!(is_valid_id(&"x".repeat(64)));
        assert!(!is_valid_id(&"x".repeat(65)));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a/b"));
        assert!(!is_valid_id("a_b"));
    }

    #[test]
    fn version_tags_parse_in_all_common_forms() {
        assert_eq!(parse_version_tag("W/\"3\"", "h").unwrap(), 3);
        assert_eq!(parse_version_tag("\"12\"", "h").unwrap(), 12);
        assert_eq!(parse_version_tag(" 7 ", "h").unwrap(), 7);
        assert!(parse_version_tag("W/\"x\"", "h").is_err());
        assert_eq!(etag(5), "W/\"5\"");
    }
}
