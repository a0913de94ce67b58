//! Errors from parsing and writing FHIR resources.

/// Why a FHIR document was refused or could not be written. Each variant says where, when known.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The document is larger than [`crate::ParseLimits::max_bytes`].
    #[error("document is {actual} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Configured limit in bytes.
        limit: usize,
        /// Size of the refused document.
        actual: usize,
    },
    /// Objects/arrays (JSON) or elements (XML) nest deeper than allowed.
    #[error("nesting deeper than {limit} levels at {location}")]
    TooDeep {
        /// Configured depth limit.
        limit: usize,
        /// Where the limit was crossed (line and column).
        location: String,
    },
    /// XML carried a DOCTYPE or ENTITY declaration (refused: XXE and entity expansion).
    #[error("XML DOCTYPE/ENTITY declarations are not accepted (at {location})")]
    XmlDoctype {
        /// Where the declaration starts.
        location: String,
    },
    /// XML declared a namespace FHIR XML does not use (only FHIR, XHTML for narratives and
    /// XML Schema instance attributes are allowed): refuses XInclude and other foreign content.
    #[error("XML namespace '{namespace}' is not accepted in FHIR XML (at {location})")]
    XmlForeignNamespace {
        /// The namespace URI declared.
        namespace: String,
        /// Where the declaring element starts.
        location: String,
    },
    /// The bytes are not well-formed JSON or XML.
    #[error("malformed {format}: {message}")]
    Syntax {
        /// "JSON" or "XML".
        format: &'static str,
        /// What the parser reported, with its position.
        message: String,
    },
    /// Well-formed, but not a valid FHIR R4 resource (unknown element, wrong type, …).
    #[error("not a valid FHIR R4 resource: {message}")]
    Structure {
        /// What the FHIR model reported, with its position when known.
        message: String,
    },
    /// `resourceType` is missing or is not an R4 resource type.
    #[error("{0}")]
    ResourceType(String),
    /// A resource could not be written in the requested format.
    #[error("could not serialize resource as {format}: {message}")]
    Serialize {
        /// "JSON" or "XML".
        format: &'static str,
        /// What the writer reported.
        message: String,
    },
}
