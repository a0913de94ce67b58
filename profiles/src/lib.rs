//! The FHIR R4 model for Tsunagi: the one crate that calls fhirbolt.
//!
//! Everything above this crate sees FHIR resources as [`Resource`] — a JSON object that fhirbolt
//! has accepted in strict mode — and parses or writes them through the small, non-generic
//! functions here. The crate also guards what fhirbolt does not: input size, nesting depth and
//! XML DOCTYPE/ENTITY declarations. It also holds the R4 type model ([`model`]), the FHIRPath engine
//! ([`fhirpath`]) and the search definitions and index extraction ([`search`]); FHIR packages
//! ([`package`]: the built-in R4 core, NPM packages read from a directory, snapshot generation)
//! and profile validation ([`validate`]). It reads files only when asked to load a package, and
//! never panics on input.
#![forbid(unsafe_code)]

mod codec;
mod error;
pub mod fhirpath;
mod json_guard;
mod limits;
pub mod model;
mod narrative;
pub mod package;
mod resource;
mod resource_types;
pub mod search;
pub mod terminology;
pub mod validate;
mod xml_guard;

pub use codec::Format;
pub use error::ModelError;
pub use limits::ParseLimits;
pub use resource::{parse_json_value, parse_xml_value, Resource};
pub use resource_types::{is_resource_type, RESOURCE_TYPES};
