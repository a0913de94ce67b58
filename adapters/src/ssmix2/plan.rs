//! The order in which the files of a tree are applied. One record (patient, care date, data
//! type, order number) can have several versions, told apart by their 17-digit timestamps: all
//! versions are applied oldest first, so the store ends with the newest as the current state
//! and the older ones in its history. All older versions come first, then all newest ones
//! (see [`plan`]), which keeps store batches large.

use super::file_name::{Condition, FileName};
use std::collections::BTreeMap;

/// One message file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Its path below the storage root, `/`-separated.
    pub path: String,
    /// Its parsed name.
    pub name: FileName,
}

/// One file to apply, with its place among the versions of its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index of the file in [`Plan::files`].
    pub file: usize,
    /// Index of its record (all versions of one record share it).
    pub record: usize,
    /// Index in [`Plan::files`] of the record's newest version.
    pub newest: usize,
}

impl Step {
    /// True when this is the record's newest version.
    pub fn is_newest(&self) -> bool {
        self.file == self.newest
    }
}

/// A finding about the versions of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFinding {
    /// The file it concerns.
    pub path: String,
    /// What is odd about it.
    pub message: String,
}

/// The files of a tree and the order to apply them in.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every file, sorted by path.
    pub files: Vec<StoredFile>,
    /// The order to apply them in: older versions, then newest versions; each by patient,
    /// then timestamp.
    pub steps: Vec<Step>,
    /// How many records (distinct patient, date, data type and order number) there are.
    pub records: usize,
    /// Odd version sets (a newest version flagged superseded, equal timestamps …).
    pub findings: Vec<PlanFinding>,
}

/// The key every version of one record shares.
type RecordKey = (String, Option<String>, String, String);

/// Orders `files` for applying.
pub fn plan(mut files: Vec<StoredFile>) -> Plan {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut records: BTreeMap<RecordKey, Vec<usize>> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let name = &file.name;
        records
            .entry((
                name.patient_id.clone(),
                name.care_date.clone(),
                name.data_type.clone(),
                name.order_number.clone(),
            ))
            .or_default()
            .push(index);
    }
    let mut findings = Vec::new();
    let mut steps = Vec::with_capacity(files.len());
    let record_count = records.len();
    for (record, versions) in records.into_values().enumerate() {
        let mut versions = versions;
        // Stable: equal timestamps stay in path order.
        versions.sort_by(|&a, &b| files[a].name.timestamp.cmp(&files[b].name.timestamp));
        let Some(&newest) = versions.last() else {
            continue;
        };
        for pair in versions.windows(2) {
            if files[pair[0]].name.timestamp == files[pair[1]].name.timestamp {
                findings.push(PlanFinding {
                    path: files[pair[1]].path.clone(),
                    message: format!(
                        "has the same timestamp as {}: applied after it (path order)",
                        files[pair[0]].path
                    ),
                });
            }
        }
        if files[newest].name.condition == Condition::Superseded {
            findings.push(PlanFinding {
                path: files[newest].path.clone(),
                message: "flagged superseded (2) but no newer version exists: applied as the \
                          current state"
                    .into(),
            });
        }
        for &older in &versions[..versions.len() - 1] {
            if files[older].name.condition == Condition::Current {
                findings.push(PlanFinding {
                    path: files[older].path.clone(),
                    message: format!(
                        "flagged current (1) but {} is newer: kept in history only",
                        files[newest].path
                    ),
                });
            }
        }
        steps.extend(versions.iter().map(|&file| Step {
            file,
            record,
            newest,
        }));
    }
    // Older versions first (they only need to reach history, before their newest versions),
    // then every newest version; each pass by patient, then timestamp. The last message of a
    // patient is always a newest version, so shared resources end as in timestamp order, and
    // each pass holds one version per record (almost always), so store batches stay large.
    steps.sort_by(|a, b| {
        let (x, y) = (&files[a.file], &files[b.file]);
        (
            a.is_newest(),
            &x.name.patient_id,
            &x.name.timestamp,
            &x.path,
        )
            .cmp(&(
                b.is_newest(),
                &y.name.patient_id,
                &y.name.timestamp,
                &y.path,
            ))
    });
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    Plan {
        files,
        steps,
        records: record_count,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> StoredFile {
        let name = FileName::parse(text).unwrap();
        StoredFile {
            path: name.storage_path(),
            name,
        }
    }

    #[test]
    fn older_versions_go_first_then_newest_by_patient_and_time() {
        let plan = plan(vec![
            file("1000001_-_ADT-00_999999999999999_20200301000000000_-_1"),
            file("1000001_-_ADT-00_999999999999999_20200101000000000_-_2"),
            file("1000001_20200201_OMG-01_000000000000001_20200201000000000_01_1"),
            file("0999999_-_ADT-00_999999999999999_20200501000000000_-_1"),
        ]);
        let order: Vec<&str> = plan
            .steps
            .iter()
            .map(|step| plan.files[step.file].name.timestamp.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "20200101000000000",
                "20200501000000000",
                "20200201000000000",
                "20200301000000000"
            ]
        );
        assert_eq!(plan.records, 3);
        let superseded = plan.steps[0];
        assert!(!superseded.is_newest());
        assert_eq!(
            plan.files[superseded.newest].name.timestamp,
            "20200301000000000"
        );
        assert_eq!(superseded.record, plan.steps[3].record);
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    }

    #[test]
    fn odd_flags_and_equal_timestamps_are_findings() {
        let plan = plan(vec![
            file("1000001_-_ADT-00_999999999999999_20200101000000000_-_1"),
            file("1000001_-_ADT-00_999999999999999_20200301000000000_-_2"),
            file("1000002_-_ADT-00_999999999999999_20200101000000000_01_1"),
            file("1000002_-_ADT-00_999999999999999_20200101000000000_02_1"),
        ]);
        let messages: Vec<&str> = plan.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(plan.findings.len(), 4, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("no newer version")));
        assert!(messages.iter().any(|m| m.contains("kept in history only")));
        assert!(messages.iter().any(|m| m.contains("same timestamp")));
    }
}
