//! XAD addresses (PID-11) as FHIR Addresses. JAHIS/SS-MIX2 messages put the whole Japanese
//! address in XAD-8 (other geographic designation) and only the postcode and country in the
//! structured parts, so XAD-8 becomes `Address.text`.

use super::{component_text, Place};
use crate::hl7v2::codes::address_use;
use crate::hl7v2::er7::Repetition;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put, put_str};
use crate::hl7v2::mapping::Mapping;
use crate::report::ReportCode;

/// The Address of one XAD repetition, or `None` when it is empty.
pub fn address(
    m: &mut Mapping<'_>,
    repetition: &Repetition<'_>,
    place: Place<'_, '_>,
) -> Option<Value> {
    // XAD-1 is SAD; its first subcomponent is the street or mailing address.
    let lines: Vec<String> = [1, 2]
        .into_iter()
        .map(|j| component_text(repetition, j).into_owned())
        .filter(|line| !line.is_empty())
        .collect();
    let city = component_text(repetition, 3);
    let state = component_text(repetition, 4);
    let postal_code = component_text(repetition, 5);
    let country = component_text(repetition, 6);
    let address_type = component_text(repetition, 7);
    let text = component_text(repetition, 8);
    let district = component_text(repetition, 9);
    if lines.is_empty()
        && [&city, &state, &postal_code, &country, &text, &district]
            .iter()
            .all(|part| part.is_empty())
    {
        return None;
    }
    let mut out = obj(9);
    if !address_type.is_empty() {
        match address_use(&address_type) {
            Some((address_use, kind)) => {
                if let Some(address_use) = address_use {
                    put(&mut out, "use", address_use);
                }
                if let Some(kind) = kind {
                    put(&mut out, "type", kind);
                }
            }
            None => m.warn(
                ReportCode::UnknownCode,
                &place.component(7),
                format!("address type {address_type:?} has no Address.use"),
            ),
        }
    }
    put_str(&mut out, "text", &text);
    if !lines.is_empty() {
        put(&mut out, "line", lines);
    }
    put_str(&mut out, "city", &city);
    put_str(&mut out, "district", &district);
    put_str(&mut out, "state", &state);
    put_str(&mut out, "postalCode", &postal_code);
    put_str(&mut out, "country", &country);
    Some(Value::Object(out))
}
