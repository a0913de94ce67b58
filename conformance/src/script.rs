//! The TestScript (R4) model the engine runs, read from a `serde_json::Value`: only the
//! elements the engine acts on, each checked as it is read.

use serde_json::Value;

use crate::error::ConformanceError;

/// Most actions one TestScript may hold (setup, tests and teardown together).
pub const MAX_ACTIONS: usize = 10_000;

/// A parsed TestScript.
#[derive(Debug, Clone)]
pub struct TestScript {
    /// `TestScript.id`, or empty.
    pub id: String,
    /// `TestScript.name` (or title, or id).
    pub name: String,
    /// The whole resource (contained fixtures are looked up here).
    pub resource: Value,
    /// `TestScript.fixture`.
    pub fixtures: Vec<FixtureDef>,
    /// `TestScript.profile`: id → canonical URL.
    pub profiles: Vec<(String, String)>,
    /// `TestScript.variable`.
    pub variables: Vec<VariableDef>,
    /// `TestScript.destination[].index` other than 1: servers this runner is not given.
    pub extra_destinations: Vec<i64>,
    /// `TestScript.setup.action`.
    pub setup: Vec<Action>,
    /// `TestScript.test`.
    pub tests: Vec<Test>,
    /// `TestScript.teardown.action` (operations only).
    pub teardown: Vec<Action>,
}

/// `TestScript.fixture`.
#[derive(Debug, Clone)]
pub struct FixtureDef {
    /// `id`.
    pub id: String,
    /// `autocreate`: create it on the server before setup.
    pub autocreate: bool,
    /// `autodelete`: delete it from the server after teardown.
    pub autodelete: bool,
    /// `resource.reference`: `#contained`, a file path, or `Type/id`.
    pub reference: Option<String>,
}

/// `TestScript.variable`.
#[derive(Debug, Clone, Default)]
pub struct VariableDef {
    /// `name`, as used in `${name}`.
    pub name: String,
    /// `defaultValue`.
    pub default_value: Option<String>,
    /// `expression` (FHIRPath) over the source fixture.
    pub expression: Option<String>,
    /// `headerField` of the source response.
    pub header_field: Option<String>,
    /// `path` (XPath or JSONPath) over the source fixture.
    pub path: Option<String>,
    /// `sourceId`: a fixture or a `responseId`.
    pub source_id: Option<String>,
}

/// `TestScript.test`.
#[derive(Debug, Clone)]
pub struct Test {
    /// `id`, or `test-N`.
    pub id: String,
    /// `name` (or the id).
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `action`.
    pub actions: Vec<Action>,
}

/// One step: an operation or an assert.
#[derive(Debug, Clone)]
pub enum Action {
    /// `action.operation`.
    Operation(Box<Operation>),
    /// `action.assert`.
    Assert(Box<Assert>),
}

/// `action.operation`.
#[derive(Debug, Clone, Default)]
pub struct Operation {
    /// `type.code` (`read`, `create`, … or an operation name such as `$validate`).
    pub type_code: Option<String>,
    /// `resource`: the resource type.
    pub resource: Option<String>,
    /// `label`.
    pub label: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `accept`: `json`, `xml` or a MIME type.
    pub accept: Option<String>,
    /// `contentType`: `json`, `xml`, `none` or a MIME type.
    pub content_type: Option<String>,
    /// `destination` (1 is the server under test).
    pub destination: Option<i64>,
    /// `origin`.
    pub origin: Option<i64>,
    /// `method`: overrides the method the type implies.
    pub method: Option<String>,
    /// `params`: appended to `[base]/[resource]`.
    pub params: Option<String>,
    /// `requestHeader`: (field, value).
    pub request_headers: Vec<(String, String)>,
    /// `requestId`: keep the request as this fixture.
    pub request_id: Option<String>,
    /// `responseId`: keep the response as this fixture.
    pub response_id: Option<String>,
    /// `sourceId`: the fixture sent as the body.
    pub source_id: Option<String>,
    /// `targetId`: the fixture whose server id the URL names.
    pub target_id: Option<String>,
    /// `url`: the whole request URL (absolute or relative to the base).
    pub url: Option<String>,
}

