//! What an adapter is told about the source of the bytes it converts. The adapters never read
//! configuration or clocks themselves, so everything that is not in the message comes from here.

/// The sending institution and the conventions its converted resources follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceContext {
    /// The sending institution's key (a configured name or the MSH-4 value). It is part of every
    /// deterministic resource id, so it must never change once data has been stored.
    pub institution: String,
    /// The 10-digit Japanese medical-institution code when configured: it adds the JP Core
    /// patient identifier `urn:oid:1.2.392.100495.20.3.51.1<code>` and the Organization's
    /// `insurance-medical-institution-no` identifier.
    pub institution_code: Option<String>,
    /// Base of the facility-local identifier systems, e.g. `urn:tsunagi:id:<institution>`;
    /// `<base>/patient-id`, `<base>/placer-order` … are listed in `docs/mappings/hl7v2.md`.
    pub identifier_base: String,
    /// Offset (`+09:00`, `-05:00` or `Z`) given to source times that carry none: FHIR
    /// `dateTime` values with a time and every `instant` need one.
    pub timezone: String,
}

impl SourceContext {
    /// A context with the default identifier base `urn:tsunagi:id:<institution>`, no
    /// institution code, and the given timezone offset.
    pub fn new(institution: impl Into<String>, timezone: impl Into<String>) -> Self {
        let institution = institution.into();
        SourceContext {
            identifier_base: format!("urn:tsunagi:id:{institution}"),
            institution,
            institution_code: None,
            timezone: timezone.into(),
        }
    }

    /// The identifier system `<identifier_base>/<suffix>` for a facility-local identifier.
    pub fn system(&self, suffix: &str) -> String {
        let base = self.identifier_base.trim_end_matches('/');
        let mut system = String::with_capacity(base.len() + 1 + suffix.len());
        system.push_str(base);
        system.push('/');
        system.push_str(suffix);
        system
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_base_and_local_systems() {
        let ctx = SourceContext::new("toro", "+09:00");
        assert_eq!(ctx.identifier_base, "urn:tsunagi:id:toro");
        assert_eq!(ctx.system("patient-id"), "urn:tsunagi:id:toro/patient-id");
        let slashed = SourceContext {
            identifier_base: "https://example.org/id/".into(),
            ..ctx
        };
        assert_eq!(
            slashed.system("placer-order"),
            "https://example.org/id/placer-order"
        );
    }
}
