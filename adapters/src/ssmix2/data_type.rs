//! The SS-MIX2 data types (the folder above each file): which HL7 v2 message each one holds
//! (MSH-9 message type and trigger event) and whether Tsunagi converts it. A data type not
//! converted is listed as "not mapped" in the ingest report, never silently dropped.

/// What Tsunagi knows about one SS-MIX2 data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataType {
    /// The folder name, e.g. `ADT-00`.
    pub name: &'static str,
    /// The MSH-9 message type and trigger event (`ADT^A08`) the data type holds.
    pub message: &'static str,
    /// What it is, in a few words.
    pub description: &'static str,
    /// True when the HL7 v2 adapter converts it.
    pub converted: bool,
}

const fn converted(
    name: &'static str,
    message: &'static str,
    description: &'static str,
) -> DataType {
    DataType {
        name,
        message,
        description,
        converted: true,
    }
}

const fn not_mapped(
    name: &'static str,
    message: &'static str,
    description: &'static str,
) -> DataType {
    DataType {
        name,
        message,
        description,
        converted: false,
    }
}

/// The data types of the SS-MIX2 standardized storage that the public samples show (each
/// with the MSH-9 found there); any other folder name is reported as not mapped.
pub static DATA_TYPES: &[DataType] = &[
    converted("ADT-00", "ADT^A08", "patient basic information update"),
    converted("ADT-22", "ADT^A01", "admission"),
    converted("ADT-42", "ADT^A02", "ward or room transfer"),
    converted("ADT-52", "ADT^A03", "discharge"),
    not_mapped("ADT-61", "ADT^A60", "allergy information"),
    not_mapped("PPR-01", "PPR^ZD1", "diagnosis (problem)"),
    not_mapped("OMD", "OMD^O03", "diet order"),
    not_mapped("OMP-01", "RDE^O11", "prescription order"),
    not_mapped("OMP-02", "RDE^O11", "injection order"),
    not_mapped("OMP-11", "RAS^O17", "prescription administration"),
    not_mapped("OMP-12", "RAS^O17", "injection administration"),
    converted("OML-01", "OML^O33", "specimen test order"),
    converted("OML-11", "OUL^R22", "specimen test result"),
    converted("OMG-01", "OMG^O19", "examination order (physiology)"),
    converted("OMG-02", "OMG^O19", "examination order (endoscopy)"),
    converted("OMG-03", "OMG^O19", "examination order (other)"),
    converted("OMG-11", "OMI^Z23", "radiology order"),
    converted("OMG-12", "OMI^Z23", "radiology order (implementation)"),
    converted("OMG-13", "ORU^R01", "examination or radiology result"),
];

/// The data type named `name`, if it is one of the standard ones.
pub fn data_type(name: &str) -> Option<&'static DataType> {
    DATA_TYPES.iter().find(|data_type| data_type.name == name)
}

/// True when the data type is converted (an unknown data type is not).
pub fn is_converted(name: &str) -> bool {
    data_type(name).is_some_and(|data_type| data_type.converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_and_not_mapped_types() {
        assert!(is_converted("OMG-11"));
        assert_eq!(data_type("OMG-11").map(|d| d.message), Some("OMI^Z23"));
        assert!(!is_converted("PPR-01"));
        assert!(!is_converted("XYZ-99"));
        let converted = DATA_TYPES.iter().filter(|d| d.converted).count();
        assert_eq!(converted, 12);
    }
}
