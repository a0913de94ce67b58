//! Studies → FHIR resources: one Patient, one ImagingStudy (and the configured DICOMweb
//! Endpoint) per study, a DiagnosticReport per SR or encapsulated PDF; ids are deterministic
//! from the UIDs and the Patient ID, so converting the same media twice changes nothing and the
//! ids agree with those the HL7 v2 adapter gives the same patient, order and study.

use super::collect::{SeriesGroup, StudyGroup};
use super::diagnostic_report::{map_report, ReportLinks};
use super::instance::{AccessionIssuer, CodeItem, PatientInfo, StudyInfo};
use super::person_name::{NameGroup, PersonName};
use super::values::{
    code_system, fhir_date, fhir_date_time, fhir_offset, gender, oid_urn, DCM, URN_DICOM_UID,
};
use crate::context::SourceContext;
use crate::identity::resource_id;
use crate::report::{Report, ReportCode};
use serde_json::{json, Map, Value};

const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const JP_PATIENT_ID_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.1";
const JP_PATIENT: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
const JP_IMAGING_STUDY: &str =
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_ImagingStudy_Radiology";

/// A resource ready for the Bundle.
pub struct Mapped {
    /// Its type.
    pub resource_type: &'static str,
    /// Its id.
    pub id: String,
    /// The resource JSON (with `resourceType` and `id`).
    pub resource: Value,
}

/// Maps one study. `endpoint` is the Endpoint reference every ImagingStudy names, if any.
pub fn map_study(
    study: &StudyGroup,
    ctx: &SourceContext,
    endpoint: Option<&Value>,
    report: &mut Report,
) -> Vec<Mapped> {
    let mut out = Vec::with_capacity(2 + study.reports.len());
    let location = |tag: &str| format!("{} {tag}", study.first_file);
    let patient_key = match &study.patient.id {
        Some(id) => id.clone(),
        None => {
            report.warning(
                ReportCode::Missing,
                location("(0010,0020)"),
                "no Patient ID: the study gets a Patient of its own, keyed by the Study Instance UID",
            );
            format!("dicom-study:{}", study.info.uid)
        }
    };
    let patient_id = resource_id(&ctx.institution, "Patient", &patient_key);
    out.push(Mapped {
        resource_type: "Patient",
        resource: patient(&study.patient, &patient_id, ctx, &location, report),
        id: patient_id.clone(),
    });
    let subject = json!({ "reference": format!("Patient/{patient_id}") });
    let study_id = resource_id(&ctx.institution, "ImagingStudy", &study.info.uid);
    let offset = study
        .info
        .timezone_offset
        .as_deref()
        .and_then(fhir_offset)
        .unwrap_or_else(|| ctx.timezone.clone());
    let based_on = based_on(&study.info, ctx);
    let started = study
        .info
        .date
        .as_deref()
        .and_then(|date| fhir_date_time(date, study.info.time.as_deref(), &offset));
    if started.is_none() {
        if let Some(date) = &study.info.date {
            report.warning(
                ReportCode::Invalid,
                location("(0008,0020)"),
                format!("Study Date {date:?} is not a DICOM date: ImagingStudy.started left out"),
            );
        }
    }
    out.push(Mapped {
        resource_type: "ImagingStudy",
        resource: imaging_study(
            study,
            &study_id,
            &subject,
            &based_on,
            started.as_deref(),
            &offset,
            endpoint,
            ctx,
        ),
        id: study_id.clone(),
    });
    let links = ReportLinks {
        subject: Some(subject),
        imaging_study: json!({ "reference": format!("ImagingStudy/{study_id}") }),
        based_on: &based_on,
        study_started: started.as_deref(),
        timezone: &offset,
    };
    for instance in &study.reports {
        if let Some(mut resource) = map_report(instance, &links, report) {
            let id = resource_id(&ctx.institution, "DiagnosticReport", &instance.instance.uid);
            with_id(&mut resource, &id);
            out.push(Mapped {
                resource_type: "DiagnosticReport",
                id,
                resource,
            });
        }
    }
    out
}

