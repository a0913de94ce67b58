//! Data sets built by hand (no files): SR flags → status, content tree → narrative and
//! conclusion, PDF → presentedForm, and the limits.

use super::reader::parse_dt;
use super::*;
use crate::dicom::charset::CharacterSets;
use crate::dicom::collect::ReportInstance;
use crate::dicom::dataset::{Element, ElementValue};
use crate::dicom::instance::InstanceInfo;
use crate::report::Severity;
use base64::Engine as _;
use dicom_core::{Tag, VR};

const BASIC_TEXT_SR: &str = "1.2.840.10008.5.1.4.1.1.88.11";
const FILE: &str = "DICOM/SR0001";

fn element(tag: Tag, vr: VR, value: &[u8]) -> Element {
    Element {
        tag,
        vr,
        value: ElementValue::Bytes(value.to_vec()),
    }
}

fn text(tag: Tag, vr: VR, value: &str) -> Element {
    element(tag, vr, value.as_bytes())
}

fn sequence(tag: Tag, items: Vec<DataSet>) -> Element {
    Element {
        tag,
        vr: VR::SQ,
        value: ElementValue::Items(items),
    }
}

fn data_set(elements: Vec<Element>) -> DataSet {
    DataSet {
        elements,
        ..DataSet::new(CharacterSets::default(), false)
    }
}

