//! `tsunagi validate FILE… [--profile URL]… [--packages DIR] [--format json|xml]`: validates
//! resource files offline with the same validator the server uses. Prints one line per issue,
//! `file:line:col: severity: expression: message` (`file: …` when the position is unknown),
//! then a summary. Exit 0 when no file has an error or fatal issue, 1 when one has, 2 on usage
//! errors (bad flags, packages that cannot be loaded).

use crate::cli::ValidateArgs;
use crate::validation::load_registry;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tsunagi_profiles::validate::{Outcome, Severity, ValidateOptions, Validator};
use tsunagi_profiles::Format;

/// Runs `tsunagi validate`.
pub fn run(args: &ValidateArgs) -> ExitCode {
    let registry = match load_registry(args.packages.as_deref()) {
        Ok(registry) => registry,
        Err(error) => {
            eprintln!("tsunagi validate: --packages: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(unknown) = args
        .profiles
        .iter()
        .find(|canonical| registry.structure_definition(canonical).is_none())
    {
        eprintln!("tsunagi validate: --profile: no StructureDefinition '{unknown}' in the R4 core or the packages");
        return ExitCode::from(2);
    }
    let validator = Validator::new(Arc::new(registry));
    let options = ValidateOptions {
        profiles: args.profiles.clone(),
        ..ValidateOptions::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut failed, mut errors, mut warnings) = (0usize, 0usize, 0usize);
    for file in &args.files {
        let shown = file.display().to_string();
        let format = match args.format.as_deref() {
            Some("xml") => Format::Xml,
            Some(_) => Format::Json,
            None => format_by_extension(file),
        };
        let outcome = match std::fs::read(file) {
            Ok(bytes) => validator.validate_bytes(&bytes, format, &options),
            Err(error) => {
                let _ = writeln!(out, "{shown}: fatal: cannot read the file: {error}");
                failed += 1;
                errors += 1;
                continue;
            }
        };
        let _ = write_issues(&mut out, &shown, &outcome);
        errors += outcome.error_count();
        warnings += outcome.with_severity(Severity::Warning).count();
        if !outcome.is_valid() {
            failed += 1;
        }
    }
    let files = args.files.len();
    let _ = writeln!(
        out,
        "{files} file(s): {} valid, {failed} with errors; {errors} error(s), {warnings} warning(s)",
        files - failed
    );
    let _ = out.flush();
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `.xml` is XML; every other file is read as JSON.
fn format_by_extension(file: &Path) -> Format {
    match file.extension().and_then(|ext| ext.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("xml") => Format::Xml,
        _ => Format::Json,
    }
}

/// One line per issue, in the compiler style editors jump from.
fn write_issues(out: &mut impl Write, file: &str, outcome: &Outcome) -> std::io::Result<()> {
    for issue in &outcome.issues {
        let place = match issue.position {
            Some((line, column)) => format!("{file}:{line}:{column}"),
            None => file.to_owned(),
        };
        let expression = if issue.expression.is_empty() {
            "(document)"
        } else {
            issue.expression.as_str()
        };
        let message = match &issue.source {
            Some(source) => format!("{} [{source}]", issue.message),
            None => issue.message.clone(),
        };
        writeln!(
            out,
            "{place}: {}: {expression}: {}",
            issue.severity.code(),
            message.replace(['\r', '\n'], " ")
        )?;
    }
    Ok(())
}
