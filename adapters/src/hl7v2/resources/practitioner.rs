//! XCN fields (ORC-12 ordering provider, OBR-16, PV1-7 attending, OBX-16 …) as Practitioners.
//! The business key is XCN-1, the person's id at the sending institution. A repetition without
//! an id right after one with an id is the same person written another way (JAHIS sends the
//! kanji name, then the kana name), so its name joins the previous Practitioner.

use crate::hl7v2::bundle::start_resource;
use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::datatypes::name::{display_name, human_name, XCN};
use crate::hl7v2::datatypes::Place;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{display_reference, put, reference};
use crate::hl7v2::mapping::Mapping;

struct Person {
    id_value: String,
    id_type: String,
    names: Vec<Value>,
    display: String,
}

/// References to the people named in XCN field `n` of `segment`, creating a Practitioner for
/// each one that has an id (the first mention in a message wins). People without an id become
/// display-only references.
pub fn practitioners(m: &mut Mapping<'_>, segment: &Segment<'_>, n: usize) -> Vec<Value> {
    let field = m.field(segment, n);
    let mut people: Vec<Person> = Vec::new();
    for (index, repetition) in field.repetitions().enumerate() {
        let place = Place {
            segment,
            field: n,
            repetition: index + 1,
        };
        let id_value = component_text(&repetition, 1).into_owned();
        let name = human_name(m, &repetition, place, &XCN);
        let display = display_name(&repetition, &XCN);
        match people.last_mut() {
            Some(previous) if id_value.is_empty() && !previous.id_value.is_empty() => {
                previous.names.extend(name);
            }
            _ => {
                if id_value.is_empty() && name.is_none() {
                    continue;
                }
                people.push(Person {
                    id_type: component_text(&repetition, 13).into_owned(),
                    id_value,
                    names: name.into_iter().collect(),
                    display,
                });
            }
        }
    }
    people
        .into_iter()
        .map(|person| practitioner_reference(m, person))
        .collect()
}

/// The first person of XCN field `n`, if any.
pub fn first_practitioner(m: &mut Mapping<'_>, segment: &Segment<'_>, n: usize) -> Option<Value> {
    practitioners(m, segment, n).into_iter().next()
}

fn practitioner_reference(m: &mut Mapping<'_>, person: Person) -> Value {
    if person.id_value.is_empty() {
        return display_reference(&person.display);
    }
    let id = m.id("Practitioner", &person.id_value);
    if !m.bundle.contains(&id) {
        let system = if person.id_type == "NPI" {
            "http://hl7.org/fhir/sid/us-npi".to_owned()
        } else {
            m.ctx.system("practitioner-id")
        };
        let mut resource = start_resource("Practitioner", &id, 2);
        put(
            &mut resource,
            "identifier",
            vec![identifier(None, &system, &person.id_value)],
        );
        if !person.names.is_empty() {
            put(&mut resource, "name", person.names);
        }
        m.bundle.add("Practitioner", id.clone(), resource);
    }
    reference("Practitioner", &id)
}
