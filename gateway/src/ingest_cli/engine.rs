//! The bulk-ingest pipeline, whatever the source format: worker threads read and convert the
//! plan's steps in chunks (any order), the calling thread takes the results back in plan order,
//! leaves out what is already stored, and writes the rest in batched store transactions
//! through `Gateway::ingest` (so links, validation and history are those of every other ingest
//! edge). After each committed batch the checkpoint moves on. A cancel flag (Ctrl-C) or a stop
//! point ends the run at the next chunk: the batch under way is dropped and the checkpoint
//! points at its first message; nothing is ever half stored.

use super::batch::{entries_of, Batch, Entry, Member};
use super::checkpoint::Checkpoint;
use super::summary::{FileIssue, Summary};
use crate::ingest::{checked_bundle, SourceFormat};
use crate::store::Store;
use crate::Gateway;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tsunagi_adapters::report::{Report, Severity};
use tsunagi_adapters::Conversion;

/// Steps a worker converts at a time.
const CHUNK: usize = 32;

/// One converted message, ready to be judged and stored.
#[derive(Debug)]
pub struct Unit {
    /// Its step in the plan.
    pub step: usize,
    /// Its file, relative to the source root.
    pub path: String,
    /// Its data type or source kind (the report's row).
    pub label: String,
    /// The record whose version it is (SS-MIX2), if any.
    pub record: Option<usize>,
    /// The Binary whose presence in the store means this message is applied.
    pub own_marker: Option<String>,
    /// The Binary whose presence means a newer version of the record is applied.
    pub newer_marker: Option<String>,
    /// True for a deleted version (condition flag 0).
    pub deleted: bool,
    /// What converting gave.
    pub outcome: UnitOutcome,
}

/// What converting one message gave.
#[derive(Debug)]
pub enum UnitOutcome {
    /// Converted: the Bundle's entries and the conversion report (no errors in it).
    Ready {
        /// The entries to store.
        entries: Vec<Entry>,
        /// Warnings and information about the message.
        report: Report,
    },
    /// Of a data type that is not converted; the report holds what checking the file found.
    NotMapped(Report),
    /// Not convertible: where and why.
    Failed {
        /// Where in the file.
        location: String,
        /// Why.
        message: String,
    },
}

/// How the pipeline runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Converting threads.
    pub workers: usize,
    /// Most messages per store transaction.
    pub batch_messages: usize,
    /// Most distinct entries per store transaction (the gateway's Bundle limit).
    pub max_entries: usize,
    /// First step to process (from a checkpoint).
    pub start: usize,
    /// Process at most this many steps, then stop as if interrupted (tests use it).
    pub stop_after: Option<usize>,
    /// Where the checkpoint goes, and its source and plan digest.
    pub checkpoint: Option<(PathBuf, Checkpoint)>,
}

/// Where converted messages go; `None` for a dry run.
pub struct Target<'a> {
    /// The gateway whose ingest stores each batch.
    pub gateway: &'a Gateway,
    /// Its store, for the already-stored checks.
    pub store: &'a Arc<dyn Store>,
    /// The runtime the store calls run on.
    pub runtime: &'a actix_web::rt::SystemRunner,
}

/// Called with the number of steps processed so far (progress display).
pub type ProgressFn<'a> = &'a mut dyn FnMut(usize);