/// `action.assert`.
#[derive(Debug, Clone, Default)]
pub struct Assert {
    /// `label`.
    pub label: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `direction`: `request` looks at the last request, otherwise the last response.
    pub direction_request: bool,
    /// `compareToSourceId`.
    pub compare_to_source_id: Option<String>,
    /// `compareToSourceExpression`.
    pub compare_to_source_expression: Option<String>,
    /// `compareToSourcePath`.
    pub compare_to_source_path: Option<String>,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `expression`.
    pub expression: Option<String>,
    /// `headerField`.
    pub header_field: Option<String>,
    /// `minimumId`.
    pub minimum_id: Option<String>,
    /// `navigationLinks`.
    pub navigation_links: Option<bool>,
    /// `operator` (default `equals`).
    pub operator: Option<String>,
    /// `path`.
    pub path: Option<String>,
    /// `requestMethod`.
    pub request_method: Option<String>,
    /// `requestURL`.
    pub request_url: Option<String>,
    /// `resource`.
    pub resource: Option<String>,
    /// `response`: a code such as `okay`, `created`.
    pub response: Option<String>,
    /// `responseCode`.
    pub response_code: Option<String>,
    /// `sourceId`.
    pub source_id: Option<String>,
    /// `validateProfileId`.
    pub validate_profile_id: Option<String>,
    /// `value`.
    pub value: Option<String>,
    /// `warningOnly`: a failure is a warning.
    pub warning_only: bool,
}

