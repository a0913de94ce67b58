//! The FHIR R4 rules for narrative XHTML (`Narrative.div`).
//!
//! R4 (narrative.html): "The XHTML content SHALL NOT contain a head, a body element, external
//! stylesheet references, deprecated elements, scripts, forms, base/link/xlink, frames, iframes
//! and objects", and only the basic HTML formatting elements and attributes are allowed
//! (invariant txt-1); txt-2: "The narrative SHALL have some non-whitespace content". The
//! narrative is checked as it appears in FHIR JSON: a string holding one XHTML `div`.
//!
//! Entities: the five XML ones, numeric character references to XML characters, and the named
//! entities the XHTML 1.0 DTDs define (HTML 4's Latin-1, special and symbol sets, e.g.
//! `&nbsp;`, `&copy;`, `&mdash;`). Narratives written by HTML tools use these, and the HL7
//! validator accepts them; any other name is undefined and a problem. A DOCTYPE or ENTITY
//! declaration is refused before parsing, so no entity is ever expanded.
// Nothing outside the tests calls this until the validator that reports narratives is merged.

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Largest narrative checked; a larger one is one problem and is not parsed.
const MAX_NARRATIVE_BYTES: usize = 8 * 1024 * 1024;
/// Deepest element nesting checked (the `div` is level 1).
const MAX_NARRATIVE_DEPTH: usize = 64;
/// Problems listed for one narrative; the rest are summed up in one last message.
const MAX_PROBLEMS: usize = 50;
/// The namespace the narrative `div` must declare as its default.
const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// Elements allowed in a narrative: the FHIR R4 list (HTML 4 chapters 7–11 and 12 without
/// frames, forms, scripts, objects and deprecated elements). `font`, `center`, `u`, `s`,
/// `strike` and `applet` are deprecated in HTML 4 and so are not here.
const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "b",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

/// Attributes allowed on any narrative element: HTML 4's core, i18n, link, image and table
/// attributes of the allowed elements, as the HL7 validator accepts them. Event handlers
/// (`on…`) are refused separately with their own message; `xmlns` and `xmlns:…` are checked
/// for the XHTML namespace.
const ALLOWED_ATTRIBUTES: &[&str] = &[
    "abbr",
    "accesskey",
    "align",
    "alt",
    "axis",
    "border",
    "cellpadding",
    "cellspacing",
    "char",
    "charoff",
    "cite",
    "class",
    "colspan",
    "coords",
    "datetime",
    "dir",
    "frame",
    "headers",
    "height",
    "href",
    "hreflang",
    "hspace",
    "id",
    "ismap",
    "lang",
    "longdesc",
    "name",
    "nohref",
    "rel",
    "rev",
    "rowspan",
    "rules",
    "scope",
    "shape",
    "span",
    "src",
    "style",
    "summary",
    "tabindex",
    "title",
    "type",
    "usemap",
    "valign",
    "vspace",
    "width",
    "xml:lang",
];

/// Named entities of XHTML 1.0 (xhtml-lat1.ent, xhtml-special.ent, xhtml-symbol.ent), which
/// include the five XML ones.
const NAMED_ENTITIES: &[&str] = &[
    // xhtml-lat1.ent: U+00A0 to U+00FF.
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml", // xhtml-special.ent.
    "quot", "amp", "lt", "gt", "apos", "OElig", "oelig", "Scaron", "scaron", "Yuml", "circ",
    "tilde", "ensp", "emsp", "thinsp", "zwnj", "zwj", "lrm", "rlm", "ndash", "mdash", "lsquo",
    "rsquo", "sbquo", "ldquo", "rdquo", "bdquo", "dagger", "Dagger", "permil", "lsaquo", "rsaquo",
    "euro", // xhtml-symbol.ent.
    "fnof", "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
    "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho", "Sigma", "Tau", "Upsilon", "Phi", "Chi",
    "Psi", "Omega", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau",
    "upsilon", "phi", "chi", "psi", "omega", "thetasym", "upsih", "piv", "bull", "hellip", "prime",
    "Prime", "oline", "frasl", "weierp", "image", "real", "trade", "alefsym", "larr", "uarr",
    "rarr", "darr", "harr", "crarr", "lArr", "uArr", "rArr", "dArr", "hArr", "forall", "part",
    "exist", "empty", "nabla", "isin", "notin", "ni", "prod", "sum", "minus", "lowast", "radic",
    "prop", "infin", "ang", "and", "or", "cap", "cup", "int", "there4", "sim", "cong", "asymp",
    "ne", "equiv", "le", "ge", "sub", "sup", "nsub", "sube", "supe", "oplus", "otimes", "perp",
    "sdot", "lceil", "rceil", "lfloor", "rfloor", "lang", "rang", "loz", "spades", "clubs",
    "hearts", "diams",
];

