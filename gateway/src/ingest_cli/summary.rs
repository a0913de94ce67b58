//! The final report of a bulk ingest: counts per data type and per resource type, every
//! warning and error with its file, and where the time went. Printed as text on stderr and
//! written as JSON with `--report FILE`.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Counts of one data type (SS-MIX2 folder) or source kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Messages found.
    pub messages: usize,
    /// Stored by this run.
    pub stored: usize,
    /// Already stored (their raw message was in the store): not written again.
    pub already_stored: usize,
    /// Older versions left out because a newer version of the record is stored.
    pub superseded_skipped: usize,
    /// Of a data type that is not converted.
    pub not_mapped: usize,
    /// Not stored because of an error.
    pub failed: usize,
    /// Versions with condition flag 0 (deleted) among those stored.
    pub deleted: usize,
}

/// One finding, with the file it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIssue {
    /// The file, relative to the source root.
    pub path: String,
    /// Where in the file (`PID[2]-3`), empty for the whole file.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// Everything a bulk ingest did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The source format (`ssmix2`, `hl7v2`).
    pub format: String,
    /// The source path.
    pub source: String,
    /// True when nothing was stored on purpose (`--dry-run`).
    pub dry_run: bool,
    /// Steps in the plan (one per message file or message).
    pub total_steps: usize,
    /// Steps left out because the checkpoint said they were done.
    pub resumed_from: usize,
    /// Steps processed by this run.
    pub processed: usize,
    /// True when the run stopped early (Ctrl-C or a stop point): resume with `--resume`.
    pub interrupted: bool,
    /// Store transactions committed.
    pub transactions: usize,
    /// Counts per data type.
    pub per_data_type: BTreeMap<String, TypeCounts>,
    /// Resources written (PUT) per resource type; unchanged ones write no new version.
    pub per_resource_type: BTreeMap<String, usize>,
    /// Warnings: conversion warnings, tree and naming problems, folder/message mismatches.
    pub warnings: Vec<FileIssue>,
    /// Errors: files not stored, with why.
    pub errors: Vec<FileIssue>,
    /// Issues the validator found in stored resources (`[validation]` mode `warn`).
    pub validation_issues: usize,
    /// Conversion findings of severity information (fields not mapped …), counted only.
    pub information: usize,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Time spent reading and converting, summed over the worker threads.
    pub convert_time: Duration,
    /// Time the store spent on transactions (and the already-stored checks).
    pub store_time: Duration,
}

impl Summary {
    /// The counts of `data_type`, created on first use.
    pub fn counts(&mut self, data_type: &str) -> &mut TypeCounts {
        self.per_data_type.entry(data_type.to_owned()).or_default()
    }

