//! Exact narrative XHTML through XML.
//!
//! fhirbolt's XML reader and writer trim and re-indent the text inside `text.div`, which turns
//! "Peter James <b>Chalmers</b>" into "Peter James<b>Chalmers</b>": the narrative a clinician
//! reads changes. We keep it exact by swapping each narrative `div` for a placeholder before
//! fhirbolt runs and putting the original markup back afterwards. The narrative is XHTML in
//! both formats (JSON carries it as a string), so the markup moves across unchanged.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

fn placeholder(index: usize) -> String {
    format!("<div xmlns=\"{XHTML_NAMESPACE}\">tsunagi-narrative-{index}</div>")
}

/// Narratives lifted out of a document, by placeholder index.
pub(crate) struct Narratives(Vec<String>);

/// Replaces every narrative `div` string in `value` that is well-formed XHTML by a placeholder.
pub(crate) fn lift_from_json(value: &mut Value) -> Narratives {
    let mut lifted = Vec::new();
    walk_divs(value, &mut |div| {
        if is_well_formed_xhtml_div(div) {
            let marker = placeholder(lifted.len());
            lifted.push(std::mem::replace(div, marker));
        }
    });
    Narratives(lifted)
}

/// Puts lifted narratives back into XML written from placeholders. Returns `None` if a
/// placeholder is not found exactly once (then the caller keeps fhirbolt's own rendering).
pub(crate) fn restore_into_xml(xml: &str, narratives: &Narratives) -> Option<String> {
    let mut restored = xml.to_owned();
    for (index, original) in narratives.0.iter().enumerate() {
        let marker = placeholder(index);
        if restored.matches(&marker).count() != 1 {
            return None;
        }
        restored = restored.replacen(&marker, original, 1);
    }
    Some(restored)
}

/// Cuts every XHTML narrative `div` out of an XML document, returning the document with
/// placeholders and the original markup of each.
pub(crate) fn lift_from_xml(xml: &[u8]) -> Option<(Vec<u8>, Narratives)> {
    let mut reader = Reader::from_reader(xml);
    reader.check_end_names(true);
    let mut ranges = Vec::new();
    let mut open: Option<(usize, usize)> = None; // (start offset, depth inside the div)
    loop {
        let before = reader.buffer_position();
        match reader.read_event().ok()? {
            Event::Start(start) => match &mut open {
                Some((_, depth)) => *depth += 1,
                None if start.local_name().as_ref() == b"div" && declares_xhtml(&start) => {
                    open = Some((before, 0));
                }
                None => {}
            },
            Event::End(_) => {
                if let Some((start, depth)) = open {
                    if depth == 0 {
                        ranges.push((start, reader.buffer_position()));
                        open = None;
                    } else {
                        open = Some((start, depth - 1));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if ranges.is_empty() {
        return None;
    }
    let mut rewritten = Vec::with_capacity(xml.len());
    let mut originals = Vec::with_capacity(ranges.len());
    let mut cursor = 0;
    for (index, (start, end)) in ranges.into_iter().enumerate() {
        rewritten.extend_from_slice(&xml[cursor..start]);
        rewritten.extend_from_slice(placeholder(index).as_bytes());
        originals.push(String::from_utf8(xml[start..end].to_vec()).ok()?);
        cursor = end;
    }
    rewritten.extend_from_slice(&xml[cursor..]);
    Some((rewritten, Narratives(originals)))
}

/// Puts lifted narratives back into the JSON parsed from a document with placeholders.
pub(crate) fn restore_into_json(value: &mut Value, narratives: &Narratives) {
    walk_divs(value, &mut |div| {
        let index = div
            .strip_prefix(&format!(
                "<div xmlns=\"{XHTML_NAMESPACE}\">tsunagi-narrative-"
            ))
            .and_then(|rest| rest.strip_suffix("</div>"))
            .and_then(|number| number.parse::<usize>().ok());
        if let Some(original) = index.and_then(|index| narratives.0.get(index)) {
            *div = original.clone();
        }
    });
}

fn declares_xhtml(start: &quick_xml::events::BytesStart<'_>) -> bool {
    start.attributes().flatten().any(|attribute| {
        attribute.key.as_ref() == b"xmlns" && attribute.value.as_ref() == XHTML_NAMESPACE.as_bytes()
    })
}

/// Calls `visit` on every string held under a `div` key (the Narrative element).
fn walk_divs(value: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                match child {
                    Value::String(text) if key == "div" => visit(text),
                    other => walk_divs(other, visit),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| walk_divs(item, visit)),
        _ => {}
    }
}

/// True when `div` is one well-formed element `<div xmlns="…xhtml">…</div>`, safe to paste
/// into an XML document as markup.
fn is_well_formed_xhtml_div(div: &str) -> bool {
    let mut reader = Reader::from_str(div);
    reader.check_end_names(true);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                if depth == 0 {
                    roots += 1;
                    if start.local_name().as_ref() != b"div" || !declares_xhtml(&start) {
                        return false;
                    }
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Text(text)) if depth == 0 && !text.iter().all(u8::is_ascii_whitespace) => {
                return false
            }
            Ok(Event::DocType(_)) | Ok(Event::Decl(_)) | Ok(Event::Empty(_)) if depth == 0 => {
                return false
            }
            Ok(Event::Eof) => return depth == 0 && roots == 1,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIV: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n\t<p>Peter James \n <b>Chalmers</b> (&quot;Jim&quot;)</p></div>";

    #[test]
    fn json_divs_are_lifted_and_restored_in_xml() {
        let mut value = json!({"text": {"status": "generated", "div": DIV}, "contained": [{"text": {"div": "not xhtml"}}]});
        let narratives = lift_from_json(&mut value);
        assert_eq!(narratives.0, vec![DIV.to_string()]);
        assert_eq!(value["contained"][0]["text"]["div"], "not xhtml");
        let written = format!(
            "<Patient><text>{}</text></Patient>",
            value["text"]["div"].as_str().unwrap()
        );
        let restored = restore_into_xml(&written, &narratives).unwrap();
        assert_eq!(restored, format!("<Patient><text>{DIV}</text></Patient>"));
    }

    #[test]
    fn xml_divs_are_cut_out_exactly_including_nested_divs() {
        let nested = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><div>a  <i>b</i></div> c</div>";
        let xml = format!("<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/>{nested}</text><active value=\"true\"/></Patient>");
        let (rewritten, narratives) = lift_from_xml(xml.as_bytes()).unwrap();
        assert_eq!(narratives.0, vec![nested.to_string()]);
        let rewritten = String::from_utf8(rewritten).unwrap();
        assert!(rewritten.contains(&placeholder(0)));
        assert!(rewritten.ends_with("</text><active value=\"true\"/></Patient>"));
        let mut value = json!({"text": {"div": placeholder(0)}});
        restore_into_json(&mut value, &narratives);
        assert_eq!(value["text"]["div"], nested);
    }

    #[test]
    fn only_single_xhtml_div_roots_count_as_well_formed() {
        assert!(is_well_formed_xhtml_div(DIV));
        assert!(!is_well_formed_xhtml_div("<div>no namespace</div>"));
        assert!(!is_well_formed_xhtml_div(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p></div>"
        ));
        assert!(!is_well_formed_xhtml_div(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"></div>"
        ));
    }
}
