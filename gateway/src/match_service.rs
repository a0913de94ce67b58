//! [`Gateway::match_patients`]: the stored Patients that may be the one sent to
//! `Patient/$match`, scored by [`crate::matching`], and the searchset Bundle answering it.
//!
//! Candidates come from searches, never a scan of every Patient: one `identifier=system|value`
//! search per identifier sent (the first [`MAX_IDENTIFIER_SEARCHES`]) and one `birthdate=`
//! search when a birthDate is sent, each reading at most [`MAX_CANDIDATES_PER_SEARCH`] Patients
//! (and no more than `[limits] max_page_size`). A Patient sent with neither matches nothing.

use crate::clock::Instant;
use crate::matching::{identifiers, score_candidate, MatchGrade, MatchScore, MATCH_GRADE_URL};
use crate::{Gateway, GatewayError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where errors about the Patient sent are located.
pub const RESOURCE_PARAMETER: &str = "Parameters.parameter[resource]";

/// The most Patients one candidate search reads.
pub const MAX_CANDIDATES_PER_SEARCH: usize = 1000;

/// The most identifiers of the Patient sent that are searched for.
pub const MAX_IDENTIFIER_SEARCHES: usize = 20;

/// One stored Patient that may be the one sent.
#[derive(Debug, Clone)]
pub struct PatientMatch {
    /// The stored Patient.
    pub patient: Value,
    /// How well it matches.
    pub score: MatchScore,
}

impl PatientMatch {
    fn id(&self) -> &str {
        self.patient.get("id").and_then(Value::as_str).unwrap_or("")
    }
}

impl Gateway {
    /// The stored Patients matching `incoming` (a Patient resource), best first (ties by id),
    /// at most `count`. Candidates graded certainly-not are left out; with `only_certain`, all
    /// but the certain ones.
    pub async fn match_patients(
        &self,
        incoming: &Value,
        only_certain: bool,
        count: usize,
    ) -> Result<Vec<PatientMatch>, GatewayError> {
        check_incoming(incoming)?;
        let mut candidates: BTreeMap<String, Value> = BTreeMap::new();
        for (system, value) in identifiers(incoming)
            .into_iter()
            .take(MAX_IDENTIFIER_SEARCHES)
        {
            let token = format!("{}|{}", escape(system), escape(value));
            self.add_candidates(("identifier", token), &mut candidates)
                .await?;
        }
        if let Some(birth_date) = incoming.get("birthDate").and_then(Value::as_str) {
            // Else `,` would make it several dates to search.
            if !birth_date.chars().all(|c| c.is_ascii_digit() || c == '-') {
                return Err(GatewayError::invalid(
                    "the Patient's birthDate is not a date",
                    format!("{RESOURCE_PARAMETER}.birthDate"),
                ));
            }
            self.add_candidates(("birthdate", birth_date.to_owned()), &mut candidates)
                .await?;
        }
        let mut matches: Vec<PatientMatch> = candidates
            .into_values()
            .map(|patient| PatientMatch {
                score: score_candidate(incoming, &patient),
                patient,
            })
            .filter(|found| match found.score.grade {
                MatchGrade::Certain => true,
                MatchGrade::CertainlyNot => false,
                _ => !only_certain,
            })
            .collect();
        matches.sort_by(|a, b| {
            b.score
                .score
                .total_cmp(&a.score.score)
                .then_with(|| a.id().cmp(b.id()))
        });
        matches.truncate(count);
        Ok(matches)
    }

    /// Adds the Patients one search `(parameter, value)` finds to `candidates`, by id.
    async fn add_candidates(
        &self,
        (parameter, value): (&str, String),
        candidates: &mut BTreeMap<String, Value>,
    ) -> Result<(), GatewayError> {
        let params = [
            (parameter.to_owned(), value),
            ("_count".to_owned(), MAX_CANDIDATES_PER_SEARCH.to_string()),
        ];
        let bundle =
            self.search(Some("Patient"), &params, false)
                .await
                .map_err(|error| match error {
                    // A search value the Patient sent (a malformed birthDate) is the client's.
                    GatewayError::Invalid { message, .. } => {
                        GatewayError::invalid(message, RESOURCE_PARAMETER)
                    }
                    other => other,
                })?;
        let entries = bundle
            .get("entry")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for resource in entries.iter().filter_map(|entry| entry.get("resource")) {
            if let Some(id) = resource.get("id").and_then(Value::as_str) {
                candidates
                    .entry(id.to_owned())
                    .or_insert_with(|| resource.clone());
            }
        }
        Ok(())
    }

    /// The `$match` answer: a searchset Bundle of `matches` in order, each entry with
    /// `search.mode` `match`, its score and its match-grade.
    pub fn match_bundle(&self, matches: Vec<PatientMatch>) -> Value {
        let base = self.base_url();
        let entries: Vec<Value> = matches
            .into_iter()
            .map(|found| {
                json!({
                    "fullUrl": format!("{base}/Patient/{}", found.id()),
                    "resource": found.patient,
                    "search": {
                        "extension": [{
                            "url": MATCH_GRADE_URL,
                            "valueCode": found.score.grade.code(),
                        }],
                        "mode": "match",
                        "score": found.score.score,
                    },
                })
            })
            .collect();
        json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "meta": {"lastUpdated": Instant::now().to_fhir()},
            "type": "searchset",
            "total": entries.len(),
            "link": [{"relation": "self", "url": format!("{base}/Patient/$match")}],
            "entry": entries,
        })
    }
}

/// The Patient sent must be a JSON object of type Patient.
fn check_incoming(incoming: &Value) -> Result<(), GatewayError> {
    match incoming.get("resourceType").and_then(Value::as_str) {
        Some("Patient") if incoming.is_object() => Ok(()),
        Some(other) => Err(GatewayError::invalid(
            format!("$match takes a Patient, not a {other}"),
            RESOURCE_PARAMETER,
        )),
        None => Err(GatewayError::invalid(
            "$match takes a Patient resource (an object with resourceType Patient)",
            RESOURCE_PARAMETER,
        )),
    }
}

/// A token search value part with the search separators escaped (`\` `|` `,` `$`).
fn escape(part: &str) -> String {
    let mut escaped = String::with_capacity(part.len());
    for c in part.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_parts_escape_search_separators() {
        assert_eq!(escape("A|1,2$3\\"), "A\\|1\\,2\\$3\\\\");
        assert_eq!(escape("00012345"), "00012345");
    }

    #[test]
    fn only_patients_are_matched() {
        assert!(check_incoming(&json!({"resourceType": "Patient"})).is_ok());
        for wrong in [
            json!({"resourceType": "Practitioner"}),
            json!("Patient"),
            json!({}),
        ] {
            let error = check_incoming(&wrong).unwrap_err();
            assert_eq!(error.status(), 400);
            assert_eq!(error.issue().expression, [RESOURCE_PARAMETER]);
        }
    }
}
