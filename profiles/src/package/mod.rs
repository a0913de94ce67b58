//! FHIR packages: profile definitions and what is derived from them (snapshots).
pub mod snapshot;
