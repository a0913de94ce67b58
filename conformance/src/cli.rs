//! `tsunagi-conformance run --server URL SUITE_DIR_OR_FILES… [--junit FILE] [--markdown FILE]
//! [--header K:V]… [--timeout S] [--fixtures DIR]… [--var NAME=VALUE]… [--package PATH]…`:
//! a live line per test, a summary, the reports, exit 1 on any failure or error.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use tsunagi_profiles::package::Registry;
use tsunagi_profiles::validate::Validator;

use crate::engine::{collect_scripts, Engine, EngineOptions};
use crate::outcome::{PhaseResult, RunReport, Status};
use crate::report;

/// Runs FHIR R4 TestScripts against any FHIR server and reports the results.
#[derive(Debug, Parser)]
#[command(name = "tsunagi-conformance", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run TestScripts (files, or folders searched for them) against a server.
    Run(RunArgs),
}

/// `run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The server's FHIR base URL, e.g. http://127.0.0.1:8080/fhir.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// TestScript files, or folders holding them (searched recursively).
    #[arg(required = true, value_name = "SUITE_DIR_OR_FILES")]
    pub paths: Vec<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown report here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// A header sent with every request, `Name: value` (repeatable), e.g. an Authorization.
    #[arg(long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// Seconds before a request is given up.
    #[arg(long, value_name = "S", default_value_t = 30)]
    pub timeout: u64,
    /// A folder where `Type/id` fixture references are found as `Type-id.json` (repeatable).
    #[arg(long = "fixtures", value_name = "DIR")]
    pub fixture_dirs: Vec<PathBuf>,
    /// A variable value, `NAME=VALUE` (repeatable); wins over the script's own.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub variables: Vec<String>,
    /// A FHIR package (.tgz or folder) whose profiles validateProfileId may name (repeatable).
    #[arg(long = "package", value_name = "PATH")]
    pub packages: Vec<PathBuf>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match run(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("tsunagi-conformance: {message}");
                ExitCode::from(2)
            }
        },
    }
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    if !args.server.starts_with("http://") {
        return Err(format!(
            "--server {}: not an http:// URL (this runner speaks plain HTTP; reach https \
             servers through a TLS-terminating proxy)",
            args.server
        ));
    }
    let headers = args
        .headers
        .iter()
        .map(|header| {
            header
                .split_once(':')
                .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
                .filter(|(name, _)| !name.is_empty())
                .ok_or_else(|| format!("--header {header:?}: expected Name: value"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let variables = args
        .variables
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .ok_or_else(|| format!("--var {pair:?}: expected NAME=VALUE"))
        })
        .collect::<Result<HashMap<_, _>, String>>()?;
    let mut registry = Registry::new();
    for package in &args.packages {
        registry
            .load_package(package)
            .map_err(|error| format!("--package {}: {error}", package.display()))?;
    }
    let validator = Arc::new(Validator::new(Arc::new(registry)));
    let files = collect_scripts(&args.paths).map_err(|error| error.to_string())?;
    if files.is_empty() {
        return Err("no TestScript found in the given paths".to_owned());
    }
    let options = EngineOptions {
        base: args.server.clone(),
        headers,
        fixture_dirs: args.fixture_dirs.clone(),
        variables,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let engine = Engine::new(options, validator)
        .map_err(|error| error.to_string())?
        .with_progress(Box::new(print_case));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    let started = Instant::now();
    let mut scripts = Vec::new();
    for file in &files {
        let result = runtime.block_on(engine.run_file(file));
        if let Some(error) = &result.load_error {
            println!("ERROR {} ({}): {error}", result.name, result.source);
        }
        scripts.push(result);
    }
    let report = RunReport {
        server: engine.base().to_owned(),
        scripts,
        duration: started.elapsed(),
    };
    let counts = report.counts();
    println!(
        "\n{} — {} tests: {} passed ({} with warnings), {} failed, {} errors, {} skipped in {:.2} s",
        if report.succeeded() { "PASS" } else { "FAIL" },
        counts.tests,
        counts.passed,
        counts.warnings,
        counts.failures,
        counts.errors,
        counts.skipped,
        report.duration.as_secs_f64()
    );
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit::render(&report))
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, report::markdown::render(&report))
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line per test case as it finishes, with its failing and warning actions under it.
fn print_case(script: &str, case: &PhaseResult) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let reason = case
        .skip_reason
        .as_ref()
        .filter(|_| case.status == Status::Skip)
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{:<5} {script} › {} ({} ms){reason}",
        case.status.label(),
        case.name,
        case.duration.as_millis()
    );
    for action in &case.actions {
        if matches!(
            action.status,
            Status::Fail | Status::Error | Status::Warning
        ) {
            let _ = writeln!(
                out,
                "        {} {} {}: {}",
                action.status.label(),
                action.location,
                action.title,
                action.message
            );
        }
    }
    let _ = out.flush();
}
