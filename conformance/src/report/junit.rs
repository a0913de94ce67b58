//! JUnit XML in the shape CI systems read: `testsuites` (totals) → one `testsuite` per
//! TestScript → one `testcase` per test (plus setup/teardown when they failed), with
//! `failure`, `error` or `skipped` children.

use std::fmt::Write;

use crate::outcome::{PhaseResult, RunReport, Status};

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let totals = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tsunagi-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        totals.tests,
        totals.failures,
        totals.errors,
        totals.skipped,
        report.duration.as_secs_f64()
    );
    for script in &report.scripts {
        let counts = script.counts();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            escape(&script.name),
            counts.tests,
            counts.failures,
            counts.errors,
            counts.skipped,
            script.duration.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"source\" value=\"{}\"/><property name=\"server\" value=\"{}\"/></properties>",
            escape(&script.source),
            escape(&report.server)
        );
        if let Some(error) = &script.load_error {
            let _ = writeln!(
                out,
                "    <testcase name=\"load\" classname=\"{}\" time=\"0.000\">\n      <error message=\"{}\" type=\"load\"/>\n    </testcase>",
                escape(&script.name),
                escape(error)
            );
        }
        for case in script.cases() {
            write_case(&mut out, &script.name, case);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_case(out: &mut String, class: &str, case: &PhaseResult) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        escape(&case.name),
        escape(class),
        case.duration.as_secs_f64()
    );
    let details: String = case
        .actions
        .iter()
        .map(|action| {
            format!(
                "{} {} {} {}: {}\n",
                action.status.label(),
                action.location,
                action.kind,
                action.title,
                action.message
            )
        })
        .collect();
    match case.status {
        Status::Pass => out.push_str("/>\n"),
        Status::Warning => {
            let _ = write!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                escape(&details)
            );
        }
        Status::Skip => {
            let _ = write!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(case.skip_reason.as_deref().unwrap_or("skipped"))
            );
        }
        Status::Fail | Status::Error => {
            let element = if case.status == Status::Fail {
                "failure"
            } else {
                "error"
            };
            let first = case
                .failures()
                .next()
                .map(|action| format!("{}: {}", action.title, action.message))
                .unwrap_or_default();
            let _ =
                write!(
                out,
                ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>\n",
                escape(&first),
                if case.status == Status::Fail { "assert" } else { "operation" },
                escape(&details)
            );
        }
    }
}

/// Text safe inside XML attributes and elements (control characters other than tab and
/// newline, which XML 1.0 forbids, become spaces).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot; ");
    }
}
