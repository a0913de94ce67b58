//! The Composition heading a referral document: 診療情報提供書 shaped after the JP-CLINS
//! eReferral Composition (document type LOINC 57133-1, sections 910/920/300/950/620).

use serde_json::{json, Value};

/// Code system of the document types (JP-CLINS).
const DOCUMENT_TYPES: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
/// Code system of the document sub-types (SECONDOP = second opinion).
const DOCUMENT_SUBTYPES: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-subtypecodes";
/// Code system of the document's sections.
const SECTIONS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
/// Identifier system of a resource instance (Composition.identifier).
const INSTANCE_IDENTIFIER: &str = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
/// The document version extension.
const VERSION_NUMBER: &str =
    "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";

/// Who and what the Composition names, as `urn:uuid:` references inside the document.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The Composition's own id (a UUID).
    pub id: String,
    /// `Composition.identifier.value`, `<institution code>^<year>^<number>`.
    pub identifier: String,
    /// When the document was made (FHIR dateTime).
    pub date: String,
    /// The patient.
    pub patient: String,
    /// The referring doctor (the ServiceRequest's requester).
    pub author: String,
    /// The sending organization (author and custodian).
    pub sender: String,
    /// The receiving organization (the ServiceRequest's performer).
    pub receiver: String,
    /// The referral ServiceRequest.
    pub referral: String,
    /// The purpose in words (reason or note of the referral), if it has any.
    pub purpose: Option<String>,
    /// Studies, reports and results: (reference, what it is in words).
    pub results: Vec<(String, String)>,
}

/// The Composition resource for `parts`.
pub fn composition(parts: &Parts) -> Value {
    let results: Vec<Value> = parts
        .results
        .iter()
        .map(|(reference, _)| json!({"reference": reference}))
        .collect();
    let result_lines: Vec<String> = parts.results.iter().map(|(_, what)| what.clone()).collect();
    let purpose = parts
        .purpose
        .clone()
        .unwrap_or_else(|| "セカンドオピニオンのための紹介".to_owned());
    json!({
        "resourceType": "Composition",
        "id": parts.id,
        "extension": [{"url": VERSION_NUMBER, "valueString": "1"}],
        "identifier": {"system": INSTANCE_IDENTIFIER, "value": parts.identifier},
        "status": "final",
        "type": {"coding": [{"system": DOCUMENT_TYPES, "code": "57133-1",
            "display": "診療情報提供書"}]},
        "category": [{"coding": [{"system": DOCUMENT_SUBTYPES, "code": "SECONDOP",
            "display": "セカンドオピニオン"}]}],
        "subject": {"reference": parts.patient},
        "date": parts.date,
        "author": [{"reference": parts.author}, {"reference": parts.sender}],
        "title": "診療情報提供書",
        "custodian": {"reference": parts.sender},
        "event": [{"code": [{"text": "診療情報提供書発行"}], "period": {"start": parts.date}}],
        "section": [
            section("910", "紹介先情報", &["紹介先の医療機関"],
                vec![json!({"reference": parts.receiver})], None),
            section("920", "紹介元情報", &["紹介元の医療機関と医師"],
                vec![json!({"reference": parts.sender}), json!({"reference": parts.author})],
                None),
            section("300", "構造情報", &["構造化された診療情報"], Vec::new(), Some(vec![
                section("950", "紹介目的", &[purpose.as_str()],
                    vec![json!({"reference": parts.referral})], None),
                section("620", "検査結果", &result_lines.iter().map(String::as_str)
                    .collect::<Vec<_>>(), results, None),
            ])),
        ],
    })
}

/// One section with its narrative (`text.status` additional: the entries carry the data).
fn section(
    code: &str,
    title: &str,
    lines: &[&str],
    entries: Vec<Value>,
    sections: Option<Vec<Value>>,
) -> Value {
    let items: String = lines
        .iter()
        .map(|line| format!("<li>{}</li>", escape_xhtml(line)))
        .collect();
    let list = if items.is_empty() {
        "<p>なし</p>".to_owned()
    } else {
        format!("<ul>{items}</ul>")
    };
    let mut section = json!({
        "title": title,
        "code": {"coding": [{"system": SECTIONS, "code": code}]},
        "text": {"status": "additional",
            "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{list}</div>")},
    });
    if !entries.is_empty() {
        section["entry"] = Value::Array(entries);
    }
    if let Some(sections) = sections {
        section["section"] = Value::Array(sections);
    }
    section
}

/// Escapes text for XHTML content.
fn escape_xhtml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Parts {
        Parts {
            id: "c".into(),
            identifier: "1312345670^2026^c".into(),
            date: "2026-11-26T10:00:00+09:00".into(),
            patient: "urn:uuid:p".into(),
            author: "urn:uuid:d".into(),
            sender: "urn:uuid:a".into(),
            receiver: "urn:uuid:b".into(),
            referral: "urn:uuid:s".into(),
            purpose: Some("CT <所見> の確認".into()),
            results: vec![("urn:uuid:i".into(), "ImagingStudy CT".into())],
        }
    }

    #[test]
    fn sections_carry_the_receiver_sender_purpose_and_results() {
        let composition = composition(&parts());
        let codes: Vec<&str> = composition["section"]
            .as_array()
            .unwrap()
            .iter()
            .map(|section| section["code"]["coding"][0]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["910", "920", "300"]);
        assert_eq!(
            composition["section"][0]["entry"][0]["reference"],
            "urn:uuid:b"
        );
        let structured = &composition["section"][2]["section"];
        assert_eq!(structured[0]["code"]["coding"][0]["code"], "950");
        assert_eq!(structured[0]["entry"][0]["reference"], "urn:uuid:s");
        assert_eq!(structured[1]["entry"][0]["reference"], "urn:uuid:i");
        assert!(structured[0]["text"]["div"]
            .as_str()
            .unwrap()
            .contains("CT &lt;所見&gt; の確認"));
        assert_eq!(composition["type"]["coding"][0]["code"], "57133-1");
        assert_eq!(composition["custodian"]["reference"], "urn:uuid:a");
    }

    #[test]
    fn a_section_without_entries_says_so_in_its_narrative() {
        let mut empty = parts();
        empty.results.clear();
        let composition = composition(&empty);
        let results = &composition["section"][2]["section"][1];
        assert!(results.get("entry").is_none());
        assert!(results["text"]["div"].as_str().unwrap().contains("なし"));
    }
}
