//! FHIR packages: the conformance resources (StructureDefinition, ValueSet, CodeSystem,
//! SearchParameter, ConceptMap) the validator reads, from the built-in R4 core, Tsunagi's own
//! JP Core subset, NPM packages (`.tgz` or folders) and single resources, indexed by canonical
//! URL and version.

mod builtin;
mod npm;
mod registry;
pub mod snapshot;

pub use npm::PackageManifest;
pub use registry::{PackageError, Registry};
