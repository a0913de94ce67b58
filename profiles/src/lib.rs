//! The FHIR R4 model for Tsunagi: the one crate that calls fhirbolt.
//!
//! Everything above this crate sees FHIR resources as [`Resource`] — a JSON object that fhirbolt
//! has accepted in strict mode — and parses or writes them through the small, non-generic
//! functions here. The crate also guards what fhirbolt does not: input size, nesting depth and
//! XML DOCTYPE/ENTITY declarations. Later it will hold FHIR packages, profile validation and
//! FHIRPath. It does no IO and never panics on input.
#![forbid(unsafe_code)]

mod codec;
mod error;
mod json_guard;
mod limits;
mod narrative;
mod resource;
mod resource_types;
mod xml_guard;

pub use codec::Format;
pub use error::ModelError;
pub use limits::ParseLimits;
pub use resource::{parse_json_value, Resource};
pub use resource_types::{is_resource_type, RESOURCE_TYPES};
