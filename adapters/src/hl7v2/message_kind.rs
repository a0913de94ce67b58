//! Which mapping a message gets, decided by MSH-9 (message type^trigger event). Anything not
//! listed here is refused as unsupported rather than half converted.

/// The message families the HL7 v2 adapter converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Orders (ORM^O01, OMG^O19, OMI^O23/Z23, OML^O21/O33): ServiceRequests.
    Order(OrderFlavor),
    /// Results (ORU^R01, OUL^R22): DiagnosticReports and Observations.
    Result(ResultFlavor),
    /// Patient administration (ADT^A01/A02/A03/A04/A08/A31): Patient and Encounter.
    Adt(AdtEvent),
}

/// What kind of order message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFlavor {
    /// ORM^O01 and OMG^O19: general orders.
    General,
    /// OMI^O23 and the SS-MIX2/JAHIS OMI^Z23: imaging orders with IPC (ImagingStudy).
    Imaging,
    /// OML^O21: lab orders, SPM after its OBR.
    Lab,
    /// OML^O33: lab orders grouped under their specimen, SPM first.
    LabSpecimenFirst,
}

/// What kind of result message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFlavor {
    /// ORU^R01: OBR groups; SPM, when present, follows its OBR.
    Observation,
    /// OUL^R22: lab results grouped under the specimen (SPM first, OBR before ORC).
    SpecimenLab,
}

/// The ADT trigger events that are converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdtEvent {
    /// A01 admit.
    Admit,
    /// A02 transfer.
    Transfer,
    /// A03 discharge.
    Discharge,
    /// A04 register an outpatient.
    Register,
    /// A08 update patient information.
    Update,
    /// A31 update person information.
    UpdatePerson,
}

/// Why a message type is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// The message type (MSH-9.1) is not converted at all (HL7 error 200).
    MessageType,
    /// The type is converted but not this trigger event (HL7 error 201).
    TriggerEvent,
}

impl MessageKind {
    /// The mapping for MSH-9.1 `code` and MSH-9.2 `trigger`.
    pub fn of(code: &str, trigger: &str) -> Result<MessageKind, Unsupported> {
        use MessageKind::*;
        let kind = match (code, trigger) {
            ("ORM", "O01") | ("OMG", "O19") => Order(OrderFlavor::General),
            ("OMI", "O23") | ("OMI", "Z23") => Order(OrderFlavor::Imaging),
            ("OML", "O21") => Order(OrderFlavor::Lab),
            ("OML", "O33") => Order(OrderFlavor::LabSpecimenFirst),
            ("ORU", "R01") => Result(ResultFlavor::Observation),
            ("OUL", "R22") => Result(ResultFlavor::SpecimenLab),
            ("ADT", "A01") => Adt(AdtEvent::Admit),
            ("ADT", "A02") => Adt(AdtEvent::Transfer),
            ("ADT", "A03") => Adt(AdtEvent::Discharge),
            ("ADT", "A04") => Adt(AdtEvent::Register),
            ("ADT", "A08") => Adt(AdtEvent::Update),
            ("ADT", "A31") => Adt(AdtEvent::UpdatePerson),
            ("ORM" | "OMG" | "OMI" | "OML" | "ORU" | "OUL" | "ADT", _) => {
                return Err(Unsupported::TriggerEvent)
            }
            _ => return Err(Unsupported::MessageType),
        };
        Ok(kind)
    }

    /// True when SPM segments come before the orders they belong to (OML^O33, OUL^R22).
    pub fn specimen_first(self) -> bool {
        matches!(
            self,
            MessageKind::Order(OrderFlavor::LabSpecimenFirst)
                | MessageKind::Result(ResultFlavor::SpecimenLab)
        )
    }

    /// True when an ORC follows its OBR (OUL^R22's OBR, ORC order).
    pub fn orc_follows_obr(self) -> bool {
        matches!(self, MessageKind::Result(ResultFlavor::SpecimenLab))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_types_and_refusals() {
        assert_eq!(
            MessageKind::of("OMI", "Z23"),
            Ok(MessageKind::Order(OrderFlavor::Imaging))
        );
        assert_eq!(
            MessageKind::of("ADT", "A31"),
            Ok(MessageKind::Adt(AdtEvent::UpdatePerson))
        );
        assert_eq!(
            MessageKind::of("ADT", "A60"),
            Err(Unsupported::TriggerEvent)
        );
        assert_eq!(MessageKind::of("RDE", "O11"), Err(Unsupported::MessageType));
        assert_eq!(MessageKind::of("ORU", ""), Err(Unsupported::TriggerEvent));
        assert!(MessageKind::of("OUL", "R22").unwrap().specimen_first());
        assert!(MessageKind::of("OUL", "R22").unwrap().orc_follows_obr());
        assert!(!MessageKind::of("OML", "O21").unwrap().specimen_first());
    }
}