/// Runs steps `options.start..total` (or fewer) of a plan whose step `i` converts with
/// `convert(i)`, storing into `target`, and adds what happened to `summary`.
pub fn run(
    total: usize,
    convert: &(dyn Fn(usize) -> Vec<Unit> + Sync),
    options: &EngineOptions,
    target: Option<&Target<'_>>,
    cancel: &AtomicBool,
    progress: ProgressFn<'_>,
    summary: &mut Summary,
) {
    let started = Instant::now();
    let start = options.start.min(total);
    let end = options
        .stop_after
        .map_or(total, |count| start.saturating_add(count).min(total));
    summary.total_steps = total;
    summary.resumed_from = start;
    let chunks = (end - start).div_ceil(CHUNK);
    let next_chunk = AtomicUsize::new(0);
    let released = AtomicUsize::new(0);
    let convert_nanos = AtomicU64::new(0);
    // Set when the calling thread stops taking results: workers end too.
    let finished = AtomicBool::new(false);
    let stopping = || cancel.load(Ordering::Relaxed) || finished.load(Ordering::Relaxed);
    let workers = options.workers.max(1);
    let window = 4 * workers;
    let (sender, receiver) = mpsc::sync_channel::<(usize, Vec<Unit>)>(2 * workers);
    let mut store = Storer {
        target,
        options,
        batch: Batch::default(),
        summary,
        store_time: Duration::ZERO,
        first_failed: None,
    };
    let mut done = start;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next_chunk, released, convert_nanos) = (&next_chunk, &released, &convert_nanos);
            let stopping = &stopping;
            scope.spawn(move || loop {
                let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                if chunk >= chunks {
                    break;
                }
                // Stay within a window of the chunk being stored: bounded memory.
                while chunk > released.load(Ordering::Acquire) + window {
                    if stopping() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                let clock = Instant::now();
                let first = start + chunk * CHUNK;
                let units: Vec<Unit> = (first..(first + CHUNK).min(end))
                    .flat_map(convert)
                    .collect();
                let nanos = u64::try_from(clock.elapsed().as_nanos()).unwrap_or(u64::MAX);
                convert_nanos.fetch_add(nanos, Ordering::Relaxed);
                if sender.send((chunk, units)).is_err() || stopping() {
                    break;
                }
            });
        }
        drop(sender);
        let mut waiting: BTreeMap<usize, Vec<Unit>> = BTreeMap::new();
        let mut expected = 0;
        while expected < chunks {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let Ok((chunk, units)) = receiver.recv() else {
                break;
            };
            waiting.insert(chunk, units);
            while let Some(units) = waiting.remove(&expected) {
                let last_step = (start + (expected + 1) * CHUNK).min(end);
                store.chunk(units);
                done = last_step;
                expected += 1;
                released.store(expected, Ordering::Release);
                progress(done - start);
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        // Unblock workers waiting to send or to be released, then let them finish.
        finished.store(true, Ordering::Relaxed);
        drop(receiver);
    });
    let done = if done < total {
        // Interrupted: the batch under way is dropped, not stored, and the checkpoint points at
        // its first message. The resumed run then forms exactly the batches an uninterrupted
        // run would have, so it leaves the same history, not just the same current state.
        let members = store.batch.take();
        members.first().map_or(done, |member| member.step.min(done))
    } else {
        store.flush();
        done
    };
    // A failed message is retried by the next run: the checkpoint stays before it.
    let done = store.first_failed.map_or(done, |step| step.min(done));
    store.save_checkpoint(done, total);
    let store_time = store.store_time;
    summary.processed += done - start;
    summary.interrupted = done < total;
    summary.elapsed += started.elapsed();
    summary.convert_time += Duration::from_nanos(convert_nanos.load(Ordering::Relaxed));
    summary.store_time += store_time;
}

/// Counts a report's information findings and lists its warnings (and errors) under `path`.
fn add_findings(summary: &mut Summary, path: &str, report: Report) {
    for entry in report.entries {
        match entry.severity {
            Severity::Information => summary.information += 1,
            Severity::Warning | Severity::Error => summary.warnings.push(FileIssue {
                path: path.to_owned(),
                location: entry.location,
                message: entry.message,
            }),
        }
    }
}

/// The calling thread's half: judging units in plan order and storing batches.
struct Storer<'a, 't> {
    target: Option<&'a Target<'t>>,
    options: &'a EngineOptions,
    batch: Batch,
    summary: &'a mut Summary,
    store_time: Duration,
    /// The first step whose message the store refused in this run.
    first_failed: Option<usize>,
}

impl Storer<'_, '_> {
    /// Judges one chunk's units, in order.
    fn chunk(&mut self, units: Vec<Unit>) {
        let stored = self.stored_markers(&units);
        for unit in units {
            self.unit(unit, &stored);
        }
    }

    /// Which of the units' markers are in the store (one read for the chunk).
    fn stored_markers(&mut self, units: &[Unit]) -> HashSet<String> {
        let Some(target) = self.target else {
            return HashSet::new();
        };
        let refs: Vec<(String, String)> = units
            .iter()
            .filter(|unit| matches!(unit.outcome, UnitOutcome::Ready { .. }))
            .flat_map(|unit| [&unit.own_marker, &unit.newer_marker])
            .flatten()
            .map(|id| ("Binary".to_owned(), id.clone()))
            .collect();
        if refs.is_empty() {
            return HashSet::new();
        }
        let clock = Instant::now();
        let found = target.runtime.block_on(target.store.read_many(&refs));
        self.store_time += clock.elapsed();
        match found {
            Ok(versions) => versions.into_iter().map(|version| version.id).collect(),
            // Unknown: store everything; a duplicate write of unchanged content is harmless.
            Err(_) => HashSet::new(),
        }
    }

