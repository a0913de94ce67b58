//! The conformance runner: executes FHIR R4 TestScripts against any FHIR server's base URL over
//! plain HTTP and writes JUnit XML and Markdown reports. FHIRPath asserts and
//! `validateProfileId` use `tsunagi_profiles`; nothing here knows the gateway.
//!
//! Flow: `script` (the TestScript model) → `engine` (phases, fixtures, state) → `operations`
//! (request building) → `http` (sending) → `asserts` (checks) → `outcome` → `report`.
#![forbid(unsafe_code)]

pub mod asserts;
pub mod cli;
pub mod engine;
pub mod error;
pub mod fhirpath;
pub mod fixtures;
pub mod http;
pub mod operations;
pub mod outcome;
pub mod report;
pub mod script;
pub mod state;
pub mod variables;

pub use engine::{collect_scripts, Engine, EngineOptions};
pub use error::ConformanceError;
pub use outcome::{RunReport, ScriptResult, Status};
