//! Results: each action's status and message, grouped by setup / test / teardown and by
//! TestScript, with the counts reports and the exit status are made from.

use std::time::Duration;

/// What became of an action, a test or a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Everything held.
    Pass,
    /// Not run (failed setup, unsupported feature, other destination).
    Skip,
    /// A `warningOnly` assert did not hold.
    Warning,
    /// An assert did not hold.
    Fail,
    /// The action could not run (request not built or not answered, bad script).
    Error,
}

impl Status {
    /// Upper-case label for the live summary and reports.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Skip => "SKIP",
            Status::Warning => "WARN",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// One operation or assert.
#[derive(Debug, Clone)]
pub struct ActionResult {
    /// Where it is in the script (`test[0].action[3]`).
    pub location: String,
    /// `operation` or `assert`.
    pub kind: &'static str,
    /// Label or description.
    pub title: String,
    /// What happened.
    pub status: Status,
    /// Details: the request line for operations, what was expected and found for asserts.
    pub message: String,
}

/// Setup, one test, or teardown.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    /// `setup`, `teardown`, or the test's name.
    pub name: String,
    /// The test's id (or the phase name).
    pub id: String,
    /// The worst status of its actions (Warning and Skip rank below Fail).
    pub status: Status,
    /// Why it was skipped, when it was.
    pub skip_reason: Option<String>,
    /// Its actions.
    pub actions: Vec<ActionResult>,
    /// Wall time.
    pub duration: Duration,
}

impl PhaseResult {
    /// A phase with no actions run yet.
    pub fn new(name: &str, id: &str) -> PhaseResult {
        PhaseResult {
            name: name.to_owned(),
            id: id.to_owned(),
            status: Status::Pass,
            skip_reason: None,
            actions: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    /// A phase that did not run, and why.
    pub fn skipped(name: &str, id: &str, reason: &str) -> PhaseResult {
        PhaseResult {
            status: Status::Skip,
            skip_reason: Some(reason.to_owned()),
            ..PhaseResult::new(name, id)
        }
    }

    /// Adds an action and folds its status into the phase's.
    pub fn push(&mut self, action: ActionResult) {
        self.status = self.status.max(action.status);
        if action.status == Status::Skip && self.skip_reason.is_none() {
            self.skip_reason = Some(action.message.clone());
        }
        self.actions.push(action);
    }

    /// True when it failed or errored.
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error)
    }

    /// The actions that failed or errored.
    pub fn failures(&self) -> impl Iterator<Item = &ActionResult> {
        self.actions
            .iter()
            .filter(|action| matches!(action.status, Status::Fail | Status::Error))
    }
}

/// One TestScript's run.
#[derive(Debug, Clone)]
pub struct ScriptResult {
    /// The file it came from.
    pub source: String,
    /// `TestScript.name` (or the file name when it could not be read).
    pub name: String,
    /// Why the script could not run at all (unreadable, bad fixture).
    pub load_error: Option<String>,
    /// Setup (absent when the script has none).
    pub setup: Option<PhaseResult>,
    /// The tests.
    pub tests: Vec<PhaseResult>,
    /// Teardown, fixture autocreate/autodelete included (absent when there is nothing to do).
    pub teardown: Option<PhaseResult>,
    /// Wall time.
    pub duration: Duration,
}

impl ScriptResult {
    /// A script that could not run.
    pub fn load_failure(source: &str, name: &str, error: String) -> ScriptResult {
        ScriptResult {
            source: source.to_owned(),
            name: name.to_owned(),
            load_error: Some(error),
            setup: None,
            tests: Vec::new(),
            teardown: None,
            duration: Duration::ZERO,
        }
    }

    /// The reported test cases: setup when it failed, each test, teardown when it failed.
    pub fn cases(&self) -> Vec<&PhaseResult> {
        let mut cases = Vec::new();
        if let Some(setup) = self.setup.as_ref().filter(|setup| setup.failed()) {
            cases.push(setup);
        }
        cases.extend(self.tests.iter());
        if let Some(teardown) = self.teardown.as_ref().filter(|teardown| teardown.failed()) {
            cases.push(teardown);
        }
        cases
    }

    /// Counts over [`Self::cases`] (a load error counts as one error).
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        if self.load_error.is_some() {
            counts.tests += 1;
            counts.errors += 1;
        }
        for case in self.cases() {
            counts.add(case.status);
        }
        counts
    }
}

/// Test case counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// All cases.
    pub tests: usize,
    /// Passed (warnings included).
    pub passed: usize,
    /// Of those, with a failed `warningOnly` assert.
    pub warnings: usize,
    /// Failed asserts.
    pub failures: usize,
    /// Could not run.
    pub errors: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Pass => self.passed += 1,
            Status::Warning => {
                self.passed += 1;
                self.warnings += 1;
            }
            Status::Fail => self.failures += 1,
            Status::Error => self.errors += 1,
            Status::Skip => self.skipped += 1,
        }
    }

    fn merge(&mut self, other: Counts) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.warnings += other.warnings;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }
}

/// A whole run: every script against one server.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The server's base URL.
    pub server: String,
    /// The scripts, in the order they ran.
    pub scripts: Vec<ScriptResult>,
    /// Wall time.
    pub duration: Duration,
}

impl RunReport {
    /// Counts over every script.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for script in &self.scripts {
            counts.merge(script.counts());
        }
        counts
    }

    /// True when nothing failed or errored (skips and warnings allowed).
    pub fn succeeded(&self) -> bool {
        let counts = self.counts();
        counts.failures == 0 && counts.errors == 0
    }
}
