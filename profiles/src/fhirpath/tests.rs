//! The engine against the R4 SearchParameter expressions: all of them parse, and a dozen
//! (copied verbatim from R4) select what the FHIR search spec expects on hand-written resources.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Expression, Node};

fn eval<'a>(expression: &str, resource: &'a Value) -> Vec<Node<'a>> {
    Expression::parse(expression)
        .unwrap_or_else(|error| panic!("{expression}: {error}"))
        .evaluate(resource)
}

fn values<'a>(expression: &str, resource: &'a Value) -> Vec<&'a Value> {
    eval(expression, resource)
        .into_iter()
        .map(|node| node.value)
        .collect()
}

/// The R4 example package's folder, when present (`TSUNAGI_FIXTURE_CACHE` or `~/.cache`).
fn r4_package() -> Option<PathBuf> {
    let root = std::env::var_os("TSUNAGI_FIXTURE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    let package = root.join("tsunagi-fixtures/hl7.fhir.r4.examples-4.0.1/package");
    package.is_dir().then_some(package)
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

#[test]
fn every_r4_search_parameter_expression_parses() {
    let Some(package) = r4_package() else {
        assert!(
            !running_in_ci(),
            "CI is set and the R4 example package is missing"
        );
        eprintln!("SKIPPED: the R4 example package is not in ~/.cache/tsunagi-fixtures");
        return;
    };
    let mut expressions = Vec::new();
    let entries = std::fs::read_dir(&package).expect("package folder is readable");
    for entry in entries {
        let path = entry.expect("folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.starts_with("SearchParameter-") && name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let parameter: Value = serde_json::from_str(&text).expect("JSON");
        if let Some(expression) = parameter["expression"].as_str() {
            expressions.push((name.to_owned(), expression.to_owned()));
        }
        for component in parameter["component"].as_array().into_iter().flatten() {
            if let Some(expression) = component["expression"].as_str() {
                expressions.push((format!("{name} component"), expression.to_owned()));
            }
        }
    }
    let failures: Vec<String> = expressions
        .iter()
        .filter_map(|(file, expression)| {
            Expression::parse(expression)
                .err()
                .map(|error| format!("{file}: {error}: {expression}"))
        })
        .collect();
    assert!(expressions.len() >= 1384, "found {}", expressions.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn type_step_filters_by_resource_type() {
    let patient =
        json!({"resourceType": "Patient", "name": [{"family": "Yamada"}, {"text": "Taro"}]});
    assert_eq!(eval("Patient.name", &patient).len(), 2);
    assert!(eval("Practitioner.name", &patient).is_empty());
    assert_eq!(
        values(
            "Resource.id | DomainResource.text",
            &json!({"resourceType": "Bundle", "id": "b"})
        ),
        vec![&json!("b")]
    );
}

#[test]
fn choice_elements_are_found_and_typed_by_their_suffix() {
    let observation = json!({
        "resourceType": "Observation",
        "valueQuantity": {"value": 7.2, "unit": "mmol/L"},
        "valueSet": "not a choice"
    });
    let nodes = eval(
        "(Observation.value as Quantity) | (Observation.value as SampledData)",
        &observation,
    );
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].type_name, Some("Quantity"));
    assert!(eval("(Observation.value as CodeableConcept)", &observation).is_empty());
    let text = json!({"resourceType": "Observation", "valueString": "positive"});
    assert_eq!(
        values(
            "(Observation.value as string) | (Observation.value as CodeableConcept).text",
            &text
        ),
        vec![&json!("positive")]
    );
}

#[test]
fn as_function_accepts_subtypes_and_system_type_names() {
    let condition = json!({"resourceType": "Condition", "onsetAge": {"value": 40, "code": "a"}});
    let nodes = eval(
        "Condition.onset.as(Age) | Condition.onset.as(Range)",
        &condition,
    );
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].type_name, Some("Age"));
    let dated = json!({"resourceType": "Observation", "valueDateTime": "2024-05-01"});
    let nodes = eval("value.as(DateTime) | value.as(Period)", &dated);
    assert_eq!(nodes[0].type_name, Some("dateTime"));
}

#[test]
fn resolve_is_checks_the_reference_type_without_fetching() {
    let expression = "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | CareTeam.subject.where(resolve() is Patient)";
    let for_patient = json!({"resourceType": "CarePlan", "subject": {"reference": "Patient/1"}});
    let for_group = json!({"resourceType": "CarePlan", "subject": {"reference": "Group/1"}});
    let absolute = json!({"resourceType": "CarePlan",
        "subject": {"reference": "http://x/fhir/Patient/1/_history/2"}});
    assert_eq!(eval(expression, &for_patient).len(), 1);
    assert!(eval(expression, &for_group).is_empty());
    assert_eq!(eval(expression, &absolute).len(), 1);
    let allergy =
        json!({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/9"}});
    assert_eq!(
        values(expression, &allergy),
        vec![&json!({"reference": "Patient/9"})]
    );
}

#[test]
fn where_with_string_equality_filters_elements() {
    let expression = "Patient.telecom.where(system='phone') | Person.telecom.where(system='phone')";
    let patient = json!({"resourceType": "Patient", "telecom": [
        {"system": "email", "value": "a@example.org"},
        {"system": "phone", "value": "03-1234"}
    ]});
    assert_eq!(values(expression, &patient), vec![&patient["telecom"][1]]);
    let artifacts = json!({"resourceType": "Library", "relatedArtifact": [
        {"type": "composed-of", "resource": "http://x/Library/a"},
        {"type": "depends-on", "resource": "http://x/Library/b"}
    ]});
    assert_eq!(
        values(
            "Library.relatedArtifact.where(type='composed-of').resource",
            &artifacts
        ),
        vec![&json!("http://x/Library/a")]
    );
}

#[test]
fn deceased_follows_three_valued_logic() {
    let expression = "Patient.deceased.exists() and Patient.deceased != false";
    let cases = [
        (
            json!({"resourceType": "Patient", "deceasedBoolean": true}),
            true,
        ),
        (
            json!({"resourceType": "Patient", "deceasedBoolean": false}),
            false,
        ),
        (
            json!({"resourceType": "Patient", "deceasedDateTime": "2020"}),
            true,
        ),
        (json!({"resourceType": "Patient"}), false),
    ];
    for (patient, expected) in cases {
        let nodes = eval(expression, &patient);
        assert_eq!(nodes.len(), 1, "{patient}");
        assert_eq!(nodes[0].value, &Value::Bool(expected), "{patient}");
        assert_eq!(nodes[0].type_name, Some("boolean"));
    }
}

#[test]
fn extension_filters_by_url_and_has_extension_tests_for_one() {
    let url = "http://hl7.org/fhir/StructureDefinition/observation-geneticsGene";
    let observation = json!({"resourceType": "Observation", "extension": [
        {"url": "http://other", "valueString": "x"},
        {"url": url, "valueCodeableConcept": {"text": "BRCA1"}}
    ]});
    let nodes = eval(&format!("Observation.extension('{url}')"), &observation);
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].type_name, Some("Extension"));
    let response = json!({"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "1", "answer": [{"valueReference": {"reference": "Patient/1"}}],
         "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/questionnaireresponse-isSubject", "valueBoolean": true}]},
        {"linkId": "2", "answer": [{"valueReference": {"reference": "Patient/2"}}]}
    ]});
    let nodes = eval(
        "QuestionnaireResponse.item.where(hasExtension('http://hl7.org/fhir/StructureDefinition/questionnaireresponse-isSubject')).answer.value.ofType(Reference)",
        &response,
    );
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].value, &json!({"reference": "Patient/1"}));
    assert_eq!(nodes[0].type_name, Some("Reference"));
}

