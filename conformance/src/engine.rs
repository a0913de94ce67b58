//! The engine: runs one TestScript against a server. Fixture autocreate and setup first; when
//! setup fails the tests are skipped (TestScript rule); each test in order; teardown and
//! autodelete always. An operation that cannot be sent ends its phase (the asserts after it
//! would judge a stale response).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tsunagi_profiles::validate::Validator;

use crate::asserts;
use crate::error::ConformanceError;
use crate::fixtures::{self, MAX_BODY_BYTES};
use crate::http::{request_fixture, Client};
use crate::operations::{self, PreparedRequest};
use crate::outcome::{ActionResult, PhaseResult, ScriptResult, Status};
use crate::script::{Action, Operation, TestScript};
use crate::state::{parse_location, resource_server_id, State};

/// Most TestScript files one run takes.
pub const MAX_SCRIPTS: usize = 10_000;

/// How the engine reaches the server and finds fixtures.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The server's FHIR base URL (`http://host:port/fhir`).
    pub base: String,
    /// Headers sent with every request (`Authorization`, …).
    pub headers: Vec<(String, String)>,
    /// Folders where `Type/id` fixture references are looked up as `Type-id.json`.
    pub fixture_dirs: Vec<PathBuf>,
    /// Variable values (for variables that only carry a `hint`).
    pub variables: HashMap<String, String>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Called with the script's name and each test case as soon as it is finished.
pub type Progress = Box<dyn Fn(&str, &PhaseResult) + Send + Sync>;

/// Runs TestScripts against one server.
pub struct Engine {
    options: EngineOptions,
    client: Client,
    validator: Arc<Validator>,
    progress: Option<Progress>,
}

impl Engine {
    /// An engine for `options`; `validator` answers `validateProfileId`.
    pub fn new(
        mut options: EngineOptions,
        validator: Arc<Validator>,
    ) -> Result<Engine, ConformanceError> {
        options.base = options.base.trim_end_matches('/').to_owned();
        Ok(Engine {
            client: Client::new(options.timeout)?,
            options,
            validator,
            progress: None,
        })
    }

    /// Reports each test case (and a failed setup or teardown) to `progress` as it finishes,
    /// for a live summary.
    pub fn with_progress(mut self, progress: Progress) -> Engine {
        self.progress = Some(progress);
        self
    }

