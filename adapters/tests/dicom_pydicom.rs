//! Every DICOM file pydicom ships (its `test_files` and `charset_files`) and every generated
//! test file, read by pydicom and by us: for each file pydicom reads, our ImagingStudy and
//! Patient must carry the same UIDs, counts, modality, date, patient id, sex, birth date and
//! decoded name groups; for each DICOMDIR, every listed file must be read or named in the
//! report. The only files allowed to differ are the ones cut short inside their header:
//! pydicom returns what it read before the cut, we refuse the file and say why.

mod common;

use common::files_under;
use common::pydicom::{pydicom_charset_files, pydicom_facts, pydicom_test_files};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tsunagi_adapters::dicom::{convert_path, DicomConversion, DicomOptions};
use tsunagi_adapters::SourceContext;

fn ctx() -> SourceContext {
    SourceContext::new("pydicom-comparison", "+09:00")
}

fn all_files() -> Option<Vec<PathBuf>> {
    let mut files = files_under(&pydicom_test_files()?);
    files.extend(files_under(&pydicom_charset_files()?));
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    files.extend(files_under(&ours).into_iter().filter(|file| {
        !matches!(
            file.extension().and_then(|ext| ext.to_str()),
            Some("py" | "md")
        )
    }));
    Some(files)
}

fn resource<'a>(bundle: &'a Value, res_type: &str) -> Option<&'a Value> {
    bundle["entry"]
        .as_array()?
        .iter()
        .map(|entry| &entry["resource"])
        .find(|resource| resource["resourceType"] == res_type)
}

/// A HumanName as DICOM writes the group: `family^given^middle^prefix^suffix`.
fn dicom_group(name: &Value) -> String {
    let given = name["given"].as_array().cloned().unwrap_or_default();
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_owned();
    let parts = [
        text(name.get("family")),
        text(given.first()),
        text(given.get(1)),
        text(name["prefix"].get(0)),
        text(name["suffix"].get(0)),
    ];
    let used = parts
        .iter()
        .rposition(|p| !p.is_empty())
        .map_or(0, |i| i + 1);
    parts[..used].join("^")
}

/// Our name groups keyed like pydicom's.
fn our_groups(patient: &Value) -> Vec<(String, String)> {
    let names = patient["name"].as_array().cloned().unwrap_or_default();
    names
        .iter()
        .map(|name| {
            let group = match name["extension"][0]["valueCode"].as_str() {
                Some("IDE") => "ideographic",
                Some("SYL") => "phonetic",
                _ => "alphabetic",
            };
            (group.to_owned(), dicom_group(name))
        })
        .collect()
}

