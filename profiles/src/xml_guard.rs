//! A streaming pre-check for XML: size, element depth, no DOCTYPE/ENTITY, and no namespace
//! FHIR XML does not use.
//!
//! fhirbolt's XML reader recurses once per element and overflows the stack at about a thousand
//! levels, and a DOCTYPE opens the door to external entities (XXE) and entity expansion. This
//! scan runs first, with no recursion and no entity handling. Narrative `div`s are cut out
//! before fhirbolt checks element namespaces, so foreign content such as XInclude
//! (`<xi:include href="file:///…"/>`) is refused here, by its namespace declaration, wherever
//! it sits.

use crate::{ModelError, ParseLimits};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The namespaces a FHIR XML document may declare: FHIR itself, XHTML (narratives), XML
/// Schema instance (`xsi:schemaLocation` in published examples) and the `xml` prefix's own.
const ALLOWED_NAMESPACES: [&[u8]; 4] = [
    b"http://hl7.org/fhir",
    b"http://www.w3.org/1999/xhtml",
    b"http://www.w3.org/2001/XMLSchema-instance",
    b"http://www.w3.org/XML/1998/namespace",
];

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
            Ok(Event::Start(start)) => {
                check_namespaces(&start, bytes, before)?;
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ModelError::TooDeep {
                        limit: limits.max_depth,
                        location: location_of(bytes, before),
                    });
                }
            }
            Ok(Event::Empty(empty)) => check_namespaces(&empty, bytes, before)?,
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

/// Refuses an element that declares (`xmlns` or `xmlns:prefix`) a namespace outside
/// [`ALLOWED_NAMESPACES`]; `offset` is where the element starts in `bytes`.
fn check_namespaces(
    element: &BytesStart<'_>,
    bytes: &[u8],
    offset: usize,
) -> Result<(), ModelError> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| ModelError::Syntax {
            format: "XML",
            message: format!("{error} near {}", location_of(bytes, offset)),
        })?;
        let name: &[u8] = attribute.key.as_ref();
        let value: &[u8] = &attribute.value;
        let declares = name == b"xmlns" || name.starts_with(b"xmlns:");
        if declares && !ALLOWED_NAMESPACES.contains(&value) {
            return Err(ModelError::XmlForeignNamespace {
                namespace: String::from_utf8_lossy(value).into_owned(),
                location: location_of(bytes, offset),
            });
        }
    }
    Ok(())
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
    fn xinclude_is_refused_in_a_narrative_and_outside_it() {
        let in_narrative = b"<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a</p>\n<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\" parse=\"text\"/></div></text></Patient>";
        assert_eq!(
            check_xml(in_narrative, &ParseLimits::default()),
            Err(ModelError::XmlForeignNamespace {
                namespace: "http://www.w3.org/2001/XInclude".into(),
                location: "line 2 column 1".into(),
            })
        );
        let as_default = b"<Patient xmlns=\"http://hl7.org/fhir\"><include xmlns=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\"></include></Patient>";
        assert!(matches!(
            check_xml(as_default, &LIMITS),
            Err(ModelError::XmlForeignNamespace { .. })
        ));
    }

    #[test]
    fn fhir_xhtml_and_schema_instance_namespaces_pass() {
        let doc = b"<Patient xmlns=\"http://hl7.org/fhir\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://hl7.org/fhir ../patient.xsd\"><text><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div></text></Patient>";
        assert_eq!(check_xml(doc, &LIMITS), Ok(()));
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
