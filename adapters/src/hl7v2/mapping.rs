//! The state of one message's conversion: the source, the report, which fields have been
//! used, and the resources produced so far. Mapping code reads fields through [`Mapping`] so
//! that every field it looks at is marked used; whatever is left unmarked at the end is listed
//! in the report as not mapped ("nothing is silently dropped").

use super::bundle::{BundleBuilder, ResourceRef};
use super::er7::{Field, Location, Message, Segment};
use super::report_location::report_location;
use crate::context::SourceContext;
use crate::identity::resource_id;
use crate::report::{Report, ReportCode, Severity};
use std::borrow::Cow;

/// Fields above this number cannot be marked used and are always reported when present.
const TRACKED_FIELDS: usize = 128;

/// One conversion in progress.
pub struct Mapping<'m> {
    /// The sending institution.
    pub ctx: &'m SourceContext,
    /// The parsed message.
    pub message: &'m Message,
    /// Findings so far.
    pub report: Report,
    /// Resources so far.
    pub bundle: BundleBuilder,
    /// The Patient every resource is about, once PID is mapped.
    pub patient: Option<ResourceRef>,
    /// The Encounter from PV1, when it has a key.
    pub encounter: Option<ResourceRef>,
    /// The sending Organization (MSH-4).
    pub organization: Option<ResourceRef>,
    /// The id of the Binary holding the raw message, once it is added.
    pub source_binary_id: Option<String>,
    /// Bit `f` of entry `i` set: field `f` of segment `i` was used. `u128::MAX`: the whole
    /// segment was handled.
    used: Vec<u128>,
    /// Why a segment was deliberately left out, for its "not mapped" report entry (by
    /// segment index, like `used`).
    reasons: Vec<Option<&'static str>>,
}

impl<'m> Mapping<'m> {
    /// Starts the conversion of `message`.
    pub fn new(message: &'m Message, ctx: &'m SourceContext) -> Self {
        Mapping {
            ctx,
            message,
            report: Report::new(),
            bundle: BundleBuilder::default(),
            patient: None,
            encounter: None,
            organization: None,
            source_binary_id: None,
            used: vec![0; message.segment_count() + 1],
            reasons: vec![None; message.segment_count() + 1],
        }
    }

    /// The deterministic id of a `resource_type` with this business key.
    pub fn id(&self, resource_type: &str, key: &str) -> String {
        resource_id(&self.ctx.institution, resource_type, key)
    }

