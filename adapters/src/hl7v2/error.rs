//! Why a message could not be converted at all. Problems with single fields are report
//! entries instead (see [`crate::report`]); these errors mean no Bundle was produced.

use super::er7::{Location, ParseError};

/// A message that could not be converted, with where in it the problem is.
#[derive(Debug, thiserror::Error)]
pub enum Hl7Error {
    /// The bytes are not a readable HL7 v2 message.
    #[error("cannot parse the message: {0}")]
    Parse(#[from] ParseError),
    /// MSH-9 names a message type or trigger event this adapter does not convert.
    #[error("{location}: message type {message_type} is not supported (converted: ORM^O01, OMG^O19, OMI^O23, OMI^Z23, OML^O21, OML^O33, ORU^R01, OUL^R22, ADT^A01/A02/A03/A04/A08/A31)")]
    UnsupportedMessageType {
        /// MSH-9 as found (`RDE^O11`).
        message_type: String,
        /// MSH-9.
        location: Location,
        /// True when only the trigger event is unknown (HL7 error 201 instead of 200).
        trigger_only: bool,
    },
    /// A value the mapping cannot do without is missing or unusable (e.g. PID-3, the
    /// patient's business key).
    #[error("{location}: {reason}")]
    Mapping {
        /// Where the value should be.
        location: Location,
        /// What is missing and why it matters.
        reason: String,
    },
}

impl Hl7Error {
    /// Where in the message the problem is, when it is inside the message.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Hl7Error::Parse(error) => error.location(),
            Hl7Error::UnsupportedMessageType { location, .. }
            | Hl7Error::Mapping { location, .. } => Some(location),
        }
    }

    /// The HL7 table 0357 code an ACK's ERR-3 should carry: the parser's code for parse
    /// errors, `200` unsupported message type, `201` unsupported event code, `101` required
    /// field missing.
    pub fn hl7_error_code(&self) -> &'static str {
        match self {
            Hl7Error::Parse(error) => error.hl7_error_code(),
            Hl7Error::UnsupportedMessageType {
                trigger_only: true, ..
            } => "201",
            Hl7Error::UnsupportedMessageType { .. } => "200",
            Hl7Error::Mapping { .. } => "101",
        }
    }
}