fn compare(file: &Path, facts: &Value, ours: &DicomConversion, differences: &mut Vec<String>) {
    let shown = file.display();
    let mut differ = |what: &str, theirs: &dyn std::fmt::Debug, ours: &dyn std::fmt::Debug| {
        differences.push(format!(
            "{shown}: {what}: pydicom {theirs:?}, ours {ours:?}"
        ));
    };
    let bundle = ours.conversion.bundle();
    if facts["ok"] != true {
        if ours.summary.studies != 0 {
            differ("readable", &facts["error"], &"a study");
        }
        return;
    }
    if facts["is_dicomdir"] == true {
        let listed = facts["referenced_files"].as_array().map_or(0, Vec::len);
        let accounted = ours.summary.instances + ours.summary.files_skipped;
        if accounted < listed {
            differ("DICOMDIR files read or reported", &listed, &accounted);
        }
        return;
    }
    let keys = [
        "study_uid",
        "series_uid",
        "sop_instance_uid",
        "sop_class_uid",
    ];
    if keys
        .iter()
        .any(|key| facts[*key].as_str().unwrap_or("").is_empty())
    {
        if ours.summary.studies != 0 {
            differ(
                "a study without its UIDs",
                &facts["study_uid"],
                &ours.summary.studies,
            );
        }
        return;
    }
    let Some(study) = resource(&bundle, "ImagingStudy") else {
        differ(
            "ImagingStudy",
            &facts["study_uid"],
            &ours.conversion.report.entries,
        );
        return;
    };
    let study_uid = format!("urn:oid:{}", facts["study_uid"].as_str().unwrap_or(""));
    if study["identifier"][0]["value"] != study_uid.as_str() {
        differ("study UID", &study_uid, &study["identifier"][0]["value"]);
    }
    if study["numberOfSeries"] != 1 || study["numberOfInstances"] != 1 {
        differ(
            "counts 1/1",
            &1,
            &(&study["numberOfSeries"], &study["numberOfInstances"]),
        );
    }
    let series = &study["series"][0];
    if series["uid"] != facts["series_uid"] {
        differ("series UID", &facts["series_uid"], &series["uid"]);
    }
    let instance = &series["instance"][0];
    if instance["uid"] != facts["sop_instance_uid"] {
        differ(
            "SOP instance UID",
            &facts["sop_instance_uid"],
            &instance["uid"],
        );
    }
    let sop_class = format!("urn:oid:{}", facts["sop_class_uid"].as_str().unwrap_or(""));
    if instance["sopClass"]["code"] != sop_class.as_str() {
        differ("SOP class", &sop_class, &instance["sopClass"]["code"]);
    }
    if let Some(modality) = facts["modality"].as_str().filter(|m| !m.is_empty()) {
        if series["modality"]["code"] != modality {
            differ("modality", &modality, &series["modality"]["code"]);
        }
    }
    if let Some(number) = facts["instance_number"]
        .as_str()
        .and_then(|n| n.trim().parse::<i64>().ok())
    {
        if number >= 0 && instance["number"] != number {
            differ("instance number", &number, &instance["number"]);
        }
    }
    // ACR-NEMA's `YYYY.MM.DD` is read as the date it is.
    let date = facts["study_date"].as_str().unwrap_or("").replace('.', "");
    let expected_date = (date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]));
    let started = study["started"]
        .as_str()
        .map(|s| s.get(..10).unwrap_or(s).to_owned());
    if expected_date != started {
        differ("study date", &expected_date, &started);
    }
    let Some(patient) = resource(&bundle, "Patient") else {
        differ("Patient", &facts["patient_id"], &"none");
        return;
    };
    if let Some(id) = facts["patient_id"]
        .as_str()
        .filter(|id| !id.trim().is_empty())
    {
        if patient["identifier"][0]["value"] != id.trim() {
            differ("patient id", &id, &patient["identifier"][0]["value"]);
        }
    }
    let sex = facts["sex"].as_str().unwrap_or("").trim().to_owned();
    let gender = match sex.as_str() {
        "M" => Some("male"),
        "F" => Some("female"),
        "O" => Some("other"),
        "" => None,
        _ => Some("unknown"),
    };
    if patient["gender"].as_str() != gender {
        differ("sex", &sex, &patient["gender"]);
    }
    let birth = facts["birth_date"].as_str().unwrap_or("");
    if birth.len() == 8 && birth.bytes().all(|b| b.is_ascii_digit()) {
        let expected = format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]);
        if patient["birthDate"] != expected.as_str() {
            differ("birth date", &expected, &patient["birthDate"]);
        }
    }
    let theirs: Vec<(String, String)> = ["alphabetic", "ideographic", "phonetic"]
        .iter()
        .filter_map(|group| {
            let text = facts["patient_name_groups"][*group].as_str()?;
            let text = text.trim_end_matches(['^', ' ']);
            (!text.is_empty()).then(|| ((*group).to_owned(), text.to_owned()))
        })
        .collect();
    let ours_groups = our_groups(patient);
    if theirs != ours_groups {
        differ("name groups", &theirs, &ours_groups);
    }
}

#[test]
fn what_we_read_equals_what_pydicom_reads() {
    let Some(files) = all_files() else {
        return;
    };
    assert!(
        files.len() > 150,
        "the wheel's files are there: {}",
        files.len()
    );
    let facts = pydicom_facts(&files);
    let mut differences = Vec::new();
    let mut compared = 0;
    let mut truncated = Vec::new();
    for (file, facts) in files.iter().zip(&facts) {
        let ours = convert_path(file, &ctx(), &DicomOptions::default(), &mut |_| {})
            .expect("one file scans");
        let cut_short = ours
            .conversion
            .report
            .entries
            .iter()
            .any(|entry| entry.message.contains("ends inside its header"));
        if cut_short && facts["ok"] == true && ours.summary.studies == 0 {
            truncated.push(file.display().to_string());
            continue;
        }
        if facts["ok"] == true && facts["is_dicomdir"] != true {
            compared += 1;
        }
        compare(file, facts, &ours, &mut differences);
    }
    eprintln!(
        "compared {compared} files with pydicom; refused as truncated where pydicom reads a part: {truncated:?}"
    );
    assert!(compared > 100, "most files compared: {compared}");
    assert!(
        truncated
            .iter()
            .all(|file| file.contains("truncated") || file.contains("cd-broken")),
        "only the files cut on purpose may be refused as truncated: {truncated:?}"
    );
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