/// One problem found in a narrative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XhtmlProblem {
    /// What is wrong, naming the element, attribute or entity concerned.
    pub(crate) message: String,
}

/// Checks a narrative `div` (its XHTML text as it appears in FHIR JSON) against the FHIR rules; empty when it is acceptable.
pub(crate) fn check_narrative(div: &str) -> Vec<XhtmlProblem> {
    let mut problems = Problems::default();
    check_into(div, &mut problems);
    problems.finish()
}

/// The problems found so far, at most [`MAX_PROBLEMS`] of them.
#[derive(Default)]
struct Problems {
    /// The problems, in document order.
    kept: Vec<XhtmlProblem>,
    /// Set when checking stopped because the list was full.
    truncated: bool,
}

impl Problems {
    /// Adds a problem; past the limit it is dropped (and checking stops at the next event).
    fn push(&mut self, message: String) {
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(XhtmlProblem { message });
        } else {
            self.truncated = true;
        }
    }

    /// The list, with a last message when it was cut short.
    fn finish(mut self) -> Vec<XhtmlProblem> {
        if self.truncated {
            self.kept.push(XhtmlProblem {
                message: format!(
                    "checking stopped after {MAX_PROBLEMS} problems; there may be more problems not listed"
                ),
            });
        }
        self.kept
    }
}

/// Whether parsing can go on after a check: `Stop` when the narrative is not well-formed.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    /// Go on to the next event.
    Continue,
    /// The narrative is not well-formed: nothing after this point can be trusted.
    Stop,
}

/// What the walk over a narrative has seen so far.
#[derive(Default)]
struct Walk {
    /// Names of the open elements, the root div first.
    open: Vec<String>,
    /// Whether the root element has started.
    root_seen: bool,
    /// Whether an element or non-whitespace text was seen inside the root (txt-2).
    has_content: bool,
}

/// Runs every rule over `div`, adding what it finds to `problems`.
fn check_into(div: &str, problems: &mut Problems) {
    if div.len() > MAX_NARRATIVE_BYTES {
        problems.push(format!(
            "the narrative is {} bytes, over the limit of {MAX_NARRATIVE_BYTES} bytes",
            div.len()
        ));
        return;
    }
    // Before parsing, so an entity declaration is never seen by a parser at all.
    if let Some(declaration) = find_declaration(div.as_bytes()) {
        problems.push(format!(
            "the narrative contains a {declaration} declaration, which is not allowed"
        ));
        return;
    }
    let mut reader = Reader::from_str(div);
    reader.check_end_names(true);
    let mut walk = Walk::default();
    loop {
        if problems.kept.len() >= MAX_PROBLEMS {
            problems.truncated = true;
            return;
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                problems.push(format!(
                    "the narrative is not well-formed XML: {error} (near byte {})",
                    reader.buffer_position()
                ));
                return;
            }
        };
        let flow = match event {
            Event::Start(start) => check_element(&start, true, &mut walk, problems),
            Event::Empty(start) => check_element(&start, false, &mut walk, problems),
            Event::End(_) => {
                walk.open.pop();
                Flow::Continue
            }
            Event::Text(text) => check_text(text.as_ref(), &mut walk, problems),
            Event::CData(cdata) => {
                if walk.open.is_empty() {
                    problems.push(
                        "the narrative is not well-formed XML: CDATA outside the root div"
                            .to_owned(),
                    );
                    Flow::Stop
                } else {
                    walk.has_content |= !cdata.iter().all(u8::is_ascii_whitespace);
                    Flow::Continue
                }
            }
            Event::PI(instruction) => {
                let instruction = String::from_utf8_lossy(instruction.as_ref());
                let target = instruction.split_whitespace().next().unwrap_or_default();
                problems.push(format!(
                    "processing instruction `<?{target}` is not allowed in a narrative \
                     (xml-stylesheet would reference an external stylesheet)"
                ));
                Flow::Continue
            }
            Event::DocType(_) => {
                problems.push(
                    "the narrative contains a DOCTYPE declaration, which is not allowed".to_owned(),
                );
                Flow::Stop
            }
            Event::Decl(_) | Event::Comment(_) => Flow::Continue,
            Event::Eof => break,
        };
        if flow == Flow::Stop {
            return;
        }
    }
    if let Some(unclosed) = walk.open.last() {
        problems.push(format!(
            "the narrative is not well-formed XML: element `{unclosed}` is not closed"
        ));
    } else if !walk.root_seen {
        problems.push("the narrative has no root div element".to_owned());
    } else if !walk.has_content {
        problems.push(
            "the narrative has no content (txt-2: the narrative SHALL have some non-whitespace content)"
                .to_owned(),
        );
    }
}

