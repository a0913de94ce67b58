//! Where something sits in a message: segment, field, repetition, component, subcomponent.

use std::fmt;

use super::framing::is_blank_line;
use super::Delimiters;

/// A position inside a message, used by every parse error and by conversion issues.
///
/// Numbers are 1-based and follow HL7 field numbering (MSH-1 is the field separator).
/// `None` means "the whole enclosing part".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based position of the segment in the message (MSH is 1).
    pub segment_index: usize,
    /// The segment id (`PID`), or the text found where one was expected.
    pub segment_id: String,
    /// HL7 field number; `None` for the whole segment.
    pub field: Option<usize>,
    /// 1-based repetition of the field.
    pub repetition: Option<usize>,
    /// 1-based component.
    pub component: Option<usize>,
    /// 1-based subcomponent.
    pub subcomponent: Option<usize>,
}

impl Location {
    /// The location of a whole segment.
    pub fn segment(segment_index: usize, segment_id: impl Into<String>) -> Location {
        Location {
            segment_index,
            segment_id: segment_id.into(),
            field: None,
            repetition: None,
            component: None,
            subcomponent: None,
        }
    }

    /// The same location narrowed to field `n`.
    pub fn with_field(mut self, n: usize) -> Location {
        self.field = Some(n);
        self
    }

    /// The location of the character right after `prefix` (text decoded before a problem).
    pub(crate) fn at_end_of(prefix: &str, d: &Delimiters) -> Location {
        let mut segment_index = 0;
        let mut current = "";
        for line in prefix.split(['\r', '\n']) {
            current = line;
            if !is_blank_line(line.as_bytes()) {
                segment_index += 1;
            }
        }
        if is_blank_line(current.as_bytes()) {
            // The problem starts a new segment.
            return Location::segment(segment_index + 1, "");
        }
        let id: String = current.chars().take(3).collect();
        let mut fields = current.split(d.field);
        let field_count = fields.clone().count();
        let is_msh = id == "MSH";
        // Field 0 is the id; in MSH the separator itself is field 1.
        let field = if is_msh { field_count } else { field_count - 1 };
        let mut location = Location::segment(segment_index, id);
        if field == 0 || (is_msh && field <= 2) {
            if field > 0 {
                location.field = Some(field);
            }
            return location;
        }
        let field_text = fields.nth(field_count - 1).unwrap_or_default();
        let mut repetitions = field_text.split(d.repetition);
        let repetition = repetitions.clone().count();
        let rep_text = repetitions.next_back().unwrap_or_default();
        let mut components = rep_text.split(d.component);
        let component = components.clone().count();
        let comp_text = components.next_back().unwrap_or_default();
        let subcomponent = match d.subcomponent {
            Some(sub) => comp_text.split(sub).count(),
            None => 1,
        };
        location.field = Some(field);
        location.repetition = Some(repetition);
        location.component = Some(component);
        location.subcomponent = Some(subcomponent);
        location
    }

    /// The ERR-2 (ERL data type) text: `SegID^Sequence^Field^FieldRep^Component^Subcomponent`,
    /// joined with the message's component separator, trailing empty parts left out.
    ///
    /// Sequence is [`segment_index`](Self::segment_index), the segment's position in the
    /// message. HL7 defines ERL-2 as the occurrence of that segment id (the second OBX is 2);
    /// [`Message::erl`](super::Message::erl) writes that form and is what ACKs use.
    pub fn erl(&self, d: &Delimiters) -> String {
        self.erl_with_sequence(self.segment_index, d)
    }

    /// ERL text with an explicit ERL-2 sequence number.
    pub(crate) fn erl_with_sequence(&self, sequence: usize, d: &Delimiters) -> String {
        let mut parts: Vec<String> = vec![
            super::escape(&self.segment_id, d).into_owned(),
            sequence.to_string(),
        ];
        let tail = [
            self.field,
            self.field.and(self.repetition),
            self.field.and(self.component),
            self.field.and(self.component).and(self.subcomponent),
        ];
        for number in tail {
            parts.push(number.map(|n| n.to_string()).unwrap_or_default());
        }
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        let mut text = String::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push(d.component);
            }
            text.push_str(part);
        }
        text
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = if self.segment_id.is_empty() {
            "segment"
        } else {
            self.segment_id.as_str()
        };
        write!(f, "{id} (segment {})", self.segment_index)?;
        if let Some(field) = self.field {
            write!(f, " field {field}")?;
            if let Some(repetition) = self.repetition {
                write!(f, " repetition {repetition}")?;
            }
            if let Some(component) = self.component {
                write!(f, " component {component}")?;
                if let Some(subcomponent) = self.subcomponent {
                    write!(f, " subcomponent {subcomponent}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid_5_1_2() -> Location {
        Location {
            segment_index: 3,
            segment_id: "PID".into(),
            field: Some(5),
            repetition: Some(1),
            component: Some(2),
            subcomponent: None,
        }
    }

    #[test]
    fn display_names_every_level_present() {
        assert_eq!(
            pid_5_1_2().to_string(),
            "PID (segment 3) field 5 repetition 1 component 2"
        );
        assert_eq!(Location::segment(1, "MSH").to_string(), "MSH (segment 1)");
    }

    #[test]
    fn at_end_of_counts_segments_fields_and_parts() {
        let d = Delimiters::default();
        let at = Location::at_end_of("MSH|^~\\&|A\rPID|1||12^^^H&1.2", &d);
        assert_eq!(
            (at.segment_index, at.segment_id.as_str(), at.field),
            (2, "PID", Some(3))
        );
        assert_eq!(
            (at.repetition, at.component, at.subcomponent),
            (Some(1), Some(4), Some(2))
        );
        // MSH counts its separator as field 1.
        let at = Location::at_end_of("MSH|^~\\&|APP|FA", &d);
        assert_eq!((at.segment_index, at.field), (1, Some(4)));
        let at = Location::at_end_of("MSH|^~", &d);
        assert_eq!((at.field, at.component), (Some(2), None));
        // Right after a terminator (blank lines not counted): the next segment.
        let at = Location::at_end_of("MSH|^~\\&\n\n", &d);
        assert_eq!((at.segment_index, at.segment_id.as_str()), (2, ""));
        // Inside the segment id.
        let at = Location::at_end_of("MSH|^~\\&\rPI", &d);
        assert_eq!((at.segment_index, at.field), (2, None));
    }

    #[test]
    fn erl_uses_component_separator_and_drops_trailing_empties() {
        let d = Delimiters::default();
        assert_eq!(pid_5_1_2().erl(&d), "PID^3^5^1^2");
        assert_eq!(Location::segment(2, "EVN").erl(&d), "EVN^2");
        let field_only = Location::segment(4, "OBX").with_field(5);
        assert_eq!(field_only.erl(&d), "OBX^4^5");
        let other = Delimiters {
            component: '$',
            ..Delimiters::default()
        };
        assert_eq!(pid_5_1_2().erl(&other), "PID$3$5$1$2");
    }
}
