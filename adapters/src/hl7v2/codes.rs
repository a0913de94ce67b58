//! Fixed code tables from the HL7 v2 and FHIR specifications: which v2 table value becomes
//! which FHIR code. Each function returns `None` for a value outside its table, and the caller
//! reports it as an unknown code with its location.

/// Base URL of the HL7 v2 tables published as FHIR code systems (`v2-0203` …).
pub const V2_TABLE_BASE: &str = "http://terminology.hl7.org/CodeSystem/v2-";
/// v2 table 0203, identifier types (PLAC, FILL, ACSN, MR …).
pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// v2 table 0074, diagnostic service section ids (RAD, LAB …).
pub const V2_0074: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
/// v2 table 0003, event types (O01, R01, A01 …): Provenance.activity.
pub const V2_0003: &str = "http://terminology.hl7.org/CodeSystem/v2-0003";
/// v3 ObservationInterpretation, the target of v2 table 0078 (abnormal flags).
pub const V3_INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// v3 ActCode: Encounter.class.
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// v3 NullFlavor: Encounter.class when PV1-2 is absent or unknown.
pub const V3_NULL_FLAVOR: &str = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
/// v3 ParticipationType: Encounter.participant.type.
pub const V3_PARTICIPATION_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// v3 MaritalStatus: Patient.maritalStatus.
pub const V3_MARITAL_STATUS: &str = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus";
/// FHIR observation-category (laboratory, imaging …).
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// JP Core's simple observation category (same codes; JP_Observation_Common requires it).
pub const JP_OBSERVATION_CATEGORY: &str =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// UCUM units.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// DICOM controlled terminology (modalities, 113014 Study Instance UID …).
pub const DICOM_DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// The representation extension of a HumanName (IDE kanji, SYL kana, ABC alphabetic).
pub const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
/// JP Core patient identifier system prefix: `urn:oid:1.2.392.100495.20.3.51.1<code10>`.
pub const JP_PATIENT_ID_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.1";
/// JP Core identifier system of the 10-digit medical-institution code.
pub const JP_INSTITUTION_NO: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
/// The content type of a raw ER7 message kept as a Binary.
pub const ER7_CONTENT_TYPE: &str = "x-application/hl7-v2+er7";

/// PID-8 administrative sex (v2 table 0001) → Patient.gender.
pub fn gender(code: &str) -> Option<&'static str> {
    Some(match code {
        "M" => "male",
        "F" => "female",
        "O" | "A" => "other",
        "U" | "N" => "unknown",
        _ => return None,
    })
}

/// PV1-2 patient class (v2 table 0004) → Encounter.class code in v3 ActCode.
pub fn encounter_class(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "I" => ("IMP", "inpatient encounter"),
        "O" => ("AMB", "ambulatory"),
        "E" => ("EMER", "emergency"),
        "P" => ("PRENC", "pre-admission"),
        "R" => ("AMB", "ambulatory"),
        "B" => ("IMP", "inpatient encounter"),
        _ => return None,
    })
}

/// XPN-7 / XCN-10 name type (v2 table 0200) → HumanName.use: `Some(Some(use))`, or
/// `Some(None)` for a valid v2 code FHIR has no use for (birth name, masked …), or `None` for a
/// code outside the table.
pub fn name_use(code: &str) -> Option<Option<&'static str>> {
    Some(match code {
        "L" => Some("official"),
        "D" | "A" => Some("usual"),
        "M" => Some("maiden"),
        "N" => Some("nickname"),
        "S" => Some("anonymous"),
        "TEMP" => Some("temp"),
        "NOUSE" | "BAD" => Some("old"),
        "B" | "C" | "I" | "K" | "MSK" | "NAV" | "NB" | "P" | "R" | "REL" | "T" | "U" => None,
        _ => return None,
    })
}

/// XPN-8 / XCN-15 name representation (v2 table 4000) → iso21090-EN-representation code.
pub fn name_representation(code: &str) -> Option<&'static str> {
    Some(match code {
        "I" => "IDE",
        "P" => "SYL",
        "A" => "ABC",
        _ => return None,
    })
}

