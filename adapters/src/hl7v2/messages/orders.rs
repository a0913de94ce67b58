//! Order messages (ORM^O01, OMG^O19, OMI^O23/Z23, OML^O21/O33): one ServiceRequest per order
//! group, their OBX as supporting Observations, SPM as Specimens, IPC as ImagingStudies.

use crate::hl7v2::bundle::ResourceRef;
use crate::hl7v2::error::Hl7Error;
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::message_kind::OrderFlavor;
use crate::hl7v2::resources::imaging_study::{map_imaging_studies, StudyOrder};
use crate::hl7v2::resources::observation::{map_obx, ObservationScope, ObxOutcome};
use crate::hl7v2::resources::order_numbers::{order_number_location, OrderNumbers};
use crate::hl7v2::resources::service_request::{map_service_request, OrderParts};
use crate::hl7v2::resources::specimen::map_specimen;
use crate::hl7v2::structure::{OrderGroup, Structure};
use crate::report::ReportCode;
use std::collections::HashMap;

/// Maps every order group of `structure`.
pub fn map_orders(
    m: &mut Mapping<'_>,
    structure: &mut Structure<'_>,
    flavor: OrderFlavor,
) -> Result<(), Hl7Error> {
    let mut groups = std::mem::take(&mut structure.orders);
    // An order without OBR is a pharmacy, diet or supply order (RXO, ODS, RQD follow its ORC):
    // not a ServiceRequest. Its segments stay in the report as not mapped.
    groups.retain(|group| {
        if group.obr.is_some() {
            return true;
        }
        if let Some(orc) = &group.orc {
            m.skip(
                orc,
                "an order without OBR (pharmacy, diet or supply order) is not converted",
            );
        }
        for segment in group
            .timing
            .iter()
            .chain(&group.notes)
            .chain(&group.imaging)
        {
            m.skip(segment, "it belongs to an order without OBR");
        }
        for item in &group.observations {
            m.skip(&item.obx, "it belongs to an order without OBR");
        }
        false
    });
    let groups = merge_repeated_orders(m, groups)?;
    let keys: Vec<String> = groups.iter().map(|(key, _, _)| key.clone()).collect();
    let service_requests: Vec<ResourceRef> = keys
        .iter()
        .map(|key| ResourceRef {
            resource_type: "ServiceRequest",
            id: m.id("ServiceRequest", key),
        })
        .collect();

    // Specimens first: orders and observations reference them.
    let mut users_by_specimen: Vec<Vec<usize>> = vec![Vec::new(); structure.specimens.len()];
    for (position, (_, _, group)) in groups.iter().enumerate() {
        for &index in &group.specimens {
            if let Some(users) = users_by_specimen.get_mut(index) {
                users.push(position);
            }
        }
    }
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
    for (index, spm) in structure.specimens.iter().enumerate() {
        let users = users_by_specimen.get(index).cloned().unwrap_or_default();
        let requests = users
            .iter()
            .filter_map(|&position| service_requests.get(position))
            .map(ResourceRef::to_reference)
            .collect();
        let order_key = users
            .first()
            .and_then(|&position| keys.get(position))
            .map(String::as_str);
        specimens[index] = map_specimen(m, spm, order_key, requests);
    }

    let mut study_orders = Vec::new();
    for (key, numbers, group) in &groups {
        let scope = ObservationScope {
            key,
            // What a lab order carries are laboratory observations; a general or imaging
            // order's OBX (body weight, clinical notes) have no category the message tells.
            category: matches!(flavor, OrderFlavor::Lab | OrderFlavor::LabSpecimenFirst)
                .then_some("laboratory"),
            effective: None,
            based_on: None,
            specimens: &specimens,
            specimen_set_ids: &specimen_set_ids,
            in_order: true,
        };
        let mut supporting_info = Vec::new();
        for (index, item) in group.observations.iter().enumerate() {
            match map_obx(m, item, index + 1, &scope) {
                ObxOutcome::Observation(observation) => {
                    supporting_info.push(observation.to_reference())
                }
                ObxOutcome::StudyInstanceUid | ObxOutcome::Attachment(_) | ObxOutcome::Nothing => {}
            }
        }
        let group_specimens = group
            .specimens
            .iter()
            .filter_map(|&index| specimens.get(index).cloned().flatten())
            .map(|specimen| specimen.to_reference())
            .collect();
        let accessions = group
            .imaging
            .iter()
            .map(|ipc| ipc.field(1).component(1).subcomponent_text(1).into_owned())
            .filter(|accession| !accession.is_empty())
            .fold(Vec::new(), |mut all, accession| {
                if !all.contains(&accession) {
                    all.push(accession);
                }
                all
            });
        let parts = OrderParts {
            key: key.clone(),
            numbers: OrderNumbers {
                placer: numbers.placer.clone(),
                filler: numbers.filler.clone(),
                group: numbers.group.clone(),
                code: numbers.code.clone(),
            },
            supporting_info,
            specimens: group_specimens,
            accessions,
        };
        let service_request = map_service_request(m, group, parts, flavor);
        if flavor == OrderFlavor::Imaging {
            let completed = order_completed(m, group);
            study_orders.push(StudyOrder {
                group,
                service_request,
                completed,
            });
        } else {
            for ipc in &group.imaging {
                m.skip(ipc, "IPC is only converted in OMI (imaging order) messages");
            }
        }
    }
    if flavor == OrderFlavor::Imaging {
        map_imaging_studies(m, &study_orders);
    }
    Ok(())
}

