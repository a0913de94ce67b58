//! DICOM value formats → FHIR primitive formats: DA → date, DA + TM (+ offset) → dateTime,
//! sex → gender, coding scheme designators → code system URIs, UIDs → `urn:oid:`.

/// The DICOM Controlled Terminology (modality codes and SR concepts).
pub const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// The system of DICOM UID identifiers.
pub const URN_DICOM_UID: &str = "urn:dicom:uid";

/// `urn:oid:<uid>`.
pub fn oid_urn(uid: &str) -> String {
    format!("urn:oid:{uid}")
}

/// A DICOM date (`YYYYMMDD`, or the old `YYYY.MM.DD`) as a FHIR date (`YYYY-MM-DD`).
pub fn fhir_date(da: &str) -> Option<String> {
    let digits: String = da.trim().chars().filter(|c| *c != '.').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, month, day) = (&digits[..4], &digits[4..6], &digits[6..8]);
    let month_number: u32 = month.parse().ok()?;
    let day_number: u32 = day.parse().ok()?;
    if !(1..=12).contains(&month_number) || !(1..=31).contains(&day_number) || year == "0000" {
        return None;
    }
    Some(format!("{year}-{month}-{day}"))
}

/// A DICOM time (`HH`, `HHMM`, `HHMMSS`, `HHMMSS.F…`, or the old `HH:MM:SS`) as FHIR
/// `HH:MM:SS[.F…]`; missing minutes and seconds become `00`.
pub fn fhir_time(tm: &str) -> Option<String> {
    let text: String = tm.trim().chars().filter(|c| *c != ':').collect();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    if !matches!(whole.len(), 2 | 4 | 6) || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |at: usize| whole.get(at..at + 2).unwrap_or("00");
    let (hour, minute, second) = (part(0), part(2), part(4));
    let in_range = |value: &str, max: u32| value.parse::<u32>().is_ok_and(|v| v <= max);
    if !in_range(hour, 23) || !in_range(minute, 59) || !in_range(second, 60) {
        return None;
    }
    let mut out = format!("{hour}:{minute}:{second}");
    if let Some(fraction) = fraction.filter(|f| !f.is_empty()) {
        if whole.len() != 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push('.');
        out.push_str(&fraction[..fraction.len().min(6)]);
    }
    Some(out)
}

/// A DICOM offset (`+0900`, `-0500`) as FHIR's `+09:00`.
pub fn fhir_offset(offset: &str) -> Option<String> {
    let offset = offset.trim();
    let (sign, digits) = offset.split_at_checked(1)?;
    if !matches!(sign, "+" | "-")
        || digits.len() != 4
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(format!("{sign}{}:{}", &digits[..2], &digits[2..]))
}

/// Date + optional time as a FHIR dateTime; a time gets `offset` (the file's (0008,0201) or the
/// institution's zone) since FHIR requires one once there is a time.
pub fn fhir_date_time(da: &str, tm: Option<&str>, offset: &str) -> Option<String> {
    let date = fhir_date(da)?;
    match tm.and_then(fhir_time) {
        Some(time) => Some(format!("{date}T{time}{offset}")),
        None => Some(date),
    }
}

/// (0010,0040) Patient's Sex as administrative gender.
pub fn gender(sex: &str) -> Option<&'static str> {
    match sex.trim() {
        "M" => Some("male"),
        "F" => Some("female"),
        "O" => Some("other"),
        _ => None,
    }
}

/// The code system URI of a coding scheme designator, when FHIR has one.
pub fn code_system(designator: &str) -> Option<&'static str> {
    match designator.trim() {
        "DCM" => Some(DCM),
        "LN" => Some("http://loinc.org"),
        "SCT" | "SRT" | "SNM3" => Some("http://snomed.info/sct"),
        "RADLEX" => Some("http://www.radlex.org"),
        "UCUM" => Some("http://unitsofmeasure.org"),
        "I10" | "ICD10" => Some("http://hl7.org/fhir/sid/icd-10"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_offsets() {
        assert_eq!(fhir_date("20261102").as_deref(), Some("2026-11-02"));
        assert_eq!(fhir_date("2026.11.02").as_deref(), Some("2026-11-02"));
        assert_eq!(fhir_date("20261302"), None);
        assert_eq!(fhir_date("2026110"), None);
        assert_eq!(fhir_time("1015").as_deref(), Some("10:15:00"));
        assert_eq!(
            fhir_time("101500.123456789").as_deref(),
            Some("10:15:00.123456")
        );
        assert_eq!(fhir_time("10:15:30").as_deref(), Some("10:15:30"));
        assert_eq!(fhir_time("2515"), None);
        assert_eq!(fhir_time("10.5"), None);
        assert_eq!(fhir_offset("+0900").as_deref(), Some("+09:00"));
        assert_eq!(fhir_offset("0900"), None);
        assert_eq!(
            fhir_date_time("20261102", Some("101500"), "+09:00").as_deref(),
            Some("2026-11-02T10:15:00+09:00")
        );
        assert_eq!(
            fhir_date_time("20261102", Some("bad"), "+09:00").as_deref(),
            Some("2026-11-02")
        );
    }

    #[test]
    fn genders_and_systems() {
        assert_eq!(gender("F"), Some("female"));
        assert_eq!(gender(""), None);
        assert_eq!(code_system("LN"), Some("http://loinc.org"));
        assert_eq!(code_system("99LOCAL"), None);
    }
}