#[test]
fn indexer_and_root_variable_work() {
    let bundle = json!({"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Composition", "id": "c"}},
        {"resource": {"resourceType": "Patient", "id": "p"}}
    ]});
    assert_eq!(
        values("Bundle.entry[0].resource", &bundle),
        vec![&bundle["entry"][0]["resource"]]
    );
    let sequence = json!({"resourceType": "MolecularSequence",
        "referenceSeq": {"chromosome": {"text": "1"}}});
    assert_eq!(
        values("%resource.referenceSeq.chromosome", &sequence),
        vec![&json!({"text": "1"})]
    );
}

#[test]
fn arrays_are_flattened_through_every_step() {
    let patient = json!({"resourceType": "Patient", "name": [
        {"given": ["Taro", "Jiro"]}, {"given": ["Hanako"]}, {"family": "Sato"}
    ]});
    assert_eq!(
        values("Patient.name.given", &patient),
        vec![&json!("Taro"), &json!("Jiro"), &json!("Hanako")]
    );
    assert_eq!(
        values("Patient.name.given.first()", &patient),
        vec![&json!("Taro")]
    );
}

#[test]
fn malformed_shapes_yield_nothing() {
    let odd = json!({"resourceType": "Observation", "subject": 5, "code": [null, 3],
        "extension": {"url": 1}});
    for expression in [
        "Observation.subject.where(resolve() is Patient)",
        "Observation.code.coding",
        "Observation.extension('x')",
        "Observation.subject.reference",
    ] {
        assert!(eval(expression, &odd).is_empty(), "{expression}");
    }
    assert!(eval("Patient.name", &json!([1, 2])).is_empty());
    assert!(eval("name", &json!("text")).is_empty());
}

