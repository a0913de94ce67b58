//! The one extension point for source formats: every adapter implements [`Adapter`] and is
//! listed in [`REGISTRY`], a plain static list (adding a format is one module and one line).

use crate::context::SourceContext;
use crate::dicom::{self, DicomOptions, ScanError};
use crate::hl7v2::{self, Hl7Error, Hl7Options};
use crate::report::Conversion;

/// How sure an adapter is that some bytes are its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Certainly not this format.
    No,
    /// Could be (e.g. plain text that might be this format).
    Maybe,
    /// The bytes start the way this format must start.
    Yes,
}

/// Why an adapter could not convert an input unit.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// An HL7 v2 message could not be converted.
    #[error(transparent)]
    Hl7(#[from] Hl7Error),
    /// DICOM input could not be scanned as a whole.
    #[error(transparent)]
    Dicom(#[from] ScanError),
}

/// One input unit's conversion result, with where the unit sits in the input.
#[derive(Debug)]
pub struct UnitResult {
    /// 1-based ordinal of the unit (message) in the input.
    pub ordinal: usize,
    /// Byte offset of the unit in the input.
    pub byte_offset: usize,
    /// The conversion, or why there is none.
    pub result: Result<Conversion, AdapterError>,
}

/// A source format: recognises its bytes and converts every unit they hold.
pub trait Adapter: Sync {
    /// The format's name as used by `--from` and `source=` (`hl7v2`).
    fn id(&self) -> &'static str;
    /// How sure the adapter is that `bytes` are its format (from the first bytes only).
    fn detect(&self, bytes: &[u8]) -> Confidence;
    /// Converts every unit in `bytes`.
    fn convert_all(&self, bytes: &[u8], ctx: &SourceContext) -> Vec<UnitResult>;
}

/// HL7 v2 ER7 messages: single messages, files of several, batches, MLLP frames.
pub struct Hl7v2Adapter;

impl Adapter for Hl7v2Adapter {
    fn id(&self) -> &'static str {
        "hl7v2"
    }

    fn detect(&self, bytes: &[u8]) -> Confidence {
        // Skip an MLLP start block, a UTF-8 BOM and blank lines before the header segment.
        let start = bytes
            .iter()
            .position(|b| !matches!(b, 0x0B | 0xEF | 0xBB | 0xBF | b'\r' | b'\n' | b' ' | b'\t'))
            .unwrap_or(bytes.len());
        let head = bytes.get(start..).unwrap_or_default();
        let starts_with =
            |id: &[u8]| head.starts_with(id) && head.len() > 3 && !head[3].is_ascii_alphanumeric();
        if starts_with(b"MSH") || starts_with(b"FHS") || starts_with(b"BHS") {
            Confidence::Yes
        } else {
            Confidence::No
        }
    }

    fn convert_all(&self, bytes: &[u8], ctx: &SourceContext) -> Vec<UnitResult> {
        hl7v2::convert_all(bytes, ctx, &Hl7Options::default())
            .into_iter()
            .map(|(raw, result)| UnitResult {
                ordinal: raw.ordinal,
                byte_offset: raw.byte_offset,
                result: result.map_err(AdapterError::from),
            })
            .collect()
    }
}

/// DICOM Part 10: one file, or a zip of files, folders and DICOMDIRs (one unit for all).
pub struct DicomAdapter;

impl Adapter for DicomAdapter {
    fn id(&self) -> &'static str {
        "dicom"
    }

    fn detect(&self, bytes: &[u8]) -> Confidence {
        if dicom::read::is_part10(bytes) {
            Confidence::Yes
        } else if bytes.starts_with(b"PK\x03\x04") {
            Confidence::Maybe
        } else {
            Confidence::No
        }
    }

    fn convert_all(&self, bytes: &[u8], ctx: &SourceContext) -> Vec<UnitResult> {
        let result = dicom::convert_bytes(bytes, "input", ctx, &DicomOptions::default())
            .map(|converted| converted.conversion)
            .map_err(AdapterError::from);
        vec![UnitResult {
            ordinal: 1,
            byte_offset: 0,
            result,
        }]
    }
}

/// Every adapter, in detection order. CSV joins when it lands.
pub static REGISTRY: &[&dyn Adapter] = &[&Hl7v2Adapter, &DicomAdapter];

/// The adapter named `id`.
pub fn adapter(id: &str) -> Option<&'static dyn Adapter> {
    REGISTRY.iter().copied().find(|adapter| adapter.id() == id)
}

/// The adapter most sure about `bytes`, if any is at least `Maybe`.
pub fn detect(bytes: &[u8]) -> Option<&'static dyn Adapter> {
    REGISTRY
        .iter()
        .copied()
        .map(|adapter| (adapter.detect(bytes), adapter))
        .filter(|(confidence, _)| *confidence > Confidence::No)
        .max_by_key(|(confidence, _)| *confidence)
        .map(|(_, adapter)| adapter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl7v2_is_registered_and_detected() {
        assert_eq!(adapter("hl7v2").map(|a| a.id()), Some("hl7v2"));
        assert!(adapter("csv").is_none());
        assert_eq!(Hl7v2Adapter.detect(b"MSH|^~\\&|A"), Confidence::Yes);
        assert_eq!(
            Hl7v2Adapter.detect(b"\x0b\xef\xbb\xbfMSH|^~\\&|A"),
            Confidence::Yes
        );
        assert_eq!(Hl7v2Adapter.detect(b"BHS|^~\\&"), Confidence::Yes);
        assert_eq!(Hl7v2Adapter.detect(b"MSHX"), Confidence::No);
        assert_eq!(Hl7v2Adapter.detect(b"{\"resourceType\":1}"), Confidence::No);
        assert!(detect(b"MSH|^~\\&|A").is_some());
        assert!(detect(b"%PDF").is_none());
    }

    #[test]
    fn dicom_is_registered_and_detected() {
        let mut part10 = vec![0u8; 128];
        part10.extend_from_slice(b"DICM");
        assert_eq!(detect(&part10).map(|a| a.id()), Some("dicom"));
        assert_eq!(DicomAdapter.detect(b"PK\x03\x04rest"), Confidence::Maybe);
        assert_eq!(DicomAdapter.detect(b"MSH|^~\\&"), Confidence::No);
    }
}
