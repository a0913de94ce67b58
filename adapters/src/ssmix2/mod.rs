//! SS-MIX2 standard storage → FHIR R4. A hospital's storage is a tree
//! `ID[0:3]/ID[3:6]/<patientId>/<careDate or ->/<dataType>/<file>` with one HL7 v2 message per
//! file and version. [`source`] walks it (the only IO), [`file_name`] reads the names,
//! [`layout`] checks folders against names, [`plan`] orders the versions of each record oldest
//! first, and [`convert`] runs the HL7 v2 adapter on one file with the SS-MIX2 checks (PID-3 and
//! MSH-9 against the folders) and the deleted-version rule. [`data_type`] lists which data
//! types are converted; [`generate`] makes a made-up tree for tests and benchmarks.
//! Mapping table: `docs/mappings/ssmix2.md`.

pub mod convert;
pub mod data_type;
pub mod file_name;
pub mod generate;
pub mod layout;
pub mod plan;
pub mod source;

pub use convert::{check_unconverted, convert_file, FileConversion};
pub use data_type::{data_type, is_converted, DataType, DATA_TYPES};
pub use file_name::{Condition, FileName, FileNameError};
pub use plan::{plan, Plan, PlanFinding, Step, StoredFile};
pub use source::{read_file, walk, Tree, TreeError, TreeLimits};