#[test]
fn union_removes_duplicate_nodes() {
    let patient = json!({"resourceType": "Patient", "gender": "female"});
    assert_eq!(eval("Patient.gender | Patient.gender", &patient).len(), 1);
}

#[test]
fn error_display_names_the_offset() {
    let error = Expression::parse("Patient.name.frobnicate()").expect_err("no such function");
    assert_eq!(error.to_string(), "at 13: unknown function `frobnicate()`");
}

#[test]
fn expressions_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expression>();
}

mod properties {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::Expression;

    /// Text made of FHIRPath's own characters and words, so many cases get past the lexer.
    const FHIRPATH_SHAPED: &str = "(Patient|name|given|value|where|resolve|is|as|and|or|\\(|\\)|\\.|'x'|\\||=|!=|\\[0\\]|%resource|\\$this| |`a`|1|true|exists\\(\\)|ofType\\(Quantity\\)){0,24}";

    proptest! {
        #[test]
        fn parse_never_panics_on_any_text(text in "\\PC{0,80}") {
            let _ = Expression::parse(&text);
        }

        #[test]
        fn what_parses_evaluates_without_panicking(text in FHIRPATH_SHAPED) {
            let resource = json!({"resourceType": "Patient", "name": [{"given": ["a"]}],
                "valueQuantity": {"value": 1}, "link": [{"other": {"reference": "Patient/1"}}]});
            match Expression::parse(&text) {
                Ok(expression) => {
                    let _ = expression.evaluate(&resource);
                }
                Err(error) => prop_assert!(error.position <= text.len(), "{}", error),
            }
        }
    }
}

#[test]
fn evaluate_at_starts_from_a_selected_node() {
    let observation = json!({
        "resourceType": "Observation",
        "component": [
            {"code": {"text": "systolic"}, "valueQuantity": {"value": 120}},
            {"code": {"text": "diastolic"}, "valueQuantity": {"value": 80}}
        ]
    });
    let base = Expression::parse("Observation.component").expect("base");
    let value = Expression::parse("value.as(Quantity).value").expect("component");
    let components = base.evaluate(&observation);
    assert_eq!(components.len(), 2);
    let second: Vec<_> = value
        .evaluate_at(&observation, components[1])
        .into_iter()
        .map(|node| node.value)
        .collect();
    assert_eq!(second, vec![&json!(80)]);
}

