//! A made-up SS-MIX2 standard-storage tree for tests and benchmarks: every person, id, order
//! number and UID is invented. Patient `n` gets a patient-information message (ADT-00), a lab
//! order and its result (OML-01, OML-11) and a radiology order (OMG-11); every 7th patient also
//! an older ADT-00 version, every 10th an older radiology-order version (condition flag 2), and
//! every 25th an examination order that was deleted (an older version, then flag 0). Names are
//! kanji with kana readings; files are ISO-2022-JP like real storage. Pure: the same count
//! gives the same bytes, and writing them to disk is the caller's.

use super::file_name::{Condition, FileName};
use crate::hl7v2::er7::Charset;

/// One generated message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Its path below the storage root (`ID[0:3]/ID[3:6]/…/<file name>`).
    pub path: String,
    /// Its parsed name.
    pub name: FileName,
    /// The message (ISO-2022-JP, segments ending in CR).
    pub bytes: Vec<u8>,
}

const FAMILY: &[(&str, &str)] = &[
    ("架空", "カクウ"),
    ("見本", "ミホン"),
    ("試験", "シケン"),
    ("仮名", "カメイ"),
    ("例示", "レイジ"),
    ("模擬", "モギ"),
];

const GIVEN: &[(&str, &str, &str)] = &[
    ("花子", "ハナコ", "F"),
    ("太郎", "タロウ", "M"),
    ("桜", "サクラ", "F"),
    ("一郎", "イチロウ", "M"),
    ("翼", "ツバサ", "M"),
    ("美咲", "ミサキ", "F"),
    ("健", "ケン", "M"),
];

/// The patient id of generated patient `n` (8 digits).
pub fn patient_id(n: usize) -> String {
    format!("{:08}", 10_000_000 + n % 90_000_000)
}

/// The kanji and kana names of generated patient `n`: (`family given`, `family given`).
pub fn patient_names(n: usize) -> (String, String) {
    let (family, family_kana) = FAMILY[n % FAMILY.len()];
    let (given, given_kana, _) = GIVEN[(n / FAMILY.len()) % GIVEN.len()];
    (
        format!("{family}\u{3000}{given}"),
        format!("{family_kana}\u{3000}{given_kana}"),
    )
}

/// Every file of a tree of `patients` made-up patients, patient by patient.
pub fn generate(patients: usize) -> impl Iterator<Item = GeneratedFile> {
    (0..patients).flat_map(patient_files)
}

/// How many files [`generate`] gives for `patients` patients.
pub fn file_count(patients: usize) -> usize {
    (0..patients).map(|n| patient_files(n).len()).sum()
}

/// A date `yyyyMMdd` spread over 2019–2023 by `n` and `shift` days.
fn day(n: usize, shift: usize) -> String {
    let k = n * 7 + shift;
    format!(
        "{}{:02}{:02}",
        2019 + (k / 336) % 5,
        1 + (k / 28) % 12,
        1 + k % 28
    )
}

/// A 17-digit timestamp on `date` (a time of day from `n` and `minute`).
fn stamp(date: &str, n: usize, minute: usize) -> String {
    format!(
        "{date}{:02}{:02}{:02}{:03}",
        8 + (n % 9),
        minute % 60,
        n % 60,
        n % 1000
    )
}

struct Person {
    id: String,
    pid: String,
}

fn person(n: usize) -> Person {
    let id = patient_id(n);
    let (family, family_kana) = FAMILY[n % FAMILY.len()];
    let (given, given_kana, sex) = GIVEN[(n / FAMILY.len()) % GIVEN.len()];
    let birth = format!(
        "{}{:02}{:02}",
        1940 + n % 60,
        1 + (n / 3) % 12,
        1 + (n / 5) % 28
    );
    let pid = format!(
        "PID|0001||{id}^^^^PI||{family}^{given}^^^^^L^I~{family_kana}^{given_kana}^^^^^L^P||{birth}|{sex}|||^^^^{:03}-{:04}^JPN^H^東京都架空区見本町{}丁目{}番||^PRN^PH^^^^^^^^^03-0000-{:04}",
        100 + n % 900,
        n % 10_000,
        1 + n % 9,
        1 + n % 20,
        n % 10_000
    );
    Person { id, pid }
}

fn msh(time: &str, message_type: &str, control: &str) -> String {
    format!(
        "MSH|^~\\&|HIS|GEN_HOSP|GW|RCV|{}||{message_type}|{control}|P|2.5||||||~ISO IR87||ISO 2022-1994",
        &time[..14]
    )
}

fn doctor(n: usize) -> String {
    format!("D{:04}^試験^医師^^^^^^^L^^^^^I", n % 50)
}

fn file(
    person: &Person,
    date: Option<&str>,
    data_type: &str,
    order: &str,
    time: &str,
    condition: Condition,
    segments: &[String],
) -> GeneratedFile {
    let name = FileName {
        patient_id: person.id.clone(),
        care_date: date.map(str::to_owned),
        data_type: data_type.to_owned(),
        order_number: order.to_owned(),
        timestamp: time.to_owned(),
        department: date.map(|_| "01".to_owned()),
        condition,
    };
    let mut text = segments.join("\r");
    text.push('\r');
    GeneratedFile {
        path: name.storage_path(),
        name,
        bytes: Charset::Iso2022Jp.encode(&text),
    }
}

fn adt00(n: usize, p: &Person, time: &str, condition: Condition) -> GeneratedFile {
    let segments = [
        msh(time, "ADT^A08^ADT_A01", &format!("A{n}{}", &time[8..14])),
        format!("EVN||{}", &time[..14]),
        p.pid.clone(),
        "PV1|0001|O".to_owned(),
    ];
    let order = "9".repeat(15);
    file(p, None, "ADT-00", &order, time, condition, &segments)
}

