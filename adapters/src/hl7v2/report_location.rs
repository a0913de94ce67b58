//! The report's notation for a place in an HL7 v2 message: `SEG[i]-f(r).c.s`, with `i` the
//! segment's 1-based position in the message and the repetition shown only when it is not the
//! first (see [`ReportEntry::location`](crate::report::ReportEntry::location)).

use super::er7::Location;
use std::fmt::Write;

/// `Location` in report notation, e.g. `OBX[5]-5.2` or `PID[2]-3(2).1`.
pub fn report_location(location: &Location) -> String {
    let mut text = String::with_capacity(location.segment_id.len() + 16);
    let _ = write!(text, "{}[{}]", location.segment_id, location.segment_index);
    if let Some(field) = location.field {
        let _ = write!(text, "-{field}");
        if let Some(repetition) = location.repetition.filter(|r| *r > 1) {
            let _ = write!(text, "({repetition})");
        }
        if let Some(component) = location.component {
            let _ = write!(text, ".{component}");
            if let Some(subcomponent) = location.subcomponent {
                let _ = write!(text, ".{subcomponent}");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_in_report_notation() {
        let obx = Location::segment(5, "OBX").with_field(5);
        assert_eq!(report_location(&obx), "OBX[5]-5");
        let component = Location {
            component: Some(2),
            ..obx.clone()
        };
        assert_eq!(report_location(&component), "OBX[5]-5.2");
        let deep = Location {
            segment_index: 2,
            segment_id: "PID".into(),
            field: Some(3),
            repetition: Some(2),
            component: Some(1),
            subcomponent: Some(2),
        };
        assert_eq!(report_location(&deep), "PID[2]-3(2).1.2");
        let first_repetition = Location {
            repetition: Some(1),
            ..component
        };
        assert_eq!(report_location(&first_repetition), "OBX[5]-5.2");
        assert_eq!(report_location(&Location::segment(12, "ZE1")), "ZE1[12]");
    }
}