/// Puts `id` right after `resourceType`.
fn with_id(resource: &mut Value, id: &str) {
    if let Value::Object(object) = resource {
        let mut ordered = Map::with_capacity(object.len() + 1);
        if let Some(kind) = object.shift_remove("resourceType") {
            ordered.insert("resourceType".into(), kind);
        }
        ordered.insert("id".into(), Value::String(id.to_owned()));
        ordered.append(object);
        *object = ordered;
    }
}

/// The DICOMweb Endpoint for `base`, and its reference.
pub fn endpoint(base: &str, ctx: &SourceContext) -> Mapped {
    let id = resource_id(&ctx.institution, "Endpoint", base);
    Mapped {
        resource_type: "Endpoint",
        resource: json!({
            "resourceType": "Endpoint",
            "id": id,
            "status": "active",
            "connectionType": {
                "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                "code": "dicom-wado-rs"
            },
            "name": format!("{} DICOMweb", ctx.institution),
            "payloadType": [{ "text": "DICOM" }],
            "payloadMimeType": ["application/dicom"],
            "address": base
        }),
        id,
    }
}

fn identifier(type_code: Option<&str>, system: &str, value: &str) -> Value {
    let mut out = Map::new();
    if let Some(code) = type_code {
        out.insert(
            "type".into(),
            json!({ "coding": [{ "system": V2_0203, "code": code }] }),
        );
    }
    out.insert("system".into(), json!(system));
    out.insert("value".into(), json!(value));
    Value::Object(out)
}

/// The accession number's identifier system: the issuer's OID, else the facility's.
fn accession_system(info: &StudyInfo, ctx: &SourceContext) -> String {
    match &info.accession_issuer {
        Some(AccessionIssuer::Oid(oid)) => oid_urn(oid),
        _ => ctx.system("accession"),
    }
}

/// The order the study fulfils: the ServiceRequest of the placer order number (the id the HL7
/// v2 adapter gives that order), else a logical reference by accession number that the
/// gateway resolves when the order is (or later becomes) known.
fn based_on(info: &StudyInfo, ctx: &SourceContext) -> Vec<Value> {
    if let Some(placer) = &info.placer_order {
        let id = resource_id(&ctx.institution, "ServiceRequest", placer);
        return vec![json!({ "reference": format!("ServiceRequest/{id}") })];
    }
    match &info.accession {
        Some(accession) => vec![json!({
            "type": "ServiceRequest",
            "identifier": identifier(Some("ACSN"), &accession_system(info, ctx), accession)
        })],
        None => Vec::new(),
    }
}

fn patient(
    info: &PatientInfo,
    id: &str,
    ctx: &SourceContext,
    location: &dyn Fn(&str) -> String,
    report: &mut Report,
) -> Value {
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("Patient"));
    out.insert("id".into(), json!(id));
    out.insert("meta".into(), json!({ "profile": [JP_PATIENT] }));
    let mut identifiers = Vec::new();
    if let Some(value) = &info.id {
        let mut key = identifier(Some("MR"), &ctx.system("patient-id"), value);
        if let Some(issuer) = &info.issuer {
            key["assigner"] = json!({ "display": issuer });
        }
        identifiers.push(key);
        if let Some(code) = &ctx.institution_code {
            identifiers.push(identifier(
                None,
                &format!("{JP_PATIENT_ID_PREFIX}{code}"),
                value,
            ));
        }
    }
    if !identifiers.is_empty() {
        out.insert("identifier".into(), Value::Array(identifiers));
    }
    if let Some(name) = &info.name {
        let names = human_names(name);
        if names
            .iter()
            .any(|name| name.to_string().contains('\u{FFFD}'))
        {
            report.warning(
                ReportCode::Invalid,
                location("(0010,0010)"),
                "Patient's Name has bytes its Specific Character Set cannot decode: kept with U+FFFD",
            );
        }
        out.insert("name".into(), Value::Array(names));
    }
    if let Some(sex) = &info.sex {
        match gender(sex) {
            Some(code) => {
                out.insert("gender".into(), json!(code));
            }
            None => {
                out.insert("gender".into(), json!("unknown"));
            }
        }
    }
    if let Some(birth) = &info.birth_date {
        match fhir_date(birth) {
            Some(date) => {
                out.insert("birthDate".into(), json!(date));
            }
            None => report.warning(
                ReportCode::Invalid,
                location("(0010,0030)"),
                format!("Patient's Birth Date {birth:?} is not a DICOM date: left out"),
            ),
        }
    }
    if let Some(charset) = &info.specific_character_set {
        if super::charset::CharacterSets::parse(charset.as_bytes()).is_err() {
            report.warning(
                ReportCode::UnknownCode,
                location("(0008,0005)"),
                format!("Specific Character Set {charset:?} is not known: text was read as ASCII"),
            );
        }
    }
    Value::Object(out)
}

