//! The DICOM test media in `tests/data/dicom/` and pydicom's own samples, as pydicom reads
//! them. Pins the values the DICOM adapter's tests rely on (see tests/data/dicom/README.md)
//! and checks that `generate.py` still reproduces the committed bytes.

mod common;

use common::files_under;
use common::pydicom::{pydicom_charset_files, pydicom_facts, pydicom_root, pydicom_test_files};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const CD_STUDY_UID: &str = "2.25.242931351433840856749954237589344604421";

fn dicom_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom")
}

/// pydicom's facts of every file under `folder`, keyed by the path relative to it.
fn facts_under(folder: &Path) -> Vec<(String, Value)> {
    let files = files_under(folder);
    let facts = pydicom_facts(&files);
    files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(folder).expect("under the folder");
            relative.to_string_lossy().replace('\\', "/")
        })
        .zip(facts)
        .collect()
}

fn fact<'a>(facts: &'a [(String, Value)], relative: &str) -> &'a Value {
    facts
        .iter()
        .find(|(path, _)| path == relative)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no file {relative}"))
}

#[test]
fn pydicom_wheel_ships_the_japanese_and_dicomdir_samples() {
    let (Some(test_files), Some(charset_files)) = (pydicom_test_files(), pydicom_charset_files())
    else {
        return;
    };
    let japanese = [
        "chrH31.dcm",
        "chrH32.dcm",
        "chrJapMulti.dcm",
        "chrJapMultiExplicitIR6.dcm",
    ];
    for name in japanese {
        assert!(charset_files.join(name).is_file(), "{name} is in the wheel");
    }
    for name in [
        "dicomdirtests/DICOMDIR",
        "dicomdirtests/DICOMDIR-implicit",
        "dicomdirtests/DICOMDIR-bigEnd",
        "dicomdirtests/TINY_ALPHA/DICOMDIR",
        "CT_small.dcm",
        "MR_small_bigendian.dcm",
    ] {
        assert!(test_files.join(name).is_file(), "{name} is in the wheel");
    }

    let files: Vec<PathBuf> = japanese
        .iter()
        .map(|name| charset_files.join(name))
        .collect();
    let facts = pydicom_facts(&files);
    let names: Vec<Option<&str>> = facts
        .iter()
        .map(|facts| facts["patient_name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            Some("Yamada^Tarou=山田^太郎=やまだ^たろう"),
            Some("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
            Some("やまだ^たろう"),
            Some("やまだ^たろう"),
        ]
    );
}

#[test]
fn cd_ct_as_pydicom_reads_it() {
    if pydicom_root().is_none() {
        return;
    }
    let facts = facts_under(&dicom_data().join("cd-ct"));

    let dicomdir = fact(&facts, "DICOMDIR");
    assert_eq!(dicomdir["ok"], true);
    assert_eq!(dicomdir["is_dicomdir"], true);
    let referenced = dicomdir["referenced_files"].as_array().expect("a list");
    let on_disc: Vec<&str> = facts
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| path.starts_with("DICOM/"))
        .collect();
    assert_eq!(referenced.len(), 8);
    for file in referenced {
        let file = file.as_str().expect("a string");
        assert!(on_disc.contains(&file), "{file} is on the disc");
        assert!(file.split('/').all(|part| part.len() <= 8
            && part
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')));
    }

    for relative in ["AUTORUN.INF", "VIEWER/README.TXT"] {
        assert_eq!(
            fact(&facts, relative)["ok"],
            false,
            "{relative} is not DICOM"
        );
    }

    // (file, modality, series number, instance number, series description)
    let instances = [
        ("SE000000/IM000000", "CT", "1", "1", "Scout"),
        ("SE000001/IM000000", "CT", "2", "1", "胸部 Axial 5.0"),
        ("SE000001/IM000001", "CT", "2", "2", "胸部 Axial 5.0"),
        ("SE000001/IM000002", "CT", "2", "3", "胸部 Axial 5.0"),
        ("SE000002/IM000000", "CT", "3", "1", "Coronal MPR 3.0"),
        ("SE000002/IM000001", "CT", "3", "2", "Coronal MPR 3.0"),
        ("SE000003/SR000000", "SR", "90", "1", "読影レポート"),
        ("SE000004/ED000000", "DOC", "91", "1", "読影レポート PDF"),
    ];
    for (file, modality, series_number, instance_number, series_description) in instances {
        let found = fact(&facts, &format!("DICOM/PT000000/ST000000/{file}"));
        assert_eq!(found["ok"], true, "{file}: {}", found["error"]);
        let expected = json!({
            "study_uid": CD_STUDY_UID,
            "modality": modality,
            "study_date": "20261102",
            "study_time": "101500",
            "series_number": series_number,
            "instance_number": instance_number,
            "accession": "ACC20261102001",
            "patient_id": "TK-000417",
            "issuer_of_patient_id": "TSUNAGI-HOSP",
            "patient_name": "Kawase^Hanako=川瀬^花子=かわせ^はなこ",
            "patient_name_groups": {
                "alphabetic": "Kawase^Hanako",
                "ideographic": "川瀬^花子",
                "phonetic": "かわせ^はなこ"
            },
            "birth_date": "19780315",
            "sex": "F",
            "study_description": "CT 胸部単純",
            "series_description": series_description,
            "is_dicomdir": false,
        });
        for (key, value) in expected.as_object().expect("an object") {
            assert_eq!(&found[key], value, "{file}: {key}");
        }
    }
    let series_of =
        |file: &str| fact(&facts, &format!("DICOM/PT000000/ST000000/{file}"))["series_uid"].clone();
    assert_eq!(
        series_of("SE000000/IM000000"),
        "2.25.208166729619493770510090855618625147481"
    );
    assert_eq!(
        series_of("SE000001/IM000000"),
        "2.25.241490884515139204286243696524922278032"
    );
    assert_eq!(
        series_of("SE000002/IM000000"),
        "2.25.240393322717250966426317519217889053249"
    );
}

#[test]
fn cd_broken_as_pydicom_reads_it() {
    if pydicom_root().is_none() {
        return;
    }
    let facts = facts_under(&dicom_data().join("cd-broken"));
    let series = "DICOM/PT000000/ST000000/SE000000";

    assert_eq!(
        fact(&facts, "DICOMDIR")["referenced_files"],
        json!([
            format!("{series}/IM000000"),
            format!("{series}/IM000001"),
            format!("{series}/IM000002")
        ])
    );
    assert_eq!(
        fact(&facts, &format!("{series}/IM000000"))["patient_id"],
        "TK-000902"
    );
    assert!(facts
        .iter()
        .all(|(path, _)| path != &format!("{series}/IM000001")));
    // pydicom does not notice that IM000002 ends inside Patient's Name: it returns what it
    // read up to the end of the file. Our adapter must report it instead.
    let truncated = fact(&facts, &format!("{series}/IM000002"));
    assert_eq!(truncated["ok"], true);
    assert_eq!(truncated["patient_name"], "Mori");
    assert_eq!(truncated["patient_id"], Value::Null);
    let random = fact(&facts, &format!("{series}/IM000003"));
    assert_eq!(random["ok"], false);
    assert!(random["error"]
        .as_str()
        .is_some_and(|error| error.starts_with("InvalidDicomError")));
}

#[test]
fn single_files_as_pydicom_reads_them() {
    if pydicom_root().is_none() {
        return;
    }
    let facts = facts_under(&dicom_data().join("single"));
    let expected = [
        ("ct_explicit_be.dcm", "TK-000744", "Núñez^Sofía"),
        (
            "ct_implicit_le.dcm",
            "TK-000633",
            "ｻｲﾄｳ^ｲﾁﾛｳ=斎藤^一郎=さいとう^いちろう",
        ),
        (
            "mr_utf8.dcm",
            "TK-000521",
            "Müller-Tanaka^Léa=田中^玲亜=たなか^れあ",
        ),
        (
            "us_abdomen.dcm",
            "TK-000417",
            "Kawase^Hanako=川瀬^花子=かわせ^はなこ",
        ),
    ];
    assert_eq!(facts.len(), expected.len());
    for (file, patient_id, patient_name) in expected {
        let found = fact(&facts, file);
        assert_eq!(found["ok"], true, "{file}: {}", found["error"]);
        assert_eq!(found["patient_id"], patient_id, "{file}");
        assert_eq!(found["patient_name"], patient_name, "{file}");
    }

    // The ultrasound is a second study of the cd-ct patient, for referrals that carry both.
    let ultrasound = fact(&facts, "us_abdomen.dcm");
    let expected = json!({
        "study_uid": "2.25.185461312799101364546947207976518446220",
        "series_uid": "2.25.200147534439090845451976323980184240477",
        "sop_instance_uid": "2.25.201385860015292988000494220516280260180",
        "sop_class_uid": "1.2.840.10008.5.1.4.1.1.6.1",
        "modality": "US",
        "study_date": "20261103",
        "study_time": "091000",
        "series_number": "1",
        "instance_number": "1",
        "accession": "ACC20261103002",
        "issuer_of_patient_id": "TSUNAGI-HOSP",
        "patient_name_groups": {
            "alphabetic": "Kawase^Hanako",
            "ideographic": "川瀬^花子",
            "phonetic": "かわせ^はなこ"
        },
        "birth_date": "19780315",
        "sex": "F",
        "study_description": "腹部超音波",
        "series_description": "Abdomen",
        "body_part": "ABDOMEN",
    });
    for (key, value) in expected.as_object().expect("an object") {
        assert_eq!(&ultrasound[key], value, "us_abdomen.dcm: {key}");
    }
    assert_ne!(ultrasound["study_uid"], CD_STUDY_UID);
}

#[test]
fn generate_py_reproduces_the_committed_media() {
    let Some(root) = pydicom_root() else {
        return;
    };
    let out = std::env::temp_dir().join(format!("tsunagi-dicom-generate-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("temp folder");
    let status = Command::new("python3")
        .arg(dicom_data().join("generate.py"))
        .arg("--out")
        .arg(&out)
        .env("PYTHONPATH", &root)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "generate.py failed");
    for folder in ["cd-ct", "cd-broken", "single"] {
        let committed = files_under(&dicom_data().join(folder));
        let generated = files_under(&out.join(folder));
        let relative = |files: &[PathBuf], base: &Path| -> Vec<PathBuf> {
            files
                .iter()
                .map(|file| file.strip_prefix(base).unwrap().to_path_buf())
                .collect()
        };
        assert_eq!(
            relative(&committed, &dicom_data().join(folder)),
            relative(&generated, &out.join(folder)),
            "{folder}: same files"
        );
        for (committed, generated) in committed.iter().zip(&generated) {
            assert!(
                std::fs::read(committed).unwrap() == std::fs::read(generated).unwrap(),
                "{} differs from what generate.py writes; rerun it (see README.md)",
                committed.display()
            );
        }
    }
    std::fs::remove_dir_all(&out).expect("temp folder removed");
}