/// Checks one start or empty-element tag: its place, its name and its attributes.
fn check_element(
    start: &BytesStart<'_>,
    has_children: bool,
    walk: &mut Walk,
    problems: &mut Problems,
) -> Flow {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    if !is_xml_name(&name) {
        problems.push(format!(
            "the narrative is not well-formed XML: `{name}` is not an element name"
        ));
        return Flow::Stop;
    }
    let is_root = walk.open.is_empty();
    if is_root && walk.root_seen {
        problems.push(format!(
            "the narrative is not well-formed XML: a second root element `{name}` follows the div"
        ));
        return Flow::Stop;
    }
    if check_attributes(start, &name, is_root, problems) == Flow::Stop {
        return Flow::Stop;
    }
    if is_root {
        walk.root_seen = true;
        check_root(start, &name, problems);
    } else {
        // Text is content; of the elements only an image is content on its own
        // (`<p></p>` says nothing).
        walk.has_content |= name == "img";
        check_element_name(&name, problems);
    }
    if has_children {
        if walk.open.len() >= MAX_NARRATIVE_DEPTH {
            problems.push(format!(
                "the narrative nests elements deeper than {MAX_NARRATIVE_DEPTH} levels (at `{name}`)"
            ));
            return Flow::Stop;
        }
        walk.open.push(name);
    }
    Flow::Continue
}

/// Checks text between tags: its references, and that it is inside the root.
fn check_text(raw: &[u8], walk: &mut Walk, problems: &mut Problems) -> Flow {
    if check_references(raw, problems) == Flow::Stop {
        return Flow::Stop;
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Flow::Continue;
    }
    if walk.open.is_empty() {
        problems.push("the narrative is not well-formed XML: text outside the root div".to_owned());
        return Flow::Stop;
    }
    walk.has_content = true;
    Flow::Continue
}

/// The root must be an unprefixed `div` declaring the XHTML namespace as its default.
fn check_root(start: &BytesStart<'_>, name: &str, problems: &mut Problems) {
    if name != "div" {
        problems.push(format!(
            "the narrative's root element must be `div`, not `{name}`"
        ));
    }
    let declares_xhtml = start.attributes().flatten().any(|attribute| {
        attribute.key.as_ref() == b"xmlns" && attribute.value.as_ref() == XHTML_NAMESPACE.as_bytes()
    });
    if !declares_xhtml {
        problems.push(format!(
            "the narrative's root div must declare xmlns=\"{XHTML_NAMESPACE}\""
        ));
    }
}

/// Every element below the root must be one of [`ALLOWED_ELEMENTS`].
fn check_element_name(name: &str, problems: &mut Problems) {
    if !ALLOWED_ELEMENTS.contains(&name) {
        problems.push(format!("element `{name}` is not allowed in a narrative"));
    }
}

/// Checks the attributes of one element; `Stop` when they are not well-formed.
fn check_attributes(
    start: &BytesStart<'_>,
    element: &str,
    is_root: bool,
    problems: &mut Problems,
) -> Flow {
    for attribute in start.attributes() {
        let attribute = match attribute {
            Ok(attribute) => attribute,
            Err(error) => {
                problems.push(format!(
                    "the narrative is not well-formed XML: attribute of `{element}`: {error}"
                ));
                return Flow::Stop;
            }
        };
        if check_attribute(&attribute, element, is_root, problems) == Flow::Stop {
            return Flow::Stop;
        }
    }
    Flow::Continue
}

