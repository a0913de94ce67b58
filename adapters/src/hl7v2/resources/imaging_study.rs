//! IPC segments of imaging orders (OMI^O23, SS-MIX2 OMI^Z23) as ImagingStudies. The business
//! key is the Study Instance UID (IPC-3), else `acsn:<accession number>` (IPC-1). IPC segments
//! that repeat a study (SS-MIX2 repeats them under the parent and each child order) become one
//! ImagingStudy based on every order that carries it.

use super::service_request::{referrer_of, started_of};
use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::DICOM_DCM;
use crate::hl7v2::datatypes::coded::codeable_concept;
use crate::hl7v2::datatypes::coding_system::system_uri;
use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{coding, put, put_array, put_str};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::resources::observation::subcomponent_separator;
use crate::hl7v2::structure::OrderGroup;
use crate::report::ReportCode;
use std::collections::HashMap;

/// The ImagingStudy key of an IPC: its Study Instance UID, else `acsn:<IPC-1>`.
pub fn study_key(ipc: &Segment<'_>) -> Option<String> {
    let uid = ipc.field(3).component(1).subcomponent_text(1);
    if !uid.is_empty() {
        return Some(uid.into_owned());
    }
    let accession = ipc.field(1).component(1).subcomponent_text(1);
    (!accession.is_empty()).then(|| format!("acsn:{accession}"))
}

/// The id of the ImagingStudy with this Study Instance UID.
pub fn study_id_for_uid(m: &Mapping<'_>, uid: &str) -> String {
    m.id("ImagingStudy", uid)
}

/// An order's part in a study: the order, its ServiceRequest, whether it is completed.
pub struct StudyOrder<'a, 'm> {
    /// The order group carrying the IPC.
    pub group: &'a OrderGroup<'m>,
    /// The group's ServiceRequest.
    pub service_request: ResourceRef,
    /// True when the order is completed (ORC-5 CM or OBR-25 F/C): the study is available.
    pub completed: bool,
}

struct Draft<'a, 'm> {
    key: String,
    ipc: Segment<'m>,
    first_order: usize,
    based_on: Vec<Value>,
    accessions: Vec<String>,
    completed: bool,
    _group: std::marker::PhantomData<&'a OrderGroup<'m>>,
}

/// Adds one ImagingStudy per distinct study among the IPC segments of `orders`.
pub fn map_imaging_studies(m: &mut Mapping<'_>, orders: &[StudyOrder<'_, '_>]) -> Vec<ResourceRef> {
    let mut drafts: Vec<Draft<'_, '_>> = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (order_index, order) in orders.iter().enumerate() {
        for ipc in &order.group.imaging {
            let Some(key) = study_key(ipc) else {
                m.warn(
                    ReportCode::Missing,
                    &ipc.field_location(3),
                    "IPC has neither a Study Instance UID (IPC-3) nor an accession number (IPC-1): no ImagingStudy",
                );
                continue;
            };
            let accession = ipc.field(1).component(1).subcomponent_text(1).into_owned();
            let reference = order.service_request.to_reference();
            let existing = positions.get(&key).copied();
            match existing.and_then(|position| drafts.get_mut(position)) {
                Some(draft) => {
                    if !draft.based_on.contains(&reference) {
                        draft.based_on.push(reference);
                    }
                    if !accession.is_empty() && !draft.accessions.contains(&accession) {
                        draft.accessions.push(accession);
                    }
                    draft.completed |= order.completed;
                    m.consume(ipc);
                }
                None => {
                    positions.insert(key.clone(), drafts.len());
                    drafts.push(Draft {
                        key,
                        ipc: *ipc,
                        first_order: order_index,
                        based_on: vec![reference],
                        accessions: if accession.is_empty() {
                            Vec::new()
                        } else {
                            vec![accession]
                        },
                        completed: order.completed,
                        _group: std::marker::PhantomData,
                    });
                }
            }
        }
    }
    let mut studies = Vec::with_capacity(drafts.len());
    for draft in drafts {
        studies.push(build(m, draft, orders));
    }
    studies
}

fn build(m: &mut Mapping<'_>, draft: Draft<'_, '_>, orders: &[StudyOrder<'_, '_>]) -> ResourceRef {
    let ipc = &draft.ipc;
    let id = m.id("ImagingStudy", &draft.key);
    let mut resource = start_resource("ImagingStudy", &id, 10);
    let mut identifiers = Vec::new();
    let uid = m
        .field(ipc, 3)
        .component(1)
        .subcomponent_text(1)
        .into_owned();
    if !uid.is_empty() {
        identifiers.push(identifier(None, "urn:dicom:uid", &format!("urn:oid:{uid}")));
    }
    m.mark(ipc, 1);
    for accession in &draft.accessions {
        identifiers.push(identifier(
            Some("ACSN"),
            &m.ctx.system("accession"),
            accession,
        ));
    }
    for (n, suffix) in [(2, "requested-procedure"), (4, "scheduled-procedure-step")] {
        let value = m
            .field(ipc, n)
            .component(1)
            .subcomponent_text(1)
            .into_owned();
        if !value.is_empty() {
            identifiers.push(identifier(None, &m.ctx.system(suffix), &value));
        }
    }
    put_array(&mut resource, "identifier", identifiers);
    put(
        &mut resource,
        "status",
        if draft.completed {
            "available"
        } else {
            "registered"
        },
    );

    let modality = m.field(ipc, 5);
    if let Some(repetition) = modality.repetitions().next() {
        let code = component_text(&repetition, 1).into_owned();
        if !code.is_empty() {
            let system_name = component_text(&repetition, 3);
            let system = if system_name.is_empty() || system_name == "DCM" {
                DICOM_DCM.to_owned()
            } else {
                system_uri(&system_name, m.ctx).into_owned()
            };
            let display = component_text(&repetition, 2);
            let display = (!display.is_empty()).then_some(display.as_ref());
            put(
                &mut resource,
                "modality",
                vec![coding(Some(&system), Some(&code), display)],
            );
        }
    }
    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }
    if let Some(encounter) = &m.encounter {
        put(&mut resource, "encounter", encounter.to_reference());
    }
    let first = orders.get(draft.first_order).map(|order| order.group);
    if let Some(started) = first.and_then(|group| started_of(m, group)) {
        put(&mut resource, "started", started);
    }
    put(&mut resource, "basedOn", draft.based_on);
    if let Some(referrer) = first.and_then(|group| referrer_of(m, group)) {
        put(&mut resource, "referrer", referrer);
    }
    let separator = subcomponent_separator(m);
    let mut procedure_codes = Vec::new();
    for repetition in m.field(ipc, 6).repetitions() {
        procedure_codes.extend(codeable_concept(&repetition, m.ctx, separator));
    }
    put_array(&mut resource, "procedureCode", procedure_codes);
    let description = first
        .and_then(|group| group.obr.as_ref())
        .map(|obr| obr.field(4).component(2).subcomponent_text(1).into_owned())
        .unwrap_or_default();
    put_str(&mut resource, "description", &description);
    m.bundle.add("ImagingStudy", id.clone(), resource);
    ResourceRef {
        resource_type: "ImagingStudy",
        id,
    }
}