fn lab_files(n: usize, p: &Person) -> [GeneratedFile; 2] {
    let date = day(n, 30);
    let ordered = stamp(&date, n, 10);
    let resulted = stamp(&date, n, 40);
    let order = format!("L{:014}", n);
    let filler = format!("F{:014}", n);
    let specimen = format!("S{:014}", n);
    let value = format!("{}.{}", 6 + n % 3, n % 10);
    let code = "3A010000002327101^総蛋白^JC10";
    let lab_order = [
        msh(&ordered, "OML^O33^OML_O33", &format!("L{n}")),
        p.pid.clone(),
        "PV1|0001|O|01^^^^^C".to_owned(),
        format!("SPM|1|||023^血清^JC10|||||||||||||{}", &ordered[..14]),
        format!("ORC|NW|{order}|||||||{}|||{}", &ordered[..14], doctor(n)),
        format!("OBR|1|{order}||E001^生化学^99LAB"),
        format!("OBX|1||{code}||||||||O"),
    ];
    let lab_result = [
        msh(&resulted, "OUL^R22^OUL_R22", &format!("R{n}")),
        p.pid.clone(),
        "PV1|0001|O".to_owned(),
        format!(
            "SPM|1|{specimen}||023^血清^JC10|||||||||||||{}|{}",
            &ordered[..14],
            &resulted[..14]
        ),
        format!(
            "OBR|1|{order}|{filler}|E001^生化学^99LAB||||{}||||||||||||||{}|||F",
            &ordered[..14],
            &resulted[..14]
        ),
        format!("ORC|SC|{order}|{filler}||CM"),
        format!(
            "OBX|1|NM|{code}||{value}|g/dL^g/dL^UCUM|6.7-8.3||||F|||{}",
            &ordered[..14]
        ),
    ];
    [
        file(
            p,
            Some(&date),
            "OML-01",
            &order,
            &ordered,
            Condition::Current,
            &lab_order,
        ),
        file(
            p,
            Some(&date),
            "OML-11",
            &order,
            &resulted,
            Condition::Current,
            &lab_result,
        ),
    ]
}

fn radiology_order(
    n: usize,
    p: &Person,
    date: &str,
    time: &str,
    procedure: &str,
    condition: Condition,
) -> GeneratedFile {
    let order = format!("R{:014}", n);
    let segments = [
        msh(time, "OMI^Z23^OMI_Z23", &format!("I{n}{}", &time[8..14])),
        p.pid.clone(),
        "PV1|0001|O|01^^^^^C".to_owned(),
        format!("ORC|NW|{order}|||||||{}|||{}", &time[..14], doctor(n)),
        "TQ1|1||||||||R^^HL70485".to_owned(),
        format!("OBR|1|{order}||{procedure}"),
        format!(
            "IPC|A{:09}|RP{:06}|1.2.392.200036.9999.2.{n}|SPS{:06}|CT^^DCM",
            n, n, n
        ),
    ];
    file(p, Some(date), "OMG-11", &order, time, condition, &segments)
}

fn examination_order(n: usize, p: &Person, time: &str, condition: Condition) -> GeneratedFile {
    let date = &time[..8];
    let order = format!("E{:014}", n);
    let segments = [
        msh(time, "OMG^O19^OMG_O19", &format!("G{n}{}", &time[8..14])),
        p.pid.clone(),
        "PV1|0001|O|01^^^^^C".to_owned(),
        format!("ORC|NW|{order}|||||||{}|||{}", &time[..14], doctor(n)),
        format!("OBR|1|{order}||60001^心電図^99EXM"),
    ];
    file(p, Some(date), "OMG-01", &order, time, condition, &segments)
}

fn patient_files(n: usize) -> Vec<GeneratedFile> {
    let p = person(n);
    let mut files = Vec::with_capacity(7);
    let registered = stamp(&day(n, 0), n, 0);
    if n.is_multiple_of(7) {
        // An earlier version of the patient information, replaced by the one below.
        let earlier = stamp(&day(n, 0), n, 0).replacen(&day(n, 0)[..4], "2018", 1);
        files.push(adt00(n, &p, &earlier, Condition::Superseded));
    }
    files.push(adt00(n, &p, &registered, Condition::Current));
    files.extend(lab_files(n, &p));
    let date = day(n, 60);
    let ct = "32000000000000000000000000000000^胸部ＣＴ^JJ1017";
    if n.is_multiple_of(10) {
        let first = stamp(&date, n, 5);
        let plain = "31000000000000000000000000000000^胸部単純Ｘ線^JJ1017";
        files.push(radiology_order(
            n,
            &p,
            &date,
            &first,
            plain,
            Condition::Superseded,
        ));
    }
    files.push(radiology_order(
        n,
        &p,
        &date,
        &stamp(&date, n, 15),
        ct,
        Condition::Current,
    ));
    if n.is_multiple_of(25) {
        let date = day(n, 90);
        files.push(examination_order(
            n,
            &p,
            &stamp(&date, n, 20),
            Condition::Superseded,
        ));
        files.push(examination_order(
            n,
            &p,
            &stamp(&date, n, 50),
            Condition::Deleted,
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_counts_agree() {
        let files: Vec<GeneratedFile> = generate(30).collect();
        assert_eq!(files.len(), file_count(30));
        for file in &files {
            let name = file.path.rsplit('/').next().unwrap();
            assert_eq!(FileName::parse(name).as_ref(), Ok(&file.name));
        }
        let deleted = files
            .iter()
            .filter(|f| f.name.condition == Condition::Deleted)
            .count();
        assert_eq!(deleted, 2); // patients 0 and 25
    }
}
