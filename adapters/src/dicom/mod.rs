//! DICOM → FHIR: a Part 10 file, a folder, a DICOMDIR (CD/DVD/USB layout) or a zip of them
//! becomes ImagingStudy, Patient, Endpoint and, from Structured Reports and encapsulated PDFs
//! on the media, DiagnosticReport. Headers only: reading stops before Pixel Data.
//!
//! The layers, each its own module: [`source`] finds files (the only IO), [`read`] reads one
//! header into a [`dataset::DataSet`] (raw values; [`charset`] and [`person_name`] decode
//! text), [`instance`] keeps the few attributes a study needs, [`collect`] groups them,
//! [`mapping`] and [`diagnostic_report`] write FHIR, [`convert`] ties them together.

pub mod charset;
pub mod collect;
pub mod convert;
pub mod dataset;
pub mod diagnostic_report;
pub mod instance;
pub mod mapping;
pub mod person_name;
pub mod read;
pub mod source;
pub mod values;

pub use convert::{convert_bytes, convert_path, DicomConversion, DicomOptions, Progress, Summary};
pub use source::ScanError;
