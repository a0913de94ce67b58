//! Legacy-format → FHIR R4 converters, one module per source format. Each adapter is a pure
//! function from bytes plus a [`SourceContext`] to a transaction Bundle and a conversion report:
//! no IO, no clock, no panics on input; the same input gives byte-identical output.
#![forbid(unsafe_code)]

pub mod adapter;
pub mod context;
pub mod dicom;
pub mod hl7v2;
pub mod identity;
pub mod report;
pub mod ssmix2;

pub use adapter::{Adapter, REGISTRY};
pub use context::SourceContext;
pub use report::{Conversion, Report};
