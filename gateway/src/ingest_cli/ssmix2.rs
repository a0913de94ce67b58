//! `--from ssmix2`: an SS-MIX2 standard-storage tree as a plan of steps for the engine. The
//! walk, the naming and layout checks and the version order are the adapter's
//! (`tsunagi_adapters::ssmix2`); this file reads each step's file and turns the adapter's
//! result into an engine [`Unit`].

use super::checkpoint::plan_digest;
use super::engine::{failed, ready, Unit, UnitOutcome};
use super::summary::FileIssue;
use std::path::{Path, PathBuf};
use tsunagi_adapters::hl7v2::Hl7Options;
use tsunagi_adapters::report::Report;
use tsunagi_adapters::ssmix2::{
    self, convert::marker_binary_id, is_converted, Condition, Plan, TreeLimits,
};
use tsunagi_adapters::SourceContext;

/// A planned SS-MIX2 tree.
pub struct Ssmix2Source {
    root: PathBuf,
    plan: Plan,
    context: SourceContext,
    options: Hl7Options,
    limits: TreeLimits,
    dry_run: bool,
}

impl Ssmix2Source {
    /// Walks and plans the tree under `root`; the walk's problems and the layout and version
    /// findings are returned as warnings.
    pub fn open(
        root: &Path,
        context: SourceContext,
        options: Hl7Options,
        dry_run: bool,
    ) -> Result<(Self, Vec<FileIssue>), String> {
        let limits = TreeLimits::default();
        let tree = ssmix2::walk(root, &limits).map_err(|error| error.to_string())?;
        let mut warnings: Vec<FileIssue> = Vec::new();
        let plan = ssmix2::plan(tree.files);
        for finding in tree
            .problems
            .into_iter()
            .chain(tree.layout)
            .chain(plan.findings.iter().cloned())
        {
            warnings.push(FileIssue {
                path: finding.path,
                location: String::new(),
                message: finding.message,
            });
        }
        Ok((
            Ssmix2Source {
                root: root.to_path_buf(),
                plan,
                context,
                options,
                limits,
                dry_run,
            },
            warnings,
        ))
    }

    /// Steps in the plan (one per file).
    pub fn steps(&self) -> usize {
        self.plan.steps.len()
    }

    /// The plan's digest for the checkpoint.
    pub fn digest(&self) -> String {
        plan_digest(
            self.plan
                .steps
                .iter()
                .map(|step| self.plan.files[step.file].path.as_str()),
        )
    }

    /// Reads and converts step `index`.
    pub fn convert(&self, index: usize) -> Vec<Unit> {
        let Some(step) = self.plan.steps.get(index) else {
            return Vec::new();
        };
        let file = &self.plan.files[step.file];
        let mut unit = Unit {
            step: index,
            path: file.path.clone(),
            label: file.name.data_type.clone(),
            record: Some(step.record),
            own_marker: None,
            newer_marker: None,
            deleted: file.name.condition == Condition::Deleted,
            outcome: UnitOutcome::NotMapped(Report::new()),
        };
        let bytes = match ssmix2::read_file(&self.root, &file.path, self.limits.max_file_bytes) {
            Ok(bytes) => bytes,
            Err(error) => {
                unit.outcome = failed("", format!("cannot read the file: {error}"));
                return vec![unit];
            }
        };
        if !is_converted(&file.name.data_type) {
            let report = ssmix2::check_unconverted(file, &bytes, &self.options);
            unit.outcome = UnitOutcome::NotMapped(report);
            return vec![unit];
        }
        if !step.is_newest() {
            let newest = &self.plan.files[step.newest];
            if let Ok(newest_bytes) =
                ssmix2::read_file(&self.root, &newest.path, self.limits.max_file_bytes)
            {
                unit.newer_marker = Some(marker_binary_id(
                    &newest_bytes,
                    newest.name.condition,
                    &self.context,
                ));
            }
        }
        let converted = ssmix2::convert_file(file, &bytes, &self.context, &self.options);
        unit.own_marker = Some(converted.marker_binary_id);
        unit.outcome = match converted.result {
            Err(error) => {
                let location = error
                    .location()
                    .map(|location| location.to_string())
                    .unwrap_or_default();
                failed(&location, error.to_string())
            }
            Ok(conversion) => ready(conversion, self.dry_run),
        };
        vec![unit]
    }
}
