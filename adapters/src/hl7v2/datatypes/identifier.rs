//! CX (patient identifiers) and EI (order numbers, UIDs) as FHIR Identifiers. The caller picks
//! the system: facility-local systems come from `SourceContext::system`.

use super::component_text;
use crate::hl7v2::codes::V2_0203;
use crate::hl7v2::er7::{Component, Repetition};
use crate::hl7v2::json::Value;
use crate::hl7v2::json::{concept, obj, put, Obj};

/// The parts of a CX repetition the mapping uses.
pub struct Cx {
    /// CX-1, the identifier itself.
    pub value: String,
    /// CX-4.1, the assigning authority's namespace id.
    pub authority_namespace: String,
    /// CX-4.2, the assigning authority's universal id (an OID when CX-4.3 is `ISO`).
    pub authority_universal: String,
    /// CX-4.3, the universal id type.
    pub authority_universal_type: String,
    /// CX-5, the identifier type code (v2 table 0203: MR, PI, SS …).
    pub type_code: String,
}

impl Cx {
    /// Reads a CX repetition.
    pub fn read(repetition: &Repetition<'_>) -> Cx {
        let authority = repetition.component(4);
        Cx {
            value: component_text(repetition, 1).into_owned(),
            authority_namespace: authority.subcomponent_text(1).into_owned(),
            authority_universal: authority.subcomponent_text(2).into_owned(),
            authority_universal_type: authority.subcomponent_text(3).into_owned(),
            type_code: component_text(repetition, 5).into_owned(),
        }
    }
}

/// The entity identifier of an EI held in one component (EIP parts, SPM-2), i.e. its first
/// subcomponent.
pub fn ei_in_component(component: &Component<'_>) -> String {
    component.subcomponent_text(1).into_owned()
}

/// `{"type"?, "system", "value"}` with the type from v2 table 0203 when given.
pub fn identifier(type_code: Option<&str>, system: &str, value: &str) -> Value {
    let mut out: Obj = obj(3);
    if let Some(type_code) = type_code.filter(|code| !code.is_empty()) {
        put(&mut out, "type", concept(V2_0203, type_code, None));
    }
    put(&mut out, "system", system);
    put(&mut out, "value", value);
    Value::Object(out)
}
