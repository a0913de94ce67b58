//! OBX segments as Observations (or, for ED values, as report attachments): the value by
//! OBX-2 data type, units (OBX-6), reference range (OBX-7), abnormal flags (OBX-8), status
//! (OBX-11), time (OBX-14), performer (OBX-16) and method (OBX-17).

use super::attachment::ed_attachment;
use super::practitioner::practitioners;
use crate::hl7v2::bundle::{start_resource, ResourceRef};
use crate::hl7v2::codes::{
    interpretation, observation_status, JP_OBSERVATION_CATEGORY, OBSERVATION_CATEGORY, UCUM,
    V3_INTERPRETATION,
};
use crate::hl7v2::datatypes::coded::codeable_concept;
use crate::hl7v2::datatypes::component_text;
use crate::hl7v2::datatypes::decimal::fhir_decimal;
use crate::hl7v2::datatypes::dtm::V2DateTime;
use crate::hl7v2::er7::{Field, Location, Repetition, Segment};
use crate::hl7v2::json::{
    json_number, obj, put, put_array, put_static, put_str, static_codings_concept, static_concept,
    text_concept, Obj,
};
use crate::hl7v2::json::{raw_value, Value};
use crate::hl7v2::json_write::{write_key, write_str};
use crate::hl7v2::mapping::{repetition_location, Mapping};
use crate::hl7v2::structure::ObservationItem;
use crate::report::ReportCode;
use std::borrow::Cow;

/// What the surrounding order or report gives every Observation of its group.
pub struct ObservationScope<'a> {
    /// The business key of the group's ServiceRequest or DiagnosticReport; the Observation's
    /// key is `<key>|obx|<OBX-1>[|<OBX-4>]`.
    pub key: &'a str,
    /// `laboratory` or `imaging` (FHIR and JP Core observation category), when known.
    pub category: Option<&'static str>,
    /// OBR-7 as a FHIR dateTime: the default effective time.
    pub effective: Option<&'a str>,
    /// A reference to the ServiceRequest the result answers.
    pub based_on: Option<&'a Value>,
    /// The Specimen resources of the message, by SPM position ([`ObservationItem::specimen`]).
    pub specimens: &'a [Option<ResourceRef>],
    /// SPM-1 (set id) of each SPM of the message, by position, for the keys of OBX that
    /// follow an SPM.
    pub specimen_set_ids: &'a [String],
    /// True in order messages: there an ED value cannot go anywhere in R4.
    pub in_order: bool,
}

/// What one OBX became.
pub enum ObxOutcome {
    /// An Observation was added.
    Observation(ResourceRef),
    /// An ED value, for DiagnosticReport.presentedForm.
    Attachment(Value),
    /// A DICOM Study Instance UID (OBX-3 = DCM 113014), for DiagnosticReport.imagingStudy.
    StudyInstanceUid,
    /// Nothing usable (reported).
    Nothing,
}

/// True when the OBX names a DICOM Study Instance UID (code 113014 in the DCM system).
pub fn is_study_uid(obx: &Segment<'_>) -> bool {
    let code = obx.field(3);
    code.component(1).subcomponent_text(1) == "113014"
        && code.component(3).subcomponent_text(1) == "DCM"
}

