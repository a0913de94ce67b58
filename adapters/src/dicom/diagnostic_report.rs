//! One Structured Report or Encapsulated PDF instance → a FHIR R4 DiagnosticReport shaped by
//! JP Core `JP_DiagnosticReport_Radiology`: status from the SR flags, the document title as
//! code, times, observers, a narrative and conclusion from the SR content tree, or the PDF as
//! `presentedForm`. The study mapping supplies what the report links to ([`ReportLinks`]).

mod content;
mod document;
mod reader;
#[cfg(test)]
mod tests;

use super::collect::ReportInstance;
use super::dataset::DataSet;
use super::instance::ENCAPSULATED_PDF;
use super::values::{oid_urn, DCM, URN_DICOM_UID};
use crate::report::{Report, ReportCode};
use content::{clean_string, push_escaped, read_content, Content};
use dicom_dictionary_std::tags;
use document::{encapsulated_document, presented_form};
use reader::{display_reference, Moment, Reader};
use serde_json::{json, Map, Value};

/// What a DiagnosticReport links to, worked out by the study mapping.
pub struct ReportLinks<'a> {
    /// `Patient/<id>` reference JSON (e.g. {"reference":"Patient/…"}), if the study has a patient.
    pub subject: Option<serde_json::Value>,
    /// {"reference":"ImagingStudy/<id>"}.
    pub imaging_study: serde_json::Value,
    /// The ImagingStudy's basedOn references (cloned into the report's basedOn).
    pub based_on: &'a [serde_json::Value],
    /// The FHIR dateTime of the study start, when known (fallback for effectiveDateTime).
    pub study_started: Option<&'a str>,
    /// Timezone offset (`+09:00`) for DICOM date/times that carry none.
    pub timezone: &'a str,
}

/// The JP Core profile every report claims.
pub const PROFILE: &str =
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_DiagnosticReport_Radiology";
const LOINC: &str = "http://loinc.org";
/// JP Core's document codes: `code.coding[radiologyReportCode]` takes 18748-4 from here,
/// not from loinc.org.
const JP_DOCUMENT_CODES: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_DocumentCodes_CS";
/// LOINC 18748-4 "Diagnostic imaging study".
const IMAGING_REPORT_CODE: &str = "18748-4";
/// Key Object Selection Document Storage: an SR class that flags images, not a report.
const KEY_OBJECT_SELECTION: &str = "1.2.840.10008.5.1.4.1.1.88.59";
/// DICOM CID 29 (Acquisition Modality): the values `category[second]` may take from the
/// instance's own (0008,0060); SR, DOC, KO and the like name the document, not the exam.
const ACQUISITION_MODALITIES: &[&str] = &[
    "AR", "BI", "BMD", "CR", "CT", "DG", "DX", "ECG", "EPS", "ES", "GM", "HC", "HD", "IO", "IVOCT",
    "IVUS", "KER", "LS", "MG", "MR", "NM", "OAM", "OCT", "OP", "OPM", "OPT", "OPTBSV", "OPTENF",
    "OPV", "OSS", "PT", "PX", "RF", "RG", "SM", "SRF", "TG", "US", "VA", "XA", "XC",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    StructuredReport,
    Pdf,
}

/// Maps one SR or Encapsulated PDF instance to a DiagnosticReport resource (JSON object
/// without `id`; the caller sets `id` and `resourceType` is included). Problems go to `report`
/// located as `<file> (gggg,eeee)`. None when the instance cannot make a report (reported).
pub fn map_report(
    instance: &ReportInstance,
    links: &ReportLinks<'_>,
    report: &mut Report,
) -> Option<serde_json::Value> {
    let info = &instance.instance;
    let location = format!("{} (0008,0016)", info.file);
    let kind = if info.sop_class == ENCAPSULATED_PDF {
        Kind::Pdf
    } else if info.sop_class == KEY_OBJECT_SELECTION {
        report.information(
            ReportCode::Unmapped,
            location,
            "a Key Object Selection document marks images for attention; it is not a report, so no DiagnosticReport is made",
        );
        return None;
    } else if info.sop_class.starts_with("1.2.840.10008.5.1.4.1.1.88.") {
        Kind::StructuredReport
    } else {
        report.warning(
            ReportCode::Unsupported,
            location,
            format!(
                "SOP class {} is neither a Structured Report nor an Encapsulated PDF: no DiagnosticReport is made",
                info.sop_class
            ),
        );
        return None;
    };
    let mut reader = Reader::new(&info.file, report, &instance.dataset, links.timezone);
    let resource = build(&mut reader, instance, links, kind);
    reader.finish();
    resource
}

