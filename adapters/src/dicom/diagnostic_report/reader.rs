//! Reads the values a report mapping needs from one instance's data set, reporting what is
//! present but unusable at `<file> (gggg,eeee)`: text (noting U+FFFD once per instance), person
//! names, codes, and DICOM dates and times as FHIR dateTimes.

use crate::dicom::dataset::DataSet;
use crate::dicom::instance::CodeItem;
use crate::dicom::person_name::PersonName;
use crate::dicom::read::tag_text;
use crate::dicom::values::{code_system, fhir_date, fhir_offset, fhir_time, oid_urn};
use crate::report::{Report, ReportCode};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use serde_json::{json, Map, Value};

/// A FHIR dateTime and whether it is precise to the second (what an `instant` needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// The FHIR dateTime.
    pub value: String,
    /// True when the source gave seconds (and so, with the offset, makes an instant).
    pub has_seconds: bool,
}

/// The reading context of one instance.
pub struct Reader<'r> {
    file: &'r str,
    report: &'r mut Report,
    /// The FHIR offset for times that carry none.
    offset: String,
    /// Coding Scheme Identification Sequence: designator → Coding Scheme UID.
    scheme_uids: Vec<(String, String)>,
    /// Where text first failed to decode, and how many values did.
    undecodable: Option<(String, usize)>,
}

impl<'r> Reader<'r> {
    /// A reader for `set` (the instance's top-level data set) read from `file`; `timezone`
    /// is used when (0008,0201) is absent or unusable.
    pub fn new(file: &'r str, report: &'r mut Report, set: &DataSet, timezone: &str) -> Self {
        let mut reader = Reader {
            file,
            report,
            offset: timezone.to_owned(),
            scheme_uids: Vec::new(),
            undecodable: None,
        };
        if let Some(raw) = reader.value(set, tags::TIMEZONE_OFFSET_FROM_UTC) {
            match fhir_offset(&raw) {
                Some(offset) => reader.offset = offset,
                None => reader.warn(
                    ReportCode::Invalid,
                    tags::TIMEZONE_OFFSET_FROM_UTC,
                    format!("timezone offset {raw:?} is not ±HHMM: {timezone} is used"),
                ),
            }
        }
        for item in set.items(tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE) {
            let designator = item.text(tags::CODING_SCHEME_DESIGNATOR);
            if let (Some(designator), Some(uid)) = (designator, item.uid(tags::CODING_SCHEME_UID)) {
                reader.scheme_uids.push((designator, uid));
            }
        }
        reader
    }

    /// `<file> (gggg,eeee)`.
    pub fn at(&self, tag: Tag) -> String {
        format!("{} {}", self.file, tag_text(tag))
    }

    /// Reports a warning about `tag`.
    pub fn warn(&mut self, code: ReportCode, tag: Tag, message: impl Into<String>) {
        let location = self.at(tag);
        self.report.warning(code, location, message);
    }

    /// Adds the one warning about undecodable text, if any text was.
    pub fn finish(self) {
        if let Some((location, count)) = self.undecodable {
            let message = match count {
                1 => "text could not be decoded exactly: undecodable bytes became U+FFFD".to_owned(),
                _ => format!(
                    "text could not be decoded exactly: undecodable bytes became U+FFFD in {count} values (this is the first)"
                ),
            };
            self.report.warning(ReportCode::Invalid, location, message);
        }
    }

    /// The whole text of an element (ST/LT/UT keep backslashes).
    pub fn text(&mut self, set: &DataSet, tag: Tag) -> Option<String> {
        let text = set.text(tag)?;
        self.check_decoded(&text, tag);
        Some(text)
    }

    /// The first value of a multi-valued element.
    pub fn value(&mut self, set: &DataSet, tag: Tag) -> Option<String> {
        let text = set.first_text(tag)?;
        self.check_decoded(&text, tag);
        Some(text)
    }

    fn check_decoded(&mut self, text: &str, tag: Tag) {
        if !text.contains('\u{FFFD}') {
            return;
        }
        match &mut self.undecodable {
            Some((_, count)) => *count += 1,
            None => self.undecodable = Some((self.at(tag), 1)),
        }
    }

    /// A person name for display ([`PersonName::display`]); the raw text when it has no group.
    pub fn name(&mut self, set: &DataSet, tag: Tag) -> Option<String> {
        let raw = self.text(set, tag)?;
        PersonName::parse(&raw).display().or_else(|| {
            let raw = raw.trim();
            (!raw.is_empty()).then(|| raw.to_owned())
        })
    }

    /// The code of one code sequence item, its meaning checked for decoding.
    pub fn code(&mut self, item: &DataSet) -> Option<CodeItem> {
        let code = CodeItem::of(item)?;
        if let Some(meaning) = &code.meaning {
            self.check_decoded(meaning, tags::CODE_MEANING);
        }
        Some(code)
    }