/// Maps one OBX of a group; `position` (1-based within the group) stands in for an empty OBX-1.
pub fn map_obx(
    m: &mut Mapping<'_>,
    item: &ObservationItem<'_>,
    position: usize,
    scope: &ObservationScope<'_>,
) -> ObxOutcome {
    let obx = &item.obx;
    let value_type = m.text(obx, 2);
    if is_study_uid(obx) {
        // The whole OBX is the link DiagnosticReport.imagingStudy is built from.
        m.consume(obx);
        return ObxOutcome::StudyInstanceUid;
    }
    if value_type == "ED" {
        let field = m.field(obx, 5);
        let Some(repetition) = field.repetitions().next() else {
            return ObxOutcome::Nothing;
        };
        if scope.in_order {
            m.warn(
                ReportCode::Unsupported,
                &obx.field_location(5),
                "an ED (encapsulated data) value in an order has no place in FHIR R4 (Observation cannot hold an attachment); kept only in the raw message",
            );
            return ObxOutcome::Nothing;
        }
        m.mark(obx, 3);
        let title = code_text(obx);
        return match ed_attachment(m, &repetition, &repetition_location(obx, 5, 1), title) {
            Some(attachment) => ObxOutcome::Attachment(attachment),
            None => ObxOutcome::Nothing,
        };
    }
    let separator = subcomponent_separator(m);
    let code_field = m.field(obx, 3);
    let Some(code) = code_field
        .repetitions()
        .next()
        .and_then(|r| codeable_concept(&r, m.ctx, separator))
    else {
        m.warn(
            ReportCode::Missing,
            &obx.field_location(3),
            "OBX-3 (observation identifier) is empty: the OBX is not converted",
        );
        return ObxOutcome::Nothing;
    };

    m.mark(obx, 1);
    let set_id = obx.field(1).text();
    let sub_id = m.text(obx, 4);
    let mut key = String::with_capacity(scope.key.len() + 24);
    key.push_str(scope.key);
    // OBX after an SPM of the group describe that specimen and restart their set ids.
    let restarted = item.specimen.filter(|_| item.after_specimen);
    if let Some(spm) = restarted.and_then(|index| scope.specimen_set_ids.get(index)) {
        key.push_str("|spm|");
        key.push_str(spm);
    }
    key.push_str("|obx|");
    if set_id.is_empty() {
        key.push('#');
        key.push_str(&position.to_string());
    } else {
        key.push_str(&set_id);
    }
    if !sub_id.is_empty() {
        key.push('|');
        key.push_str(&sub_id);
    }
    let mut id = m.id("Observation", &key);
    if m.bundle.contains(&id) {
        m.warn(
            ReportCode::Duplicate,
            &obx.field_location(1),
            format!("OBX-1 {set_id:?} (sub-id {sub_id:?}) repeats an earlier OBX of the same group: its key gets the OBX position #{position}"),
        );
        key.push_str("|#");
        key.push_str(&position.to_string());
        id = m.id("Observation", &key);
        if m.bundle.contains(&id) {
            return ObxOutcome::Nothing;
        }
    }

    let mut resource = start_resource("Observation", &id, 10);
    if let Some(based_on) = scope.based_on {
        put(&mut resource, "basedOn", vec![based_on.clone()]);
    }
    let status_code = m.text(obx, 11);
    let status = match observation_status(&status_code) {
        Some(status) => status,
        None => {
            let message = if status_code.is_empty() {
                "OBX-11 (result status) is empty: Observation.status is unknown".to_owned()
            } else {
                format!("result status {status_code:?} is not in HL7 table 0085: Observation.status is unknown")
            };
            m.warn(ReportCode::UnknownCode, &obx.field_location(11), message);
            "unknown"
        }
    };
    put_static(&mut resource, "status", status);
    if let Some(category) = scope.category {
        put(&mut resource, "category", vec![category_concept(category)]);
    }
    put(&mut resource, "code", code);
    if let Some(patient) = &m.patient {
        put(&mut resource, "subject", patient.to_reference());
    }
    if let Some(encounter) = &m.encounter {
        put(&mut resource, "encounter", encounter.to_reference());
    }
    let observed_text = m.text(obx, 14);
    let observed = if observed_text.is_empty() {
        None
    } else {
        match V2DateTime::parse(&observed_text) {
            Ok(time) => Some(time.to_date_time(&m.ctx.timezone)),
            Err(error) => {
                m.warn(
                    ReportCode::Invalid,
                    &obx.field_location(14),
                    format!("observation time {observed_text:?}: {error}"),
                );
                None
            }
        }
    };
    if let Some(effective) = observed.or_else(|| scope.effective.map(str::to_owned)) {
        put(&mut resource, "effectiveDateTime", effective);
    }
    put_array(&mut resource, "performer", practitioners(m, obx, 16));

    let units = units(m, obx);
    let value_field = m.field(obx, 5);
    add_value(
        m,
        &mut resource,
        obx,
        &value_type,
        &value_field,
        units.as_ref(),
    );

    let mut interpretations = Vec::new();
    for (index, repetition) in m.field(obx, 8).repetitions().enumerate() {
        let flag = component_text(&repetition, 1);
        if flag.is_empty() {
            continue;
        }
        match interpretation(&flag) {
            Some(code) => interpretations.push(static_concept(V3_INTERPRETATION, code, None)),
            None => {
                m.warn(
                    ReportCode::UnknownCode,
                    &repetition_location(obx, 8, index + 1),
                    format!("abnormal flag {flag:?} has no v3 ObservationInterpretation code; kept as text"),
                );
                interpretations.push(text_concept(&flag));
            }
        }
    }
    put_array(&mut resource, "interpretation", interpretations);

    let notes = notes(m, &item.notes);
    put_array(&mut resource, "note", notes);

    let method = m.field(obx, 17);
    if let Some(method) = method
        .repetitions()
        .next()
        .and_then(|r| codeable_concept(&r, m.ctx, separator))
    {
        put(&mut resource, "method", method);
    }
    if let Some(Some(specimen)) = item.specimen.and_then(|index| scope.specimens.get(index)) {
        put(&mut resource, "specimen", specimen.to_reference());
    }
    let range_text = m.text(obx, 7);
    if let Some(range) = reference_range(&range_text, units.as_ref()) {
        put(&mut resource, "referenceRange", vec![range]);
    }
    m.bundle.add("Observation", id.clone(), resource);
    ObxOutcome::Observation(ResourceRef {
        resource_type: "Observation",
        id,
    })
}