/// One HumanName per component group; with more than one group each carries its JP Core
/// representation (ABC alphabetic, IDE ideographic, SYL phonetic).
pub fn human_names(name: &PersonName) -> Vec<Value> {
    let groups = [
        (&name.alphabetic, "ABC"),
        (&name.ideographic, "IDE"),
        (&name.phonetic, "SYL"),
    ];
    let several = groups.iter().filter(|(group, _)| group.is_some()).count() > 1;
    groups
        .iter()
        .filter_map(|(group, code)| {
            group
                .as_ref()
                .map(|group| human_name(group, several.then_some(*code)))
        })
        .collect()
}

fn human_name(group: &NameGroup, representation: Option<&str>) -> Value {
    let mut out = Map::new();
    if let Some(code) = representation {
        out.insert(
            "extension".into(),
            json!([{ "url": EN_REPRESENTATION, "valueCode": code }]),
        );
    }
    out.insert("use".into(), json!("official"));
    out.insert("text".into(), json!(group.readable()));
    if !group.family.is_empty() {
        out.insert("family".into(), json!(group.family));
    }
    let given = group.given_names();
    if !given.is_empty() {
        out.insert("given".into(), json!(given));
    }
    if !group.prefix.is_empty() {
        out.insert("prefix".into(), json!([group.prefix]));
    }
    if !group.suffix.is_empty() {
        out.insert("suffix".into(), json!([group.suffix]));
    }
    Value::Object(out)
}

fn coding(code: &CodeItem) -> Value {
    let mut out = Map::new();
    if let Some(system) = code_system(&code.scheme) {
        out.insert("system".into(), json!(system));
    }
    out.insert("code".into(), json!(code.value));
    if let Some(meaning) = &code.meaning {
        out.insert("display".into(), json!(meaning));
    }
    Value::Object(out)
}

fn concept(code: &CodeItem) -> Value {
    let mut out = Map::new();
    out.insert("coding".into(), json!([coding(code)]));
    if let Some(meaning) = &code.meaning {
        out.insert("text".into(), json!(meaning));
    }
    Value::Object(out)
}

fn modality_coding(modality: &str) -> Value {
    json!({ "system": DCM, "code": modality })
}

