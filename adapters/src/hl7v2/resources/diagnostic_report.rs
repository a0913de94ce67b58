//! An OBR of a result message as a DiagnosticReport: identifiers, status (OBR-25), category
//! (OBR-24 or a Study UID: radiology, else laboratory), code (OBR-4), times (OBR-7/8, OBR-22),
//! results interpreter (OBR-32), and what its OBX became (results, attachments, study).

use super::order_numbers::OrderNumbers;
use super::util::{date_time_of, instant_of};
use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::{is_imaging_section, jp_report_category, report_status, LOINC, V2_0074};
use crate::hl7v2::datatypes::coded::codeable_concept;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{
    concept, display_reference, obj, put, put_array, put_str, reference, text_concept,
};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::resources::observation::subcomponent_separator;
use crate::report::ReportCode;

/// What the result driver has gathered for one report.
pub struct ReportParts {
    /// The business key.
    pub key: String,
    /// The order numbers.
    pub numbers: OrderNumbers,
    /// The ServiceRequest the report answers.
    pub based_on: Option<Value>,
    /// True for imaging reports (OBR-24 or a Study UID).
    pub imaging: bool,
    /// Observation references.
    pub results: Vec<Value>,
    /// Specimen references.
    pub specimens: Vec<Value>,
    /// The ImagingStudy id, when a Study UID was given.
    pub imaging_study: Option<String>,
    /// ED attachments.
    pub presented_form: Vec<Value>,
    /// Report text for `conclusion`.
    pub conclusion: Option<String>,
}

/// True when OBR-24 names an imaging section.
pub fn is_imaging_obr(obr: &Segment<'_>) -> bool {
    is_imaging_section(&obr.field(24).text())
}

/// Adds the DiagnosticReport of `obr`.
pub fn map_diagnostic_report(
    m: &mut Mapping<'_>,
    obr: &Segment<'_>,
    parts: ReportParts,
) -> ResourceRef {
    let id = m.id("DiagnosticReport", &parts.key);
    for n in [1, 2, 3] {
        m.mark(obr, n);
    }
    let mut resource = start_resource("DiagnosticReport", &id, 12);
    let mut identifiers = Vec::new();
    if !parts.numbers.filler.is_empty() {
        identifiers.push(identifier(
            Some("FILL"),
            &m.ctx.system("filler-order"),
            &parts.numbers.filler,
        ));
    }
    if !parts.numbers.placer.is_empty() {
        identifiers.push(identifier(
            Some("PLAC"),
            &m.ctx.system("placer-order"),
            &parts.numbers.placer,
        ));
    }
    put_array(&mut resource, "identifier", identifiers);
    if let Some(based_on) = parts.based_on {
        put(&mut resource, "basedOn", vec![based_on]);
    }
    let status_code = m.text(obr, 25).into_owned();
    let status = match report_status(&status_code) {
        Some(status) => status,
        None => {
            let message = if status_code.is_empty() {
                "OBR-25 (result status) is empty: DiagnosticReport.status is unknown".to_owned()
            } else {
                format!("result status {status_code:?} is not in HL7 table 0123: DiagnosticReport.status is unknown")
            };
            m.warn(ReportCode::UnknownCode, &obr.field_location(25), message);
            "unknown"
        }
    };
    put(&mut resource, "status", status);

    let section = m.text(obr, 24).into_owned();
    let (category_code, category_display) = jp_report_category(&section, parts.imaging);
    let v2_section = if section.is_empty() {
        if parts.imaging {
            "RAD"
        } else {
            "LAB"
        }
    } else {
        section.as_str()
    };
    put(
        &mut resource,
        "category",
        vec![
            concept(LOINC, category_code, Some(category_display)),
            concept(V2_0074, v2_section, None),
        ],
    );
    let separator = subcomponent_separator(m);
    let code = m
        .field(obr, 4)
        .repetitions()
        .next()
        .and_then(|r| codeable_concept(&r, m.ctx, separator));
    let code = code.unwrap_or_else(|| {
        m.warn(
            ReportCode::Missing,
            &obr.field_location(4),
            "OBR-4 (universal service identifier) is empty: DiagnosticReport.code is text only",
        );
        text_concept("unspecified")
    });
    put(&mut resource, "code", code);
    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }
    if let Some(encounter) = &m.encounter {
        put(&mut resource, "encounter", encounter.to_reference());
    }
    let start = date_time_of(m, obr, 7);
    let end = date_time_of(m, obr, 8);
    match (start, end) {
        (Some(start), None) => put(&mut resource, "effectiveDateTime", start),
        (start, Some(end)) => {
            let mut period = obj(2);
            if let Some(start) = start {
                put(&mut period, "start", start);
            }
            put(&mut period, "end", end);
            put(&mut resource, "effectivePeriod", Value::Object(period));
        }
        (None, None) => {}
    }
    if let Some(issued) = instant_of(m, obr, 22) {
        put(&mut resource, "issued", issued);
    }
    let interpreters = results_interpreters(m, obr);
    put_array(&mut resource, "resultsInterpreter", interpreters);
    put_array(&mut resource, "specimen", parts.specimens);
    put_array(&mut resource, "result", parts.results);
    if let Some(study) = &parts.imaging_study {
        put(
            &mut resource,
            "imagingStudy",
            vec![reference("ImagingStudy", study)],
        );
    }
    if let Some(conclusion) = &parts.conclusion {
        put_str(&mut resource, "conclusion", conclusion);
    }
    put_array(&mut resource, "presentedForm", parts.presented_form);
    m.bundle.add("DiagnosticReport", id.clone(), resource);
    ResourceRef {
        resource_type: "DiagnosticReport",
        id,
    }
}

/// OBR-32 (principal result interpreter, NDL whose first component is a CNN:
/// id&family&given&…): Practitioner references, display-only when there is no id.
fn results_interpreters(m: &mut Mapping<'_>, obr: &Segment<'_>) -> Vec<Value> {
    let field = m.field(obr, 32);
    let mut interpreters = Vec::new();
    for repetition in field.repetitions() {
        let person = repetition.component(1);
        let id_value = person.subcomponent_text(1).into_owned();
        let family = person.subcomponent_text(2).into_owned();
        let given = person.subcomponent_text(3).into_owned();
        let display = [given.as_str(), family.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if id_value.is_empty() {
            if !display.is_empty() {
                interpreters.push(display_reference(&display));
            }
            continue;
        }
        let id = m.id("Practitioner", &id_value);
        if !m.bundle.contains(&id) {
            let mut resource = start_resource("Practitioner", &id, 2);
            put(
                &mut resource,
                "identifier",
                vec![identifier(
                    None,
                    &m.ctx.system("practitioner-id"),
                    &id_value,
                )],
            );
            if !family.is_empty() || !given.is_empty() {
                let mut name = obj(2);
                put_str(&mut name, "family", &family);
                if !given.is_empty() {
                    put(&mut name, "given", vec![given.clone()]);
                }
                put(&mut resource, "name", vec![Value::Object(name)]);
            }
            m.bundle.add("Practitioner", id.clone(), resource);
        }
        interpreters.push(reference("Practitioner", &id));
    }
    interpreters
}