/// The category CodeableConcept (FHIR and JP Core codings of `category`); the two categories
/// the mappings use are constant JSON.
fn category_concept(category: &'static str) -> Value {
    const LABORATORY: &str = concat!(
        r#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"},"#,
        r#"{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS","code":"laboratory"}]}"#
    );
    const IMAGING: &str = concat!(
        r#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"imaging"},"#,
        r#"{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS","code":"imaging"}]}"#
    );
    match category {
        "laboratory" => Value::Raw(Cow::Borrowed(LABORATORY.as_bytes())),
        "imaging" => Value::Raw(Cow::Borrowed(IMAGING.as_bytes())),
        _ => static_codings_concept(&[
            (OBSERVATION_CATEGORY, category, None),
            (JP_OBSERVATION_CATEGORY, category, None),
        ]),
    }
}

/// NTE-3 comments as Annotations.
pub fn notes(m: &mut Mapping<'_>, notes: &[Segment<'_>]) -> Vec<Value> {
    let mut annotations = Vec::new();
    for note in notes {
        m.mark(note, 1);
        let field = m.field(note, 3);
        let lines: Vec<String> = field.repetitions().map(|r| r.text().into_owned()).collect();
        let text = lines.join("\n");
        if !text.is_empty() {
            let mut annotation = obj(1);
            put(&mut annotation, "text", text);
            annotations.push(Value::Object(annotation));
        }
    }
    annotations
}

fn code_text(obx: &Segment<'_>) -> Option<String> {
    let field = obx.field(3);
    let repetition = field.repetitions().next()?;
    let text = component_text(&repetition, 2);
    (!text.is_empty()).then(|| text.into_owned())
}

/// The message's subcomponent separator (`&` unless MSH-2 says otherwise).
pub fn subcomponent_separator(m: &Mapping<'_>) -> char {
    m.message.delimiters().subcomponent.unwrap_or('&')
}

/// OBX-6 units: (unit text, UCUM code when the units are UCUM or ISO+).
struct Units<'m> {
    unit: Cow<'m, str>,
    ucum_code: Option<Cow<'m, str>>,
}

fn units<'m>(m: &mut Mapping<'_>, obx: &Segment<'m>) -> Option<Units<'m>> {
    let field = m.field(obx, 6);
    let repetition = field.repetitions().next()?;
    let code = component_text(&repetition, 1);
    let text = component_text(&repetition, 2);
    let system = component_text(&repetition, 3);
    let is_ucum = system.eq_ignore_ascii_case("UCUM") || system.eq_ignore_ascii_case("ISO+");
    let unit = if text.is_empty() { code.clone() } else { text };
    if unit.is_empty() {
        return None;
    }
    Some(Units {
        unit,
        ucum_code: (is_ucum && !code.is_empty()).then_some(code),
    })
}

fn quantity(decimal: &str, units: Option<&Units<'_>>) -> Option<Value> {
    quantity_with(None, decimal, units)
}