    fn unit(&mut self, unit: Unit, stored: &HashSet<String>) {
        let summary = &mut *self.summary;
        summary.counts(&unit.label).messages += 1;
        match unit.outcome {
            UnitOutcome::NotMapped(report) => {
                summary.counts(&unit.label).not_mapped += 1;
                add_findings(summary, &unit.path, report);
            }
            UnitOutcome::Failed { location, message } => {
                summary.counts(&unit.label).failed += 1;
                summary.errors.push(FileIssue {
                    path: unit.path,
                    location,
                    message,
                });
            }
            UnitOutcome::Ready { entries, report } => {
                add_findings(summary, &unit.path, report);
                let is_stored =
                    |marker: &Option<String>| marker.as_ref().is_some_and(|id| stored.contains(id));
                if self.target.is_none() {
                    let counts = summary.counts(&unit.label);
                    counts.stored += 1;
                    counts.deleted += usize::from(unit.deleted);
                } else if is_stored(&unit.own_marker) {
                    summary.counts(&unit.label).already_stored += 1;
                } else if is_stored(&unit.newer_marker) {
                    summary.counts(&unit.label).superseded_skipped += 1;
                } else {
                    let member = Member {
                        step: unit.step,
                        record: unit.record,
                        label: unit.label,
                        path: unit.path,
                        deleted: unit.deleted,
                        entries,
                    };
                    if !self.batch.accepts(
                        &member,
                        self.options.batch_messages,
                        self.options.max_entries,
                    ) {
                        self.flush();
                        let done = self
                            .first_failed
                            .map_or(member.step, |s| s.min(member.step));
                        self.save_checkpoint(done, self.summary.total_steps);
                    }
                    self.batch.push(member);
                }
            }
        }
    }

    /// Stores the batch as one transaction; if it is refused, stores its messages one by one
    /// so the refusal lands on the file that caused it.
    fn flush(&mut self) {
        let Some(target) = self.target else {
            return;
        };
        if self.batch.is_empty() {
            return;
        }
        let members = self.batch.take();
        if self.store(target, &members).is_ok() {
            self.stored(&members);
            return;
        }
        for member in members {
            let single = std::slice::from_ref(&member);
            match self.store(target, single) {
                Ok(()) => self.stored(single),
                Err(message) => {
                    self.first_failed.get_or_insert(member.step);
                    self.summary.counts(&member.label).failed += 1;
                    self.summary.errors.push(FileIssue {
                        path: member.path.clone(),
                        location: String::new(),
                        message: format!("not stored: {message}"),
                    });
                }
            }
        }
    }

    fn store(&mut self, target: &Target<'_>, members: &[Member]) -> Result<(), String> {
        let conversion = Conversion {
            bundle_json: Batch::bundle_json(members),
            report: Report::new(),
            source_binary_id: None,
        };
        let clock = Instant::now();
        let result = target
            .runtime
            .block_on(target.gateway.ingest(&conversion, SourceFormat::Hl7v2));
        self.store_time += clock.elapsed();
        let ingested = result.map_err(|error| error.to_string())?;
        self.summary.validation_issues += ingested.validation.len();
        Ok(())
    }

    fn stored(&mut self, members: &[Member]) {
        self.summary.transactions += 1;
        for member in members {
            let counts = self.summary.counts(&member.label);
            counts.stored += 1;
            counts.deleted += usize::from(member.deleted);
        }
        for (resource_type, count) in Batch::written_types(members) {
            *self
                .summary
                .per_resource_type
                .entry(resource_type)
                .or_insert(0) += count;
        }
    }

    fn save_checkpoint(&mut self, done: usize, total: usize) {
        if self.target.is_none() {
            return;
        }
        let Some((path, template)) = &self.options.checkpoint else {
            return;
        };
        let checkpoint = Checkpoint {
            done,
            total,
            ..template.clone()
        };
        if let Err(message) = checkpoint.save(path) {
            self.summary.warnings.push(FileIssue {
                path: path.display().to_string(),
                location: String::new(),
                message: format!("checkpoint not written: {message}"),
            });
        }
    }
}

/// A failed outcome at `location` (empty for the whole file).
pub fn failed(location: &str, message: String) -> UnitOutcome {
    UnitOutcome::Failed {
        location: location.to_owned(),
        message,
    }
}

/// A conversion as an engine outcome: refused when its report has errors; in a dry run the
/// Bundle also gets the R4 model check the store would give it.
pub fn ready(conversion: tsunagi_adapters::Conversion, dry_run: bool) -> UnitOutcome {
    if dry_run {
        if let Err(error) = checked_bundle(&conversion) {
            return failed("", error.to_string());
        }
    } else if let Some(first) = conversion
        .report
        .entries
        .iter()
        .find(|entry| entry.severity == tsunagi_adapters::report::Severity::Error)
    {
        return failed(&first.location, format!("not stored: {}", first.message));
    }
    match entries_of(&conversion.bundle_json) {
        Ok(entries) => UnitOutcome::Ready {
            entries,
            report: conversion.report,
        },
        Err(message) => failed("", message),
    }
}
