//! Result messages (ORU^R01, OUL^R22): one DiagnosticReport per OBR with its OBX as
//! Observations (ED values as the report's presentedForm), SPM as Specimens, and links to the
//! ServiceRequest (order number) and ImagingStudy (Study Instance UID from an OBX coded
//! DCM 113014, a ZDS segment, or an IPC).

use crate::hl7v2::bundle::ResourceRef;
use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::error::Hl7Error;
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::resources::diagnostic_report::{
    is_imaging_obr, map_diagnostic_report, ReportParts,
};
use crate::hl7v2::resources::imaging_study::{study_id_for_uid, study_key};
use crate::hl7v2::resources::observation::{is_study_uid, map_obx, ObservationScope, ObxOutcome};
use crate::hl7v2::resources::order_numbers::{order_number_location, OrderNumbers};
use crate::hl7v2::resources::specimen::map_specimen;
use crate::hl7v2::structure::{ObservationItem, Structure};

/// Maps every OBR group of `structure`.
pub fn map_results(m: &mut Mapping<'_>, structure: &mut Structure<'_>) -> Result<(), Hl7Error> {
    // A ZDS (study UID as an RP pointer) applies to the message's imaging reports.
    let zds_uid = structure.zds.as_ref().map(|zds| {
        m.mark(zds, 1);
        zds.field(1).component(1).subcomponent_text(1).into_owned()
    });
    let groups = std::mem::take(&mut structure.orders);
    let mut specimens: Vec<Option<ResourceRef>> = vec![None; structure.specimens.len()];
    let specimen_set_ids: Vec<String> = structure
        .specimens
        .iter()
        .enumerate()
        .map(|(index, spm)| {
            let set_id = spm.field(1).text();
            if set_id.is_empty() {
                format!("#{}", index + 1)
            } else {
                set_id.into_owned()
            }
        })
        .collect();
    for group in &groups {
        let Some(obr) = &group.obr else {
            // An ORC without its OBR describes no report; its fields stay in the unmapped list.
            continue;
        };
        let numbers = OrderNumbers::of(group);
        let Some(key) = numbers.report_key() else {
            let location = order_number_location(group).unwrap_or_else(|| obr.field_location(3));
            return Err(Hl7Error::Mapping {
                location,
                reason: "the result has no filler (OBR-3/ORC-3) or placer (OBR-2/ORC-2) order number: the DiagnosticReport has no business key".into(),
            });
        };
        if let Some(orc) = &group.orc {
            for n in [2, 3] {
                m.mark(orc, n);
            }
        }
        let based_on = numbers.service_request_key().map(|order_key| {
            ResourceRef {
                resource_type: "ServiceRequest",
                id: m.id("ServiceRequest", &order_key),
            }
            .to_reference()
        });

        let study_uid = group
            .observations
            .iter()
            .find(|item| is_study_uid(&item.obx))
            .map(|item| item.obx.field(5).text().into_owned())
            .filter(|uid| !uid.is_empty())
            .or_else(|| group.imaging.iter().find_map(study_key))
            .or_else(|| zds_uid.clone().filter(|uid| !uid.is_empty()));
        let imaging = is_imaging_obr(obr) || study_uid.is_some();

        let requests: Vec<_> = based_on.iter().cloned().collect();
        let mut group_specimens = Vec::new();
        for &index in &group.specimens {
            if let Some(spm) = structure.specimens.get(index) {
                let specimen = map_specimen(m, spm, Some(&key), requests.clone());
                if let Some(specimen) = &specimen {
                    group_specimens.push(specimen.to_reference());
                }
                if let Some(slot) = specimens.get_mut(index) {
                    *slot = specimen;
                }
            }
        }

        let effective = {
            let text = obr.field(7).text().into_owned();
            crate::hl7v2::datatypes::dtm::V2DateTime::parse(&text)
                .ok()
                .map(|time| time.to_date_time(&m.ctx.timezone))
        };
        let scope = ObservationScope {
            key: &key,
            category: Some(if imaging { "imaging" } else { "laboratory" }),
            effective: effective.as_deref(),
            based_on: based_on.as_ref(),
            specimens: &specimens,
            specimen_set_ids: &specimen_set_ids,
            in_order: false,
        };
        let mut results = Vec::new();
        let mut presented_form = Vec::new();
        for (index, item) in group.observations.iter().enumerate() {
            match map_obx(m, item, index + 1, &scope) {
                ObxOutcome::Observation(observation) => results.push(observation.to_reference()),
                ObxOutcome::Attachment(attachment) => presented_form.push(attachment),
                ObxOutcome::StudyInstanceUid | ObxOutcome::Nothing => {}
            }
        }
        for ipc in &group.imaging {
            m.skip(ipc, "in a result message only the Study Instance UID of IPC-3 is used (for DiagnosticReport.imagingStudy)");
        }
        let conclusion = conclusion(&group.observations, imaging);
        let parts = ReportParts {
            key,
            numbers,
            based_on,
            imaging,
            results,
            specimens: group_specimens,
            imaging_study: study_uid.map(|uid| study_id_for_uid(m, &uid)),
            presented_form,
            conclusion,
        };
        map_diagnostic_report(m, obr, parts);
    }
    Ok(())
}

/// The report text for DiagnosticReport.conclusion: the impression (LOINC 19005-8, or a JAHIS
/// code with the `IMP` sub-code such as `9A100&IMP`), else — for imaging reports — every
/// TX/FT text of the report, one per line.
fn conclusion(observations: &[ObservationItem<'_>], imaging: bool) -> Option<String> {
    let texts = |items: &mut dyn Iterator<Item = &ObservationItem<'_>>| {
        let lines: Vec<String> = items
            .filter(|item| matches!(item.obx.field(2).text().as_ref(), "TX" | "FT" | "ST"))
            .flat_map(|item| {
                item.obx
                    .field(5)
                    .repetitions()
                    .map(|r| r.text().into_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|line| !line.is_empty())
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    };
    let is_impression = |item: &&ObservationItem<'_>| {
        let field = item.obx.field(3);
        let Some(code) = field.repetitions().next() else {
            return false;
        };
        let identifier = code.component(1);
        let first = component_text(&code, 1);
        let system = component_text(&code, 3);
        (first == "19005-8" && system == "LN")
            || (1..=identifier.subcomponent_count())
                .any(|k| identifier.subcomponent_text(k) == "IMP")
    };
    let impression = texts(&mut observations.iter().filter(is_impression));
    if impression.is_some() {
        return impression;
    }
    if imaging {
        return texts(&mut observations.iter());
    }
    None
}