/// A Quantity (comparator, value, unit, UCUM system and code), written straight to JSON;
/// `None` when `decimal` is not a JSON number.
fn quantity_with(
    comparator: Option<&str>,
    decimal: &str,
    units: Option<&Units<'_>>,
) -> Option<Value> {
    json_number(decimal)?;
    let mut out = Vec::with_capacity(64 + decimal.len());
    out.push(b'{');
    if let Some(comparator) = comparator {
        write_key(&mut out, "comparator");
        write_str(&mut out, comparator);
        out.push(b',');
    }
    write_key(&mut out, "value");
    out.extend_from_slice(decimal.as_bytes());
    if let Some(units) = units {
        out.push(b',');
        write_key(&mut out, "unit");
        write_str(&mut out, &units.unit);
        if let Some(code) = &units.ucum_code {
            out.push(b',');
            write_key(&mut out, "system");
            write_str(&mut out, UCUM);
            out.push(b',');
            write_key(&mut out, "code");
            write_str(&mut out, code);
        }
    }
    out.push(b'}');
    Some(raw_value(out))
}

fn add_value(
    m: &mut Mapping<'_>,
    resource: &mut Obj,
    obx: &Segment<'_>,
    value_type: &str,
    field: &Field<'_>,
    units: Option<&Units<'_>>,
) {
    if field.is_empty() {
        return;
    }
    let location = obx.field_location(5);
    let repetitions: Vec<Repetition<'_>> = field.repetitions().collect();
    let joins_lines = matches!(value_type, "ST" | "TX" | "FT");
    if repetitions.len() > 1 && !joins_lines {
        m.warn(
            ReportCode::Truncated,
            &location,
            format!(
                "OBX-5 has {} repetitions; an R4 Observation holds one value, the first is kept",
                repetitions.len()
            ),
        );
    }
    let Some(first) = repetitions.first() else {
        return;
    };
    match value_type {
        "NM" => {
            let text = first.text();
            match fhir_decimal(&text).and_then(|d| quantity(&d, units)) {
                Some(quantity) => put(resource, "valueQuantity", quantity),
                None => {
                    m.warn(
                        ReportCode::Invalid,
                        &location,
                        format!("NM value {text:?} is not a number: kept as valueString"),
                    );
                    put(resource, "valueString", text.into_owned());
                }
            }
        }
        "SN" => structured_numeric(m, resource, first, &location, units),
        "ST" | "TX" | "FT" => {
            let lines: Vec<String> = repetitions.iter().map(|r| r.text().into_owned()).collect();
            put_str(resource, "valueString", &lines.join("\n"));
        }
        "CE" | "CWE" | "CNE" | "CF" => {
            let separator = subcomponent_separator(m);
            match codeable_concept(first, m.ctx, separator) {
                Some(concept) => put(resource, "valueCodeableConcept", concept),
                None => m.warn(ReportCode::Invalid, &location, "coded value without code or text"),
            }
        }
        "DT" | "TS" | "DTM" => {
            let text = first.text();
            match V2DateTime::parse(&text) {
                Ok(time) => put(resource, "valueDateTime", time.to_date_time(&m.ctx.timezone)),
                Err(error) => m.warn(
                    ReportCode::Invalid,
                    &location,
                    format!("{value_type} value {text:?}: {error}; no value kept"),
                ),
            }
        }
        "TM" => {
            let text = first.text();
            match fhir_time(&text) {
                Some(time) => put(resource, "valueTime", time),
                None => m.warn(
                    ReportCode::Invalid,
                    &location,
                    format!("TM value {text:?} is not HHMM[SS[.S]]; no value kept"),
                ),
            }
        }
        "ID" | "IS" => {
            put_str(resource, "valueString", &first.text());
        }
        "" => {
            m.warn(
                ReportCode::Missing,
                &obx.field_location(2),
                "OBX-2 (value type) is empty: the value is kept as valueString",
            );
            put_str(resource, "valueString", &first.text());
        }
        other => m.warn(
            ReportCode::Unsupported,
            &location,
            format!("value type {other} has no FHIR R4 Observation.value mapping; kept only in the raw message"),
        ),
    }
}

