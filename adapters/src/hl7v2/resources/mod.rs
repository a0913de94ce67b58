//! One module per FHIR resource the HL7 v2 adapter produces, plus the helpers they share.

pub mod attachment;
pub mod diagnostic_report;
pub mod encounter;
pub mod imaging_study;
pub mod observation;
pub mod order_numbers;
pub mod organization;
pub mod patient;
pub mod practitioner;
pub mod service_request;
pub mod source_record;
pub mod specimen;
pub mod util;
