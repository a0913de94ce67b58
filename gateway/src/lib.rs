//! The Tsunagi gateway: configuration, the FHIR REST API (actix-web), the resource store and
//! its backends, and the `tsunagi` command line.
//!
//! Layers, top to bottom: [`http`] turns requests into FHIR interactions and back; [`fhir`]
//! holds the REST semantics (versions, conditional operations, Bundles) with no HTTP in it;
//! [`store`] keeps every version of every resource. Only this crate knows HTTP, SQL and sockets.
#![forbid(unsafe_code)]

pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod convert;
pub mod error;
pub mod fhir;
pub mod health_cli;
pub mod http;
pub mod ingest;
pub mod ingest_cli;
pub mod links;
pub mod match_service;
pub mod matching;
pub mod metrics;
pub mod mllp;
pub mod outcome;
pub mod referral;
pub mod referral_cli;
pub mod search;
pub mod service;
pub mod store;
pub mod validate_cli;
pub mod validation;

pub use config::Config;
pub use error::GatewayError;
pub use service::Gateway;