    fn report(&self, script: &TestScript, case: &PhaseResult) {
        if let Some(progress) = &self.progress {
            progress(&script.name, case);
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.options.base
    }

    /// Reads and runs the TestScript in `path` (JSON or XML); a file that cannot be read or
    /// whose fixtures cannot be loaded is a result with a load error.
    pub async fn run_file(&self, path: &Path) -> ScriptResult {
        let source = path.display().to_string();
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let script = match fixtures::read_file(path)
            .map_err(|message| ConformanceError::Parse {
                path: path.to_owned(),
                message,
            })
            .and_then(|fixture| {
                let resource = fixture.resource.unwrap_or(Value::Null);
                TestScript::from_value(resource)
            }) {
            Ok(script) => script,
            Err(error) => return ScriptResult::load_failure(&source, &name, error.to_string()),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        self.run_script(&script, &source, dir).await
    }

    /// Runs `script`; `dir` is where its file fixtures are.
    pub async fn run_script(&self, script: &TestScript, source: &str, dir: &Path) -> ScriptResult {
        let started = Instant::now();
        let static_fixtures = match fixtures::load_static(script, dir, &self.options.fixture_dirs) {
            Ok(found) => found,
            Err(error) => {
                return ScriptResult::load_failure(source, &script.name, error.to_string())
            }
        };
        let mut state = State {
            script,
            base: self.options.base.clone(),
            fixtures: static_fixtures,
            overrides: &self.options.variables,
            last_request: None,
            last_response: None,
            server_ids: HashMap::new(),
        };

        let mut setup = PhaseResult::new("setup", "setup");
        let setup_started = Instant::now();
        for definition in script
            .fixtures
            .iter()
            .filter(|definition| definition.autocreate)
        {
            let result = self.autocreate(&mut state, &definition.id).await;
            setup.push(result);
        }
        if !setup.failed() {
            self.run_actions(&script.setup, "setup", &mut state, &mut setup)
                .await;
        }
        setup.duration = setup_started.elapsed();
        let has_setup = !setup.actions.is_empty();
        if setup.failed() {
            self.report(script, &setup);
        }

        let mut tests = Vec::new();
        for test in &script.tests {
            if setup.failed() {
                let first = setup
                    .failures()
                    .next()
                    .map(|action| action.message.clone())
                    .unwrap_or_default();
                let skipped =
                    PhaseResult::skipped(&test.name, &test.id, &format!("setup failed: {first}"));
                self.report(script, &skipped);
                tests.push(skipped);
                continue;
            }
            if let Some(index) = script.extra_destinations.first() {
                let uses_other = test.actions.iter().any(|action| {
                    matches!(action, Action::Operation(operation) if operation.destination.is_some_and(|d| d != 1))
                });
                if uses_other {
                    let skipped = PhaseResult::skipped(
                        &test.name,
                        &test.id,
                        &format!("needs destination {index}: this runner tests one server"),
                    );
                    self.report(script, &skipped);
                    tests.push(skipped);
                    continue;
                }
            }
            let mut phase = PhaseResult::new(&test.name, &test.id);
            let test_started = Instant::now();
            let location = format!("test[{}]", tests.len());
            self.run_actions(&test.actions, &location, &mut state, &mut phase)
                .await;
            phase.duration = test_started.elapsed();
            self.report(script, &phase);
            tests.push(phase);
        }

        let mut teardown = PhaseResult::new("teardown", "teardown");
        let teardown_started = Instant::now();
        self.run_actions(&script.teardown, "teardown", &mut state, &mut teardown)
            .await;
        for definition in script
            .fixtures
            .iter()
            .filter(|definition| definition.autodelete)
        {
            let result = self.autodelete(&mut state, &definition.id).await;
            teardown.push(result);
        }
        teardown.duration = teardown_started.elapsed();
        if teardown.failed() {
            self.report(script, &teardown);
        }

        ScriptResult {
            source: source.to_owned(),
            name: script.name.clone(),
            load_error: None,
            setup: has_setup.then_some(setup),
            tests,
            teardown: (!teardown.actions.is_empty()).then_some(teardown),
            duration: started.elapsed(),
        }
    }

    async fn run_actions(
        &self,
        actions: &[Action],
        location: &str,
        state: &mut State<'_>,
        phase: &mut PhaseResult,
    ) {
        let mut stopped: Option<String> = None;
        for (index, action) in actions.iter().enumerate() {
            let here = format!("{location}.action[{index}]");
            let result = match (action, &stopped) {
                (action, Some(why)) => ActionResult {
                    location: here,
                    kind: kind(action),
                    title: title(action),
                    status: Status::Skip,
                    message: why.clone(),
                },
                (Action::Operation(operation), None) => {
                    self.operation(operation, state, here).await
                }
                (Action::Assert(assert), None) => {
                    let (status, message) = asserts::check(assert, state, &self.validator);
                    ActionResult {
                        location: here,
                        kind: "assert",
                        title: assert.title(),
                        status,
                        message,
                    }
                }
            };
            if result.kind == "operation" && result.status == Status::Error {
                stopped = Some(format!("not run: {} failed", result.location));
            }
            phase.push(result);
        }
    }

    async fn operation(
        &self,
        operation: &Operation,
        state: &mut State<'_>,
        location: String,
    ) -> ActionResult {
        let mut result = ActionResult {
            location,
            kind: "operation",
            title: operation.title(),
            status: Status::Pass,
            message: String::new(),
        };
        if let Some(destination) = operation
            .destination
            .filter(|destination| *destination != 1)
        {
            result.status = Status::Skip;
            result.message = format!("destination {destination} is not the server under test");
            return result;
        }
        let request = match operations::prepare(operation, state, &self.options.headers) {
            Ok(request) => request,
            Err(error) => {
                result.status = Status::Error;
                result.message = error.to_string();
                return result;
            }
        };
        match self
            .exchange(
                &request,
                state,
                operation.request_id.as_deref(),
                operation.response_id.as_deref(),
            )
            .await
        {
            Ok(status) => {
                result.message = format!("{} {} → {status}", request.method, request.url);
                self.record_ids(operation, state, status);
            }
            Err(error) => {
                result.status = Status::Error;
                result.message = format!("{} {}: {error}", request.method, request.url);
            }
        }
        result
    }

    /// Sends `request`, keeps it and its answer as the last request/response (and under the
    /// given fixture ids); the HTTP status.
    async fn exchange(
        &self,
        request: &PreparedRequest,
        state: &mut State<'_>,
        request_id: Option<&str>,
        response_id: Option<&str>,
    ) -> Result<u16, ConformanceError> {
        let sent = request_fixture(request);
        if let Some(id) = request_id {
            state.fixtures.insert(id.to_owned(), sent.clone());
        }
        state.last_request = Some(sent);
        let response = self.client.send(request).await?;
        let status = response.status.unwrap_or(0);
        if let Some(id) = response_id {
            state.fixtures.insert(id.to_owned(), response.clone());
        }
        state.last_response = Some(response);
        Ok(status)
    }

    /// After a successful write with a `sourceId`, that fixture names the written resource;
    /// after any answer carrying a resource for a `targetId`, its version is the one seen.
    fn record_ids(&self, operation: &Operation, state: &mut State<'_>, status: u16) {
        if !(200..300).contains(&status) {
            return;
        }
        let Some(response) = state.last_response.as_ref() else {
            return;
        };
        let from_body = response.resource.as_ref().and_then(resource_server_id);
        let from_location = response.header("location").and_then(parse_location);
        let written = from_location.clone().or_else(|| from_body.clone());
        let method = state
            .last_request
            .as_ref()
            .and_then(|request| request.method.clone())
            .unwrap_or_default();
        if let (Some(source_id), Some(written)) = (&operation.source_id, written) {
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") && written.res_type != "Bundle" {
                state.server_ids.insert(source_id.clone(), written);
            }
        }
        if let (Some(target_id), Some(found)) = (&operation.target_id, from_body.or(from_location))
        {
            if found.version.is_some()
                && state
                    .target(target_id)
                    .is_some_and(|target| target.id == found.id)
            {
                state.server_ids.insert(target_id.clone(), found);
            }
        }
    }

    async fn autocreate(&self, state: &mut State<'_>, fixture_id: &str) -> ActionResult {
        let operation = Operation {
            type_code: Some("create".to_owned()),
            label: Some(format!("autocreate {fixture_id}")),
            source_id: Some(fixture_id.to_owned()),
            ..Operation::default()
        };
        let mut result = self
            .operation(&operation, state, format!("fixture {fixture_id}"))
            .await;
        let status = last_status(state);
        if result.status == Status::Pass && !(200..300).contains(&status) {
            result.status = Status::Fail;
            result.message.push_str(" (autocreate needs a 2xx answer)");
        }
        result
    }

    /// Deletes what autocreate wrote; a fixture that was never written (autocreate failed) is
    /// left alone, so the run never deletes a resource it did not create.
    async fn autodelete(&self, state: &mut State<'_>, fixture_id: &str) -> ActionResult {
        if !state.server_ids.contains_key(fixture_id) {
            return ActionResult {
                location: format!("fixture {fixture_id}"),
                kind: "operation",
                title: format!("autodelete {fixture_id}"),
                status: Status::Skip,
                message: "not deleted: the fixture was never written to the server".to_owned(),
            };
        }
        let operation = Operation {
            type_code: Some("delete".to_owned()),
            label: Some(format!("autodelete {fixture_id}")),
            target_id: Some(fixture_id.to_owned()),
            ..Operation::default()
        };
        let mut result = self
            .operation(&operation, state, format!("fixture {fixture_id}"))
            .await;
        let status = last_status(state);
        if result.status == Status::Pass && !(200..300).contains(&status) {
            result.status = Status::Warning;
            result
                .message
                .push_str(" (autodelete was not acknowledged)");
        }
        result
    }
}

fn kind(action: &Action) -> &'static str {
    match action {
        Action::Operation(_) => "operation",
        Action::Assert(_) => "assert",
    }
}

