//! The conformance runner: executes FHIR R4 TestScripts against any FHIR server's base URL and
//! writes JUnit XML and Markdown reports. The engine and its suites arrive with the conformance
//! issue; this crate is the place they will live.
#![forbid(unsafe_code)]