mod full_engine {
    use serde_json::{json, Value};

    use super::super::{
        Environment, EvalError, Expression, FhirPathValue, ReferenceResolver, Terminology,
    };

    fn run<'a>(expression: &str, resource: &'a Value) -> Result<Vec<FhirPathValue<'a>>, EvalError> {
        Expression::parse(expression)
            .unwrap_or_else(|error| panic!("{expression}: {error}"))
            .evaluate_values(resource, &Environment::new())
    }

    fn one(expression: &str, resource: &Value) -> FhirPathValue<'static> {
        let result = run(expression, resource).unwrap_or_else(|e| panic!("{expression}: {e}"));
        assert_eq!(result.len(), 1, "{expression}: {result:?}");
        match result[0].to_system() {
            FhirPathValue::Node(_) => panic!("{expression}: a node"),
            FhirPathValue::Boolean(b) => FhirPathValue::Boolean(b),
            FhirPathValue::String(s) => FhirPathValue::String(s),
            FhirPathValue::Integer(i) => FhirPathValue::Integer(i),
            FhirPathValue::Decimal(d) => FhirPathValue::Decimal(d),
            FhirPathValue::Date(d) => FhirPathValue::Date(d),
            FhirPathValue::DateTime(d) => FhirPathValue::DateTime(d),
            FhirPathValue::Time(t) => FhirPathValue::Time(t),
            FhirPathValue::Quantity(q) => FhirPathValue::Quantity(q),
            other => panic!("{expression}: {other:?}"),
        }
    }

    fn truth(expression: &str, resource: &Value) -> bool {
        match one(expression, resource) {
            FhirPathValue::Boolean(b) => b,
            other => panic!("{expression}: {other:?}"),
        }
    }

    fn patient() -> Value {
        json!({"resourceType": "Patient", "id": "p1", "active": true,
            "birthDate": "1974-12-25",
            "_birthDate": {"extension": [{"url": "http://x/time", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
            "name": [{"given": ["Peter", "James"], "family": "Chalmers"}],
            "_gender": {"extension": [{"url": "http://x/absent", "valueCode": "unknown"}]},
            "contained": [{"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Who"}]}],
            "generalPractitioner": [{"reference": "#dr"}, {"reference": "Organization/o1"}]})
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        let empty = json!({});
        assert!(truth("1.1 + 2.2 = 3.3", &empty));
        assert!(truth("0.1 + 0.2 = 0.3", &empty));
        assert_eq!(
            one("(1.1 + 2.2).toString()", &empty),
            FhirPathValue::String("3.3".into())
        );
        assert!(truth("10 / 4 = 2.5", &empty));
        assert!(truth("7 div 2 = 3 and 7 mod 2 = 1", &empty));
        assert!(run("1 / 0", &empty).expect("no error").is_empty());
        assert!(run("9223372036854775807 + 1", &empty)
            .expect("no error")
            .is_empty());
    }

    #[test]
    fn dates_compare_and_shift_at_their_precision() {
        let resource = patient();
        assert!(truth("Patient.birthDate < @2000-01-01", &resource));
        assert!(truth("Patient.birthDate is date", &resource));
        assert!(run("@2014 = @2014-01", &resource).expect("ok").is_empty());
        assert!(!truth("@2014 ~ @2014-01", &resource));
        assert!(truth("@2014-01-31 + 1 month = @2014-02-28", &resource));
        assert!(truth(
            "@2014-01-01T10:00:00+02:00 = @2014-01-01T08:00:00Z",
            &resource
        ));
        assert!(truth("@T10:30 < @T11", &resource));
        assert!(truth("today() > @2020-01-01", &resource));
    }

    #[test]
    fn quantities_convert_units() {
        let empty = json!({});
        assert!(truth("4 'g' = 4000 'mg'", &empty));
        assert!(truth("1 'm' > 99 'cm'", &empty));
        assert!(truth("7 days = 1 week", &empty));
        assert!(run("1 year = 1 'a'", &empty).expect("ok").is_empty());
        assert!(truth("1 year ~ 1 'a'", &empty));
        let observation = json!({"resourceType": "Observation",
            "valueQuantity": {"value": 185, "system": "http://unitsofmeasure.org", "code": "[lb_av]"}});
        assert!(truth("Observation.value > 80 'kg'", &observation));
        assert!(truth("Observation.value.is(Quantity)", &observation));
    }

    #[test]
    fn primitive_extensions_come_from_the_underscore_sibling() {
        let resource = patient();
        assert!(truth(
            "Patient.birthDate.extension('http://x/time').value = @1974-12-25T14:35:45-05:00",
            &resource
        ));
        assert!(!truth("Patient.gender.hasValue()", &resource));
        assert!(truth("Patient.gender.exists()", &resource));
        assert!(truth("Patient.birthDate.hasValue()", &resource));
        assert!(truth(
            "Patient.active.is(boolean) and Patient.active.is(Boolean).not()",
            &resource
        ));
    }

    #[test]
    fn errors_carry_the_failing_position() {
        let resource = patient();
        let error = run("Patient.name.given + 'x'", &resource).expect_err("two givens");
        assert!(
            matches!(
                error,
                EvalError::NotSingleton {
                    position: 13,
                    count: 2
                }
            ),
            "{error:?}"
        );
        let error = Expression::parse("Patient.nonsense").expect_err("no such element");
        assert_eq!(error.position, 8);
        let error = run("Patient.name.nonsense", &resource).expect_err("no such element");
        assert_eq!(error.position(), 13);
        let error = run("%nope", &resource).expect_err("no such variable");
        assert_eq!(error.position(), 0);
        assert!(run("'a'.matches('(')", &resource).is_err());
    }

    #[test]
    fn resolve_finds_contained_and_caller_resources() {
        struct Directory(Value);
        impl ReferenceResolver for Directory {
            fn resolve(&self, reference: &str) -> Option<&Value> {
                (reference == "Organization/o1").then_some(&self.0)
            }
        }
        let resource = patient();
        let expression =
            Expression::parse("Patient.generalPractitioner.resolve().name.family").expect("parses");
        let found = expression
            .evaluate_values(&resource, &Environment::new())
            .expect("ok");
        assert_eq!(found.len(), 1);
        let directory =
            Directory(json!({"resourceType": "Organization", "id": "o1", "name": "Acme"}));
        let env = Environment::new().with_resolver(&directory);
        let names =
            Expression::parse("Patient.generalPractitioner.resolve().ofType(Organization).name")
                .expect("parses")
                .evaluate_values(&resource, &env)
                .expect("ok");
        assert_eq!(names.len(), 1);
        let bundle = json!({"resourceType": "Bundle", "entry": [
            {"fullUrl": "http://x/Patient/p", "resource": {"resourceType": "Patient", "id": "p"}},
            {"resource": {"resourceType": "Observation", "subject": {"reference": "Patient/p"}}}]});
        assert!(truth(
            "Bundle.entry[1].resource.subject.resolve().id = 'p'",
            &bundle
        ));
    }

    #[test]
    fn member_of_asks_the_terminology_hook() {
        struct Genders;
        impl Terminology for Genders {
            fn member_of(&self, coded: &Value, _: Option<&str>, valueset: &str) -> Option<bool> {
                Some(valueset.ends_with("administrative-gender") && coded == "male")
            }
        }
        let resource = json!({"resourceType": "Patient", "gender": "male"});
        let expression = Expression::parse("Patient.gender.memberOf(%vs-administrative-gender)")
            .expect("parses");
        assert!(expression
            .evaluate_values(&resource, &Environment::new())
            .expect("ok")
            .is_empty());
        let env = Environment::new().with_terminology(&Genders);
        let result = expression.evaluate_values(&resource, &env).expect("ok");
        assert_eq!(result, vec![FhirPathValue::Boolean(true)]);
    }

    #[test]
    fn variables_come_from_the_environment() {
        let resource = patient();
        let env = Environment::new().with_variable("limit", vec![FhirPathValue::Integer(1)]);
        let result = Expression::parse("Patient.name.given.take(%limit) | %ucum")
            .expect("parses")
            .evaluate_values(&resource, &env)
            .expect("ok");
        assert_eq!(result.len(), 2);
        assert!(truth(
            "%context = %resource and %rootResource.id = 'p1'",
            &resource
        ));
    }

    #[test]
    fn collections_functions_work_together() {
        let resource = patient();
        assert_eq!(
            one("Patient.name.given.count()", &resource),
            FhirPathValue::Integer(2)
        );
        assert!(truth(
            "Patient.name.given.select($this.length()).aggregate($this + $total, 0) = 10",
            &resource
        ));
        assert!(truth("(1 | 2 | 3).where($this > 1).count() = 2", &resource));
        assert!(truth(
            "Patient.descendants().where($this = 'Who').exists()",
            &resource
        ));
        assert!(truth("iif(Patient.active, 'y', 'n') = 'y'", &resource));
        assert!(truth(
            "('a' | 'b' | 'a').count() = 2 and ('a').combine('a').count() = 2",
            &resource
        ));
    }
}

