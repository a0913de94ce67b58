//! One SS-MIX2 file → one transaction Bundle, through the HL7 v2 adapter. On top of the HL7 v2
//! mapping it checks the message against its place in the tree (PID-3 against the patient
//! folder, MSH-9 against the data-type folder), and turns a deleted version (condition flag 0)
//! into the same resources marked entered-in-error / revoked: nothing is ever hard-deleted.

use super::data_type::data_type;
use super::file_name::Condition;
use super::plan::StoredFile;
use crate::context::SourceContext;
use crate::hl7v2::{self, er7, Hl7Error, Hl7Options};
use crate::identity::resource_id;
use crate::report::{Conversion, Report, ReportCode};
use serde_json::Value;

/// What converting one file gave.
#[derive(Debug)]
pub struct FileConversion {
    /// The conversion (whose report also holds the consistency findings), or why there is none.
    pub result: Result<Conversion, Hl7Error>,
    /// The id of the `Binary` that keeps this version's raw message: stored means applied.
    pub marker_binary_id: String,
}

/// The status a resource of a deleted record gets, by resource type; `None` for resources that
/// stay as they are (the Patient, Organization, Practitioner, the raw message records).
pub fn deleted_status(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "ServiceRequest" => Some("revoked"),
        "DiagnosticReport" | "Observation" | "ImagingStudy" | "Specimen" | "Encounter" => {
            Some("entered-in-error")
        }
        _ => None,
    }
}

/// The id of the `Binary` that keeps the raw message of a file with these bytes and this
/// condition. A deleted version gets its own id even when its bytes equal the current one's,
/// so "stored" tells the deletion apart from the version it deletes.
pub fn marker_binary_id(bytes: &[u8], condition: Condition, ctx: &SourceContext) -> String {
    resource_id(
        &ctx.institution,
        "Binary",
        &record_key(&hl7v2::source_record_key(bytes), condition),
    )
}

fn record_key(key: &str, condition: Condition) -> String {
    match condition {
        Condition::Deleted => format!("{key}|ssmix2-deleted"),
        Condition::Current | Condition::Superseded => key.to_owned(),
    }
}

/// Converts the message in `bytes`, read from `file`.
pub fn convert_file(
    file: &StoredFile,
    bytes: &[u8],
    ctx: &SourceContext,
    opts: &Hl7Options,
) -> FileConversion {
    let marker_binary_id = marker_binary_id(bytes, file.name.condition, ctx);
    let result = convert_checked(file, bytes, ctx, opts);
    FileConversion {
        result,
        marker_binary_id,
    }
}

fn convert_checked(
    file: &StoredFile,
    bytes: &[u8],
    ctx: &SourceContext,
    opts: &Hl7Options,
) -> Result<Conversion, Hl7Error> {
    let message = er7::Message::parse(bytes, &opts.decode)?;
    let mut conversion = hl7v2::convert_message(&message, bytes, ctx)?;
    check_message(file, &message, &mut conversion.report);
    if file.name.condition == Condition::Deleted {
        mark_deleted(&mut conversion, bytes, ctx);
    }
    Ok(conversion)
}

/// Checks a file of a data type that is not converted: the message is parsed and compared with
/// its folders, so a broken or misfiled file is reported although nothing is stored from it.
pub fn check_unconverted(file: &StoredFile, bytes: &[u8], opts: &Hl7Options) -> Report {
    let mut report = Report::new();
    match er7::Message::parse(bytes, &opts.decode) {
        Ok(message) => check_message(file, &message, &mut report),
        Err(error) => report.warning(
            ReportCode::Invalid,
            error.location().map(|l| l.to_string()).unwrap_or_default(),
            format!("not a readable HL7 v2 message: {error}"),
        ),
    }
    report
}

/// Compares MSH-9 with the data-type folder and PID-3 with the patient folder.
fn check_message(file: &StoredFile, message: &er7::Message, report: &mut Report) {
    let message_type = message.message_type();
    let found = format!("{}^{}", message_type.code, message_type.trigger);
    if let Some(expected) = data_type(&file.name.data_type) {
        if expected.message != found {
            report.warning(
                ReportCode::Invalid,
                "MSH[1]-9",
                format!(
                    "the message is {found}, but the data-type folder {} holds {}",
                    expected.name, expected.message
                ),
            );
        }
    }
    let Some(pid) = message.first("PID") else {
        report.warning(ReportCode::Missing, "", "the message has no PID segment");
        return;
    };
    let ids: Vec<String> = pid
        .field(3)
        .repetitions()
        .map(|repetition| repetition.component(1).text().trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    if !ids.contains(&file.name.patient_id) {
        report.warning(
            ReportCode::Invalid,
            format!("PID[{}]-3", pid.index()),
            format!(
                "PID-3 {} differs from the folder's patient id {}: the resources are \
                 filed under the message's id",
                ids.join(", "),
                file.name.patient_id
            ),
        );
    }
}

/// Rewrites a deleted version's Bundle: statuses per [`deleted_status`], and the raw-message
/// `Binary`/`Provenance` moved to the deletion's own ids.
fn mark_deleted(conversion: &mut Conversion, bytes: &[u8], ctx: &SourceContext) {
    let key = hl7v2::source_record_key(bytes);
    let deleted_key = record_key(&key, Condition::Deleted);
    let mut text = String::from_utf8_lossy(&conversion.bundle_json).into_owned();
    for resource_type in ["Binary", "Provenance"] {
        let old = resource_id(&ctx.institution, resource_type, &key);
        let new = resource_id(&ctx.institution, resource_type, &deleted_key);
        // UUIDs occur nowhere else in the Bundle, so a plain replacement is exact.
        text = text.replace(&old, &new);
        if resource_type == "Binary" {
            conversion.source_binary_id = Some(new);
        }
    }
    let Ok(mut bundle) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let mut changed = Vec::new();
    if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
        for entry in entries {
            let Some(resource) = entry.get_mut("resource").and_then(Value::as_object_mut) else {
                continue;
            };
            let resource_type = resource
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(status) = deleted_status(&resource_type) {
                resource.insert("status".into(), Value::String(status.into()));
                let id = resource
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                changed.push(format!("{resource_type}/{id} {status}"));
            }
        }
    }
    if let Ok(bytes) = serde_json::to_vec(&bundle) {
        conversion.bundle_json = bytes;
    }
    conversion.report.information(
        ReportCode::Unsupported,
        "",
        format!(
            "condition flag 0 (deleted): {}",
            if changed.is_empty() {
                "no resource has a status to mark".to_owned()
            } else {
                changed.join(", ")
            }
        ),
    );
}
