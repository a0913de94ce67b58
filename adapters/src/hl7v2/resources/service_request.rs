//! An order group (ORC + OBR + TQ1 + NTE) as a ServiceRequest: identifiers, status from ORC-1
//! and ORC-5, priority, code, timing, requester, parent order, reasons, notes.

use super::order_numbers::OrderNumbers;
use super::practitioner::first_practitioner;
use super::util::{date_time_of, parse_date_time};
use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::{
    order_control, order_status, priority, OrderControl, SNOMED, V2_0074, V2_0203,
};
use crate::hl7v2::datatypes::coded::codeable_concept;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{concept, obj, put, put_array, Obj};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::message_kind::OrderFlavor;
use crate::hl7v2::resources::observation::{notes, subcomponent_separator};
use crate::hl7v2::structure::OrderGroup;
use crate::report::ReportCode;

/// What the order driver has worked out for one ServiceRequest before building it.
pub struct OrderParts {
    /// The business key.
    pub key: String,
    /// The order numbers.
    pub numbers: OrderNumbers,
    /// Supporting Observations (the order's OBX).
    pub supporting_info: Vec<Value>,
    /// Specimens the order uses.
    pub specimens: Vec<Value>,
    /// Accession numbers (IPC-1) of imaging orders.
    pub accessions: Vec<String>,
}

/// ServiceRequest.status from ORC-1 (order control) and ORC-5 (order status): cancels and
/// discontinuations are `revoked`, holds `on-hold`; otherwise ORC-5 decides (`active` when
/// empty). Unknown codes are reported and read as `active`.
pub fn order_status_of(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> &'static str {
    let Some(orc) = &group.orc else {
        return "active";
    };
    let control = m.text(orc, 1).into_owned();
    let status = m.text(orc, 5).into_owned();
    let from_status = |m: &mut Mapping<'_>| {
        if status.is_empty() {
            return "active";
        }
        order_status(&status).unwrap_or_else(|| {
            m.warn(
                ReportCode::UnknownCode,
                &orc.field_location(5),
                format!("order status {status:?} is not in HL7 table 0038: read as active"),
            );
            "active"
        })
    };
    match order_control(&control) {
        Some(OrderControl::Revoked) => "revoked",
        Some(OrderControl::OnHold) => "on-hold",
        Some(OrderControl::FromStatus) => from_status(m),
        None => {
            if !control.is_empty() {
                m.warn(
                    ReportCode::UnknownCode,
                    &orc.field_location(1),
                    format!("order control {control:?} is not in HL7 table 0119"),
                );
            }
            from_status(m)
        }
    }
}

