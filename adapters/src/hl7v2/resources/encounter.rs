//! PV1 (with the ADT event) as the Encounter. The business key is PV1-19 (visit number), else
//! the patient's key with PV1-44 (admit time); a PV1 with neither (common in SS-MIX2 order
//! messages for outpatients) gives no Encounter, and the report says so.

use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::{encounter_class, V3_ACT_CODE, V3_NULL_FLAVOR, V3_PARTICIPATION_TYPE};
use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::datatypes::dtm::V2DateTime;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{coding, concept, display_reference, obj, put, put_array, Obj};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::message_kind::AdtEvent;
use crate::hl7v2::resources::practitioner::practitioners;
use crate::report::ReportCode;

/// Adds the Encounter of `pv1` when it has a key. `event` is the ADT trigger (None for order
/// and result messages); `evn` gives the discharge time when PV1-45 is empty.
pub fn map_encounter(
    m: &mut Mapping<'_>,
    pv1: &Segment<'_>,
    patient_key: &str,
    event: Option<AdtEvent>,
    evn: Option<&Segment<'_>>,
) -> Option<ResourceRef> {
    m.mark(pv1, 1);
    let visit_number = m
        .field(pv1, 19)
        .repetitions()
        .next()
        .map(|r| component_text(&r, 1).into_owned())
        .unwrap_or_default();
    let admit_text = m.text(pv1, 44).into_owned();
    let key = if !visit_number.is_empty() {
        visit_number.clone()
    } else if !admit_text.is_empty() {
        format!("{patient_key}|{admit_text}")
    } else {
        m.inform(
            ReportCode::Missing,
            &pv1.location(),
            "PV1 has neither a visit number (PV1-19) nor an admit time (PV1-44): no Encounter is created",
        );
        // Without an Encounter these fields have nowhere to go: leave them to the unmapped list.
        return None;
    };
    let id = m.id("Encounter", &key);
    let mut resource = start_resource("Encounter", &id, 10);
    if !visit_number.is_empty() {
        put(
            &mut resource,
            "identifier",
            vec![identifier(
                Some("VN"),
                &m.ctx.system("visit-number"),
                &visit_number,
            )],
        );
    }

    let admit = parse_time(m, pv1, 44, &admit_text);
    let discharge_text = m.text(pv1, 45).into_owned();
    let mut discharge = parse_time(m, pv1, 45, &discharge_text);
    if discharge.is_none() && event == Some(AdtEvent::Discharge) {
        if let Some(evn) = evn {
            let occurred = m.text(evn, 6).into_owned();
            discharge = parse_time(m, evn, 6, &occurred);
        }
        if discharge.is_none() {
            m.warn(
                ReportCode::Missing,
                &pv1.field_location(45),
                "discharge message without a discharge time (PV1-45 or EVN-6): Encounter.period has no end",
            );
        }
    }
    let status = match event {
        Some(AdtEvent::Discharge) => "finished",
        _ if discharge.is_some() => "finished",
        Some(AdtEvent::Register) => "arrived",
        _ => "in-progress",
    };
    put(&mut resource, "status", status);

    let class_code = m.text(pv1, 2);
    let class = match encounter_class(&class_code) {
        Some((code, display)) => coding(Some(V3_ACT_CODE), Some(code), Some(display)),
        None => {
            if !class_code.is_empty() {
                m.warn(
                    ReportCode::UnknownCode,
                    &pv1.field_location(2),
                    format!(
                        "patient class {class_code:?} has no v3 ActCode; Encounter.class is UNK"
                    ),
                );
            }
            coding(Some(V3_NULL_FLAVOR), Some("UNK"), Some("unknown"))
        }
    };
    put(&mut resource, "class", class);

    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }

    let mut participants = Vec::new();
    for (n, role) in [(7, "ATND"), (8, "REF"), (9, "CON"), (17, "ADM")] {
        for individual in practitioners(m, pv1, n) {
            let mut participant = obj(2);
            put(
                &mut participant,
                "type",
                vec![concept(V3_PARTICIPATION_TYPE, role, None)],
            );
            put(&mut participant, "individual", individual);
            participants.push(Value::Object(participant));
        }
    }
    put_array(&mut resource, "participant", participants);

    if admit.is_some() || discharge.is_some() {
        let mut period = obj(2);
        if let Some(admit) = admit {
            put(&mut period, "start", admit);
        }
        if let Some(discharge) = discharge {
            put(&mut period, "end", discharge);
        }
        put(&mut resource, "period", Value::Object(period));
    }

    let mut locations = Vec::new();
    let current_status = if status == "finished" {
        "completed"
    } else {
        "active"
    };
    if let Some(location) = location(m, pv1, 3, current_status) {
        locations.push(location);
    }
    if let Some(location) = location(m, pv1, 6, "completed") {
        locations.push(location);
    }
    put_array(&mut resource, "location", locations);

    if let Some(organization) = &m.organization {
        put(
            &mut resource,
            "serviceProvider",
            organization.to_reference(),
        );
    }
    m.bundle.add("Encounter", id.clone(), resource);
    let encounter = ResourceRef {
        resource_type: "Encounter",
        id,
    };
    m.encounter = Some(encounter.clone());
    Some(encounter)
}

fn parse_time(m: &mut Mapping<'_>, segment: &Segment<'_>, n: usize, text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    match V2DateTime::parse(text) {
        Ok(time) => Some(time.to_date_time(&m.ctx.timezone)),
        Err(error) => {
            m.warn(
                ReportCode::Invalid,
                &segment.field_location(n),
                format!("{}-{n} {text:?}: {error}", segment.id()),
            );
            None
        }
    }
}

/// A PL (person location: point of care^room^bed^facility…) as an Encounter.location with a
/// display-only Location reference (`ward/room/bed`): the message names places, it does not
/// identify Location resources.
fn location(m: &mut Mapping<'_>, pv1: &Segment<'_>, n: usize, status: &str) -> Option<Value> {
    let field = m.field(pv1, n);
    let repetition = field.repetitions().next()?;
    let parts: Vec<String> = [1, 2, 3, 4]
        .into_iter()
        .map(|j| component_text(&repetition, j).into_owned())
        .collect();
    let named: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if named.is_empty() {
        return None;
    }
    let mut location: Obj = obj(2);
    put(
        &mut location,
        "location",
        display_reference(&named.join("/")),
    );
    put(&mut location, "status", status);
    Some(Value::Object(location))
}
