//! XTN telecoms (PID-13 home, PID-14 business) as FHIR ContactPoints. SS-MIX2 sends the number
//! unformatted in XTN-12; older senders use XTN-1 or the parts 5–8.

use super::{component_text, Place};
use crate::hl7v2::codes::{telecom_system, telecom_use};
use crate::hl7v2::er7::Repetition;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{obj, put};
use crate::hl7v2::mapping::Mapping;
use crate::report::ReportCode;

/// The ContactPoint of one XTN repetition (`default_use` when XTN-2 is empty), or `None`.
pub fn contact_point(
    m: &mut Mapping<'_>,
    repetition: &Repetition<'_>,
    place: Place<'_, '_>,
    default_use: &'static str,
) -> Option<Value> {
    let use_code = component_text(repetition, 2);
    let equipment = component_text(repetition, 3);
    let email = component_text(repetition, 4);
    let is_email = equipment == "Internet" || equipment == "X.400" || use_code == "NET";
    let value = [12, 1]
        .into_iter()
        .map(|j| component_text(repetition, j).into_owned())
        .find(|text| !text.is_empty())
        .or_else(|| (is_email && !email.is_empty()).then(|| email.clone().into_owned()))
        .or_else(|| composed_number(repetition))
        .or_else(|| (!email.is_empty()).then(|| email.into_owned()))?;
    let system = if equipment.is_empty() {
        if value.contains('@') {
            "email"
        } else {
            "phone"
        }
    } else {
        match telecom_system(&equipment) {
            Some(system) => system,
            None => {
                m.warn(
                    ReportCode::UnknownCode,
                    &place.component(3),
                    format!(
                        "telecommunication equipment type {equipment:?} has no ContactPoint.system"
                    ),
                );
                if value.contains('@') {
                    "email"
                } else {
                    "other"
                }
            }
        }
    };
    let contact_use = if equipment == "CP" {
        Some("mobile")
    } else if use_code.is_empty() {
        Some(default_use)
    } else {
        match telecom_use(&use_code) {
            Some(contact_use) => contact_use,
            None => {
                m.warn(
                    ReportCode::UnknownCode,
                    &place.component(2),
                    format!("telecommunication use {use_code:?} has no ContactPoint.use"),
                );
                None
            }
        }
    };
    let mut out = obj(3);
    put(&mut out, "system", system);
    put(&mut out, "value", value);
    if let Some(contact_use) = contact_use {
        put(&mut out, "use", contact_use);
    }
    Some(Value::Object(out))
}

/// `+<country> (<area>) <local> x<extension>` from XTN-5…8, when the local number is given.
fn composed_number(repetition: &Repetition<'_>) -> Option<String> {
    let local = component_text(repetition, 7);
    if local.is_empty() {
        return None;
    }
    let mut number = String::new();
    let country = component_text(repetition, 5);
    if !country.is_empty() {
        number.push('+');
        number.push_str(&country);
        number.push(' ');
    }
    let area = component_text(repetition, 6);
    if !area.is_empty() {
        number.push('(');
        number.push_str(&area);
        number.push_str(") ");
    }
    number.push_str(&local);
    let extension = component_text(repetition, 8);
    if !extension.is_empty() {
        number.push_str(" x");
        number.push_str(&extension);
    }
    Some(number)
}