#[allow(clippy::too_many_arguments)]
fn imaging_study(
    study: &StudyGroup,
    id: &str,
    subject: &Value,
    based_on: &[Value],
    started: Option<&str>,
    offset: &str,
    endpoint: Option<&Value>,
    ctx: &SourceContext,
) -> Value {
    let info = &study.info;
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("ImagingStudy"));
    out.insert("id".into(), json!(id));
    out.insert("meta".into(), json!({ "profile": [JP_IMAGING_STUDY] }));
    let mut identifiers = vec![identifier(None, URN_DICOM_UID, &oid_urn(&info.uid))];
    if let Some(accession) = &info.accession {
        let mut accession_id = identifier(Some("ACSN"), &accession_system(info, ctx), accession);
        if let Some(AccessionIssuer::Local(namespace)) = &info.accession_issuer {
            accession_id["assigner"] = json!({ "display": namespace });
        }
        identifiers.push(accession_id);
    }
    if let Some(study_id) = &info.study_id {
        identifiers.push(identifier(None, &ctx.system("study-id"), study_id));
    }
    out.insert("identifier".into(), Value::Array(identifiers));
    out.insert("status".into(), json!("available"));
    let mut modalities: Vec<&str> = Vec::new();
    for series in &study.series {
        if let Some(modality) = series.info.modality.as_deref() {
            if !modalities.contains(&modality) {
                modalities.push(modality);
            }
        }
    }
    if !modalities.is_empty() {
        let codings: Vec<Value> = modalities.iter().map(|m| modality_coding(m)).collect();
        out.insert("modality".into(), Value::Array(codings));
    }
    out.insert("subject".into(), subject.clone());
    if let Some(started) = started {
        out.insert("started".into(), json!(started));
    }
    if !based_on.is_empty() {
        out.insert("basedOn".into(), json!(based_on));
    }
    if let Some(referrer) = info.referrer.as_ref().and_then(PersonName::display) {
        out.insert("referrer".into(), json!({ "display": referrer }));
    }
    if let Some(endpoint) = endpoint {
        out.insert("endpoint".into(), json!([endpoint]));
    }
    out.insert("numberOfSeries".into(), json!(study.series.len()));
    out.insert("numberOfInstances".into(), json!(study.instance_count()));
    if !info.procedure_codes.is_empty() {
        let codes: Vec<Value> = info.procedure_codes.iter().map(concept).collect();
        out.insert("procedureCode".into(), Value::Array(codes));
    }
    let mut reasons: Vec<Value> = info.reason_codes.iter().map(concept).collect();
    if let Some(text) = &info.reason_text {
        reasons.push(json!({ "text": text }));
    }
    if !reasons.is_empty() {
        out.insert("reasonCode".into(), Value::Array(reasons));
    }
    if let Some(description) = &info.description {
        out.insert("description".into(), json!(description));
    }
    let series: Vec<Value> = study
        .series
        .iter()
        .map(|series| series_json(series, offset, endpoint))
        .collect();
    out.insert("series".into(), Value::Array(series));
    Value::Object(out)
}

fn series_json(series: &SeriesGroup, offset: &str, endpoint: Option<&Value>) -> Value {
    let info = &series.info;
    let mut out = Map::new();
    out.insert("uid".into(), json!(info.uid));
    if let Some(number) = info
        .number
        .filter(|n| (0..=i64::from(u32::MAX)).contains(n))
    {
        out.insert("number".into(), json!(number));
    }
    out.insert(
        "modality".into(),
        modality_coding(info.modality.as_deref().unwrap_or("OT")),
    );
    if let Some(description) = &info.description {
        out.insert("description".into(), json!(description));
    }
    out.insert("numberOfInstances".into(), json!(series.instances.len()));
    if let Some(endpoint) = endpoint {
        out.insert("endpoint".into(), json!([endpoint]));
    }
    if let Some(body_part) = &info.body_part {
        out.insert("bodySite".into(), json!({ "display": body_part }));
    }
    if let Some(laterality) = info.laterality.as_deref().and_then(laterality_coding) {
        out.insert("laterality".into(), laterality);
    }
    if let Some(started) = info
        .date
        .as_deref()
        .and_then(|date| fhir_date_time(date, info.time.as_deref(), offset))
    {
        out.insert("started".into(), json!(started));
    }
    let instances: Vec<Value> = series
        .instances
        .iter()
        .map(|instance| {
            let mut item = Map::new();
            item.insert("uid".into(), json!(instance.uid));
            item.insert(
                "sopClass".into(),
                json!({ "system": "urn:ietf:rfc:3986", "code": oid_urn(&instance.sop_class) }),
            );
            if let Some(number) = instance
                .number
                .filter(|n| (0..=i64::from(u32::MAX)).contains(n))
            {
                item.insert("number".into(), json!(number));
            }
            if let Some(title) = &instance.title {
                item.insert("title".into(), json!(title));
            }
            Value::Object(item)
        })
        .collect();
    out.insert("instance".into(), Value::Array(instances));
    Value::Object(out)
}

/// (0020,0060) Laterality R/L as SNOMED CT (the R4 example binding).
fn laterality_coding(laterality: &str) -> Option<Value> {
    let (code, display) = match laterality.trim() {
        "R" => ("24028007", "Right"),
        "L" => ("7771000", "Left"),
        "B" => ("51440002", "Right and left"),
        _ => return None,
    };
    Some(json!({ "system": "http://snomed.info/sct", "code": code, "display": display }))
}