    /// Field `n` of `segment`, marked used.
    pub fn field<'s>(&mut self, segment: &Segment<'s>, n: usize) -> Field<'s> {
        self.mark(segment, n);
        segment.field(n)
    }

    /// The text of field `n` (first component, unescaped), marked used.
    pub fn text<'s>(&mut self, segment: &Segment<'s>, n: usize) -> Cow<'s, str> {
        self.mark(segment, n);
        segment.field(n).text()
    }

    /// Marks field `n` used without reading it (set ids, delimiters, keys read elsewhere).
    pub fn mark(&mut self, segment: &Segment<'_>, n: usize) {
        if n < TRACKED_FIELDS {
            if let Some(bits) = self.used.get_mut(segment.index()) {
                *bits |= 1u128 << n;
            }
        }
    }

    /// Marks the whole segment handled (it repeats one already mapped, or it is consumed as a
    /// unit), so none of its fields is reported.
    pub fn consume(&mut self, segment: &Segment<'_>) {
        if let Some(bits) = self.used.get_mut(segment.index()) {
            *bits = u128::MAX;
        }
    }

    /// Records why `segment` is deliberately not mapped (used in its report entry).
    pub fn skip(&mut self, segment: &Segment<'_>, reason: &'static str) {
        if let Some(slot) = self.reasons.get_mut(segment.index()) {
            *slot = Some(reason);
        }
    }

    /// A report entry at `location`.
    pub fn note(
        &mut self,
        severity: Severity,
        code: ReportCode,
        location: &Location,
        message: impl Into<String>,
    ) {
        self.report
            .push(severity, code, report_location(location), message);
    }

    /// A warning at `location`.
    pub fn warn(&mut self, code: ReportCode, location: &Location, message: impl Into<String>) {
        self.note(Severity::Warning, code, location, message);
    }

    /// An information entry at `location`.
    pub fn inform(&mut self, code: ReportCode, location: &Location, message: impl Into<String>) {
        self.note(Severity::Information, code, location, message);
    }

    /// Lists every segment and field that no mapping used (information, `Unmapped`).
    pub fn report_unmapped(&mut self) {
        let message = self.message;
        for segment in message.segments() {
            let index = segment.index();
            let bits = self.used.get(index).copied().unwrap_or(0);
            if bits == u128::MAX {
                continue;
            }
            let id = segment.id();
            if bits == 0 {
                let reason = self.reasons.get(index).copied().flatten();
                let mut text = String::with_capacity(
                    id.len() + 21 + reason.map_or(0, |reason| reason.len() + 2),
                );
                text.push_str(id);
                text.push_str(" segment not mapped");
                if let Some(reason) = reason {
                    text.push_str(": ");
                    text.push_str(reason);
                }
                self.report.push(
                    Severity::Information,
                    ReportCode::Unmapped,
                    segment_report_location(id, index, None),
                    text,
                );
                continue;
            }
            // MSH-1 and MSH-2 are the delimiters themselves.
            let first = if id == "MSH" { 3 } else { 1 };
            for n in first..=segment.field_count() {
                let used = n < TRACKED_FIELDS && bits & (1u128 << n) != 0;
                if !used && !segment.field(n).is_empty() {
                    // `SEG-n not mapped`, as `format!` would write it.
                    let mut text = String::with_capacity(id.len() + 16);
                    text.push_str(id);
                    text.push('-');
                    push_number(&mut text, n);
                    text.push_str(" not mapped");
                    self.report.push(
                        Severity::Information,
                        ReportCode::Unmapped,
                        segment_report_location(id, index, Some(n)),
                        text,
                    );
                }
            }
        }
    }
}

/// `SEG[i]` or `SEG[i]-f` in report notation (what [`report_location`] writes for a segment's
/// or a field's location), without building a [`Location`].
fn segment_report_location(id: &str, index: usize, field: Option<usize>) -> String {
    let mut text = String::with_capacity(id.len() + 12);
    text.push_str(id);
    text.push('[');
    push_number(&mut text, index);
    text.push(']');
    if let Some(field) = field {
        text.push('-');
        push_number(&mut text, field);
    }
    text
}

/// Appends the decimal digits of `n`.
fn push_number(text: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        if let Some(slot) = digits.get_mut(at) {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || at == 0 {
            break;
        }
    }
    for &digit in digits.get(at..).unwrap_or_default() {
        text.push(char::from(digit));
    }
}

/// The location of component `component` (1-based) of repetition `repetition` of field `n`.
pub fn component_location(
    segment: &Segment<'_>,
    n: usize,
    repetition: usize,
    component: usize,
) -> Location {
    Location {
        repetition: Some(repetition),
        component: Some(component),
        ..segment.field_location(n)
    }
}

/// The location of repetition `repetition` (1-based) of field `n`.
pub fn repetition_location(segment: &Segment<'_>, n: usize, repetition: usize) -> Location {
    Location {
        repetition: Some(repetition),
        ..segment.field_location(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_locations_match_report_notation() {
        for (index, field) in [(1, None), (9, Some(3)), (10, Some(10)), (123, Some(250))] {
            let location = Location::segment(index, "OBX");
            let location = match field {
                Some(n) => location.with_field(n),
                None => location,
            };
            assert_eq!(
                segment_report_location("OBX", index, field),
                report_location(&location)
            );
        }
        let mut text = String::new();
        push_number(&mut text, 0);
        push_number(&mut text, usize::MAX);
        assert_eq!(text, format!("0{}", usize::MAX));
    }
}
