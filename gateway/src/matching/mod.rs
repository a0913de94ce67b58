//! Patient matching for `Patient/$match`: how much a stored Patient looks like the one a
//! referring hospital sent. Pure functions over JSON; the store is searched elsewhere
//! (`match_service`).
//!
//! A shared identifier (same `system` and `value`) is a certain match with score 1.
//! Otherwise the score adds up evidence:
//!
//! | evidence                          | weight | same family name only |
//! |-----------------------------------|--------|-----------------------|
//! | birthDate equal                   | 0.35   |                       |
//! | gender equal                      | 0.10   |                       |
//! | kanji name (`IDE`) equal          | 0.35   | 0.175                 |
//! | kana name (`SYL`) equal           | 0.20   | 0.10                  |
//!
//! When either side has no kanji name, names without a representation extension (and kanji
//! ones) are compared instead, with the kanji weights ("name equal"). Names are folded first
//! (see [`normalize::fold_name`]): width, hiragana/katakana, spaces and Latin case do not count.
//!
//! Grades: **certain** needs a score of at least 0.95 (birthDate, gender and names) with both
//! the kanji and the kana name equal; otherwise at least 0.7 is **probable**, at least 0.4
//! **possible**, below that **certainly-not**. A birthDate of another precision (`1970` against
//! `1970-04-01`) counts neither way. Evidence against the match caps the score at
//! [`CONFLICT_CAP`] and grades it certainly-not: different birthDates, different known genders
//! (`unknown` is not known), or names on both sides of which not even a family name agrees.

mod names;
pub mod normalize;

use names::{name_keys, NameKeys, Script};
use serde_json::Value;

/// The match-grade extension of `Bundle.entry.search`.
pub const MATCH_GRADE_URL: &str = "http://hl7.org/fhir/StructureDefinition/match-grade";

/// The highest score of a candidate with evidence against it.
pub const CONFLICT_CAP: f64 = 0.3;

const BIRTH_DATE_WEIGHT: f64 = 0.35;
const GENDER_WEIGHT: f64 = 0.1;
const KANJI_WEIGHT: f64 = 0.35;
const KANA_WEIGHT: f64 = 0.2;
const CERTAIN_SCORE: f64 = 0.95;
const PROBABLE_SCORE: f64 = 0.7;
const POSSIBLE_SCORE: f64 = 0.4;

/// How sure a match is (the R4 `match-grade` value set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchGrade {
    /// The same person.
    Certain,
    /// Most likely the same person.
    Probable,
    /// Could be the same person; a person should check.
    Possible,
    /// Not the same person.
    CertainlyNot,
}

impl MatchGrade {
    /// The `match-grade` code (`certain`, `probable`, `possible`, `certainly-not`).
    pub fn code(self) -> &'static str {
        match self {
            MatchGrade::Certain => "certain",
            MatchGrade::Probable => "probable",
            MatchGrade::Possible => "possible",
            MatchGrade::CertainlyNot => "certainly-not",
        }
    }
}

/// How well one candidate matches, and why (the reasons name the evidence, never its values,
/// so they can be logged).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchScore {
    /// 0 to 1, rounded to three decimals.
    pub score: f64,
    /// The grade the score and evidence give.
    pub grade: MatchGrade,
    /// What agreed or disagreed, e.g. "birthDate equal", "kana name equal".
    pub reasons: Vec<String>,
}

/// How one kind of name compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameAgreement {
    /// One side has no such name.
    Missing,
    /// Whole name equal.
    Whole,
    /// Same family name only.
    Family,
    /// Present on both sides, nothing equal.
    Differs,
}

impl NameAgreement {
    fn points(self, weight: f64) -> f64 {
        match self {
            NameAgreement::Whole => weight,
            NameAgreement::Family => weight / 2.0,
            NameAgreement::Missing | NameAgreement::Differs => 0.0,
        }
    }
}