fn build(
    reader: &mut Reader<'_>,
    instance: &ReportInstance,
    links: &ReportLinks<'_>,
    kind: Kind,
) -> Option<Value> {
    let set = &instance.dataset;
    // The document first: a PDF instance without one makes no report, and nothing else
    // about it is worth reporting.
    let document = match kind {
        Kind::Pdf => Some(encapsulated_document(reader, set)?),
        Kind::StructuredReport => None,
    };
    let title = match kind {
        Kind::Pdf => reader.text(set, tags::DOCUMENT_TITLE),
        Kind::StructuredReport => None,
    };
    let mut content = match kind {
        Kind::StructuredReport => read_content(reader, set),
        Kind::Pdf => Content::default(),
    };
    let (code, code_meaning) = report_code(reader, set, kind, title.as_deref());
    let content_time = reader.date_time(set, tags::CONTENT_DATE, tags::CONTENT_TIME);
    let heading = title
        .clone()
        .or(code_meaning)
        .or_else(|| instance.instance.title.clone());

    let mut resource = Map::with_capacity(18);
    resource.insert("resourceType".into(), "DiagnosticReport".into());
    resource.insert("meta".into(), json!({ "profile": [PROFILE] }));
    let body = match &document {
        Some((mime, _)) => {
            let mut body = String::from("<p>The report is attached as ");
            push_escaped(&mut body, mime);
            body.push_str(".</p>");
            body
        }
        None => std::mem::take(&mut content.html),
    };
    resource.insert("text".into(), narrative(heading.as_deref(), &body));
    resource.insert(
        "identifier".into(),
        json!([{ "system": URN_DICOM_UID, "value": oid_urn(&instance.instance.uid) }]),
    );
    if !links.based_on.is_empty() {
        resource.insert("basedOn".into(), Value::Array(links.based_on.to_vec()));
    }
    resource.insert("status".into(), status(reader, set, kind).into());
    resource.insert("category".into(), categories(set, &content).into());
    resource.insert("code".into(), code);
    if let Some(subject) = &links.subject {
        resource.insert("subject".into(), subject.clone());
    }
    let effective = content_time
        .as_ref()
        .map(|moment| moment.value.clone())
        .or_else(|| {
            reader
                .date_time(set, tags::STUDY_DATE, tags::STUDY_TIME)
                .map(|moment| moment.value)
        })
        .or_else(|| links.study_started.map(str::to_owned));
    if let Some(effective) = effective {
        resource.insert("effectiveDateTime".into(), effective.into());
    }
    if let Some(issued) = issued(reader, set, content_time.as_ref()) {
        resource.insert("issued".into(), issued.into());
    }
    let (performers, interpreters) = observers(reader, set, &content.observers);
    insert_array(&mut resource, "performer", performers);
    insert_array(&mut resource, "resultsInterpreter", interpreters);
    resource.insert("imagingStudy".into(), json!([links.imaging_study]));
    let texts = if content.conclusions.is_empty() {
        &content.findings
    } else {
        &content.conclusions
    };
    let conclusion = clean_string(&texts.join("\n"));
    if !conclusion.is_empty() {
        resource.insert("conclusion".into(), conclusion.into());
    }
    insert_array(&mut resource, "conclusionCode", content.conclusion_codes);
    if let Some((mime, bytes)) = document {
        let form = presented_form(&mime, bytes, title.as_deref(), content_time.as_ref());
        resource.insert("presentedForm".into(), json!([form]));
    }
    Some(Value::Object(resource))
}

fn insert_array(resource: &mut Map<String, Value>, key: &str, values: Vec<Value>) {
    if !values.is_empty() {
        resource.insert(key.into(), Value::Array(values));
    }
}

