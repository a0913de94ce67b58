//! Legacy-format → FHIR R4 converters, one module per source format (HL7 v2, DICOM, SS-MIX2,
//! CSV). Each adapter is a pure function from bytes plus a source context to a transaction
//! Bundle and a conversion report. The modules arrive with the adapter issues; this crate is the
//! place they will live.
#![forbid(unsafe_code)]
