//! SPM as a Specimen. The business key is the placer specimen id (SPM-2.1), else the filler
//! specimen id (SPM-2.2, prefixed `filler:`), else — SS-MIX2 order messages send none — the
//! key of the first order that uses it with `|spm|<SPM-1>`.

use super::util::date_time_of;
use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::datatypes::coded::codeable_concept;
use crate::hl7v2::datatypes::identifier::{ei_in_component, identifier};
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put, put_array};
use crate::hl7v2::mapping::Mapping;
use crate::hl7v2::resources::observation::subcomponent_separator;
use crate::report::ReportCode;

/// Adds the Specimen of `spm`, requested by `requests` (ServiceRequest references);
/// `order_key` is the fallback key's order part. `None` when no key can be formed.
pub fn map_specimen(
    m: &mut Mapping<'_>,
    spm: &Segment<'_>,
    order_key: Option<&str>,
    requests: Vec<Value>,
) -> Option<ResourceRef> {
    let ids = m.field(spm, 2);
    let placer = ei_in_component(&ids.component(1));
    let filler = ei_in_component(&ids.component(2));
    m.mark(spm, 1);
    let set_id = spm.field(1).text().into_owned();
    let key = if !placer.is_empty() {
        placer.clone()
    } else if !filler.is_empty() {
        format!("filler:{filler}")
    } else if let Some(order_key) = order_key {
        format!(
            "{order_key}|spm|{}",
            if set_id.is_empty() { "1" } else { &set_id }
        )
    } else {
        m.warn(
            ReportCode::Missing,
            &spm.field_location(2),
            "SPM has no specimen id (SPM-2) and belongs to no order: no Specimen is created",
        );
        return None;
    };
    let id = m.id("Specimen", &key);
    if m.bundle.contains(&id) {
        m.consume(spm);
        m.inform(
            ReportCode::Duplicate,
            &spm.location(),
            "repeats a specimen already converted from this message",
        );
        return Some(ResourceRef {
            resource_type: "Specimen",
            id,
        });
    }
    let mut resource = start_resource("Specimen", &id, 8);
    let mut identifiers = Vec::new();
    if !placer.is_empty() {
        identifiers.push(identifier(
            Some("PLAC"),
            &m.ctx.system("placer-specimen"),
            &placer,
        ));
    }
    put_array(&mut resource, "identifier", identifiers);
    if !filler.is_empty() {
        put(
            &mut resource,
            "accessionIdentifier",
            identifier(Some("FILL"), &m.ctx.system("filler-specimen"), &filler),
        );
    }
    let separator = subcomponent_separator(m);
    let specimen_type = m.field(spm, 4);
    if let Some(concept) = specimen_type
        .repetitions()
        .next()
        .and_then(|r| codeable_concept(&r, m.ctx, separator))
    {
        put(&mut resource, "type", concept);
    }
    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }
    if let Some(received) = date_time_of(m, spm, 18) {
        put(&mut resource, "receivedTime", received);
    }
    put_array(&mut resource, "request", requests);

    let mut collection = obj(3);
    // SPM-17 is a DR (start^end): a period when both are given.
    let collected = m.field(spm, 17);
    let start = collected.component(1).subcomponent_text(1).into_owned();
    let end = collected.component(2).subcomponent_text(1).into_owned();
    let start = super::util::parse_date_time(m, spm, 17, &start);
    let end = super::util::parse_date_time(m, spm, 17, &end);
    match (start, end) {
        (Some(start), Some(end)) => {
            let mut period = obj(2);
            put(&mut period, "start", start);
            put(&mut period, "end", end);
            put(&mut collection, "collectedPeriod", Value::Object(period));
        }
        (Some(start), None) => put(&mut collection, "collectedDateTime", start),
        (None, Some(end)) => put(&mut collection, "collectedDateTime", end),
        (None, None) => {}
    }
    for (n, element) in [(7, "method"), (8, "bodySite")] {
        let field = m.field(spm, n);
        if let Some(concept) = field
            .repetitions()
            .next()
            .and_then(|r| codeable_concept(&r, m.ctx, separator))
        {
            put(&mut collection, element, concept);
        }
    }
    if !collection.is_empty() {
        put(&mut resource, "collection", Value::Object(collection));
    }
    m.bundle.add("Specimen", id.clone(), resource);
    Some(ResourceRef {
        resource_type: "Specimen",
        id,
    })
}