/// Scores `candidate` (a stored Patient) against `incoming` (the Patient sent to `$match`).
pub fn score_candidate(incoming: &Value, candidate: &Value) -> MatchScore {
    if shares_identifier(incoming, candidate) {
        return MatchScore {
            score: 1.0,
            grade: MatchGrade::Certain,
            reasons: vec!["identifier equal".into()],
        };
    }
    let mut reasons = Vec::new();
    let mut score = 0.0;
    let mut conflict = false;

    match (
        text_of(incoming, "birthDate"),
        text_of(candidate, "birthDate"),
    ) {
        (Some(mine), Some(theirs)) if mine == theirs => {
            score += BIRTH_DATE_WEIGHT;
            reasons.push("birthDate equal".into());
        }
        // A year or month on one side is no evidence either way.
        (Some(mine), Some(theirs)) if mine.starts_with(theirs) || theirs.starts_with(mine) => {
            reasons.push("birthDate precision differs".into());
        }
        (Some(_), Some(_)) => {
            conflict = true;
            reasons.push("birthDate differs".into());
        }
        _ => reasons.push("birthDate missing".into()),
    }

    match (known_gender(incoming), known_gender(candidate)) {
        (Some(mine), Some(theirs)) if mine == theirs => {
            score += GENDER_WEIGHT;
            reasons.push("gender equal".into());
        }
        (Some(_), Some(_)) => {
            conflict = true;
            reasons.push("gender differs".into());
        }
        _ => reasons.push("gender missing".into()),
    }

    let mine = name_keys(incoming);
    let theirs = name_keys(candidate);
    let kanji = compare(&mine, &theirs, &[Script::Kanji]);
    let kana = compare(&mine, &theirs, &[Script::Kana]);
    // Without kanji on one side, names of unstated script may well be the kanji ones.
    let other = if kanji == NameAgreement::Missing {
        compare(&mine, &theirs, &[Script::Kanji, Script::Other])
    } else {
        NameAgreement::Missing
    };
    score += kanji.points(KANJI_WEIGHT) + kana.points(KANA_WEIGHT) + other.points(KANJI_WEIGHT);
    note_names(&mut reasons, "kanji name", kanji);
    note_names(&mut reasons, "kana name", kana);
    note_names(&mut reasons, "name", other);
    let names_compared = [kanji, kana, other]
        .iter()
        .any(|agreement| *agreement != NameAgreement::Missing);
    let names_agree = [kanji, kana, other]
        .iter()
        .any(|agreement| matches!(agreement, NameAgreement::Whole | NameAgreement::Family));
    if !names_compared {
        reasons.push("names missing".into());
    } else if !names_agree {
        conflict = true;
        reasons.push("names differ".into());
    }

    let score = rounded(if conflict {
        score.min(CONFLICT_CAP)
    } else {
        score
    });
    let grade = if conflict {
        MatchGrade::CertainlyNot
    } else if score >= CERTAIN_SCORE
        && kanji == NameAgreement::Whole
        && kana == NameAgreement::Whole
    {
        MatchGrade::Certain
    } else if score >= PROBABLE_SCORE {
        MatchGrade::Probable
    } else if score >= POSSIBLE_SCORE {
        MatchGrade::Possible
    } else {
        MatchGrade::CertainlyNot
    };
    MatchScore {
        score,
        grade,
        reasons,
    }
}

/// The `(system, value)` pairs of a resource's identifiers that have both.
pub fn identifiers(patient: &Value) -> Vec<(&str, &str)> {
    patient
        .get("identifier")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|identifier| {
            let system = identifier.get("system").and_then(Value::as_str)?;
            let value = identifier.get("value").and_then(Value::as_str)?;
            (!system.is_empty() && !value.is_empty()).then_some((system, value))
        })
        .collect()
}

fn shares_identifier(incoming: &Value, candidate: &Value) -> bool {
    let theirs = identifiers(candidate);
    identifiers(incoming)
        .iter()
        .any(|pair| theirs.contains(pair))
}

fn text_of<'a>(patient: &'a Value, field: &str) -> Option<&'a str> {
    patient
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn known_gender(patient: &Value) -> Option<&str> {
    text_of(patient, "gender").filter(|gender| *gender != "unknown")
}

/// Compares the names of `scripts` on both sides: the best agreement of any pair.
fn compare(mine: &[NameKeys], theirs: &[NameKeys], scripts: &[Script]) -> NameAgreement {
    let of = |names: &[NameKeys]| -> Vec<NameKeys> {
        names
            .iter()
            .filter(|name| scripts.contains(&name.script))
            .cloned()
            .collect()
    };
    let (mine, theirs) = (of(mine), of(theirs));
    if mine.is_empty() || theirs.is_empty() {
        return NameAgreement::Missing;
    }
    let pairs = || mine.iter().flat_map(|a| theirs.iter().map(move |b| (a, b)));
    if pairs().any(|(a, b)| a.whole_equal(b)) {
        NameAgreement::Whole
    } else if pairs().any(|(a, b)| a.family_equal(b)) {
        NameAgreement::Family
    } else {
        NameAgreement::Differs
    }
}

fn note_names(reasons: &mut Vec<String>, what: &str, agreement: NameAgreement) {
    match agreement {
        NameAgreement::Whole => reasons.push(format!("{what} equal")),
        NameAgreement::Family => reasons.push(format!("{what}: family equal")),
        NameAgreement::Differs => reasons.push(format!("{what} differs")),
        NameAgreement::Missing => {}
    }
}

fn rounded(score: f64) -> f64 {
    (score * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
