//! The Markdown report: totals, one table row per test case, and the failing actions with
//! what was expected and found.

use std::fmt::Write;

use crate::outcome::{RunReport, Status};

/// The report as Markdown.
pub fn render(report: &RunReport) -> String {
    let totals = report.counts();
    let mut out = String::from("# Conformance report\n\n");
    let _ = writeln!(out, "Server: `{}`  ", report.server);
    let _ = writeln!(
        out,
        "Result: **{}** — {} tests: {} passed ({} with warnings), {} failed, {} errors, {} skipped, in {:.1} s\n",
        if report.succeeded() { "PASS" } else { "FAIL" },
        totals.tests,
        totals.passed,
        totals.warnings,
        totals.failures,
        totals.errors,
        totals.skipped,
        report.duration.as_secs_f64()
    );
    out.push_str("| TestScript | Test | Result | Time | Note |\n|---|---|---|---|---|\n");
    for script in &report.scripts {
        if let Some(error) = &script.load_error {
            let _ = writeln!(
                out,
                "| {} | (load) | ERROR | | {} |",
                cell(&script.name),
                cell(error)
            );
        }
        for case in script.cases() {
            let note = match case.status {
                Status::Skip => case.skip_reason.clone().unwrap_or_default(),
                Status::Fail | Status::Error => case
                    .failures()
                    .next()
                    .map(|action| action.message.clone())
                    .unwrap_or_default(),
                Status::Warning => case
                    .actions
                    .iter()
                    .find(|action| action.status == Status::Warning)
                    .map(|action| action.message.clone())
                    .unwrap_or_default(),
                Status::Pass => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} ms | {} |",
                cell(&script.name),
                cell(&case.name),
                case.status.label(),
                case.duration.as_millis(),
                cell(&note)
            );
        }
    }
    let failing: Vec<_> = report
        .scripts
        .iter()
        .flat_map(|script| script.cases().into_iter().map(move |case| (script, case)))
        .filter(|(_, case)| case.failed())
        .collect();
    if !failing.is_empty() {
        out.push_str("\n## Failures\n");
        for (script, case) in failing {
            let _ = writeln!(
                out,
                "\n### {} › {}\n\nFile: `{}`\n",
                script.name, case.name, script.source
            );
            for action in &case.actions {
                let _ = writeln!(
                    out,
                    "- {} `{}` {} — {}: {}",
                    action.status.label(),
                    action.location,
                    action.kind,
                    action.title,
                    action.message
                );
            }
        }
    }
    out
}

/// Text safe inside a table cell: one line, pipes escaped, cut at 300 characters.
fn cell(text: &str) -> String {
    let one_line: String = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
    }
}
