//! PID (and PD1-4) as the Patient. The business key is one PID-3 identifier: the first whose
//! type (CX-5) is PI or MR, else the first. Without it there is nothing to hang the message's
//! resources on, so a missing PID-3 refuses the whole message.

use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::{gender, marital_status, JP_PATIENT_ID_PREFIX, V3_MARITAL_STATUS};
use crate::hl7v2::datatypes::address::address;
use crate::hl7v2::datatypes::dtm::V2DateTime;
use crate::hl7v2::datatypes::identifier::{identifier, Cx};
use crate::hl7v2::datatypes::name::{human_name, XPN};
use crate::hl7v2::datatypes::telecom::contact_point;
use crate::hl7v2::datatypes::{component_text, uri_part, Place};
use crate::hl7v2::er7::Segment;
use crate::hl7v2::error::Hl7Error;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{concept, put, put_array, text_concept};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::resources::practitioner::practitioners;
use crate::report::ReportCode;

/// The Patient's business key (its PID-3 identifier value), from PID-3 alone.
pub fn patient_key(pid: &Segment<'_>) -> Option<String> {
    let identifiers: Vec<Cx> = pid.field(3).repetitions().map(|r| Cx::read(&r)).collect();
    identifiers
        .iter()
        .find(|cx| !cx.value.is_empty() && matches!(cx.type_code.as_str(), "PI" | "MR"))
        .or_else(|| identifiers.iter().find(|cx| !cx.value.is_empty()))
        .map(|cx| cx.value.clone())
}