/// SN: comparator^num1^separator^num2 → Quantity (with comparator), Range (`-`), Ratio
/// (`:` or `/`), or a string for the other forms (`2^+` …).
fn structured_numeric(
    m: &mut Mapping<'_>,
    resource: &mut Obj,
    value: &Repetition<'_>,
    location: &Location,
    units: Option<&Units<'_>>,
) {
    let comparator = component_text(value, 1).into_owned();
    let first = component_text(value, 2).into_owned();
    let separator = component_text(value, 3).into_owned();
    let second = component_text(value, 4).into_owned();
    let raw = format!("{comparator}{first}{separator}{second}");
    let fallback = |m: &mut Mapping<'_>, resource: &mut Obj, why: &str| {
        m.warn(
            ReportCode::Invalid,
            location,
            format!("SN value {raw:?}: {why}; kept as valueString"),
        );
        put(resource, "valueString", raw.clone());
    };
    let first_decimal = fhir_decimal(&first).map(|d| d.into_owned());
    match (separator.as_str(), second.is_empty()) {
        ("", true) => {
            let comparator = match comparator.as_str() {
                "" | "=" => None,
                "<" | ">" | "<=" | ">=" => Some(comparator.as_str()),
                _ => return fallback(m, resource, "comparator is not one FHIR has (<, <=, >, >=)"),
            };
            match first_decimal
                .as_deref()
                .and_then(|d| quantity_with(comparator, d, units))
            {
                Some(quantity) => put(resource, "valueQuantity", quantity),
                None => fallback(m, resource, "the number is not valid"),
            }
        }
        ("-", false) => {
            let second_decimal = fhir_decimal(&second);
            match (
                first_decimal.as_deref().and_then(|d| quantity(d, units)),
                second_decimal.as_deref().and_then(|d| quantity(d, units)),
            ) {
                (Some(low), Some(high)) if comparator.is_empty() => {
                    let mut range = obj(2);
                    put(&mut range, "low", low);
                    put(&mut range, "high", high);
                    put(resource, "valueRange", Value::Object(range));
                }
                _ => fallback(m, resource, "not a valid range"),
            }
        }
        (":" | "/", false) => {
            let second_decimal = fhir_decimal(&second);
            match (
                first_decimal.as_deref().and_then(|d| quantity(d, None)),
                second_decimal.as_deref().and_then(|d| quantity(d, None)),
            ) {
                (Some(numerator), Some(denominator)) if comparator.is_empty() => {
                    let mut ratio = obj(2);
                    put(&mut ratio, "numerator", numerator);
                    put(&mut ratio, "denominator", denominator);
                    put(resource, "valueRatio", Value::Object(ratio));
                }
                _ => fallback(m, resource, "not a valid ratio"),
            }
        }
        _ => {
            // Categorical forms such as "2^+" (2+) read naturally as text.
            put(resource, "valueString", raw);
        }
    }
}

/// OBX-7 as a referenceRange: `low-high`, `low to high`, `<high`, `<=high`, `>low`, `>=low`;
/// anything else is kept as the range's text.
fn reference_range(text: &str, units: Option<&Units<'_>>) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let bound = |part: &str| fhir_decimal(part.trim()).and_then(|d| quantity(&d, units));
    let (low, high) = if let Some(rest) = text.strip_prefix("<=").or_else(|| text.strip_prefix('<'))
    {
        (None, bound(rest))
    } else if let Some(rest) = text.strip_prefix(">=").or_else(|| text.strip_prefix('>')) {
        (bound(rest), None)
    } else {
        // "low to high", else "low-high" split at the first '-' that is not a leading sign.
        let split = text.split_once(" to ").or_else(|| {
            let at = text.get(1..)?.find('-')? + 1;
            Some((&text[..at], &text[at + 1..]))
        });
        match split.map(|(low, high)| (bound(low), bound(high))) {
            Some((Some(low), Some(high))) => (Some(low), Some(high)),
            _ => (None, None),
        }
    };
    let mut range = obj(2);
    if low.is_none() && high.is_none() {
        put(&mut range, "text", text);
    }
    if let Some(low) = low {
        put(&mut range, "low", low);
    }
    if let Some(high) = high {
        put(&mut range, "high", high);
    }
    Some(Value::Object(range))
}