/// Checks one attribute: its name, its namespace value, script URLs and entity references.
fn check_attribute(
    attribute: &Attribute<'_>,
    element: &str,
    is_root: bool,
    problems: &mut Problems,
) -> Flow {
    let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
    if !is_xml_name(&name) {
        problems.push(format!(
            "the narrative is not well-formed XML: `{name}` on `{element}` is not an attribute name"
        ));
        return Flow::Stop;
    }
    let raw_value: &[u8] = attribute.value.as_ref();
    if raw_value.contains(&b'<') {
        problems.push(format!(
            "the narrative is not well-formed XML: `<` in the value of attribute `{name}` on `{element}`"
        ));
        return Flow::Stop;
    }
    if check_references(raw_value, problems) == Flow::Stop {
        return Flow::Stop;
    }
    if name.len() > 2 && name[..2].eq_ignore_ascii_case("on") {
        problems.push(format!(
            "event handler attribute `{name}` on `{element}` is not allowed in a narrative"
        ));
    } else if name == "xmlns" || name.starts_with("xmlns:") {
        // The root's default namespace is reported by `check_root`.
        if raw_value != XHTML_NAMESPACE.as_bytes() && !(is_root && name == "xmlns") {
            problems.push(format!(
                "attribute `{name}` on `{element}` declares namespace `{}`; a narrative is XHTML only",
                String::from_utf8_lossy(raw_value)
            ));
        }
    } else if !ALLOWED_ATTRIBUTES.contains(&name.as_str()) {
        problems.push(format!(
            "attribute `{name}` on `{element}` is not allowed in a narrative"
        ));
    } else if (name == "href" || name == "src") && is_script_url(raw_value) {
        problems.push(format!(
            "attribute `{name}` on `{element}` is a script URL, which is not allowed in a narrative"
        ));
    }
    Flow::Continue
}

/// Whether a URL runs script. Browsers decode references and ignore whitespace and control
/// characters inside the scheme (`java&#9;script:`), so the check does too.
fn is_script_url(raw_value: &[u8]) -> bool {
    let decoded = decode_references(raw_value);
    let scheme: String = decoded
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take_while(|c| *c != ':')
        .flat_map(char::to_lowercase)
        .collect();
    decoded.contains(':') && matches!(scheme.as_str(), "javascript" | "vbscript")
}

