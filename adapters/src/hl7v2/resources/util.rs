//! Small readers shared by the resource mappings: a field as a FHIR dateTime or instant, with
//! bad values reported at their location.

use crate::hl7v2::datatypes::dtm::V2DateTime;
use crate::hl7v2::er7::Segment;
use crate::hl7v2::mapping::Mapping;
use crate::report::ReportCode;

/// `text` (taken from field `n` of `segment`) as a FHIR dateTime; a bad value is reported.
pub fn parse_date_time(
    m: &mut Mapping<'_>,
    segment: &Segment<'_>,
    n: usize,
    text: &str,
) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    match V2DateTime::parse(text) {
        Ok(time) => Some(time.to_date_time(&m.ctx.timezone)),
        Err(error) => {
            m.warn(
                ReportCode::Invalid,
                &segment.field_location(n),
                format!("{}-{n} {text:?}: {error}", segment.id()),
            );
            None
        }
    }
}

/// Field `n` of `segment` (its first component) as a FHIR dateTime, marked used.
pub fn date_time_of(m: &mut Mapping<'_>, segment: &Segment<'_>, n: usize) -> Option<String> {
    let text = m.text(segment, n).into_owned();
    parse_date_time(m, segment, n, &text)
}

/// Field `n` of `segment` as a FHIR instant (needs minute precision; reported otherwise).
pub fn instant_of(m: &mut Mapping<'_>, segment: &Segment<'_>, n: usize) -> Option<String> {
    let text = m.text(segment, n).into_owned();
    if text.is_empty() {
        return None;
    }
    match V2DateTime::parse(&text) {
        Ok(time) => {
            let instant = time.to_instant(&m.ctx.timezone);
            if instant.is_none() {
                m.warn(
                    ReportCode::Truncated,
                    &segment.field_location(n),
                    format!("{}-{n} {text:?} has no time of day; a FHIR instant needs one, so it is left out", segment.id()),
                );
            }
            instant
        }
        Err(error) => {
            m.warn(
                ReportCode::Invalid,
                &segment.field_location(n),
                format!("{}-{n} {text:?}: {error}", segment.id()),
            );
            None
        }
    }
}