fn code(value: &str, scheme: &str, meaning: &str) -> DataSet {
    data_set(vec![
        text(tags::CODE_VALUE, VR::SH, value),
        text(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
        text(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

fn concept(value: &str, scheme: &str, meaning: &str) -> Element {
    sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code(value, scheme, meaning)],
    )
}

fn text_item(name: (&str, &str, &str), value: &[u8]) -> DataSet {
    data_set(vec![
        text(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        text(tags::VALUE_TYPE, VR::CS, "TEXT"),
        concept(name.0, name.1, name.2),
        element(tags::TEXT_VALUE, VR::UT, value),
    ])
}

fn code_item(name: (&str, &str, &str), value: (&str, &str, &str)) -> DataSet {
    data_set(vec![
        text(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        text(tags::VALUE_TYPE, VR::CS, "CODE"),
        concept(name.0, name.1, name.2),
        sequence(
            tags::CONCEPT_CODE_SEQUENCE,
            vec![code(value.0, value.1, value.2)],
        ),
    ])
}

fn container(name: (&str, &str, &str), children: Vec<DataSet>) -> DataSet {
    data_set(vec![
        text(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        text(tags::VALUE_TYPE, VR::CS, "CONTAINER"),
        concept(name.0, name.1, name.2),
        sequence(tags::CONTENT_SEQUENCE, children),
    ])
}

const FINDINGS: (&str, &str, &str) = ("121070", "DCM", "Findings");
const FINDING: (&str, &str, &str) = ("121071", "DCM", "Finding");
const IMPRESSIONS: (&str, &str, &str) = ("121072", "DCM", "Impressions");
const IMPRESSION: (&str, &str, &str) = ("121073", "DCM", "Impression");

fn instance(sop_class: &str, dataset: DataSet) -> ReportInstance {
    ReportInstance {
        instance: InstanceInfo {
            uid: "1.2.392.200036.9116.4.1.1".into(),
            sop_class: sop_class.into(),
            number: Some(1),
            title: None,
            file: FILE.into(),
        },
        series_uid: "1.2.392.200036.9116.3.1".into(),
        dataset,
    }
}

/// A Basic Text SR titled LOINC 18748-4 with the given flags and content.
fn basic_text_sr(flags: (&str, &str), content: Vec<DataSet>) -> ReportInstance {
    let mut elements = vec![
        text(tags::CONTENT_DATE, VR::DA, "20261102"),
        text(tags::CONTENT_TIME, VR::TM, "1015"),
        text(tags::MODALITY, VR::CS, "SR"),
        text(tags::VALUE_TYPE, VR::CS, "CONTAINER"),
        concept("18748-4", "LN", "Diagnostic Imaging Report"),
    ];
    if !flags.0.is_empty() {
        elements.push(text(tags::COMPLETION_FLAG, VR::CS, flags.0));
    }
    if !flags.1.is_empty() {
        elements.push(text(tags::VERIFICATION_FLAG, VR::CS, flags.1));
    }
    elements.push(sequence(
        tags::VERIFYING_OBSERVER_SEQUENCE,
        vec![data_set(vec![
            text(tags::VERIFICATION_DATE_TIME, VR::DT, "20261102113000"),
            text(tags::VERIFYING_OBSERVER_NAME, VR::PN, "Yamada^Taro"),
        ])],
    ));
    elements.push(sequence(tags::CONTENT_SEQUENCE, content));
    instance(BASIC_TEXT_SR, data_set(elements))
}

fn findings_and_impression() -> Vec<DataSet> {
    vec![
        container(
            FINDINGS,
            vec![text_item(
                FINDING,
                b"Nodule <5 mm> & \"calcified\"\r\nright lobe",
            )],
        ),
        container(
            IMPRESSIONS,
            vec![
                text_item(IMPRESSION, b"No malignancy."),
                code_item(IMPRESSION, ("38266002", "SCT", "Entire body as a whole")),
            ],
        ),
    ]
}

fn based_on() -> Vec<Value> {
    vec![json!({ "reference": "ServiceRequest/order-1" })]
}

fn links(based_on: &[Value]) -> ReportLinks<'_> {
    ReportLinks {
        subject: Some(json!({ "reference": "Patient/p1" })),
        imaging_study: json!({ "reference": "ImagingStudy/s1" }),
        based_on,
        study_started: Some("2026-11-02T09:00:00+09:00"),
        timezone: "+09:00",
    }
}

fn map(instance: &ReportInstance) -> (Option<Value>, Report) {
    let based_on = based_on();
    let mut report = Report::new();
    let resource = map_report(instance, &links(&based_on), &mut report);
    (resource, report)
}

#[test]
fn basic_text_sr_gives_final_report_with_impression_as_conclusion() {
    let sr = basic_text_sr(("COMPLETE", "VERIFIED"), findings_and_impression());
    let (resource, report) = map(&sr);
    let resource = resource.expect("a report");
    assert!(report.entries.is_empty(), "{:?}", report.entries);
    let keys: Vec<&str> = resource
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "resourceType",
            "meta",
            "text",
            "identifier",
            "basedOn",
            "status",
            "category",
            "code",
            "subject",
            "effectiveDateTime",
            "issued",
            "performer",
            "resultsInterpreter",
            "imagingStudy",
            "conclusion",
            "conclusionCode"
        ]
    );
    assert_eq!(resource["meta"]["profile"][0], PROFILE);
    assert_eq!(resource["status"], "final");
    assert_eq!(
        resource["identifier"][0],
        json!({ "system": "urn:dicom:uid", "value": "urn:oid:1.2.392.200036.9116.4.1.1" })
    );
    assert_eq!(resource["basedOn"], json!(based_on()));
    assert_eq!(resource["category"].as_array().map(Vec::len), Some(1));
    assert_eq!(resource["category"][0]["coding"][0]["code"], "LP29684-5");
    assert_eq!(
        resource["code"]["coding"],
        json!([
            { "system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic Imaging Report" },
            { "system": JP_DOCUMENT_CODES, "code": "18748-4", "display": "Diagnostic imaging study" }
        ])
    );
    assert_eq!(resource["effectiveDateTime"], "2026-11-02T10:15:00+09:00");
    // Content Time has no seconds: the verification time is the instant.
    assert_eq!(resource["issued"], "2026-11-02T11:30:00+09:00");
    assert_eq!(resource["performer"], json!([{ "display": "Yamada Taro" }]));
    assert_eq!(resource["resultsInterpreter"], resource["performer"]);
    assert_eq!(resource["imagingStudy"][0]["reference"], "ImagingStudy/s1");
    assert_eq!(resource["conclusion"], "No malignancy.");
    assert_eq!(
        resource["conclusionCode"][0]["coding"][0],
        json!({ "system": "http://snomed.info/sct", "code": "38266002", "display": "Entire body as a whole" })
    );
    let div = resource["text"]["div"].as_str().expect("a div");
    assert_eq!(resource["text"]["status"], "generated");
    assert!(div.starts_with(
        r#"<div xmlns="http://www.w3.org/1999/xhtml"><h2>Diagnostic Imaging Report</h2>"#
    ));
    assert!(div.contains("<h3>Findings</h3>"), "{div}");
    assert!(
        div.contains(
            "<p>Finding: Nodule &lt;5 mm&gt; &amp; &quot;calcified&quot;<br/>right lobe</p>"
        ),
        "{div}"
    );
    assert!(div.contains("<p>Impression: No malignancy.</p>"), "{div}");
    assert!(div.ends_with("</div>"));
}

#[test]
fn findings_are_the_conclusion_when_there_is_no_impression() {
    let content = vec![container(
        FINDINGS,
        vec![text_item(FINDING, b"A"), text_item(FINDING, b"B  ")],
    )];
    let (resource, _) = map(&basic_text_sr(("COMPLETE", "UNVERIFIED"), content));
    let resource = resource.expect("a report");
    assert_eq!(resource["conclusion"], "A\nB");
    assert_eq!(resource["status"], "preliminary");
    assert!(resource.get("conclusionCode").is_none());
}

#[test]
fn partial_sr_is_partial() {
    let (resource, report) = map(&basic_text_sr(("PARTIAL", "UNVERIFIED"), Vec::new()));
    assert_eq!(resource.expect("a report")["status"], "partial");
    assert!(report.entries.is_empty(), "{:?}", report.entries);
}

#[test]
fn unknown_flag_is_reported_and_status_unknown() {
    let (resource, report) = map(&basic_text_sr(("COMPLETE", "SIGNED"), Vec::new()));
    assert_eq!(resource.expect("a report")["status"], "unknown");
    assert_eq!(report.entries.len(), 1, "{:?}", report.entries);
    let entry = &report.entries[0];
    assert_eq!(entry.severity, Severity::Warning);
    assert_eq!(entry.code, ReportCode::UnknownCode);
    assert_eq!(entry.location, "DICOM/SR0001 (0040,A493)");
    assert!(entry.message.contains("SIGNED"), "{}", entry.message);
}

#[test]
fn sr_without_completion_flag_is_unknown_and_reported() {
    let (resource, report) = map(&basic_text_sr(("", "VERIFIED"), Vec::new()));
    assert_eq!(resource.expect("a report")["status"], "unknown");
    assert_eq!(report.entries[0].code, ReportCode::Missing);
    assert_eq!(report.entries[0].location, "DICOM/SR0001 (0040,A491)");
}

fn pdf(document: Option<&[u8]>) -> ReportInstance {
    let mut elements = vec![
        text(tags::MODALITY, VR::CS, "CT"),
        text(tags::CONTENT_DATE, VR::DA, "20261102"),
        text(tags::CONTENT_TIME, VR::TM, "101530"),
        text(tags::DOCUMENT_TITLE, VR::ST, "CT Chest report"),
        text(
            tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
            VR::LO,
            "application/pdf",
        ),
    ];
    if let Some(document) = document {
        elements.push(element(tags::ENCAPSULATED_DOCUMENT, VR::OB, document));
    }
    instance(ENCAPSULATED_PDF, data_set(elements))
}

fn decoded_form_data(resource: &Value) -> Vec<u8> {
    let data = resource["presentedForm"][0]["data"]
        .as_str()
        .expect("base64 data");
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("valid base64")
}

#[test]
fn pdf_is_presented_form_without_its_padding() {
    let original = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF".to_vec();
    assert_eq!(original.len() % 2, 1);
    let mut padded = original.clone();
    padded.push(0);
    let (resource, report) = map(&pdf(Some(&padded)));
    let resource = resource.expect("a report");
    assert!(report.entries.is_empty(), "{:?}", report.entries);
    assert_eq!(decoded_form_data(&resource), original);
    let form = &resource["presentedForm"][0];
    assert_eq!(form["contentType"], "application/pdf");
    assert_eq!(form["title"], "CT Chest report");
    assert_eq!(form["creation"], "2026-11-02T10:15:30+09:00");
    assert_eq!(resource["status"], "final");
    assert_eq!(resource["issued"], "2026-11-02T10:15:30+09:00");
    assert_eq!(resource["code"]["text"], "CT Chest report");
    assert_eq!(resource["code"]["coding"][0]["system"], JP_DOCUMENT_CODES);
    assert_eq!(resource["category"][1]["coding"][0]["code"], "CT");
    let div = resource["text"]["div"].as_str().expect("a div");
    assert!(div.contains("<h2>CT Chest report</h2>"), "{div}");
}

#[test]
fn even_pdf_keeps_every_byte() {
    let original = b"%PDF-1.4\n%%EOF\n\0".to_vec();
    assert_eq!(original.len() % 2, 0);
    // Without the %%EOF right before it, a trailing NUL is document content.
    let binary = b"%PDF-1.4\nstreamx\n\0".to_vec();
    assert_eq!(binary.len() % 2, 0);
    for (document, expected) in [(&original, &original[..15]), (&binary, &binary[..])] {
        let (resource, _) = map(&pdf(Some(document)));
        assert_eq!(decoded_form_data(&resource.expect("a report")), expected);
    }
}

#[test]
fn pdf_without_document_is_reported_and_skipped() {
    let (resource, report) = map(&pdf(None));
    assert!(resource.is_none());
    assert_eq!(report.entries.len(), 1, "{:?}", report.entries);
    assert_eq!(report.entries[0].severity, Severity::Warning);
    assert_eq!(report.entries[0].code, ReportCode::Missing);
    assert_eq!(report.entries[0].location, "DICOM/SR0001 (0042,0011)");
}

/// Takes a nested data set apart item by item, so that dropping it does not recurse.
fn dismantle(root: DataSet) {
    let mut pending = vec![root];
    while let Some(mut set) = pending.pop() {
        for element in set.elements.drain(..) {
            if let ElementValue::Items(items) = element.value {
                pending.extend(items);
            }
        }
    }
}

#[test]
fn deeply_nested_containers_are_cut_at_the_depth_limit() {
    let mut nested = text_item(IMPRESSION, b"too deep to read");
    for _ in 0..10_000 {
        nested = container(IMPRESSIONS, vec![nested]);
    }
    let sr = basic_text_sr(("COMPLETE", "VERIFIED"), vec![nested]);
    let (resource, report) = map(&sr);
    let resource = resource.expect("a report");
    assert!(resource.get("conclusion").is_none());
    let div = resource["text"]["div"].as_str().expect("a div");
    assert_eq!(div.matches("<h").count(), content::MAX_DEPTH + 1);
    let truncated: Vec<_> = report
        .entries
        .iter()
        .filter(|entry| entry.code == ReportCode::Truncated)
        .collect();
    assert_eq!(truncated.len(), 1, "{:?}", report.entries);
    assert_eq!(truncated[0].location, "DICOM/SR0001 (0040,A730)");
    dismantle(sr.dataset);
}

#[test]
fn too_many_items_are_cut_at_the_count_limit() {
    let items = (0..content::MAX_ITEMS + 5)
        .map(|_| text_item(FINDING, b"x"))
        .collect();
    let (resource, report) = map(&basic_text_sr(("COMPLETE", "VERIFIED"), items));
    let div = resource.expect("a report")["text"]["div"]
        .as_str()
        .map(|div| div.matches("<p>").count());
    assert_eq!(div, Some(content::MAX_ITEMS));
    assert!(report
        .entries
        .iter()
        .any(|entry| entry.code == ReportCode::Truncated));
}

#[test]
fn undecodable_text_is_reported_once() {
    // Under ISO_IR 192 (UTF-8), 0xFE and 0xFF cannot occur.
    let utf8 = CharacterSets::parse(b"ISO_IR 192").expect("UTF-8 is known");
    let content = [
        text_item(FINDING, b"caf\xFF"),
        text_item(IMPRESSION, b"\xFE\xFF"),
    ]
    .into_iter()
    .map(|item| DataSet {
        charsets: utf8.clone(),
        ..item
    })
    .collect();
    let (resource, report) = map(&basic_text_sr(("COMPLETE", "VERIFIED"), content));
    assert!(resource.is_some());
    assert_eq!(report.entries.len(), 1, "{:?}", report.entries);
    let entry = &report.entries[0];
    assert!(entry
        .message
        .starts_with("text could not be decoded exactly"));
    assert!(entry.message.contains("2 values"), "{}", entry.message);
    assert_eq!(entry.location, "DICOM/SR0001 (0040,A160)");
}

#[test]
fn japanese_names_show_both_groups() {
    let charsets = CharacterSets::parse(b"ISO_IR 192").expect("UTF-8 is known");
    let verifier = DataSet {
        elements: vec![text(
            tags::VERIFYING_OBSERVER_NAME,
            VR::PN,
            "Yamada^Taro=山田^太郎=やまだ^たろう",
        )],
        ..DataSet::new(charsets, false)
    };
    let author = data_set(vec![
        text(tags::OBSERVER_TYPE, VR::CS, "PSN"),
        text(tags::PERSON_NAME, VR::PN, "Sato^Hanako"),
    ]);
    let mut sr = basic_text_sr(("COMPLETE", "VERIFIED"), Vec::new());
    sr.dataset
        .elements
        .retain(|e| e.tag != tags::VERIFYING_OBSERVER_SEQUENCE);
    sr.dataset
        .elements
        .push(sequence(tags::VERIFYING_OBSERVER_SEQUENCE, vec![verifier]));
    sr.dataset
        .elements
        .push(sequence(tags::AUTHOR_OBSERVER_SEQUENCE, vec![author]));
    let (resource, report) = map(&sr);
    let resource = resource.expect("a report");
    assert!(report.entries.is_empty(), "{:?}", report.entries);
    assert_eq!(resource["performer"], json!([{ "display": "山田 太郎" }]));
    assert_eq!(
        resource["resultsInterpreter"],
        json!([{ "display": "Sato Hanako" }])
    );
}

#[test]
fn key_object_selection_makes_no_report() {
    let kos = instance("1.2.840.10008.5.1.4.1.1.88.59", data_set(Vec::new()));
    let (resource, report) = map(&kos);
    assert!(resource.is_none());
    assert_eq!(report.entries[0].severity, Severity::Information);
}

#[test]
fn dicom_date_times() {
    let moment = |raw| parse_dt(raw, "+09:00").map(|m| (m.value, m.has_seconds));
    assert_eq!(
        moment("20261102101530.25"),
        Some(("2026-11-02T10:15:30.25+09:00".into(), true))
    );
    assert_eq!(
        moment("20261102101530-0500"),
        Some(("2026-11-02T10:15:30-05:00".into(), true))
    );
    assert_eq!(
        moment("202611021015"),
        Some(("2026-11-02T10:15:00+09:00".into(), false))
    );
    assert_eq!(moment("202611"), Some(("2026-11".into(), false)));
    assert_eq!(moment("2026"), Some(("2026".into(), false)));
    assert_eq!(moment("20261302"), None);
    assert_eq!(moment("2026110210:15"), None);
    assert_eq!(moment("２０２６"), None);
    assert_eq!(moment(""), None);
}

#[test]
fn escaping_covers_markup_line_ends_and_controls() {
    let mut out = String::new();
    content::push_escaped(&mut out, "a<b>&\"c\"\rd\ne\u{1}\u{FFFF}");
    assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&quot;<br/>d<br/>e");
}
