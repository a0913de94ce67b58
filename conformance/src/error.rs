//! `ConformanceError`: why a TestScript could not be loaded or an action could not run.

use std::path::PathBuf;

/// An error of the runner itself (not a failed assert: those are results, see `outcome`).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file is not JSON (or XML) the runner can read.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A TestScript breaks a rule the engine needs (missing element, unknown code).
    #[error("TestScript {location}: {message}")]
    Script {
        /// Where in the TestScript (`setup.action[2].operation`).
        location: String,
        /// Why.
        message: String,
    },
    /// A fixture could not be found or loaded.
    #[error("fixture {id}: {message}")]
    Fixture {
        /// The fixture id.
        id: String,
        /// Why.
        message: String,
    },
    /// A `${name}` variable has no value.
    #[error("variable {name}: {message}")]
    Variable {
        /// The variable name.
        name: String,
        /// Why.
        message: String,
    },
    /// The request could not be built or sent, or the answer not read.
    #[error("HTTP: {0}")]
    Http(String),
}

impl ConformanceError {
    /// A `Script` error at `location`.
    pub fn script(location: impl Into<String>, message: impl Into<String>) -> Self {
        ConformanceError::Script {
            location: location.into(),
            message: message.into(),
        }
    }
}
