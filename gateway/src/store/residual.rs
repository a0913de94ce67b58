//! Residual tests: search conditions no index row can answer alone — a composite parameter's
//! tuple (its components must hold on the same element), token `:of-type`, `_text` and
//! `_content` — checked on the stored resource itself. The query narrows the candidates through
//! the indexes first where it can; a backend then evaluates the test per candidate (SQLite: the
//! `tsunagi_residual` SQL function, see `sqlite.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tsunagi_profiles::fhirpath::Expression;
use tsunagi_profiles::search::values::fold_string;
use tsunagi_profiles::search::{node_values, SearchParamType};

use super::query::Condition;
use crate::fhir::criteria::condition_match;

/// A test evaluated on the resource body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Residual {
    /// `_text` (the narrative) or `_content` (every text of the resource): each folded word
    /// occurs in the folded text.
    Text {
        /// Only `text.div` (`_text`), or everything (`_content`).
        narrative_only: bool,
        /// The folded words, all required.
        words: Vec<String>,
    },
    /// token `:of-type`: an Identifier the parameter selects has this type coding and value.
    OfType {
        /// The parameter's FHIRPath expression.
        expression: String,
        /// `Identifier.type.coding.system`.
        system: String,
        /// `Identifier.type.coding.code`.
        code: String,
        /// `Identifier.value`.
        value: String,
    },
    /// composite: one element `base` selects meets every component.
    Composite {
        /// The composite parameter's expression (the elements tuples are taken from).
        base: String,
        /// The components, in order.
        components: Vec<CompositePart>,
    },
}

/// One component of a composite search value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositePart {
    /// FHIRPath relative to the base element.
    pub expression: String,
    /// The component parameter's type code (`token`, `quantity`, …).
    pub kind: String,
    /// What its values must meet.
    pub condition: Condition,
}

/// A residual test with its expressions parsed, ready to run on many resources.
pub struct CompiledResidual {
    residual: Residual,
    /// The expression whose nodes are tested: a composite's base, the `:of-type` parameter's.
    selector: Option<Expression>,
    /// A composite's components, parsed, with their parameter types.
    parts: Vec<(Expression, SearchParamType)>,
}

impl Residual {
    /// Parses the expressions once; an expression or type that does not parse is an error.
    pub fn compile(self) -> Result<CompiledResidual, String> {
        let parse = |text: &str| Expression::parse(text).map_err(|error| error.to_string());
        let (selector, parts) = match &self {
            Residual::Text { .. } => (None, Vec::new()),
            Residual::OfType { expression, .. } => (Some(parse(expression)?), Vec::new()),
            Residual::Composite { base, components } => {
                let mut parts = Vec::with_capacity(components.len());
                for part in components {
                    let kind = SearchParamType::parse(&part.kind)
                        .ok_or_else(|| format!("'{}' is no parameter type", part.kind))?;
                    parts.push((parse(&part.expression)?, kind));
                }
                (Some(parse(base)?), parts)
            }
        };
        Ok(CompiledResidual {
            residual: self,
            selector,
            parts,
        })
    }
}

impl CompiledResidual {
    /// Whether `resource` passes the test.
    pub fn matches(&self, resource: &Value) -> bool {
        match &self.residual {
            Residual::Text {
                narrative_only,
                words,
            } => {
                let mut text = String::new();
                if *narrative_only {
                    if let Some(div) = resource.pointer("/text/div").and_then(Value::as_str) {
                        text.push_str(&strip_markup(div));
                    }
                } else {
                    collect_text(resource, &mut text, 0);
                }
                let folded = fold_string(&text);
                words.iter().all(|word| folded.contains(word.as_str()))
            }
            Residual::OfType {
                system,
                code,
                value,
                ..
            } => self.selector.as_ref().is_some_and(|expression| {
                expression.evaluate(resource).iter().any(|node| {
                    node.value.get("value").and_then(Value::as_str) == Some(value)
                        && codings(node.value.get("type")).any(|coding| {
                            coding.get("system").and_then(Value::as_str) == Some(system)
                                && coding.get("code").and_then(Value::as_str) == Some(code)
                        })
                })
            }),
            Residual::Composite { components, .. } => {
                let Some(base) = &self.selector else {
                    return false;
                };
                base.evaluate(resource).into_iter().any(|element| {
                    self.parts
                        .iter()
                        .zip(components)
                        .all(|((expression, kind), part)| {
                            expression
                                .evaluate_at(resource, element)
                                .into_iter()
                                .flat_map(|node| node_values(*kind, node))
                                .any(|value| condition_match(&part.condition, &value))
                        })
                })
            }
        }
    }
}