/// Adds the ServiceRequest of `group`.
pub fn map_service_request(
    m: &mut Mapping<'_>,
    group: &OrderGroup<'_>,
    parts: OrderParts,
    flavor: OrderFlavor,
) -> ResourceRef {
    let id = m.id("ServiceRequest", &parts.key);
    let orc = group.orc.as_ref();
    let obr = group.obr.as_ref();
    for (segment, n) in [(orc, 2), (orc, 3), (orc, 4), (obr, 2), (obr, 3)] {
        if let Some(segment) = segment {
            m.mark(segment, n);
        }
    }
    if let Some(obr) = obr {
        m.mark(obr, 1);
    }
    let mut resource = start_resource("ServiceRequest", &id, 12);

    let mut identifiers = Vec::new();
    if !parts.numbers.placer.is_empty() {
        identifiers.push(identifier(
            Some("PLAC"),
            &m.ctx.system("placer-order"),
            &parts.numbers.placer,
        ));
    }
    if !parts.numbers.filler.is_empty() {
        identifiers.push(identifier(
            Some("FILL"),
            &m.ctx.system("filler-order"),
            &parts.numbers.filler,
        ));
    }
    for accession in &parts.accessions {
        identifiers.push(identifier(
            Some("ACSN"),
            &m.ctx.system("accession"),
            accession,
        ));
    }
    put_array(&mut resource, "identifier", identifiers);

    if let Some(parent) = parent_key(m, group) {
        let parent_id = m.id("ServiceRequest", &parent);
        put(
            &mut resource,
            "basedOn",
            vec![ResourceRef {
                resource_type: "ServiceRequest",
                id: parent_id,
            }
            .to_reference()],
        );
    }
    if !parts.numbers.group.is_empty() {
        let mut requisition: Obj = obj(3);
        put(&mut requisition, "type", concept(V2_0203, "PGN", None));
        put(&mut requisition, "system", m.ctx.system("placer-group"));
        put(&mut requisition, "value", parts.numbers.group.as_str());
        put(&mut resource, "requisition", Value::Object(requisition));
    }
    let status = order_status_of(m, group);
    put(&mut resource, "status", status);
    put(&mut resource, "intent", "order");
    let mut categories = Vec::new();
    match flavor {
        OrderFlavor::Imaging => categories.push(concept(SNOMED, "363679005", Some("Imaging"))),
        OrderFlavor::Lab | OrderFlavor::LabSpecimenFirst => {
            categories.push(concept(SNOMED, "108252007", Some("Laboratory procedure")));
        }
        OrderFlavor::General => {}
    }
    if let Some(obr) = obr {
        // OBR-24, the diagnostic service section (v2 table 0074: CT, RAD, LAB …).
        let section = m.text(obr, 24);
        if !section.is_empty() {
            categories.push(concept(V2_0074, &section, None));
        }
    }
    put_array(&mut resource, "category", categories);
    if let Some(priority) = priority_of(m, group) {
        put(&mut resource, "priority", priority);
    }
    let separator = subcomponent_separator(m);
    if let Some(obr) = obr {
        let code = m.field(obr, 4);
        if let Some(code) = code
            .repetitions()
            .next()
            .and_then(|r| codeable_concept(&r, m.ctx, separator))
        {
            put(&mut resource, "code", code);
        }
    }
    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }
    if let Some(encounter) = &m.encounter {
        put(&mut resource, "encounter", encounter.to_reference());
    }
    occurrence(m, group, &mut resource);
    if let Some(orc) = orc {
        if let Some(authored) = date_time_of(m, orc, 9) {
            put(&mut resource, "authoredOn", authored);
        }
    }
    let requester = match orc.and_then(|orc| first_practitioner(m, orc, 12)) {
        Some(requester) => {
            if let Some(obr) = obr {
                // OBR-16 repeats the ordering provider; ORC-12 wins when both are given.
                if !obr.field(16).is_empty() {
                    let _ = first_practitioner(m, obr, 16);
                }
            }
            Some(requester)
        }
        None => obr.and_then(|obr| first_practitioner(m, obr, 16)),
    };
    if let Some(requester) = requester {
        put(&mut resource, "requester", requester);
    }
    if let Some(obr) = obr {
        let mut reasons = Vec::new();
        for repetition in m.field(obr, 31).repetitions() {
            reasons.extend(codeable_concept(&repetition, m.ctx, separator));
        }
        put_array(&mut resource, "reasonCode", reasons);
    }
    put_array(&mut resource, "supportingInfo", parts.supporting_info);
    put_array(&mut resource, "specimen", parts.specimens);
    let notes = notes(m, &group.notes);
    put_array(&mut resource, "note", notes);
    m.bundle.add("ServiceRequest", id.clone(), resource);
    ResourceRef {
        resource_type: "ServiceRequest",
        id,
    }
}