/// `raw` with character references and the five XML entities replaced (others kept as written).
fn decode_references(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut decoded = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(amp) = rest.find('&') {
        decoded.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let reference = after
            .find(';')
            .map(|semi| (&after[..semi], &after[semi + 1..]));
        let replacement = reference.and_then(|(name, _)| match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => numeric_reference(name),
        });
        match (replacement, reference) {
            (Some(character), Some((_, tail))) => {
                decoded.push(character);
                rest = tail;
            }
            _ => {
                decoded.push('&');
                rest = after;
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// The character of a `#123` or `#x7B` reference name, when it is one.
fn numeric_reference(name: &str) -> Option<char> {
    let digits = name.strip_prefix('#')?;
    let code = match digits.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u32>().ok()?,
    };
    char::from_u32(code)
}

/// Whether `name` is an XML name. quick-xml reads whatever precedes whitespace or `>` as the
/// name, so `<p</div>` would otherwise be an element called `p</div`. Simplified from XML 1.0's
/// `Name`: letters and digits of any script, `_`, `-`, `.` and `:`, not starting with a digit,
/// `-` or `.`.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || matches!(first, '_' | ':'))
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Whether `c` is a character XML 1.0 allows in a document (the `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks every `&` in raw text or an attribute value: it must start a known entity or a
/// character reference to an XML character. A bare `&` is not well-formed and stops the check.
fn check_references(raw: &[u8], problems: &mut Problems) -> Flow {
    // Names longer than this are not entities we know; the bound keeps the scan linear.
    const MAX_REFERENCE: usize = 32;
    let mut offset = 0;
    while let Some(found) = raw[offset..].iter().position(|&byte| byte == b'&') {
        let start = offset + found + 1;
        let window = &raw[start..raw.len().min(start + MAX_REFERENCE)];
        let Some(length) = window.iter().position(|&byte| byte == b';') else {
            problems.push(
                "the narrative is not well-formed XML: `&` that starts no entity or character \
                 reference (write `&amp;`)"
                    .to_owned(),
            );
            return Flow::Stop;
        };
        let name = String::from_utf8_lossy(&window[..length]);
        if name.starts_with('#') {
            if !numeric_reference(&name).is_some_and(is_xml_char) {
                problems.push(format!(
                    "character reference `&{name};` is not a valid XML character"
                ));
            }
        } else if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            problems.push(format!(
                "the narrative is not well-formed XML: `&{name};` is not an entity reference"
            ));
            return Flow::Stop;
        } else if !NAMED_ENTITIES.contains(&name.as_ref()) {
            problems.push(format!("entity `&{name};` is not defined"));
        }
        offset = start + length + 1;
    }
    Flow::Continue
}

/// Finds a `<!DOCTYPE` or `<!ENTITY` anywhere (any case), naming which.
fn find_declaration(bytes: &[u8]) -> Option<&'static str> {
    let starts_with = |rest: &[u8], prefix: &[u8]| {
        rest.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'<')
        .find_map(|(offset, _)| {
            let rest = &bytes[offset..];
            if starts_with(rest, b"<!DOCTYPE") {
                Some("DOCTYPE")
            } else if starts_with(rest, b"<!ENTITY") {
                Some("ENTITY")
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of the problems found in `div`.
    fn messages(div: &str) -> Vec<String> {
        check_narrative(div)
            .into_iter()
            .map(|problem| problem.message)
            .collect()
    }

    /// `inner` inside a root div declaring the XHTML namespace.
    fn wrap(inner: &str) -> String {
        format!("<div xmlns=\"{XHTML_NAMESPACE}\">{inner}</div>")
    }

    /// At least one problem of `div` contains `needle`.
    fn assert_some_problem_mentions(div: &str, needle: &str) {
        let found = messages(div);
        assert!(
            found.iter().any(|message| message.contains(needle)),
            "{div}: {found:?}"
        );
    }

    /// `div` has exactly one problem, and it contains `needle`.
    fn assert_one_problem_mentioning(div: &str, needle: &str) {
        let found = messages(div);
        assert_eq!(found.len(), 1, "{div}: {found:?}");
        assert!(found[0].contains(needle), "{div}: {found:?}");
    }

    #[test]
    fn realistic_narrative_is_accepted() {
        let div = r##"<div xmlns="http://www.w3.org/1999/xhtml" lang="ja" xml:lang="ja">
  <h3>検査結果</h3>
  <p>患者: <b>山田&nbsp;太郎</b> (ヤマダ タロウ) &amp; 家族 &#x2014; 2024&#8209;01&#8209;15 &copy; 病院</p>
  <table class="grid" border="1" cellpadding="2">
    <caption>血液検査</caption>
    <thead><tr><th scope="col">項目</th><th>値</th><th>単位</th></tr></thead>
    <tbody>
      <tr><td>ヘモグロビン</td><td style="text-align: right">13.5</td><td>g/dL</td></tr>
      <tr><td colspan="2"><span title="基準値">基準値内</span></td><td/></tr>
    </tbody>
  </table>
  <ul><li><a href="https://example.org/report?id=1&amp;v=2">報告書</a></li>
      <li><img src="#logo" alt="ロゴ" width="10" height="10"/></li></ul>
  <!-- generated by tsunagi --><br/>
  <div class="note"><pre>  preformatted  </pre><![CDATA[ raw < text ]]></div>
</div>"##;
        assert_eq!(check_narrative(div), vec![]);
        assert_eq!(check_narrative(&wrap("text")), vec![]);
        assert_eq!(
            check_narrative(&wrap("<img src=\"#scan\" alt=\"\"/>")),
            vec![]
        );
        // Markup without any text says nothing (txt-2).
        assert_one_problem_mentioning(&wrap("<br/>"), "txt-2");
        assert_one_problem_mentioning(&wrap("<p></p>"), "txt-2");
    }

    #[test]
    fn not_well_formed_is_reported_with_the_parser_error() {
        assert_one_problem_mentioning(&wrap("<p>open"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<p><b></p></b>"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<p"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<1p>x</1p>"), "not an element name");
        assert_one_problem_mentioning(&wrap("<p a&b=\"c\">x</p>"), "not an attribute name");
        assert_one_problem_mentioning(&wrap("a & b"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<p class=\"a\" class=\"b\">x</p>"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<p class=x>x</p>"), "not well-formed");
        assert_one_problem_mentioning(&wrap("<p title=\"a<b\">x</p>"), "not well-formed");
        assert_one_problem_mentioning(&(wrap("x") + "<div/>"), "second root");
        assert_one_problem_mentioning(&(wrap("x") + "tail"), "outside the root");
        assert_one_problem_mentioning("", "no root div");
        assert_one_problem_mentioning("   ", "no root div");
        assert_one_problem_mentioning("plain text", "not well-formed");
    }

    #[test]
    fn root_must_be_an_xhtml_div() {
        assert_one_problem_mentioning("<div>text</div>", "xmlns");
        assert_one_problem_mentioning("<div xmlns=\"http://hl7.org/fhir\">text</div>", "xmlns");
        assert_one_problem_mentioning(
            &format!("<p xmlns=\"{XHTML_NAMESPACE}\">text</p>"),
            "root element must be `div`",
        );
        assert_some_problem_mentions(
            &format!("<x:div xmlns:x=\"{XHTML_NAMESPACE}\">text</x:div>"),
            "root element must be `div`",
        );
    }

    #[test]
    fn empty_or_whitespace_narrative_is_txt_2() {
        assert_one_problem_mentioning(&wrap(""), "txt-2");
        assert_one_problem_mentioning(&wrap(" \n\t "), "txt-2");
        assert_one_problem_mentioning(&format!("<div xmlns=\"{XHTML_NAMESPACE}\"/>"), "txt-2");
        assert_one_problem_mentioning(&wrap("<!-- only a comment -->"), "txt-2");
        assert_one_problem_mentioning(&wrap("<![CDATA[  ]]>"), "txt-2");
    }

    #[test]
    fn forbidden_elements_are_named() {
        for element in [
            "script", "style", "object", "iframe", "frame", "form", "input", "head", "body",
            "link", "base", "font", "center", "applet", "embed", "u", "P",
        ] {
            assert_one_problem_mentioning(
                &wrap(&format!("text<{element}>x</{element}>")),
                &format!("element `{element}`"),
            );
        }
        assert_some_problem_mentions(
            &wrap("<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"/>x"),
            "element `svg:svg`",
        );
        // Each forbidden element is reported, also when nested in another.
        assert_eq!(messages(&wrap("<form><script>x</script></form>")).len(), 2);
    }

    #[test]
    fn event_handler_attributes_are_problems() {
        assert_one_problem_mentioning(
            &wrap("<p onclick=\"alert(1)\">x</p>"),
            "event handler attribute `onclick` on `p`",
        );
        assert_one_problem_mentioning(
            &wrap("<img src=\"a.png\" ONERROR=\"x\"/>"),
            "`ONERROR` on `img`",
        );
    }

    #[test]
    fn unknown_attributes_are_named_with_their_element() {
        assert_one_problem_mentioning(
            &wrap("<a target=\"_blank\" href=\"x\">x</a>"),
            "attribute `target` on `a`",
        );
        assert_some_problem_mentions(
            &wrap("<a xlink:href=\"x\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">x</a>"),
            "`xlink:href`",
        );
        assert_one_problem_mentioning(
            &wrap("<p xmlns=\"http://example.org\">x</p>"),
            "declares namespace",
        );
        assert_eq!(
            check_narrative(&format!(
                "<div xmlns=\"{XHTML_NAMESPACE}\" xmlns:xhtml=\"{XHTML_NAMESPACE}\"><p xmlns=\"{XHTML_NAMESPACE}\" id=\"a\" dir=\"ltr\">x</p></div>"
            )),
            vec![]
        );
    }

    #[test]
    fn script_urls_are_problems() {
        for href in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java&#9;script:alert(1)",
            "&#106;avascript:alert(1)",
            "vbscript:msgbox",
        ] {
            assert_one_problem_mentioning(
                &wrap(&format!("<a href=\"{href}\">x</a>")),
                "`href` on `a` is a script URL",
            );
        }
        assert_one_problem_mentioning(
            &wrap("<img src=\"javascript:x\" alt=\"\"/>"),
            "`src` on `img`",
        );
        assert_eq!(
            check_narrative(&wrap("<a href=\"https://example.org/javascript:\">x</a>")),
            vec![]
        );
        assert_eq!(
            check_narrative(&wrap("<a title=\"javascript:\" href=\"#top\">x</a>")),
            vec![]
        );
    }

    #[test]
    fn doctype_and_entity_declarations_are_problems() {
        assert_one_problem_mentioning(
            &format!("<!DOCTYPE div [<!ENTITY x \"y\">]>{}", wrap("&x;")),
            "DOCTYPE declaration",
        );
        assert_one_problem_mentioning(&format!("<!doctype html>{}", wrap("x")), "DOCTYPE");
        assert_one_problem_mentioning(&wrap("<!ENTITY x \"y\">x"), "ENTITY declaration");
    }

    #[test]
    fn entities_known_to_xhtml_and_character_references_only() {
        assert_eq!(
            check_narrative(&wrap(
                "&lt;&gt;&amp;&quot;&apos;&nbsp;&copy;&mdash;&hellip;&euro;&alpha;&#65;&#x3042;&#x1F600;"
            )),
            vec![]
        );
        assert_one_problem_mentioning(&wrap("&foo; x"), "entity `&foo;` is not defined");
        assert_one_problem_mentioning(&wrap("&NBSP; x"), "entity `&NBSP;`");
        assert_one_problem_mentioning(&wrap("<p title=\"&bogus;\">x</p>"), "`&bogus;`");
        assert_one_problem_mentioning(&wrap("&#0; x"), "`&#0;` is not a valid XML character");
        assert_one_problem_mentioning(&wrap("&#xD800; x"), "`&#xD800;`");
        assert_one_problem_mentioning(&wrap("&#x110000; x"), "`&#x110000;`");
        assert_one_problem_mentioning(&wrap("&#xZZ; x"), "`&#xZZ;`");
        assert_one_problem_mentioning(&wrap("&; x"), "not well-formed");
    }

    #[test]
    fn processing_instructions_are_problems() {
        assert_one_problem_mentioning(
            &format!("<?xml-stylesheet href=\"a.css\"?>{}", wrap("x")),
            "`<?xml-stylesheet`",
        );
        assert_eq!(
            check_narrative(&format!("<?xml version=\"1.0\"?>{}", wrap("x"))),
            vec![]
        );
    }

    #[test]
    fn size_is_limited() {
        let big = wrap(&"a".repeat(MAX_NARRATIVE_BYTES));
        assert_one_problem_mentioning(&big, "over the limit");
    }

    #[test]
    fn depth_is_limited() {
        let deep = wrap(&"<span>".repeat(MAX_NARRATIVE_DEPTH));
        assert_one_problem_mentioning(&deep, "deeper than 64");
        let fits = wrap(&format!(
            "{}x{}",
            "<span>".repeat(MAX_NARRATIVE_DEPTH - 1),
            "</span>".repeat(MAX_NARRATIVE_DEPTH - 1)
        ));
        assert_eq!(check_narrative(&fits), vec![]);
        let very_deep = wrap(&"<b>".repeat(100_000));
        assert_one_problem_mentioning(&very_deep, "deeper than 64");
    }

    #[test]
    fn problem_list_is_bounded() {
        let many = wrap(&"<font>x</font>".repeat(10_000));
        let found = messages(&many);
        assert_eq!(found.len(), MAX_PROBLEMS + 1);
        assert!(
            found[MAX_PROBLEMS].contains("checking stopped"),
            "{found:?}"
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let inputs = [
            "<",
            "<div",
            "<div xmlns",
            "<div xmlns=",
            "<div xmlns=\"",
            "</div>",
            "<div/><",
            "&",
            "&#",
            "&#x",
            "<![CDATA[",
            "<!--",
            "<?",
            "<div a='1' a='1'/>",
            "\u{0}",
            "<é/>",
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">&#99999999999999999999;</div>",
        ];
        for input in inputs {
            let _ = check_narrative(input);
        }
        let realistic = wrap("<p>山田&nbsp;<b>太郎</b></p><table><tr><td>1</td></tr></table>");
        for end in 0..=realistic.len() {
            if realistic.is_char_boundary(end) {
                let _ = check_narrative(&realistic[..end]);
            }
        }
    }
}
