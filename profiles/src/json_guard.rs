//! A byte scan that refuses over-deep JSON before any recursive parser runs.

use crate::{ModelError, ParseLimits};

/// Checks size and nesting depth of a JSON document without building it.
///
/// Strings are skipped (brackets inside them do not count); malformed JSON passes through
/// untouched so that the real parser can report it with its own position.
pub(crate) fn check_json(bytes: &[u8], limits: &ParseLimits) -> Result<(), ModelError> {
    if bytes.len() > limits.max_bytes {
        return Err(ModelError::TooLarge {
            limit: limits.max_bytes,
            actual: bytes.len(),
        });
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let (mut line, mut line_start) = (1usize, 0usize);
    for (offset, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ModelError::TooDeep {
                        limit: limits.max_depth,
                        location: format!("line {line} column {}", offset - line_start + 1),
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                line_start = offset + 1;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_depth: usize) -> ParseLimits {
        ParseLimits {
            max_bytes: 1 << 20,
            max_depth,
        }
    }

    #[test]
    fn depth_at_limit_passes_and_one_more_fails() {
        let ok = format!("{}{}", "[".repeat(5), "]".repeat(5));
        assert!(check_json(ok.as_bytes(), &limits(5)).is_ok());
        let deep = format!("{}{}", "[".repeat(6), "]".repeat(6));
        let err = check_json(deep.as_bytes(), &limits(5)).unwrap_err();
        assert_eq!(
            err,
            ModelError::TooDeep {
                limit: 5,
                location: "line 1 column 6".into()
            }
        );
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let doc = r#"{"a":"[[[[[[[[[[{{{{{{\"[[[["}"#;
        assert!(check_json(doc.as_bytes(), &limits(2)).is_ok());
    }

    #[test]
    fn size_limit_is_checked_first() {
        let err = check_json(
            b"{}",
            &ParseLimits {
                max_bytes: 1,
                max_depth: 10,
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            ModelError::TooLarge {
                limit: 1,
                actual: 2
            }
        );
    }

    #[test]
    fn location_counts_lines() {
        let doc = "{\n \"a\": [[\n[1]]]}";
        let err = check_json(doc.as_bytes(), &limits(3)).unwrap_err();
        assert!(
            matches!(err, ModelError::TooDeep { ref location, .. } if location == "line 3 column 1"),
            "{err:?}"
        );
    }
}
