//! The R4 patient compartment: which search parameters put a resource of each type in a
//! patient's compartment (embedded from `data/compartment-patient-r4.json`, generated from the
//! official CompartmentDefinition by `scripts/gen_compartments.py`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Resource type → the reference parameters that link it to the patient.
pub fn patient_compartment() -> &'static BTreeMap<String, Vec<String>> {
    static MEMBERS: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/compartment-patient-r4.json"))
            .unwrap_or_default()
    })
}

/// The parameters that link `res_type` to a patient (empty when the type is not in the
/// compartment).
pub fn patient_compartment_params(res_type: &str) -> &'static [String] {
    patient_compartment()
        .get(res_type)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_r4_patient_compartment_is_embedded() {
        assert!(patient_compartment().len() > 60);
        assert_eq!(
            patient_compartment_params("ServiceRequest"),
            ["subject", "performer"]
        );
        assert!(patient_compartment_params("ImagingStudy").contains(&"patient".to_string()));
        assert!(patient_compartment_params("Organization").is_empty());
    }
}