fn title(action: &Action) -> String {
    match action {
        Action::Operation(operation) => operation.title(),
        Action::Assert(assert) => assert.title(),
    }
}

/// The TestScript files named by `paths`: files as given; folders searched recursively for
/// `*.json`/`*.xml` files that hold a TestScript (fixtures beside them are left out), sorted.
pub fn collect_scripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ConformanceError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut in_dir = Vec::new();
            walk(path, &mut in_dir, 0)?;
            in_dir.sort();
            found.extend(in_dir);
        } else if path.is_file() {
            found.push(path.clone());
        } else {
            return Err(ConformanceError::Io {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            });
        }
        if found.len() > MAX_SCRIPTS {
            return Err(ConformanceError::script(
                "files",
                format!("more than {MAX_SCRIPTS} TestScripts"),
            ));
        }
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, depth: usize) -> Result<(), ConformanceError> {
    if depth > 16 {
        return Ok(());
    }
    let io = |source| ConformanceError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, found, depth + 1)?;
        } else if is_test_script_file(&path) {
            found.push(path);
            if found.len() > MAX_SCRIPTS {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn is_test_script_file(path: &Path) -> bool {
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    if !matches!(extension.as_deref(), Some("json" | "xml")) {
        return false;
    }
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    if metadata.len() > MAX_BODY_BYTES as u64 {
        return false;
    }
    std::fs::read(path).is_ok_and(|bytes| {
        if extension.as_deref() == Some("xml") {
            return String::from_utf8_lossy(&bytes).contains("<TestScript");
        }
        serde_json::from_slice::<Value>(&bytes).is_ok_and(|value| {
            value.get("resourceType").and_then(Value::as_str) == Some("TestScript")
        })
    })
}

/// The HTTP status of the last response, 0 when there was none.
fn last_status(state: &State<'_>) -> u16 {
    state
        .last_response
        .as_ref()
        .and_then(|response| response.status)
        .unwrap_or(0)
}
