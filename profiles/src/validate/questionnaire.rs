//! Questionnaires and their responses: a QuestionnaireResponse checked against the
//! Questionnaire it names (when it is loaded or contained): every answered item must exist
//! there, answers must have the item's type and come from its answer options, items that are
//! not enabled (`enableWhen`, the SDC `enableWhenExpression`) must not be answered, and
//! `maxDecimalPlaces` holds. A Questionnaire's `enableWhen` may not refer to a question inside
//! the item itself.

use serde_json::{Map, Value};

use super::outcome::IssueType;
use super::walk::Walk;

const MAX_DECIMAL_PLACES: &str = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces";
const ENABLE_WHEN_EXPRESSION: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";
/// How deeply items may nest.
const MAX_DEPTH: usize = 32;

fn array<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// The `value[x]` property of an answer, option or condition, by key prefix.
fn value_of<'v>(object: &'v Value, prefix: &str) -> Option<(&'v str, &'v Value)> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.starts_with(prefix) && key.len() > prefix.len())
        .map(|(key, value)| (key.as_str(), value))
}

/// Checks a QuestionnaireResponse against its Questionnaire, when that can be found.
pub(crate) fn check_response<'v>(walk: &mut Walk<'_, 'v>, response: &'v Value, path: &str) {
    let Some(canonical) = text(response, "questionnaire") else {
        return;
    };
    let questionnaire = match canonical.strip_prefix('#') {
        Some(local) => array(response, "contained")
            .iter()
            .find(|resource| text(resource, "id") == Some(local))
            .cloned(),
        None => walk
            .validator
            .registry
            .resource("Questionnaire", canonical)
            .map(|found| (*found).clone()),
    };
    let Some(questionnaire) = questionnaire else {
        return;
    };
    let mut checker = ResponseCheck { walk, response };
    checker.items(
        array(&questionnaire, "item"),
        array(response, "item"),
        path,
        0,
    );
}

struct ResponseCheck<'w, 'a, 'v> {
    walk: &'w mut Walk<'a, 'v>,
    response: &'v Value,
}

impl ResponseCheck<'_, '_, '_> {
    fn items(&mut self, definitions: &[Value], items: &[Value], path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}.item[{index}]");
            let link_id = text(item, "linkId").unwrap_or("");
            let Some(definition) = definitions
                .iter()
                .find(|d| text(d, "linkId") == Some(link_id))
            else {
                self.walk.error(
                    IssueType::Structure,
                    path,
                    format!("LinkId '{link_id}' not found in questionnaire"),
                );
                continue;
            };
            let answers = array(item, "answer");
            if !answers.is_empty() && self.enabled(definition) == Some(false) {
                self.walk.error(
                    IssueType::BusinessRule,
                    &item_path,
                    format!(
                        "Item has answer, even though it is not enabled (item id = '{link_id}')"
                    ),
                );
            }
            for (at, answer) in answers.iter().enumerate() {
                let answer_path = format!("{item_path}.answer[{at}]");
                self.answer(definition, answer, &answer_path);
                self.items(
                    array(definition, "item"),
                    array(answer, "item"),
                    &answer_path,
                    depth + 1,
                );
            }
            self.items(
                array(definition, "item"),
                array(item, "item"),
                &item_path,
                depth + 1,
            );
        }
    }

    fn answer(&mut self, definition: &Value, answer: &Value, path: &str) {
        let Some((key, value)) = value_of(answer, "value") else {
            return;
        };
        let item_type = text(definition, "type").unwrap_or("");
        let expected: &[&str] = match item_type {
            "boolean" => &["valueBoolean"],
            "decimal" => &["valueDecimal"],
            "integer" => &["valueInteger"],
            "date" => &["valueDate"],
            "dateTime" => &["valueDateTime"],
            "time" => &["valueTime"],
            "string" | "text" => &["valueString"],
            "url" => &["valueUri"],
            "choice" => &[
                "valueCoding",
                "valueString",
                "valueInteger",
                "valueDate",
                "valueTime",
                "valueReference",
            ],
            "open-choice" => &[
                "valueCoding",
                "valueString",
                "valueInteger",
                "valueDate",
                "valueTime",
                "valueReference",
            ],
            "attachment" => &["valueAttachment"],
            "reference" => &["valueReference"],
            "quantity" => &["valueQuantity"],
            "group" | "display" => &[],
            _ => return,
        };
        if !expected.contains(&key) {
            self.walk.error(
                IssueType::Structure,
                path,
                format!("The answer {key} does not fit the item type '{item_type}'"),
            );
            return;
        }
        let options = array(definition, "answerOption");
        if !options.is_empty() {
            let same_type: Vec<&Value> = options
                .iter()
                .filter_map(|option| value_of(option, "value"))
                .filter(|(option_key, _)| *option_key == key)
                .map(|(_, option_value)| option_value)
                .collect();
            let open = item_type == "open-choice";
            if same_type.is_empty() && !(open && key == "valueString") {
                let kind = key.trim_start_matches("value").to_ascii_lowercase();
                self.walk.error(
                    IssueType::Structure,
                    path,
                    format!("Option list has no option values of type {kind}"),
                );
            } else if !same_type.is_empty()
                && !same_type.iter().any(|option| same_answer(option, value))
                && !open
            {
                self.walk.error(
                    IssueType::Structure,
                    path,
                    "The answer is not one of the item's answer options",
                );
            }
        }
        if let Some(limit) = decimal_places_limit(definition) {
            let number = match key {
                "valueDecimal" => value.as_number(),
                "valueQuantity" => value.get("value").and_then(Value::as_number),
                _ => None,
            };
            if let Some(number) = number {
                let places = number
                    .as_str()
                    .split_once('.')
                    .map_or(0, |(_, fraction)| fraction.len());
                if places as u64 > limit {
                    self.walk.error(
                        IssueType::Invariant,
                        path,
                        format!(
                            "The value {} has too many decimal places (limit = {limit})",
                            number.as_str()
                        ),
                    );
                }
            }
        }
    }

    /// Whether an item is enabled; `None` when that cannot be told.
    fn enabled(&mut self, definition: &Value) -> Option<bool> {
        let expression = array(definition, "extension")
            .iter()
            .find(|extension| text(extension, "url") == Some(ENABLE_WHEN_EXPRESSION))
            .and_then(|extension| extension.pointer("/valueExpression/expression"))
            .and_then(Value::as_str);
        if let Some(expression) = expression {
            return super::invariants::evaluate_on_resource(self.walk, expression, None);
        }
        let conditions = array(definition, "enableWhen");
        if conditions.is_empty() {
            return Some(true);
        }
        let results: Vec<bool> = conditions
            .iter()
            .map(|condition| self.condition(condition))
            .collect();
        Some(match text(definition, "enableBehavior") {
            Some("any") => results.iter().any(|r| *r),
            _ => results.iter().all(|r| *r),
        })
    }

    fn condition(&self, condition: &Value) -> bool {
        let question = text(condition, "question").unwrap_or("");
        let mut answers = Vec::new();
        collect_answers(array(self.response, "item"), question, &mut answers, 0);
        let Some((_, expected)) = value_of(condition, "answer") else {
            return false;
        };
        match text(condition, "operator").unwrap_or("=") {
            "exists" => expected.as_bool() == Some(!answers.is_empty()),
            "=" => answers.iter().any(|answer| same_answer(expected, answer)),
            "!=" => {
                !answers.is_empty() && !answers.iter().any(|answer| same_answer(expected, answer))
            }
            operator => answers.iter().any(|answer| {
                let order = super::bindings::compare_values(answer, expected);
                matches!(
                    (operator, order),
                    (">", Some(std::cmp::Ordering::Greater))
                        | ("<", Some(std::cmp::Ordering::Less))
                        | (
                            ">=",
                            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                        )
                        | (
                            "<=",
                            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                        )
                )
            }),
        }
    }
}

