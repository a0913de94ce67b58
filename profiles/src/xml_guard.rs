//! A streaming pre-check for XML: size, element depth, and no DOCTYPE/ENTITY.
//!
//! fhirbolt's XML reader recurses once per element and overflows the stack at about a thousand
//! levels, and a DOCTYPE opens the door to external entities (XXE) and entity expansion. This
//! scan runs first, with no recursion and no entity handling.

use crate::{ModelError, ParseLimits};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Checks an XML document against `limits` and refuses any DOCTYPE or ENTITY declaration.
pub(crate) fn check_xml(bytes: &[u8], limits: &ParseLimits) -> Result<(), ModelError> {
    if bytes.len() > limits.max_bytes {
        return Err(ModelError::TooLarge {
            limit: limits.max_bytes,
            actual: bytes.len(),
        });
    }
    // A declaration hidden where the scan below does not look (e.g. after a parse error it
    // stops at) must still be refused, so look for the markup itself first.
    if let Some(offset) = find_declaration(bytes) {
        return Err(ModelError::XmlDoctype {
            location: location_of(bytes, offset),
        });
    }
    let mut reader = Reader::from_reader(bytes);
    reader.check_end_names(true);
    let mut depth = 0usize;
    loop {
        let before = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ModelError::TooDeep {
                        limit: limits.max_depth,
                        location: location_of(bytes, before),
                    });
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::DocType(_)) => {
                return Err(ModelError::XmlDoctype {
                    location: location_of(bytes, before),
                })
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(error) => {
                return Err(ModelError::Syntax {
                    format: "XML",
                    message: format!(
                        "{error} near {}",
                        location_of(bytes, reader.buffer_position())
                    ),
                })
            }
        }
    }
}

/// Offset of the first `<!DOCTYPE` or `<!ENTITY` (any case), if any.
fn find_declaration(bytes: &[u8]) -> Option<usize> {
    bytes.windows(9).position(|window| {
        window[0] == b'<'
            && window[1] == b'!'
            && (window[2..9].eq_ignore_ascii_case(b"DOCTYPE")
                || window[2..8].eq_ignore_ascii_case(b"ENTITY"))
    })
}

/// "line L column C" for a byte offset.
fn location_of(bytes: &[u8], offset: usize) -> String {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    format!("line {line} column {}", offset - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bytes: 1 << 20,
        max_depth: 4,
    };

    #[test]
    fn doctype_is_refused_even_in_lower_case() {
        let doc = b"<?xml version=\"1.0\"?>\n<!doctype x [<!ENTITY a \"b\">]><Patient/>";
        let err = check_xml(doc, &LIMITS).unwrap_err();
        assert_eq!(
            err,
            ModelError::XmlDoctype {
                location: "line 2 column 1".into()
            }
        );
    }

    #[test]
    fn entity_without_doctype_is_refused() {
        let doc = b"<Patient><!ENTITY x SYSTEM \"file:///etc/passwd\"></Patient>";
        assert!(matches!(
            check_xml(doc, &LIMITS),
            Err(ModelError::XmlDoctype { .. })
        ));
    }

    #[test]
    fn depth_limit_counts_elements_not_attributes() {
        let ok = b"<a x=\"<b>\"><b><c><d/></c></b></a>";
        assert!(check_xml(ok, &LIMITS).is_ok());
        let deep = b"<a><b><c><d><e/></d></c></b></a>";
        assert!(
            check_xml(deep, &LIMITS).is_ok(),
            "empty elements do not open a level"
        );
        let deeper = b"<a><b><c><d><e></e></d></c></b></a>";
        assert!(matches!(
            check_xml(deeper, &LIMITS),
            Err(ModelError::TooDeep { limit: 4, .. })
        ));
    }

    #[test]
    fn mismatched_end_tag_is_a_syntax_error() {
        assert!(matches!(
            check_xml(b"<a><b></a>", &LIMITS),
            Err(ModelError::Syntax { .. })
        ));
    }
}