/// XAD-7 address type (v2 table 0190) → (Address.use, Address.type).
pub fn address_use(code: &str) -> Option<(Option<&'static str>, Option<&'static str>)> {
    Some(match code {
        "H" | "P" => (Some("home"), None),
        "B" | "O" => (Some("work"), None),
        "C" => (Some("temp"), None),
        "BA" => (Some("old"), None),
        "M" => (None, Some("postal")),
        "SH" => (None, Some("physical")),
        _ => return None,
    })
}

/// XTN-2 telecommunication use (v2 table 0201) → ContactPoint.use.
pub fn telecom_use(code: &str) -> Option<Option<&'static str>> {
    Some(match code {
        "PRN" | "ORN" | "VHN" => Some("home"),
        "WPN" => Some("work"),
        "EMR" | "ASN" | "NET" | "BPN" => None,
        _ => return None,
    })
}

/// XTN-3 equipment type (v2 table 0202) → ContactPoint.system (and `mobile` use for CP).
pub fn telecom_system(code: &str) -> Option<&'static str> {
    Some(match code {
        "PH" | "CP" | "SAT" | "TDD" | "TTY" => "phone",
        "FX" => "fax",
        "BP" => "pager",
        "Internet" | "X.400" => "email",
        "MD" => "other",
        _ => return None,
    })
}

/// PID-16 marital status (v2 table 0002) codes that v3 MaritalStatus also defines.
pub fn marital_status(code: &str) -> Option<&'static str> {
    Some(match code {
        "A" => "A",
        "D" => "D",
        "I" => "I",
        "L" => "L",
        "M" => "M",
        "P" => "P",
        "S" => "S",
        "T" => "T",
        "U" => "U",
        "W" => "W",
        _ => return None,
    })
}

/// ORC-5 order status (v2 table 0038) → ServiceRequest.status.
pub fn order_status(code: &str) -> Option<&'static str> {
    Some(match code {
        "A" | "IP" | "SC" => "active",
        "CM" => "completed",
        "CA" | "DC" | "RP" => "revoked",
        "HD" => "on-hold",
        "ER" => "entered-in-error",
        _ => return None,
    })
}

/// What ORC-1 (order control, v2 table 0119) says about the status, before ORC-5.
pub enum OrderControl {
    /// The order is cancelled or discontinued, whatever ORC-5 says.
    Revoked,
    /// The order is held.
    OnHold,
    /// New, changed, status or informational: the status comes from ORC-5, else `active`.
    FromStatus,
}

/// ORC-1 order control → how to derive ServiceRequest.status.
pub fn order_control(code: &str) -> Option<OrderControl> {
    Some(match code {
        "CA" | "OC" | "DC" | "OD" | "CR" | "DR" => OrderControl::Revoked,
        "HD" | "OH" => OrderControl::OnHold,
        "NW" | "XO" | "XX" | "XR" | "SC" | "SN" | "NA" | "OK" | "RE" | "RL" | "OR" | "RP"
        | "RU" | "PA" | "CH" | "UA" | "UX" | "OE" | "OF" | "PY" => OrderControl::FromStatus,
        _ => return None,
    })
}

/// TQ1-9 / OBR-5 priority (v2 table 0485) → ServiceRequest.priority.
pub fn priority(code: &str) -> Option<&'static str> {
    Some(match code {
        "S" => "stat",
        "A" => "asap",
        "R" => "routine",
        "T" => "urgent",
        _ => return None,
    })
}

/// OBR-25 result status (v2 table 0123) → DiagnosticReport.status.
pub fn report_status(code: &str) -> Option<&'static str> {
    Some(match code {
        "O" | "I" | "S" => "registered",
        "A" | "R" => "partial",
        "P" => "preliminary",
        "C" => "corrected",
        "F" => "final",
        "X" => "cancelled",
        "Y" | "Z" => "unknown",
        _ => return None,
    })
}

