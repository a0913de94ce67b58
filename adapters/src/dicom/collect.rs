//! Groups instances into series and studies as the files arrive, keeping only the summaries,
//! and notes what disagrees (a study whose files name different patients, an instance seen
//! twice). Order is stable: studies and series as first seen, then sorted by number and UID.

use super::dataset::DataSet;
use super::instance::{Instance, InstanceInfo, PatientInfo, SeriesInfo, StudyInfo};
use std::collections::{HashMap, HashSet};

/// One series and its instances.
#[derive(Debug, Clone)]
pub struct SeriesGroup {
    /// Series attributes (from its first instance).
    pub info: SeriesInfo,
    /// Its instances.
    pub instances: Vec<InstanceInfo>,
}

/// A report instance (SR or encapsulated document) kept whole.
#[derive(Debug, Clone)]
pub struct ReportInstance {
    /// The instance.
    pub instance: InstanceInfo,
    /// Its series.
    pub series_uid: String,
    /// Its data set.
    pub dataset: DataSet,
}

/// One study: patient, study attributes, series, reports.
#[derive(Debug, Clone)]
pub struct StudyGroup {
    /// Study attributes (from its first instance).
    pub info: StudyInfo,
    /// Patient attributes (from its first instance).
    pub patient: PatientInfo,
    /// Its series.
    pub series: Vec<SeriesGroup>,
    /// Its SR and encapsulated-document instances.
    pub reports: Vec<ReportInstance>,
    /// The file the study was first seen in.
    pub first_file: String,
}

impl StudyGroup {
    /// Number of instances over all series.
    pub fn instance_count(&self) -> usize {
        self.series
            .iter()
            .map(|series| series.instances.len())
            .sum()
    }
}

/// A finding about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNote {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub reason: String,
    /// What kind of finding it is.
    pub kind: NoteKind,
}

/// What a [`FileNote`] says about its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Left out: unreadable, not DICOM, missing, no study UID, a duplicate.
    Skipped,
    /// Used, but something in it disagrees with the rest of its study.
    Disagrees,
    /// On the media but not listed by its DICOMDIR (viewers, autorun files): not read.
    NotReferenced,
}

/// Study attributes the first file lacked, taken from a later file of the same study (an SR
/// often carries the placer order number the images leave out).
fn fill_absent(info: &mut StudyInfo, later: StudyInfo) {
    fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    fill(&mut info.date, later.date);
    fill(&mut info.time, later.time);
    fill(&mut info.timezone_offset, later.timezone_offset);
    fill(&mut info.accession, later.accession);
    fill(&mut info.accession_issuer, later.accession_issuer);
    fill(&mut info.description, later.description);
    fill(&mut info.referrer, later.referrer);
    fill(&mut info.study_id, later.study_id);
    fill(&mut info.reason_text, later.reason_text);
    fill(&mut info.placer_order, later.placer_order);
    fill(&mut info.institution, later.institution);
    if info.procedure_codes.is_empty() {
        info.procedure_codes = later.procedure_codes;
    }
    if info.reason_codes.is_empty() {
        info.reason_codes = later.reason_codes;
    }
}

/// The studies of one input, built incrementally.
#[derive(Debug, Default)]
pub struct Collector {
    studies: Vec<StudyGroup>,
    study_index: HashMap<String, usize>,
    series_index: HashMap<(usize, String), usize>,
    seen_instances: HashSet<String>,
    /// Findings, in the order files were read.
    pub notes: Vec<FileNote>,
    /// Files looked at, usable or not.
    pub files_scanned: usize,
}

impl Collector {
    /// Number of studies so far.
    pub fn study_count(&self) -> usize {
        self.studies.len()
    }

    /// Records a file that could not be used.
    pub fn skip(&mut self, file: String, reason: String) {
        self.files_scanned += 1;
        self.notes.push(FileNote {
            file,
            reason,
            kind: NoteKind::Skipped,
        });
    }

    /// Records a file the DICOMDIR does not list (not read, not counted as scanned).
    pub fn not_referenced(&mut self, file: String, reason: String) {
        self.notes.push(FileNote {
            file,
            reason,
            kind: NoteKind::NotReferenced,
        });
    }

    /// Adds one instance.
    pub fn add(&mut self, instance: Instance) {
        self.files_scanned += 1;
        let Instance {
            patient,
            study,
            series,
            instance,
            report,
        } = instance;
        if !self.seen_instances.insert(instance.uid.clone()) {
            self.notes.push(FileNote {
                reason: format!(
                    "SOP Instance UID {} was already read from another file: this copy is ignored",
                    instance.uid
                ),
                file: instance.file,
                kind: NoteKind::Skipped,
            });
            return;
        }
        let study_position = match self.study_index.get(&study.uid) {
            Some(position) => {
                let group = &mut self.studies[*position];
                fill_absent(&mut group.info, study);
                if group.patient.id != patient.id {
                    self.notes.push(FileNote {
                        file: instance.file.clone(),
                        reason: format!(
                            "its Patient ID {:?} differs from {:?} in {} for the same study: the study keeps the first",
                            patient.id.as_deref().unwrap_or(""),
                            group.patient.id.as_deref().unwrap_or(""),
                            group.first_file
                        ),
                        kind: NoteKind::Disagrees,
                    });
                }
                *position
            }
            None => {
                self.study_index
                    .insert(study.uid.clone(), self.studies.len());
                self.studies.push(StudyGroup {
                    info: study,
                    patient,
                    series: Vec::new(),
                    reports: Vec::new(),
                    first_file: instance.file.clone(),
                });
                self.studies.len() - 1
            }
        };
        let group = &mut self.studies[study_position];
        let key = (study_position, series.uid.clone());
        let series_position = match self.series_index.get(&key) {
            Some(position) => *position,
            None => {
                self.series_index.insert(key, group.series.len());
                group.series.push(SeriesGroup {
                    info: series.clone(),
                    instances: Vec::new(),
                });
                group.series.len() - 1
            }
        };
        if let Some(dataset) = report {
            group.reports.push(ReportInstance {
                instance: instance.clone(),
                series_uid: series.uid,
                dataset,
            });
        }
        group.series[series_position].instances.push(instance);
    }

    /// The studies, with series and instances in a stable order.
    pub fn finish(self) -> (Vec<StudyGroup>, Vec<FileNote>, usize) {
        let mut studies = self.studies;
        for study in &mut studies {
            study.series.sort_by(|a, b| {
                (a.info.number.unwrap_or(i64::MAX), &a.info.uid)
                    .cmp(&(b.info.number.unwrap_or(i64::MAX), &b.info.uid))
            });
            for series in &mut study.series {
                series.instances.sort_by(|a, b| {
                    (a.number.unwrap_or(i64::MAX), &a.uid)
                        .cmp(&(b.number.unwrap_or(i64::MAX), &b.uid))
                });
            }
        }
        (studies, self.notes, self.files_scanned)
    }
}