/// The parent order's key from ORC-8 (parent order, EIP: placer^filler), else OBR-29.
fn parent_key(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> Option<String> {
    let sources = [(group.orc.as_ref(), 8), (group.obr.as_ref(), 29)];
    let mut found = None;
    for (segment, n) in sources {
        let Some(segment) = segment else { continue };
        let field = m.field(segment, n);
        if found.is_some() || field.is_empty() {
            continue;
        }
        let placer = field.component(1).subcomponent_text(1).into_owned();
        let filler = field.component(2).subcomponent_text(1).into_owned();
        found = if !placer.is_empty() {
            Some(placer)
        } else if !filler.is_empty() {
            Some(format!("filler:{filler}"))
        } else {
            None
        };
    }
    found
}

/// TQ1-9, else ORC-7.6 / OBR-27.6 (the old TQ priority), else OBR-5.
fn priority_of(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> Option<&'static str> {
    let mut candidates: Vec<(String, crate::hl7v2::er7::Location)> = Vec::new();
    for tq1 in &group.timing {
        m.mark(tq1, 1);
        let code = m.text(tq1, 9).into_owned();
        candidates.push((code, tq1.field_location(9)));
    }
    if let Some(orc) = &group.orc {
        let field = m.field(orc, 7);
        candidates.push((
            field.component(6).subcomponent_text(1).into_owned(),
            orc.field_location(7),
        ));
    }
    if let Some(obr) = &group.obr {
        let field = m.field(obr, 27);
        candidates.push((
            field.component(6).subcomponent_text(1).into_owned(),
            obr.field_location(27),
        ));
        let old = m.text(obr, 5).into_owned();
        candidates.push((old, obr.field_location(5)));
    }
    let (code, location) = candidates.into_iter().find(|(code, _)| !code.is_empty())?;
    let mapped = priority(&code);
    if mapped.is_none() {
        m.warn(
            ReportCode::UnknownCode,
            &location,
            format!("priority {code:?} has no ServiceRequest.priority (S, A, R, T)"),
        );
    }
    mapped
}

/// occurrence[x]: TQ1-7/8 (start/end), else ORC-7.4/5 or OBR-27.4/5, else OBR-7.
fn occurrence(m: &mut Mapping<'_>, group: &OrderGroup<'_>, resource: &mut Obj) {
    let mut span: Option<(Option<String>, Option<String>)> = None;
    for tq1 in &group.timing {
        let start = date_time_of(m, tq1, 7);
        let end = date_time_of(m, tq1, 8);
        if span.is_none() && (start.is_some() || end.is_some()) {
            span = Some((start, end));
        }
    }
    // ORC-7 and OBR-27 are the TQ (quantity/timing) of HL7 before 2.5: start^end in 4^5.
    let old_timing = [(group.orc.as_ref(), 7), (group.obr.as_ref(), 27)];
    for (segment, n) in old_timing {
        let Some(segment) = segment else { continue };
        let quantity_timing = segment.field(n);
        let start = quantity_timing
            .component(4)
            .subcomponent_text(1)
            .into_owned();
        let end = quantity_timing
            .component(5)
            .subcomponent_text(1)
            .into_owned();
        if span.is_none() && (!start.is_empty() || !end.is_empty()) {
            span = Some((
                parse_date_time(m, segment, n, &start),
                parse_date_time(m, segment, n, &end),
            ));
        }
    }
    if let Some(obr) = &group.obr {
        let observed = date_time_of(m, obr, 7);
        if span.is_none() && observed.is_some() {
            span = Some((observed, None));
        }
    }
    match span {
        Some((Some(start), None)) => put(resource, "occurrenceDateTime", start),
        Some((start, end)) => {
            let mut period = obj(2);
            if let Some(start) = start {
                put(&mut period, "start", start);
            }
            if let Some(end) = end {
                put(&mut period, "end", end);
            }
            if !period.is_empty() {
                put(resource, "occurrencePeriod", Value::Object(period));
            }
        }
        None => {}
    }
}

/// The ImagingStudy start: OBR-7, else TQ1-7 (already marked by the ServiceRequest).
pub fn started_of(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> Option<String> {
    let obr_text = group
        .obr
        .as_ref()
        .map(|obr| obr.field(7).text().into_owned())
        .unwrap_or_default();
    let text = if obr_text.is_empty() {
        group
            .timing
            .first()
            .map(|tq1| tq1.field(7).text().into_owned())
            .unwrap_or_default()
    } else {
        obr_text
    };
    let dtm = crate::hl7v2::datatypes::dtm::V2DateTime::parse(&text).ok()?;
    Some(dtm.to_date_time(&m.ctx.timezone))
}

/// The segment an order's requester is read from, for the ImagingStudy referrer.
pub fn referrer_of(m: &mut Mapping<'_>, group: &OrderGroup<'_>) -> Option<Value> {
    let from = |segment: Option<&Segment<'_>>, n: usize, m: &mut Mapping<'_>| {
        segment.and_then(|segment| first_practitioner(m, segment, n))
    };
    from(group.orc.as_ref(), 12, m).or_else(|| from(group.obr.as_ref(), 16, m))
}