/// A generated narrative: the title as a heading, then `body` (already XHTML).
fn narrative(heading: Option<&str>, body: &str) -> Value {
    let mut div = String::from(r#"<div xmlns="http://www.w3.org/1999/xhtml">"#);
    if let Some(heading) = heading {
        div.push_str("<h2>");
        push_escaped(&mut div, heading);
        div.push_str("</h2>");
    }
    div.push_str(body);
    if heading.is_none() && body.is_empty() {
        // A narrative must not be empty (FHIR txt-2).
        div.push_str("<p>The report has no text.</p>");
    }
    div.push_str("</div>");
    json!({ "status": "generated", "div": div })
}

/// `status` from (0040,A491) Completion Flag and (0040,A493) Verification Flag:
/// COMPLETE + VERIFIED → final, COMPLETE + UNVERIFIED → preliminary, PARTIAL → partial.
/// An Encapsulated PDF carries no SR Document General module, so an absent flag there means
/// a finished, signed-off document: a PDF without flags is `final`. A value outside those
/// terms, or an SR without its Completion Flag, gives `unknown` (reported).
fn status(reader: &mut Reader<'_>, set: &DataSet, kind: Kind) -> &'static str {
    let pdf = kind == Kind::Pdf;
    let completion = reader
        .value(set, tags::COMPLETION_FLAG)
        .map(|flag| flag.to_ascii_uppercase());
    let verification = reader
        .value(set, tags::VERIFICATION_FLAG)
        .map(|flag| flag.to_ascii_uppercase());
    let complete = match completion.as_deref() {
        Some("COMPLETE") => Some(true),
        Some("PARTIAL") => Some(false),
        None if pdf => Some(true),
        Some(other) => {
            let message = format!(
                "Completion Flag {other:?} is neither COMPLETE nor PARTIAL: status is unknown"
            );
            reader.warn(ReportCode::UnknownCode, tags::COMPLETION_FLAG, message);
            None
        }
        None => {
            let message = "the Completion Flag is absent: status is unknown";
            reader.warn(ReportCode::Missing, tags::COMPLETION_FLAG, message);
            None
        }
    };
    let verified = match verification.as_deref() {
        Some("VERIFIED") => Some(true),
        Some("UNVERIFIED") => Some(false),
        None if pdf => Some(true),
        Some(other) => {
            let message = format!(
                "Verification Flag {other:?} is neither VERIFIED nor UNVERIFIED: status is unknown"
            );
            reader.warn(ReportCode::UnknownCode, tags::VERIFICATION_FLAG, message);
            None
        }
        None => {
            if complete == Some(true) {
                let message = "the Verification Flag is absent: the report is taken as unverified (preliminary)";
                reader.warn(ReportCode::Missing, tags::VERIFICATION_FLAG, message);
            }
            Some(false)
        }
    };
    match (complete, verified) {
        (None, _) | (_, None) => "unknown",
        (Some(false), _) => "partial",
        (Some(true), Some(true)) => "final",
        (Some(true), Some(false)) => "preliminary",
    }
}

/// `category[first]` radiology (LOINC LP29684-5), then one `category[second]` per DCM
/// modality: those the SR content names, and the instance's own Modality when it is an
/// acquisition modality.
fn categories(set: &DataSet, content: &Content) -> Vec<Value> {
    let mut categories = vec![json!({
        "coding": [{ "system": LOINC, "code": "LP29684-5", "display": "Radiology" }]
    })];
    let mut modalities = content.modalities.clone();
    if let Some(own) = set.first_text(tags::MODALITY) {
        let listed = modalities
            .iter()
            .any(|coding| coding["code"] == own.as_str());
        if ACQUISITION_MODALITIES.contains(&own.as_str()) && !listed {
            modalities.push(json!({ "system": DCM, "code": own }));
        }
    }
    categories.extend(
        modalities
            .into_iter()
            .map(|coding| json!({ "coding": [coding] })),
    );
    categories
}

/// `code`: the SR document title (0040,A043) (or a PDF's, when it has one) as a Coding, plus
/// JP Core's `JP_DocumentCodes_CS#18748-4` for imaging reports (every PDF, and SRs titled
/// LOINC 18748-4); a PDF's (0042,0010) Document Title is the text. Also returns the title's
/// meaning for the narrative heading.
fn report_code(
    reader: &mut Reader<'_>,
    set: &DataSet,
    kind: Kind,
    document_title: Option<&str>,
) -> (Value, Option<String>) {
    let mut codings = Vec::with_capacity(2);
    let mut meaning = None;
    let mut imaging_report = kind == Kind::Pdf;
    if let Some(item) = set.item(tags::CONCEPT_NAME_CODE_SEQUENCE) {
        if let Some((code, coding)) = reader.coding(item) {
            imaging_report |= code.scheme == "LN" && code.value == IMAGING_REPORT_CODE;
            meaning = code.meaning;
            codings.push(coding);
        }
    }
    if imaging_report {
        codings.push(json!({
            "system": JP_DOCUMENT_CODES,
            "code": IMAGING_REPORT_CODE,
            "display": "Diagnostic imaging study"
        }));
    }
    let mut concept = Map::with_capacity(2);
    if !codings.is_empty() {
        concept.insert("coding".into(), Value::Array(codings));
    }
    if let Some(title) = document_title {
        concept.insert("text".into(), title.into());
    }
    if concept.is_empty() {
        reader.warn(
            ReportCode::Missing,
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            "the SR document title (Concept Name Code Sequence) is absent: code is text only",
        );
        concept.insert("text".into(), "DICOM Structured Report".into());
    }
    (Value::Object(concept), meaning)
}

/// `issued` (an instant): the first of (0040,A032) Observation DateTime, the last Verifying
/// Observer's (0040,A030) Verification DateTime, and Content Date/Time that is precise to the
/// second (offsets are filled in, so seconds are what an instant still needs).
fn issued(reader: &mut Reader<'_>, set: &DataSet, content_time: Option<&Moment>) -> Option<String> {
    let observed = reader.dt(set, tags::OBSERVATION_DATE_TIME);
    if let Some(moment) = observed.filter(|moment| moment.has_seconds) {
        return Some(moment.value);
    }
    for verifier in set.items(tags::VERIFYING_OBSERVER_SEQUENCE).iter().rev() {
        let verified = reader.dt(verifier, tags::VERIFICATION_DATE_TIME);
        if let Some(moment) = verified.filter(|moment| moment.has_seconds) {
            return Some(moment.value);
        }
    }
    content_time
        .filter(|moment| moment.has_seconds)
        .map(|moment| moment.value.clone())
}

/// `performer`: the Verifying Observers (who signed the report off). `resultsInterpreter`: the
/// Author Observers that are persons, else the content's Person Observer Names, else the
/// verifiers. All display-only references (no Practitioner is made from a name alone).
fn observers(
    reader: &mut Reader<'_>,
    set: &DataSet,
    content_observers: &[String],
) -> (Vec<Value>, Vec<Value>) {
    let mut verifiers = Vec::new();
    for item in set.items(tags::VERIFYING_OBSERVER_SEQUENCE) {
        if let Some(name) = reader.name(item, tags::VERIFYING_OBSERVER_NAME) {
            push_unique(&mut verifiers, name);
        }
    }
    let mut authors = Vec::new();
    for item in set.items(tags::AUTHOR_OBSERVER_SEQUENCE) {
        let person = item
            .first_text(tags::OBSERVER_TYPE)
            .is_none_or(|kind| kind == "PSN");
        if let Some(name) = person
            .then(|| reader.name(item, tags::PERSON_NAME))
            .flatten()
        {
            push_unique(&mut authors, name);
        }
    }
    if authors.is_empty() {
        for name in content_observers {
            push_unique(&mut authors, name.clone());
        }
    }
    let interpreters = if authors.is_empty() {
        &verifiers
    } else {
        &authors
    };
    let references = |names: &[String]| names.iter().map(|n| display_reference(n)).collect();
    (references(&verifiers), references(interpreters))
}

fn push_unique(names: &mut Vec<String>, name: String) {
    if !names.contains(&name) {
        names.push(name);
    }
}