/// A v2 TM (`HH[MM[SS[.S…]]][±ZZZZ]`) as a FHIR time (`HH:MM:SS`); the offset is dropped
/// because FHIR time has none.
fn fhir_time(text: &str) -> Option<String> {
    let text = text.trim();
    let body = text.split(['+', '-']).next().unwrap_or("");
    let (digits, fraction) = match body.split_once('.') {
        Some((digits, fraction)) => (digits, Some(fraction)),
        None => (body, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6].contains(&digits.len()) {
        return None;
    }
    let part = |range: std::ops::Range<usize>| digits.get(range).unwrap_or("00");
    let (hours, minutes, seconds) = (part(0..2), part(2..4), part(4..6));
    let number = |t: &str| t.parse::<u32>().unwrap_or(99);
    if number(hours) > 23 || number(minutes) > 59 || number(seconds) > 59 {
        return None;
    }
    let mut time = format!("{hours}:{minutes}:{seconds}");
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) || digits.len() != 6
        {
            return None;
        }
        time.push('.');
        time.push_str(fraction);
    }
    Some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_categories_match_the_built_ones() {
        for category in ["laboratory", "imaging"] {
            let built = static_codings_concept(&[
                (OBSERVATION_CATEGORY, category, None),
                (JP_OBSERVATION_CATEGORY, category, None),
            ]);
            let written = |value: &Value| {
                let mut out = Vec::new();
                crate::hl7v2::json_write::write_value(&mut out, value);
                out
            };
            assert_eq!(written(&category_concept(category)), written(&built));
            assert!(matches!(
                category_concept(category),
                Value::Raw(Cow::Borrowed(_))
            ));
        }
    }

    fn units<'a>(unit: &'a str, ucum: Option<&'a str>) -> Units<'a> {
        Units {
            unit: unit.into(),
            ucum_code: ucum.map(Cow::Borrowed),
        }
    }

    #[test]
    fn reference_ranges_in_the_usual_spellings() {
        let g_dl = units("g/dl", None);
        let range = reference_range("6.70-8.3", Some(&g_dl)).unwrap().to_serde();
        assert_eq!(
            serde_json::to_string(&range["low"]["value"]).unwrap(),
            "6.70"
        );
        assert_eq!(range["high"]["value"].to_string(), "8.3");
        assert_eq!(range["low"]["unit"], "g/dl");
        let below = reference_range("<10", None).unwrap().to_serde();
        assert!(below.get("low").is_none());
        assert_eq!(below["high"]["value"].to_string(), "10");
        let above = reference_range(">=60", None).unwrap().to_serde();
        assert_eq!(above["low"]["value"].to_string(), "60");
        let spelled = reference_range("4.3 to 6.2", None).unwrap().to_serde();
        assert_eq!(spelled["low"]["value"].to_string(), "4.3");
        assert_eq!(spelled["high"]["value"].to_string(), "6.2");
        let half = reference_range("abc-5", None).unwrap().to_serde();
        assert_eq!(half["text"], "abc-5");
        assert!(half.get("high").is_none());
        let negative = reference_range("-5-5", None).unwrap().to_serde();
        assert_eq!(negative["low"]["value"].to_string(), "-5");
        assert_eq!(negative["high"]["value"].to_string(), "5");
        let words = reference_range("negative", None).unwrap().to_serde();
        assert_eq!(words["text"], "negative");
        assert!(reference_range("  ", None).is_none());
    }

    #[test]
    fn ucum_units_carry_a_code() {
        let kg = units("kg", Some("kg"));
        let weight = quantity("62", Some(&kg)).unwrap().to_serde();
        assert_eq!(weight["system"], UCUM);
        assert_eq!(weight["code"], "kg");
        let local = units("bpm", None);
        let rate = quantity("67", Some(&local)).unwrap().to_serde();
        assert!(rate.get("system").is_none());
        assert_eq!(rate["unit"], "bpm");
    }

    #[test]
    fn times() {
        assert_eq!(fhir_time("1430").as_deref(), Some("14:30:00"));
        assert_eq!(fhir_time("143015.25+0900").as_deref(), Some("14:30:15.25"));
        assert_eq!(fhir_time("2460"), None);
        assert_eq!(fhir_time("1430.5"), None);
    }
}
