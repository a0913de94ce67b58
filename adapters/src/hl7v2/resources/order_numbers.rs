//! The order numbers of an order group (placer ORC-2/OBR-2, filler ORC-3/OBR-3, placer group
//! ORC-4) and the business keys built from them, shared by orders and results so that both
//! compute the same ServiceRequest id.

use crate::hl7v2::er7::{Location, Segment};
use crate::hl7v2::structure::OrderGroup;

/// The numbers identifying one order.
pub struct OrderNumbers {
    /// Placer order number (ORC-2, else OBR-2), entity identifier only.
    pub placer: String,
    /// Filler order number (ORC-3, else OBR-3).
    pub filler: String,
    /// Placer group number (ORC-4).
    pub group: String,
    /// The service code (OBR-4.1).
    pub code: String,
}

fn first_value(segment: Option<&Segment<'_>>, n: usize) -> String {
    segment
        .map(|segment| {
            segment
                .field(n)
                .component(1)
                .subcomponent_text(1)
                .into_owned()
        })
        .unwrap_or_default()
}

impl OrderNumbers {
    /// Reads the numbers of `group` (without marking fields: the mappings that use them do).
    pub fn of(group: &OrderGroup<'_>) -> OrderNumbers {
        let pick = |orc_field: usize, obr_field: usize| {
            let from_orc = first_value(group.orc.as_ref(), orc_field);
            if from_orc.is_empty() {
                first_value(group.obr.as_ref(), obr_field)
            } else {
                from_orc
            }
        };
        OrderNumbers {
            placer: pick(2, 2),
            filler: pick(3, 3),
            group: first_value(group.orc.as_ref(), 4),
            code: first_value(group.obr.as_ref(), 4),
        }
    }

    /// The ServiceRequest key: the placer number, else `filler:<filler>`, else
    /// `group:<placer group>|<OBR-4 code>`.
    pub fn service_request_key(&self) -> Option<String> {
        if !self.placer.is_empty() {
            Some(self.placer.clone())
        } else if !self.filler.is_empty() {
            Some(format!("filler:{}", self.filler))
        } else if !self.group.is_empty() {
            Some(format!("group:{}|{}", self.group, self.code))
        } else {
            None
        }
    }

    /// The DiagnosticReport key: the filler number, else `placer:<placer>|<OBR-4 code>`.
    pub fn report_key(&self) -> Option<String> {
        if !self.filler.is_empty() {
            Some(self.filler.clone())
        } else if !self.placer.is_empty() {
            Some(format!("placer:{}|{}", self.placer, self.code))
        } else {
            None
        }
    }
}

/// Where a missing order number should have been: ORC-2 when there is an ORC, else OBR-2.
pub fn order_number_location(group: &OrderGroup<'_>) -> Option<Location> {
    group
        .orc
        .as_ref()
        .or(group.obr.as_ref())
        .map(|segment| segment.field_location(2))
}