    /// One code sequence item as a FHIR Coding. The system comes from the designator when FHIR
    /// knows it, else from the Coding Scheme UID (the item's own (0008,010C), else the
    /// Coding Scheme Identification Sequence's) as `urn:oid:`, else it is left out.
    pub fn coding(&mut self, item: &DataSet) -> Option<(CodeItem, Value)> {
        let code = self.code(item)?;
        let mut coding = Map::with_capacity(3);
        let system = code_system(&code.scheme)
            .map(str::to_owned)
            .or_else(|| self.scheme_uid(item, &code.scheme).map(|uid| oid_urn(&uid)));
        if let Some(system) = system {
            coding.insert("system".into(), system.into());
        }
        coding.insert("code".into(), code.value.clone().into());
        if let Some(meaning) = &code.meaning {
            coding.insert("display".into(), meaning.clone().into());
        }
        Some((code, Value::Object(coding)))
    }

    fn scheme_uid(&self, item: &DataSet, designator: &str) -> Option<String> {
        let is_oid =
            |uid: &String| !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        item.uid(tags::CODING_SCHEME_UID)
            .filter(is_oid)
            .or_else(|| {
                self.scheme_uids
                    .iter()
                    .find(|(known, _)| !designator.is_empty() && known == designator)
                    .map(|(_, uid)| uid.clone())
                    .filter(is_oid)
            })
    }

    /// A DA element and its TM companion as a FHIR dateTime (the time gets the instance's
    /// offset). A bad date gives `None`, a bad time the date alone; both are reported.
    pub fn date_time(&mut self, set: &DataSet, date: Tag, time: Tag) -> Option<Moment> {
        let raw_date = self.value(set, date)?;
        let Some(date_value) = fhir_date(&raw_date) else {
            self.warn(
                ReportCode::Invalid,
                date,
                format!("{raw_date:?} is not a DICOM date (YYYYMMDD)"),
            );
            return None;
        };
        let date_only = Moment {
            value: date_value.clone(),
            has_seconds: false,
        };
        let Some(raw_time) = self.value(set, time) else {
            return Some(date_only);
        };
        match fhir_time(&raw_time) {
            Some(time_value) => Some(Moment {
                value: format!("{date_value}T{time_value}{}", self.offset),
                has_seconds: time_has_seconds(&raw_time),
            }),
            None => {
                self.warn(
                    ReportCode::Invalid,
                    time,
                    format!(
                        "{raw_time:?} is not a DICOM time (HHMMSS.FFFFFF): only the date is kept"
                    ),
                );
                Some(date_only)
            }
        }
    }

    /// A DT element as a FHIR dateTime; its own `&ZZXX` offset wins over the instance's.
    /// An unparsable value is reported.
    pub fn dt(&mut self, set: &DataSet, tag: Tag) -> Option<Moment> {
        let raw = self.value(set, tag)?;
        let moment = parse_dt(&raw, &self.offset);
        if moment.is_none() {
            self.warn(
                ReportCode::Invalid,
                tag,
                format!("{raw:?} is not a DICOM date-time (YYYYMMDDHHMMSS.FFFFFF&ZZXX)"),
            );
        }
        moment
    }

    /// A DT value for display: as a FHIR dateTime when it parses, else as written.
    pub fn dt_display(&self, raw: &str) -> String {
        parse_dt(raw, &self.offset).map_or_else(|| raw.to_owned(), |moment| moment.value)
    }
}

/// True when a TM value gives seconds (`HHMMSS`, `HH:MM:SS`, with or without a fraction).
fn time_has_seconds(tm: &str) -> bool {
    let whole = tm.trim().split('.').next().unwrap_or_default();
    whole.chars().filter(|c| *c != ':').count() == 6
}

/// A DICOM DT (`YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]`) as a FHIR dateTime; a time without
/// its own offset gets `default_offset`.
pub fn parse_dt(raw: &str, default_offset: &str) -> Option<Moment> {
    let text = raw.trim();
    if !text.is_ascii() {
        return None;
    }
    let offset_at = text
        .len()
        .checked_sub(5)
        .filter(|at| *at >= 4 && matches!(text.as_bytes().get(*at), Some(b'+' | b'-')));
    let (main, offset) = match offset_at {
        Some(at) => (text.get(..at)?, fhir_offset(text.get(at..)?)?),
        None => (text, default_offset.to_owned()),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let date_only = |value: String| {
        Some(Moment {
            value,
            has_seconds: false,
        })
    };
    match main.len() {
        4 if digits(main) && main != "0000" => date_only(main.to_owned()),
        6 if digits(main) => {
            let month: u32 = main.get(4..)?.parse().ok()?;
            if !(1..=12).contains(&month) || main.starts_with("0000") {
                return None;
            }
            date_only(format!("{}-{}", main.get(..4)?, main.get(4..)?))
        }
        8 => date_only(fhir_date(main)?),
        length if length > 8 => {
            let date = fhir_date(main.get(..8)?)?;
            let time_text = main.get(8..)?;
            if time_text.contains(':') {
                return None;
            }
            let time = fhir_time(time_text)?;
            Some(Moment {
                value: format!("{date}T{time}{offset}"),
                has_seconds: time_has_seconds(time_text),
            })
        }
        _ => None,
    }
}

/// A display-only Reference (`{"display": …}`).
pub fn display_reference(display: &str) -> Value {
    json!({ "display": display })
}