impl Operation {
    /// What the report calls this operation.
    pub fn title(&self) -> String {
        self.label
            .clone()
            .or_else(|| self.description.clone())
            .unwrap_or_else(|| {
                format!(
                    "{} {}",
                    self.type_code.as_deref().unwrap_or("operation"),
                    self.resource.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_owned()
            })
    }
}

impl Assert {
    /// What the report calls this assert.
    pub fn title(&self) -> String {
        self.label
            .clone()
            .or_else(|| self.description.clone())
            .unwrap_or_else(|| "assert".to_owned())
    }
}

impl TestScript {
    /// Reads a TestScript resource (JSON form).
    pub fn from_value(resource: Value) -> Result<TestScript, ConformanceError> {
        if resource.get("resourceType").and_then(Value::as_str) != Some("TestScript") {
            return Err(ConformanceError::script("resourceType", "not a TestScript"));
        }
        let id = string(&resource, "id").unwrap_or_default();
        let name = string(&resource, "name")
            .or_else(|| string(&resource, "title"))
            .unwrap_or_else(|| id.clone());
        let fixtures = items(&resource, "fixture")
            .enumerate()
            .map(|(index, fixture)| {
                let id = string(fixture, "id").ok_or_else(|| {
                    ConformanceError::script(format!("fixture[{index}]"), "has no id")
                })?;
                Ok(FixtureDef {
                    id,
                    autocreate: boolean(fixture, "autocreate"),
                    autodelete: boolean(fixture, "autodelete"),
                    reference: fixture
                        .get("resource")
                        .and_then(|reference| string(reference, "reference")),
                })
            })
            .collect::<Result<Vec<_>, ConformanceError>>()?;
        let profiles = items(&resource, "profile")
            .filter_map(|profile| Some((string(profile, "id")?, string(profile, "reference")?)))
            .collect();
        let variables = items(&resource, "variable")
            .enumerate()
            .map(|(index, variable)| {
                Ok(VariableDef {
                    name: string(variable, "name").ok_or_else(|| {
                        ConformanceError::script(format!("variable[{index}]"), "has no name")
                    })?,
                    default_value: string(variable, "defaultValue"),
                    expression: string(variable, "expression"),
                    header_field: string(variable, "headerField"),
                    path: string(variable, "path"),
                    source_id: string(variable, "sourceId"),
                })
            })
            .collect::<Result<Vec<_>, ConformanceError>>()?;
        let extra_destinations = items(&resource, "destination")
            .filter_map(|destination| destination.get("index").and_then(Value::as_i64))
            .filter(|index| *index != 1)
            .collect();
        let setup = match resource.get("setup") {
            Some(setup) => actions(setup, "setup")?,
            None => Vec::new(),
        };
        let tests = items(&resource, "test")
            .enumerate()
            .map(|(index, test)| {
                let id = string(test, "id").unwrap_or_else(|| format!("test-{}", index + 1));
                Ok(Test {
                    name: string(test, "name").unwrap_or_else(|| id.clone()),
                    id,
                    description: string(test, "description"),
                    actions: actions(test, &format!("test[{index}]"))?,
                })
            })
            .collect::<Result<Vec<_>, ConformanceError>>()?;
        let teardown = match resource.get("teardown") {
            Some(teardown) => actions(teardown, "teardown")?,
            None => Vec::new(),
        };
        let count = setup.len()
            + teardown.len()
            + tests.iter().map(|test| test.actions.len()).sum::<usize>();
        if count > MAX_ACTIONS {
            return Err(ConformanceError::script(
                "action",
                format!("{count} actions, more than the {MAX_ACTIONS} allowed"),
            ));
        }
        Ok(TestScript {
            id,
            name,
            fixtures,
            profiles,
            variables,
            extra_destinations,
            setup,
            tests,
            teardown,
            resource,
        })
    }
}

fn actions(parent: &Value, location: &str) -> Result<Vec<Action>, ConformanceError> {
    items(parent, "action")
        .enumerate()
        .map(|(index, action)| {
            let here = format!("{location}.action[{index}]");
            if let Some(operation) = action.get("operation") {
                Ok(Action::Operation(Box::new(read_operation(operation))))
            } else if let Some(assert) = action.get("assert") {
                Ok(Action::Assert(Box::new(read_assert(assert))))
            } else {
                Err(ConformanceError::script(
                    here,
                    "neither operation nor assert",
                ))
            }
        })
        .collect()
}

fn read_operation(operation: &Value) -> Operation {
    Operation {
        type_code: operation
            .get("type")
            .and_then(|coding| string(coding, "code")),
        resource: string(operation, "resource"),
        label: string(operation, "label"),
        description: string(operation, "description"),
        accept: string(operation, "accept"),
        content_type: string(operation, "contentType"),
        destination: operation.get("destination").and_then(Value::as_i64),
        origin: operation.get("origin").and_then(Value::as_i64),
        method: string(operation, "method"),
        params: string(operation, "params"),
        request_headers: items(operation, "requestHeader")
            .filter_map(|header| Some((string(header, "field")?, string(header, "value")?)))
            .collect(),
        request_id: string(operation, "requestId"),
        response_id: string(operation, "responseId"),
        source_id: string(operation, "sourceId"),
        target_id: string(operation, "targetId"),
        url: string(operation, "url"),
    }
}

fn read_assert(assert: &Value) -> Assert {
    Assert {
        label: string(assert, "label"),
        description: string(assert, "description"),
        direction_request: string(assert, "direction").as_deref() == Some("request"),
        compare_to_source_id: string(assert, "compareToSourceId"),
        compare_to_source_expression: string(assert, "compareToSourceExpression"),
        compare_to_source_path: string(assert, "compareToSourcePath"),
        content_type: string(assert, "contentType"),
        expression: string(assert, "expression"),
        header_field: string(assert, "headerField"),
        minimum_id: string(assert, "minimumId"),
        navigation_links: assert.get("navigationLinks").and_then(Value::as_bool),
        operator: string(assert, "operator"),
        path: string(assert, "path"),
        request_method: string(assert, "requestMethod"),
        request_url: string(assert, "requestURL"),
        resource: string(assert, "resource"),
        response: string(assert, "response"),
        response_code: string(assert, "responseCode"),
        source_id: string(assert, "sourceId"),
        validate_profile_id: string(assert, "validateProfileId"),
        value: string(assert, "value"),
        warning_only: boolean(assert, "warningOnly"),
    }
}

/// `parent[key]` as a string (numbers and booleans in their JSON text).
fn string(parent: &Value, key: &str) -> Option<String> {
    match parent.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn boolean(parent: &Value, key: &str) -> bool {
    parent.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn items<'a>(parent: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    parent
        .get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter())
        .into_iter()
        .flatten()
}