/// True when the order is done: ORC-5 `CM`, or OBR-25 `F`/`C` (SS-MIX2 OMI^Z23 reports a
/// performed examination this way).
fn order_completed(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> bool {
    let order_status = group
        .orc
        .as_ref()
        .map(|orc| orc.field(5).text().into_owned());
    let result_status = group.obr.as_ref().map(|obr| m.text(obr, 25).into_owned());
    order_status.as_deref() == Some("CM") || matches!(result_status.as_deref(), Some("F" | "C"))
}

/// Computes each group's key and folds groups that repeat an earlier order number into it
/// (SS-MIX2 sends a new order as ORC NW and again as the parent ORC PA with the same number).
fn merge_repeated_orders<'m>(
    m: &mut Mapping<'_>,
    groups: Vec<OrderGroup<'m>>,
) -> Result<Vec<(String, OrderNumbers, OrderGroup<'m>)>, Hl7Error> {
    let mut merged: Vec<(String, OrderNumbers, OrderGroup<'m>)> = Vec::with_capacity(groups.len());
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(groups.len());
    for group in groups {
        let numbers = OrderNumbers::of(&group);
        let Some(key) = numbers.service_request_key() else {
            let location = order_number_location(&group)
                .unwrap_or_else(|| crate::hl7v2::er7::Location::segment(1, "MSH"));
            return Err(Hl7Error::Mapping {
                location,
                reason: "the order has no placer (ORC-2/OBR-2), filler (ORC-3/OBR-3) or placer group (ORC-4) number: the ServiceRequest has no business key".into(),
            });
        };
        let earlier_position = positions.get(&key).copied();
        match earlier_position.and_then(|position| merged.get_mut(position)) {
            Some((_, _, earlier)) => {
                let first = earlier
                    .orc
                    .as_ref()
                    .or(earlier.obr.as_ref())
                    .map(|segment| segment.location());
                for segment in group.orc.iter().chain(group.obr.iter()) {
                    m.consume(segment);
                    if let Some(first) = &first {
                        let text = format!(
                            "repeats order {key} of {}[{}]; merged into one ServiceRequest",
                            first.segment_id, first.segment_index
                        );
                        m.inform(ReportCode::Duplicate, &segment.location(), text);
                    }
                }
                for tq1 in &group.timing {
                    m.consume(tq1);
                }
                earlier.notes.extend(group.notes);
                earlier.observations.extend(group.observations);
                earlier.imaging.extend(group.imaging);
                for specimen in group.specimens {
                    if !earlier.specimens.contains(&specimen) {
                        earlier.specimens.push(specimen);
                    }
                }
            }
            None => {
                positions.insert(key.clone(), merged.len());
                merged.push((key, numbers, group));
            }
        }
    }
    Ok(merged)
}