/// Adds the Patient from PID (and PD1 when present) and returns its reference.
pub fn map_patient(
    m: &mut Mapping<'_>,
    pid: &Segment<'_>,
    pd1: Option<&Segment<'_>>,
) -> Result<ResourceRef, Hl7Error> {
    m.mark(pid, 1);
    let identifiers: Vec<Cx> = m
        .field(pid, 3)
        .repetitions()
        .map(|r| Cx::read(&r))
        .collect();
    let key_index = identifiers
        .iter()
        .position(|cx| !cx.value.is_empty() && matches!(cx.type_code.as_str(), "PI" | "MR"))
        .or_else(|| identifiers.iter().position(|cx| !cx.value.is_empty()))
        .ok_or_else(|| Hl7Error::Mapping {
            location: pid.field_location(3),
            reason: "PID-3 (patient identifier list) holds no identifier: the Patient has no business key".into(),
        })?;
    let key = identifiers
        .get(key_index)
        .map(|cx| cx.value.clone())
        .unwrap_or_default();
    let id = m.id("Patient", &key);
    let mut resource = start_resource("Patient", &id, 12);

    let mut identifier_values = Vec::with_capacity(identifiers.len() + 3);
    for (index, cx) in identifiers.iter().enumerate() {
        if cx.value.is_empty() {
            continue;
        }
        if index == key_index {
            identifier_values.push(identifier(
                Some(&cx.type_code),
                &m.ctx.system("patient-id"),
                &cx.value,
            ));
            if let Some(code) = m.ctx.institution_code.as_deref() {
                let system = format!("{JP_PATIENT_ID_PREFIX}{code}");
                identifier_values.push(identifier(None, &system, &cx.value));
            }
        } else {
            identifier_values.push(other_identifier(m, cx));
        }
    }
    // PID-2 (external id) and PID-4 (alternate id) are older places for more identifiers.
    for n in [2, 4] {
        let extra: Vec<Cx> = m
            .field(pid, n)
            .repetitions()
            .map(|r| Cx::read(&r))
            .collect();
        for cx in extra.iter().filter(|cx| !cx.value.is_empty()) {
            identifier_values.push(other_identifier(m, cx));
        }
    }
    put(&mut resource, "identifier", identifier_values);

    let mut names = Vec::new();
    for (index, repetition) in m.field(pid, 5).repetitions().enumerate() {
        let place = Place {
            segment: pid,
            field: 5,
            repetition: index + 1,
        };
        names.extend(human_name(m, &repetition, place, &XPN));
    }
    put_array(&mut resource, "name", names);

    let mut telecoms = Vec::new();
    for (n, default_use) in [(13, "home"), (14, "work")] {
        for (index, repetition) in m.field(pid, n).repetitions().enumerate() {
            let place = Place {
                segment: pid,
                field: n,
                repetition: index + 1,
            };
            telecoms.extend(contact_point(m, &repetition, place, default_use));
        }
    }
    put_array(&mut resource, "telecom", telecoms);

    let sex = m.text(pid, 8);
    if !sex.is_empty() {
        match gender(&sex) {
            Some(gender) => put(&mut resource, "gender", gender),
            None => m.warn(
                ReportCode::UnknownCode,
                &pid.field_location(8),
                format!("administrative sex {sex:?} is not in HL7 table 0001"),
            ),
        }
    }

    let birth = m.text(pid, 7);
    if !birth.is_empty() {
        match V2DateTime::parse(&birth) {
            Ok(birth) => put(&mut resource, "birthDate", birth.to_date()),
            Err(error) => m.warn(
                ReportCode::Invalid,
                &pid.field_location(7),
                format!("birth date {birth:?}: {error}"),
            ),
        }
    }

    let death = m.text(pid, 29);
    let death_indicator = m.text(pid, 30);
    if !death.is_empty() {
        match V2DateTime::parse(&death) {
            Ok(death) => put(
                &mut resource,
                "deceasedDateTime",
                death.to_date_time(&m.ctx.timezone),
            ),
            Err(error) => m.warn(
                ReportCode::Invalid,
                &pid.field_location(29),
                format!("death date {death:?}: {error}"),
            ),
        }
    }
    if !resource.contains_key("deceasedDateTime") {
        match death_indicator.as_ref() {
            "Y" => put(&mut resource, "deceasedBoolean", true),
            "N" => put(&mut resource, "deceasedBoolean", false),
            "" => {}
            other => m.warn(
                ReportCode::UnknownCode,
                &pid.field_location(30),
                format!("death indicator {other:?} is neither Y nor N"),
            ),
        }
    }

    let mut addresses = Vec::new();
    for (index, repetition) in m.field(pid, 11).repetitions().enumerate() {
        let place = Place {
            segment: pid,
            field: 11,
            repetition: index + 1,
        };
        addresses.extend(address(m, &repetition, place));
    }
    put_array(&mut resource, "address", addresses);

    let marital = m.field(pid, 16);
    if let Some(repetition) = marital.repetitions().next() {
        let code = component_text(&repetition, 1);
        if !code.is_empty() {
            let value = match marital_status(&code) {
                Some(code) => concept(V3_MARITAL_STATUS, code, None),
                None => {
                    m.warn(
                        ReportCode::UnknownCode,
                        &pid.field_location(16),
                        format!(
                            "marital status {code:?} has no v3 MaritalStatus code; kept as text"
                        ),
                    );
                    text_concept(&code)
                }
            };
            put(&mut resource, "maritalStatus", value);
        }
    }

    if let Some(pd1) = pd1 {
        let general_practitioners = practitioners(m, pd1, 4);
        put_array(&mut resource, "generalPractitioner", general_practitioners);
    }
    if let Some(organization) = &m.organization {
        put(
            &mut resource,
            "managingOrganization",
            organization.to_reference(),
        );
    }
    m.bundle.add("Patient", id.clone(), resource);
    let patient = ResourceRef {
        resource_type: "Patient",
        id,
    };
    m.patient = Some(patient.clone());
    Ok(patient)
}

/// A PID-3/2/4 identifier that is not the key: `urn:oid:<CX-4.2>` when the assigning
/// authority is an ISO OID, else `<base>/patient-id/<CX-4.1 or CX-5>`.
fn other_identifier(m: &Mapping<'_>, cx: &Cx) -> Value {
    let system = if !cx.authority_universal.is_empty()
        && cx.authority_universal_type.eq_ignore_ascii_case("ISO")
    {
        format!("urn:oid:{}", cx.authority_universal)
    } else if !cx.authority_namespace.is_empty() {
        m.ctx
            .system(&format!("patient-id/{}", uri_part(&cx.authority_namespace)))
    } else if !cx.type_code.is_empty() {
        m.ctx
            .system(&format!("patient-id/{}", uri_part(&cx.type_code)))
    } else {
        m.ctx.system("patient-id")
    };
    identifier(Some(&cx.type_code), &system, &cx.value)
}
