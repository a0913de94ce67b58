//! Scoring rules, on made-up people.

use super::*;
use serde_json::{json, Value};

const REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

fn name(code: &str, family: &str, given: &str) -> Value {
    json!({
        "extension": [{"url": REPRESENTATION, "valueCode": code}],
        "family": family,
        "given": [given],
    })
}

fn patient(kanji: (&str, &str), kana: (&str, &str), birth_date: &str, gender: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "name": [name("IDE", kanji.0, kanji.1), name("SYL", kana.0, kana.1)],
        "birthDate": birth_date,
        "gender": gender,
    })
}

fn taro() -> Value {
    patient(("山田", "太郎"), ("ヤマダ", "タロウ"), "1970-04-01", "male")
}

#[test]
fn shared_identifier_is_certain_whatever_else_differs() {
    let mut incoming = json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11234567890", "value": "00012345"}],
        "birthDate": "1990-01-01",
    });
    let mut stored = taro();
    stored["identifier"] = incoming["identifier"].clone();
    let matched = score_candidate(&incoming, &stored);
    assert_eq!(matched.score, 1.0);
    assert_eq!(matched.grade, MatchGrade::Certain);
    assert_eq!(matched.reasons, ["identifier equal"]);

    // Same value in another system is no evidence.
    incoming["identifier"][0]["system"] = json!("urn:oid:1.2.392.100495.20.3.51.19999999999");
    assert_ne!(
        score_candidate(&incoming, &stored).grade,
        MatchGrade::Certain
    );
}

#[test]
fn kanji_kana_birth_date_and_gender_equal_is_certain() {
    let matched = score_candidate(&taro(), &taro());
    assert_eq!(matched.score, 1.0);
    assert_eq!(matched.grade, MatchGrade::Certain);
    assert_eq!(
        matched.reasons,
        [
            "birthDate equal",
            "gender equal",
            "kanji name equal",
            "kana name equal"
        ]
    );
}

#[test]
fn kana_in_hiragana_with_full_width_space_still_matches() {
    let mut incoming = taro();
    incoming["name"][1] = json!({
        "extension": [{"url": REPRESENTATION, "valueCode": "SYL"}],
        "text": "やまだ\u{3000}たろう",
    });
    let matched = score_candidate(&incoming, &taro());
    assert_eq!(matched.grade, MatchGrade::Certain);
    assert!(matched.reasons.contains(&"kana name equal".to_owned()));

    let half_width = patient(("山田", "太郎"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"), "1970-04-01", "male");
    assert_eq!(
        score_candidate(&half_width, &taro()).grade,
        MatchGrade::Certain
    );
}

#[test]
fn only_one_script_equal_is_probable_not_certain() {
    let other_reading = patient(("山田", "太郎"), ("ヤマタ", "タロウ"), "1970-04-01", "male");
    let matched = score_candidate(&other_reading, &taro());
    assert_eq!(matched.grade, MatchGrade::Probable);
    assert_eq!(matched.score, 0.8);
}

#[test]
fn same_family_name_counts_half() {
    let brother = patient(("山田", "次郎"), ("ヤマダ", "ジロウ"), "1970-04-01", "male");
    let matched = score_candidate(&brother, &taro());
    assert_eq!(matched.score, 0.725);
    assert_eq!(matched.grade, MatchGrade::Probable);
    assert!(matched
        .reasons
        .contains(&"kanji name: family equal".to_owned()));
}

#[test]
fn different_birth_date_is_not_certain() {
    let twin_named_alike = patient(("山田", "太郎"), ("ヤマダ", "タロウ"), "1971-04-01", "male");
    let matched = score_candidate(&twin_named_alike, &taro());
    assert_eq!(matched.grade, MatchGrade::CertainlyNot);
    assert!(matched.score <= CONFLICT_CAP);
    assert!(matched.reasons.contains(&"birthDate differs".to_owned()));
}

#[test]
fn birth_date_of_another_precision_is_no_evidence() {
    let mut incoming = taro();
    incoming["birthDate"] = json!("1970");
    let matched = score_candidate(&incoming, &taro());
    assert_eq!(matched.score, 0.65);
    assert_eq!(matched.grade, MatchGrade::Possible);
    assert!(matched
        .reasons
        .contains(&"birthDate precision differs".to_owned()));
}

#[test]
fn different_known_gender_is_certainly_not() {
    let hanako = patient(
        ("山田", "太郎"),
        ("ヤマダ", "タロウ"),
        "1970-04-01",
        "female",
    );
    let matched = score_candidate(&hanako, &taro());
    assert_eq!(matched.grade, MatchGrade::CertainlyNot);
    assert!(matched.score <= CONFLICT_CAP);

    // `unknown` is no evidence either way.
    let unknown = patient(
        ("山田", "太郎"),
        ("ヤマダ", "タロウ"),
        "1970-04-01",
        "unknown",
    );
    let matched = score_candidate(&unknown, &taro());
    assert_eq!(matched.score, 0.9);
    assert_eq!(matched.grade, MatchGrade::Probable);
}

#[test]
fn missing_names_leave_birth_date_and_gender_possible() {
    let incoming = json!({"resourceType": "Patient", "birthDate": "1970-04-01", "gender": "male"});
    let matched = score_candidate(&incoming, &taro());
    assert_eq!(matched.score, 0.45);
    assert_eq!(matched.grade, MatchGrade::Possible);
    assert!(matched.reasons.contains(&"names missing".to_owned()));

    let empty = json!({"resourceType": "Patient"});
    let matched = score_candidate(&empty, &empty);
    assert_eq!(matched.score, 0.0);
    assert_eq!(matched.grade, MatchGrade::CertainlyNot);
}

#[test]
fn names_that_all_differ_are_certainly_not() {
    let someone_else = patient(("佐藤", "花子"), ("サトウ", "ハナコ"), "1970-04-01", "male");
    let matched = score_candidate(&someone_else, &taro());
    assert_eq!(matched.grade, MatchGrade::CertainlyNot);
    assert!(matched.reasons.contains(&"names differ".to_owned()));
}

#[test]
fn untagged_names_stand_in_for_kanji() {
    let incoming = json!({
        "resourceType": "Patient",
        "name": [{"text": "山田　太郎"}],
        "birthDate": "1970-04-01",
        "gender": "male",
    });
    let matched = score_candidate(&incoming, &taro());
    assert_eq!(matched.score, 0.8);
    assert_eq!(matched.grade, MatchGrade::Probable);
    assert!(matched.reasons.contains(&"name equal".to_owned()));
}

#[test]
fn reasons_carry_no_patient_data() {
    let matched = score_candidate(&taro(), &taro());
    for reason in &matched.reasons {
        assert!(
            !reason.contains("山田") && !reason.contains("1970"),
            "{reason}"
        );
    }
}

#[test]
fn grade_codes_are_the_value_set_codes() {
    let codes: Vec<&str> = [
        MatchGrade::Certain,
        MatchGrade::Probable,
        MatchGrade::Possible,
        MatchGrade::CertainlyNot,
    ]
    .into_iter()
    .map(MatchGrade::code)
    .collect();
    assert_eq!(codes, ["certain", "probable", "possible", "certainly-not"]);
}
