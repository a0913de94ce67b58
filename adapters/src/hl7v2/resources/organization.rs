//! MSH-4 (sending facility) as the Organization every resource comes from: the Provenance
//! agent, the Patient's managing organization and the Encounter's service provider.

use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::JP_INSTITUTION_NO;
use crate::hl7v2::datatypes::identifier::identifier;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::json::put;
use crate::hl7v2::mapping::Mapping;

/// Adds the sending Organization. Its business key is MSH-4.1 (namespace id), else MSH-4.2
/// (universal id), else the configured institution key.
pub fn map_organization(m: &mut Mapping<'_>, msh: &Segment<'_>) -> ResourceRef {
    let facility = m.field(msh, 4);
    let namespace = facility.component(1).subcomponent_text(1).into_owned();
    let universal = facility.component(2).subcomponent_text(1).into_owned();
    let universal_type = facility.component(3).subcomponent_text(1).into_owned();
    let key = [&namespace, &universal]
        .into_iter()
        .find(|part| !part.is_empty())
        .cloned()
        .unwrap_or_else(|| m.ctx.institution.clone());
    let id = m.id("Organization", &key);
    let mut identifiers = vec![identifier(None, &m.ctx.system("facility"), &key)];
    if !universal.is_empty() && universal_type.eq_ignore_ascii_case("ISO") {
        identifiers.push(identifier(
            None,
            "urn:ietf:rfc:3986",
            &format!("urn:oid:{universal}"),
        ));
    }
    if let Some(code) = m.ctx.institution_code.as_deref() {
        identifiers.push(identifier(None, JP_INSTITUTION_NO, code));
    }
    let name = if namespace.is_empty() {
        m.ctx.institution.clone()
    } else {
        namespace
    };
    let mut resource = start_resource("Organization", &id, 2);
    put(&mut resource, "identifier", identifiers);
    put(&mut resource, "name", name);
    m.bundle.add("Organization", id.clone(), resource);
    let organization = ResourceRef {
        resource_type: "Organization",
        id,
    };
    m.organization = Some(organization.clone());
    organization
}