/// The answer values given anywhere in the response to the item `link_id`.
fn collect_answers<'v>(items: &'v [Value], link_id: &str, out: &mut Vec<&'v Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for item in items {
        let answers = array(item, "answer");
        if text(item, "linkId") == Some(link_id) {
            out.extend(
                answers
                    .iter()
                    .filter_map(|answer| value_of(answer, "value").map(|(_, value)| value)),
            );
        }
        collect_answers(array(item, "item"), link_id, out, depth + 1);
        for answer in answers {
            collect_answers(array(answer, "item"), link_id, out, depth + 1);
        }
    }
}

/// Codings by system and code; other values by equality.
fn same_answer(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) if a.contains_key("code") => {
            a.get("code") == b.get("code")
                && (a.get("system").is_none() || a.get("system") == b.get("system"))
        }
        _ => {
            expected == actual
                || super::bindings::compare_values(expected, actual)
                    == Some(std::cmp::Ordering::Equal)
        }
    }
}

fn decimal_places_limit(definition: &Value) -> Option<u64> {
    array(definition, "extension")
        .iter()
        .find(|extension| text(extension, "url") == Some(MAX_DECIMAL_PLACES))
        .and_then(|extension| extension.get("valueInteger"))
        .and_then(Value::as_u64)
}

/// A Questionnaire's items may not be enabled by a question inside themselves.
pub(crate) fn check_questionnaire(
    walk: &mut Walk<'_, '_>,
    questionnaire: &Map<String, Value>,
    path: &str,
) {
    let items = questionnaire
        .get("item")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    check_items(walk, items, path, 0);
}

fn check_items(walk: &mut Walk<'_, '_>, items: &[Value], path: &str, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for (index, item) in items.iter().enumerate() {
        let item_path = format!("{path}.item[{index}]");
        let mut inner = Vec::new();
        inner_link_ids(array(item, "item"), &mut inner, depth + 1);
        let refers_inside = array(item, "enableWhen")
            .iter()
            .filter_map(|condition| text(condition, "question"))
            .any(|question| inner.contains(&question));
        if refers_inside {
            walk.error(
                IssueType::BusinessRule,
                &item_path,
                "Questions with an enableWhen cannot refer to an inner question for its enableWhen condition",
            );
        }
        check_items(walk, array(item, "item"), &item_path, depth + 1);
    }
}

fn inner_link_ids<'v>(items: &'v [Value], out: &mut Vec<&'v str>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for item in items {
        out.extend(text(item, "linkId"));
        inner_link_ids(array(item, "item"), out, depth + 1);
    }
}