mod hostile_input {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::{Environment, Expression};

    /// Operators, functions and literals of the whole language, so many cases parse.
    const EXPRESSION_SHAPED: &str = "(Patient|name|given|birthDate|active|value|where\\(|select\\(|repeat\\(|descendants\\(\\)|children\\(\\)|aggregate\\(|iif\\(|substring\\(|toInteger\\(\\)|toString\\(\\)|matches\\(|replaceMatches\\(|\\(|\\)|\\.|,|'a'|\\||=|~|!=|<|>=|\\+|-|\\*|/|div|mod|&|and|or|implies|is|as|Integer|in|contains|\\[0\\]|%resource|\\$this|\\$index|\\$total|1|2\\.5|@2014|@T10|4 'mg'|3 days|true|\\{\\}| ){0,30}";

    proptest! {
        #[test]
        fn any_parsed_expression_evaluates_without_panicking(text in EXPRESSION_SHAPED) {
            let resource = json!({"resourceType": "Patient", "active": true, "birthDate": "2000-02-29",
                "name": [{"given": ["a", "b"], "family": "c"}], "_birthDate": {"id": "x"},
                "contained": [{"resourceType": "Patient", "id": "c"}],
                "link": [{"other": {"reference": "#c"}}]});
            if let Ok(expression) = Expression::parse(&text) {
                let _ = expression.evaluate_values(&resource, &Environment::new());
                let _ = expression.evaluate(&resource);
            }
        }
    }
}

#[test]
fn the_deepest_accepted_nesting_evaluates_without_overflow() {
    let resource = serde_json::json!({"resourceType": "Patient", "name": [{"given": ["a"]}]});
    let depth = 90;
    let arithmetic = "(1 + ".repeat(depth) + "1" + &")".repeat(depth);
    let nested_where = "Patient.name.where(".repeat(depth / 2) + "true" + &")".repeat(depth / 2);
    for text in [arithmetic, nested_where] {
        let expression = Expression::parse(&text).expect("within the limit");
        let resource = resource.clone();
        // The default test-thread stack: evaluation recursion must fit in it.
        let result = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || expression.evaluate(&resource).len())
            .expect("thread")
            .join();
        assert!(result.is_ok(), "evaluation overflowed the stack: {text}");
    }
}
