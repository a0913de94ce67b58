//! FHIR R4 REST semantics with no HTTP in them: what create, update, patch, delete, read and
//! Bundles do to the store (https://hl7.org/fhir/R4/http.html). The HTTP layer parses requests
//! into [`entry::EntryRequest`]s; Bundles become lists of them; [`engine::execute`] runs one
//! inside a store transaction.

pub mod bundle;
pub mod capability;
pub mod criteria;
pub mod engine;
pub mod entry;
pub mod ids;
pub mod references;