    /// Messages converted or stored per second of wall-clock time.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.processed as f64 / seconds
        } else {
            0.0
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let issues = |list: &[FileIssue]| -> Value {
            list.iter()
                .map(|issue| {
                    json!({"path": issue.path, "location": issue.location, "message": issue.message})
                })
                .collect()
        };
        let per_data_type: serde_json::Map<String, Value> = self
            .per_data_type
            .iter()
            .map(|(name, counts)| {
                (
                    name.clone(),
                    json!({
                        "messages": counts.messages,
                        "stored": counts.stored,
                        "alreadyStored": counts.already_stored,
                        "supersededSkipped": counts.superseded_skipped,
                        "notMapped": counts.not_mapped,
                        "failed": counts.failed,
                        "deleted": counts.deleted,
                    }),
                )
            })
            .collect();
        json!({
            "format": self.format,
            "source": self.source,
            "dryRun": self.dry_run,
            "totalSteps": self.total_steps,
            "resumedFrom": self.resumed_from,
            "processed": self.processed,
            "interrupted": self.interrupted,
            "transactions": self.transactions,
            "perDataType": per_data_type,
            "perResourceType": self.per_resource_type,
            "warnings": issues(&self.warnings),
            "errors": issues(&self.errors),
            "information": self.information,
            "validationIssues": self.validation_issues,
            "seconds": {
                "elapsed": self.elapsed.as_secs_f64(),
                "convert": self.convert_time.as_secs_f64(),
                "store": self.store_time.as_secs_f64(),
            },
            "messagesPerSecond": self.rate(),
        })
    }

    /// The report as text; at most `max_listed` warnings and errors are listed one by one.
    pub fn write_text(&self, out: &mut dyn Write, max_listed: usize) -> std::io::Result<()> {
        let verb = if self.dry_run { "checked" } else { "stored" };
        writeln!(
            out,
            "{} {}: {} of {} steps processed{}{} in {:.1} s ({:.0} messages/s), {} transactions",
            self.format,
            self.source,
            self.processed,
            self.total_steps,
            if self.resumed_from > 0 {
                format!(" (resumed at {})", self.resumed_from)
            } else {
                String::new()
            },
            if self.interrupted {
                ", INTERRUPTED"
            } else {
                ""
            },
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.transactions
        )?;
        writeln!(
            out,
            "  time: convert {:.1} s (summed over worker threads), store {:.1} s",
            self.convert_time.as_secs_f64(),
            self.store_time.as_secs_f64()
        )?;
        writeln!(
            out,
            "  {:<10} {:>8} {:>8} {:>8} {:>10} {:>10} {:>7} {:>7}",
            "data type",
            "messages",
            verb,
            "already",
            "superseded",
            "not mapped",
            "failed",
            "deleted"
        )?;
        for (name, c) in &self.per_data_type {
            writeln!(
                out,
                "  {:<10} {:>8} {:>8} {:>8} {:>10} {:>10} {:>7} {:>7}",
                name,
                c.messages,
                c.stored,
                c.already_stored,
                c.superseded_skipped,
                c.not_mapped,
                c.failed,
                c.deleted
            )?;
        }
        if !self.per_resource_type.is_empty() {
            let list: Vec<String> = self
                .per_resource_type
                .iter()
                .map(|(name, count)| format!("{name} {count}"))
                .collect();
            writeln!(out, "  resources written: {}", list.join(", "))?;
        }
        for (label, list) in [("error", &self.errors), ("warning", &self.warnings)] {
            writeln!(out, "  {} {label}s", list.len())?;
            for issue in list.iter().take(max_listed) {
                let location = if issue.location.is_empty() {
                    String::new()
                } else {
                    format!(" {}", issue.location)
                };
                writeln!(out, "    {}{location}: {}", issue.path, issue.message)?;
            }
            if list.len() > max_listed {
                writeln!(out, "    … {} more (see --report)", list.len() - max_listed)?;
            }
        }
        if self.validation_issues > 0 {
            writeln!(
                out,
                "  {} validation issues in stored resources (validation mode warn)",
                self.validation_issues
            )?;
        }
        writeln!(
            out,
            "  {} information findings (fields not mapped …)",
            self.information
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_carry_the_counts() {
        let mut summary = Summary {
            format: "ssmix2".into(),
            source: "tree".into(),
            total_steps: 3,
            processed: 3,
            elapsed: Duration::from_secs(1),
            ..Summary::default()
        };
        summary.counts("ADT-00").stored = 2;
        summary.counts("PPR-01").not_mapped = 1;
        summary.per_resource_type.insert("Patient".into(), 1);
        summary.errors.push(FileIssue {
            path: "a/b".into(),
            location: "MSH[1]-9".into(),
            message: "unsupported".into(),
        });
        let json = summary.to_json();
        assert_eq!(json["perDataType"]["ADT-00"]["stored"], 2);
        assert_eq!(json["perDataType"]["PPR-01"]["notMapped"], 1);
        assert_eq!(json["errors"][0]["location"], "MSH[1]-9");
        assert_eq!(json["messagesPerSecond"], 3.0);
        let mut text = Vec::new();
        summary.write_text(&mut text, 10).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("a/b MSH[1]-9: unsupported"), "{text}");
        assert!(text.contains("resources written: Patient 1"), "{text}");
    }
}
