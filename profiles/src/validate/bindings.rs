//! Terminology bindings: a coded value checked against the expansion of its ValueSet
//! (required: error when not in it; extensible: warning), and codes of locally known,
//! complete CodeSystems checked to exist. Value sets that cannot be expanded here are not
//! checked.

use std::cmp::Ordering;

use serde_json::Value;

use super::compiled::{Binding, Strength};
use super::outcome::{IssueType, Severity};
use super::walk::Walk;
use crate::terminology::{Expansion, Membership};

/// Checks `value` (of FHIR type `type_code`) against `binding`.
pub(crate) fn check(
    walk: &mut Walk<'_, '_>,
    binding: &Binding,
    value: &Value,
    type_code: &str,
    path: &str,
) {
    if type_code == "Coding" || type_code == "CodeableConcept" {
        check_systems(walk, value, type_code, path);
    }
    if binding.strength == Strength::Other {
        return;
    }
    let Some(expansion) = walk.validator.expansion(&binding.value_set) else {
        return;
    };
    let memberships = memberships(&expansion, value, type_code);
    if memberships.is_empty() || memberships.iter().any(|m| *m != Membership::NotIn) {
        return;
    }
    let shown = shown_codes(value, type_code);
    let (severity, rule) = match binding.strength {
        Strength::Required => (Severity::Error, "a code is required from this value set"),
        _ => (
            Severity::Warning,
            "codes should come from this value set when one fits (extensible)",
        ),
    };
    walk.report(
        severity,
        IssueType::CodeInvalid,
        path,
        format!(
            "The value provided ({shown}) was not found in the value set {}, and {rule}",
            binding.value_set
        ),
    );
}

/// The membership of each code the value holds (none for a value without codes).
pub(crate) fn memberships(
    expansion: &Expansion,
    value: &Value,
    type_code: &str,
) -> Vec<Membership> {
    match type_code {
        "code" | "string" | "uri" | "" if value.is_string() => value
            .as_str()
            .map(|code| vec![expansion.contains(None, code)])
            .unwrap_or_default(),
        "Coding" | "Quantity" => coding_membership(expansion, value).into_iter().collect(),
        "CodeableConcept" => value
            .get("coding")
            .and_then(Value::as_array)
            .map(|codings| {
                codings
                    .iter()
                    .filter_map(|c| coding_membership(expansion, c))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn coding_membership(expansion: &Expansion, coding: &Value) -> Option<Membership> {
    let code = coding.get("code").and_then(Value::as_str)?;
    let system = coding.get("system").and_then(Value::as_str);
    Some(expansion.contains(system, code))
}

fn shown_codes(value: &Value, type_code: &str) -> String {
    let coding = |c: &Value| {
        format!(
            "{}#{}",
            c.get("system").and_then(Value::as_str).unwrap_or(""),
            c.get("code").and_then(Value::as_str).unwrap_or("")
        )
    };
    match type_code {
        "Coding" | "Quantity" => format!("'{}'", coding(value)),
        "CodeableConcept" => value
            .get("coding")
            .and_then(Value::as_array)
            .map(|codings| {
                codings
                    .iter()
                    .map(|c| format!("'{}'", coding(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        _ => format!("'{}'", value.as_str().unwrap_or("")),
    }
}

/// Codings whose system is a complete CodeSystem known here must use a code it defines.
fn check_systems(walk: &mut Walk<'_, '_>, value: &Value, type_code: &str, path: &str) {
    let codings: Vec<&Value> = match type_code {
        "Coding" => vec![value],
        _ => value
            .get("coding")
            .and_then(Value::as_array)
            .map(|codings| codings.iter().collect())
            .unwrap_or_default(),
    };
    for coding in codings {
        let (Some(system), Some(code)) = (
            coding.get("system").and_then(Value::as_str),
            coding.get("code").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(codes) = walk.validator.known_codes(system) else {
            continue;
        };
        match codes.get(code) {
            // HL7's own code systems are complete here; a copy of an external one (DICOM)
            // may predate the code.
            None if is_hl7_system(system) => walk.error(
                IssueType::CodeInvalid,
                path,
                format!("Unknown code '{system}#{code}': the code system does not define it"),
            ),
            None => walk.report(
                super::outcome::Severity::Warning,
                IssueType::CodeInvalid,
                path,
                format!("Unknown code '{system}#{code}': not in the local copy of the code system"),
            ),
            Some(displays) => {
                let display = coding.get("display").and_then(Value::as_str);
                let normalize = |text: &str| {
                    text.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase()
                };
                if let Some(display) = display {
                    let shown = normalize(display);
                    if !displays.is_empty()
                        && !displays.iter().any(|known| normalize(known) == shown)
                    {
                        walk.error(
                            IssueType::Invalid,
                            path,
                            format!(
                                "Wrong Display Name '{display}' for {system}#{code}; valid: '{}'",
                                displays.join("' or '")
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Orders two primitive values of the same kind (numbers by value; dates, times and strings
/// of equal precision as text); `None` when they cannot be compared.
pub(crate) fn compare_values(value: &Value, limit: &Value) -> Option<Ordering> {
    match (value, limit) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_str().parse::<f64>().ok()?,
                b.as_str().parse::<f64>().ok()?,
            );
            a.partial_cmp(&b)
        }
        (Value::String(a), Value::String(b)) if a.len() == b.len() => Some(a.cmp(b)),
        (Value::String(a), Value::String(b)) => {
            let shared = a.len().min(b.len());
            Some(a.get(..shared)?.cmp(b.get(..shared)?)).filter(|order| *order != Ordering::Equal)
        }
        (Value::Object(a), Value::Object(b)) => {
            // Quantities with the same unit code.
            if a.get("code") == b.get("code") {
                compare_values(a.get("value")?, b.get("value")?)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Code systems HL7 maintains (their local copies are authoritative).
fn is_hl7_system(system: &str) -> bool {
    system.starts_with("http://hl7.org/fhir/") || system.starts_with("http://terminology.hl7.org/")
}
