//! The official FHIRPath R4 test suite (`shared/data/fhir-test-cases/fhirpath/tests-fhir-r4.xml`)
//! against the engine: prints `fhirpath suite: P/T passed (xx.x%)` and the failures by group,
//! and requires 95% of all tests to pass. Run: `cargo test -p tsunagi-profiles --test
//! fhirpath_suite -- --nocapture`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::Value;
use tsunagi_profiles::fhirpath::{Environment, Expression, FhirPathValue};
use tsunagi_profiles::{ParseLimits, Resource};

/// One `<test>` of the suite.
#[derive(Debug, Default)]
struct Case {
    group: String,
    name: String,
    input_file: Option<String>,
    predicate: bool,
    ordered: bool,
    expression: String,
    invalid: Option<String>,
    outputs: Vec<(Option<String>, String)>,
}

fn attribute(start: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.as_ref() == name)
        .and_then(|attribute| attribute.unescape_value().ok().map(|v| v.into_owned()))
}

fn read_cases(xml: &str) -> Vec<Case> {
    let mut reader = Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut group = String::new();
    let mut current: Option<Case> = None;
    let mut text = String::new();
    let mut output_type: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed test file") {
            Event::Start(start) => {
                text.clear();
                match start.local_name().as_ref() {
                    b"group" => group = attribute(&start, b"name").unwrap_or_default(),
                    b"test" => {
                        current = Some(Case {
                            group: group.clone(),
                            name: attribute(&start, b"name").unwrap_or_default(),
                            input_file: attribute(&start, b"inputfile"),
                            predicate: attribute(&start, b"predicate").as_deref() == Some("true"),
                            ordered: attribute(&start, b"ordered").as_deref() != Some("false"),
                            ..Case::default()
                        })
                    }
                    b"expression" => {
                        if let Some(case) = current.as_mut() {
                            case.invalid = attribute(&start, b"invalid");
                        }
                    }
                    b"output" => output_type = attribute(&start, b"type"),
                    _ => {}
                }
            }
            Event::Text(part) => text.push_str(&part.unescape().expect("text")),
            Event::CData(part) => text.push_str(&String::from_utf8_lossy(&part)),
            Event::End(end) => match end.local_name().as_ref() {
                b"expression" => {
                    if let Some(case) = current.as_mut() {
                        case.expression = text.clone();
                    }
                }
                b"output" => {
                    if let Some(case) = current.as_mut() {
                        case.outputs.push((output_type.take(), text.clone()));
                    }
                }
                b"test" => cases.extend(current.take()),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

fn load_input(folder: &Path, name: &str) -> Value {
    let bytes = std::fs::read(folder.join(name)).expect("input file");
    if name.ends_with(".xml") {
        let parsed = Resource::from_xml(&bytes, &ParseLimits::default())
            .or_else(|_| Resource::from_xml(&plain_root(&bytes), &ParseLimits::default()));
        parsed
            .unwrap_or_else(|error| panic!("{name}: {error}"))
            .into_value()
    } else {
        serde_json::from_slice(&bytes).expect("JSON input")
    }
}

/// The document with its root element's attributes cut to the FHIR namespace (one input
/// declares `xmlns:f` and `xsi:schemaLocation`, which the strict codec refuses).
fn plain_root(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let Some(start) = text
        .match_indices('<')
        .map(|(at, _)| at)
        .find(|at| text[*at + 1..].starts_with(|c: char| c.is_ascii_alphabetic()))
    else {
        return bytes.to_vec();
    };
    let Some(end) = text[start..].find('>').map(|end| start + end) else {
        return bytes.to_vec();
    };
    let name: String = text[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!(
        "{}<{name} xmlns=\"http://hl7.org/fhir\">{}",
        &text[..start],
        &text[end + 1..]
    )
    .into_bytes()
}

/// The text form of an actual item, in the suite's notation (`@` before dates and times).
fn render(item: &FhirPathValue<'_>) -> Option<(String, String)> {
    let kind = |kind: &str, text: String| Some((kind.to_owned(), text));
    match item.to_system() {
        FhirPathValue::Boolean(value) => kind("boolean", value.to_string()),
        FhirPathValue::Integer(value) => kind("integer", value.to_string()),
        FhirPathValue::Decimal(value) => kind("decimal", value.to_string()),
        FhirPathValue::String(value) => kind("string", value),
        FhirPathValue::Date(value) => kind("date", format!("@{value}")),
        FhirPathValue::DateTime(value) => kind("dateTime", format!("@{value}")),
        FhirPathValue::Time(value) => kind("time", format!("@T{value}")),
        FhirPathValue::Quantity(value) => kind("Quantity", value.to_string()),
        _ => None,
    }
}

/// Whether an actual item is the expected `(type, text)`.
fn matches(actual: &FhirPathValue<'_>, expected_type: Option<&str>, expected: &str) -> bool {
    let Some((kind, text)) = render(actual) else {
        return false;
    };
    let node_type = actual.as_node().and_then(|node| node.type_name);
    let type_fits = match expected_type {
        None => true,
        Some("decimal") => kind == "decimal" || kind == "integer",
        Some("code" | "id" | "uri" | "markdown") => {
            kind == "string" && node_type.is_none_or(|t| t == expected_type.unwrap_or(""))
        }
        Some(other) => kind == other,
    };
    if !type_fits {
        return false;
    }
    match kind.as_str() {
        "decimal" | "integer" => {
            let parse = |t: &str| t.parse::<rust_decimal::Decimal>().ok();
            parse(&text).is_some_and(|a| Some(a) == parse(expected))
        }
        "Quantity" => {
            let quantity = |t: &str| {
                let (number, unit) = t.split_once(' ')?;
                Some((
                    number.parse::<rust_decimal::Decimal>().ok()?,
                    unit.trim_matches('\'').to_owned(),
                ))
            };
            quantity(&text).is_some() && quantity(&text) == quantity(expected)
        }
        _ => text == expected,
    }
}

/// Runs one case: `Ok(())` when it passes, else why not.
fn run(case: &Case, inputs: &HashMap<String, Value>) -> Result<(), String> {
    let empty = Value::Object(serde_json::Map::new());
    let resource = match &case.input_file {
        Some(name) => inputs.get(name).ok_or("input missing")?,
        None => &empty,
    };
    let parsed = Expression::parse(&case.expression);
    let invalid = case.invalid.as_deref();
    let expression = match (parsed, invalid) {
        (Err(_), Some("syntax" | "semantic")) => return Ok(()),
        (Err(error), _) => return Err(format!("parse error {error}")),
        (Ok(_), Some("syntax")) => return Err("parsed, a syntax error was expected".into()),
        (Ok(expression), _) => expression,
    };
    let env = Environment::new();
    let result = if case.input_file.is_some() {
        expression.evaluate_values(resource, &env)
    } else {
        expression.evaluate_values_at(None, Vec::new(), &env)
    };
    let mut result = match (result, invalid) {
        (Err(_), Some("execution" | "semantic")) => return Ok(()),
        (Err(error), _) => return Err(format!("evaluation error {error}")),
        (Ok(_), Some(kind)) => return Err(format!("evaluated, a {kind} error was expected")),
        (Ok(result), None) => result,
    };
    if case.predicate {
        result = vec![FhirPathValue::Boolean(!result.is_empty())];
    }
    let rendered = || {
        result
            .iter()
            .map(|item| {
                render(item).map_or_else(|| format!("{item:?}"), |(k, t)| format!("{k}:{t}"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if result.len() != case.outputs.len() {
        return Err(format!("got [{}]", rendered()));
    }
    let fits = if case.ordered {
        result
            .iter()
            .zip(&case.outputs)
            .all(|(actual, (kind, text))| matches(actual, kind.as_deref(), text))
    } else {
        case.outputs.iter().all(|(kind, text)| {
            result
                .iter()
                .any(|actual| matches(actual, kind.as_deref(), text))
        })
    };
    if fits {
        Ok(())
    } else {
        Err(format!("got [{}]", rendered()))
    }
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

#[test]
fn official_r4_fhirpath_suite() {
    let folder: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fhir-test-cases/fhirpath");
    let suite = folder.join("tests-fhir-r4.xml");
    let Ok(xml) = std::fs::read_to_string(&suite) else {
        assert!(
            !running_in_ci(),
            "CI is set and {} is missing",
            suite.display()
        );
        println!(
            "SKIPPED: {} is absent (the shared test data is not checked out)",
            suite.display()
        );
        return;
    };
    let cases = read_cases(&xml);
    let mut inputs = HashMap::new();
    for case in &cases {
        if let Some(name) = &case.input_file {
            if !inputs.contains_key(name) {
                inputs.insert(name.clone(), load_input(&folder.join("input"), name));
            }
        }
    }
    let mut failures: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut passed = 0;
    for case in &cases {
        // A panic is a failure of that case, not of the run.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(case, &inputs)))
            .unwrap_or_else(|_| Err("panicked".into()));
        match outcome {
            Ok(()) => passed += 1,
            Err(why) => failures
                .entry(case.group.as_str())
                .or_default()
                .push(format!(
                    "{}: `{}` {}",
                    case.name,
                    case.expression.trim(),
                    why
                )),
        }
    }
    let total = cases.len();
    let share = 100.0 * passed as f64 / total as f64;
    println!("fhirpath suite: {passed}/{total} passed ({share:.1}%)");
    for (group, names) in &failures {
        println!("  {group}:");
        for name in names {
            println!("    {name}");
        }
    }
    assert!(share >= 95.0, "only {share:.1}% of the suite passes");
}