/// OBX-11 observation result status (v2 table 0085) → Observation.status.
pub fn observation_status(code: &str) -> Option<&'static str> {
    Some(match code {
        "F" | "U" => "final",
        "C" => "corrected",
        "A" => "amended",
        "P" | "R" | "S" => "preliminary",
        "I" | "O" => "registered",
        "X" | "N" => "cancelled",
        "D" | "W" => "entered-in-error",
        _ => return None,
    })
}

/// OBX-8 abnormal flags (v2 table 0078) that v3 ObservationInterpretation also defines.
pub fn interpretation(code: &str) -> Option<&'static str> {
    const CODES: &[&str] = &[
        "<", ">", "A", "AA", "AC", "B", "CAR", "D", "DET", "E", "EX", "EXP", "H", "HH", "HM", "HU",
        "HX", "I", "IE", "IND", "L", "LL", "LU", "LX", "MS", "N", "NCL", "ND", "NEG", "NR", "NS",
        "OBX", "POS", "QCF", "R", "RR", "S", "SDD", "SYN-R", "SYN-S", "TOX", "U", "UNE", "VS", "W",
        "WR",
    ];
    CODES.iter().copied().find(|known| *known == code)
}

/// OBR-24 diagnostic service sections (v2 table 0074, plus common modality spellings) that
/// mean an imaging report.
pub fn is_imaging_section(code: &str) -> bool {
    matches!(
        code,
        "RAD"
            | "CT"
            | "MR"
            | "MRI"
            | "NMR"
            | "NMS"
            | "US"
            | "CUS"
            | "OUS"
            | "RUS"
            | "VUS"
            | "XRC"
            | "RX"
            | "CR"
            | "DX"
            | "MG"
            | "NM"
            | "PT"
            | "XA"
            | "RF"
            | "IMG"
    )
}

/// The JP Core DiagnosticReport category (LOINC part code and display) for an OBR-24 value;
/// imaging is decided by the caller.
pub fn jp_report_category(section: &str, imaging: bool) -> (&'static str, &'static str) {
    if imaging {
        return ("LP29684-5", "Radiology");
    }
    match section {
        "SP" | "CP" | "PAT" => ("LP7839-6", "Pathology"),
        "MB" | "MCB" | "MYC" => ("LP7819-8", "Microbiology"),
        "EC" | "CTH" | "CG" => ("LP29708-2", "Cardiology"),
        _ => ("LP29693-6", "Laboratory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_tables_follow_the_v2_definitions() {
        assert_eq!(order_status("CM"), Some("completed"));
        assert_eq!(order_status("HD"), Some("on-hold"));
        assert_eq!(order_status("ZZ"), None);
        assert_eq!(report_status("F"), Some("final"));
        assert_eq!(report_status("X"), Some("cancelled"));
        assert_eq!(observation_status("W"), Some("entered-in-error"));
        assert_eq!(observation_status("I"), Some("registered"));
        assert!(matches!(order_control("CA"), Some(OrderControl::Revoked)));
        assert!(matches!(
            order_control("XO"),
            Some(OrderControl::FromStatus)
        ));
        assert!(order_control("??").is_none());
    }

    #[test]
    fn abnormal_flags_map_to_v3_codes_only_when_defined() {
        assert_eq!(interpretation("HH"), Some("HH"));
        assert_eq!(interpretation("<"), Some("<"));
        assert_eq!(interpretation("null"), None);
        assert_eq!(interpretation("h"), None, "codes are case-sensitive");
    }

    #[test]
    fn report_categories() {
        assert!(is_imaging_section("RAD"));
        assert!(!is_imaging_section("HM"));
        assert_eq!(jp_report_category("HM", false).0, "LP29693-6");
        assert_eq!(jp_report_category("LAB", true).0, "LP29684-5");
        assert_eq!(jp_report_category("MB", false).0, "LP7819-8");
    }
}