fn codings(concept: Option<&Value>) -> impl Iterator<Item = &Value> {
    concept
        .and_then(|concept| concept.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The most nesting `_content` walks (resources are depth-limited on write anyway).
const MAX_TEXT_DEPTH: usize = 64;

/// Every string value of `value` (the narrative without its markup), space-separated.
fn collect_text(value: &Value, out: &mut String, depth: usize) {
    if depth > MAX_TEXT_DEPTH {
        return;
    }
    match value {
        Value::String(text) => {
            out.push(' ');
            out.push_str(text);
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_text(item, out, depth + 1)),
        Value::Object(object) => {
            for (key, item) in object {
                match (key.as_str(), item) {
                    ("div", Value::String(div)) => {
                        out.push(' ');
                        out.push_str(&strip_markup(div));
                    }
                    ("resourceType", _) => {}
                    _ => collect_text(item, out, depth + 1),
                }
            }
        }
        _ => {}
    }
}

/// The text of an XHTML fragment: tags removed (each leaves a space), the predefined entities
/// and numeric character references decoded.
pub fn strip_markup(xhtml: &str) -> String {
    let mut text = String::with_capacity(xhtml.len());
    let mut rest = xhtml;
    while let Some(at) = rest.find(['<', '&']) {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            text.push(' ');
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            continue;
        }
        let Some(end) = rest.find(';').filter(|&end| end <= 10) else {
            text.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                text.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                text.push('&');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query::Prefix;
    use serde_json::json;

    fn observation() -> Value {
        json!({
            "resourceType": "Observation",
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Blood&#160;pressure &amp; pulse</p></div>"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "FILL"}]}, "value": "A-1"}],
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 120, "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 80, "code": "mm[Hg]"}}
            ]
        })
    }

    fn token(code: &str) -> Condition {
        Condition::Token {
            system: Some(Some("http://loinc.org".into())),
            code: Some(code.into()),
        }
    }

    fn quantity(prefix: Prefix, value: f64) -> Condition {
        Condition::Number {
            prefix,
            value,
            low: value - 0.5,
            high: value + 0.5,
            system: None,
            code: None,
        }
    }

    fn composite(code: &str, prefix: Prefix, value: f64) -> Residual {
        Residual::Composite {
            base: "Observation.component".into(),
            components: vec![
                CompositePart {
                    expression: "code".into(),
                    kind: "token".into(),
                    condition: token(code),
                },
                CompositePart {
                    expression: "value.as(Quantity)".into(),
                    kind: "quantity".into(),
                    condition: quantity(prefix, value),
                },
            ],
        }
    }

    fn passes(residual: Residual) -> bool {
        residual
            .compile()
            .expect("compiles")
            .matches(&observation())
    }

    #[test]
    fn composite_components_hold_on_the_same_element() {
        assert!(passes(composite("8480-6", Prefix::Gt, 100.0)));
        assert!(passes(composite("8462-4", Prefix::Lt, 100.0)));
        // Systolic is above 100 and diastolic below, but not on the same component.
        assert!(!passes(composite("8462-4", Prefix::Gt, 100.0)));
        assert!(!passes(composite("8480-6", Prefix::Eq, 80.0)));
    }

    #[test]
    fn of_type_needs_type_and_value_together() {
        let of_type = |code: &str, value: &str| Residual::OfType {
            expression: "Observation.identifier".into(),
            system: "http://terminology.hl7.org/CodeSystem/v2-0203".into(),
            code: code.into(),
            value: value.into(),
        };
        assert!(passes(of_type("FILL", "A-1")));
        assert!(!passes(of_type("PLAC", "A-1")));
        assert!(!passes(of_type("FILL", "A-2")));
    }

    #[test]
    fn text_and_content_match_folded_words() {
        let text = |narrative_only: bool, words: &[&str]| Residual::Text {
            narrative_only,
            words: words.iter().map(|word| fold_string(word)).collect(),
        };
        assert!(passes(text(true, &["BLOOD", "pulse"])));
        assert!(passes(text(true, &["pressure & pulse"])));
        assert!(!passes(text(true, &["8480-6"])));
        assert!(passes(text(false, &["8480-6", "pulse"])));
        assert!(!passes(text(false, &["Observation"])));
    }

    #[test]
    fn markup_is_stripped_and_entities_decoded() {
        assert_eq!(
            strip_markup("<p>a&lt;b &#x5C71;&#30000; &bogus; &</p>"),
            " a<b 山田 &bogus; & "
        );
    }

    #[test]
    fn residuals_survive_serialisation() {
        let residual = composite("8480-6", Prefix::Ge, 120.0);
        let text = serde_json::to_string(&residual).expect("serialises");
        let back: Residual = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, residual);
    }
}
