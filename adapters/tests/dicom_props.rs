//! Property tests of the DICOM reader: random bytes, random bytes behind a valid preamble,
//! and every truncation and byte flip of a real header never panic, and the reader always
//! answers with a header or a reason.

use proptest::prelude::*;
use std::io::Cursor;
use std::path::Path;
use tsunagi_adapters::dicom::read::{read_header, ReadLimits};
use tsunagi_adapters::dicom::{convert_bytes, DicomOptions};
use tsunagi_adapters::SourceContext;

fn ctx() -> SourceContext {
    SourceContext::new("prop-hospital", "+09:00")
}

fn sample() -> Vec<u8> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom/single");
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .expect("single files")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    std::fs::read(&files[0]).expect("a sample file")
}

fn with_preamble(body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    bytes.extend_from_slice(body);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_header(Cursor::new(&bytes), bytes.len() as u64, &ReadLimits::default());
        let converted = convert_bytes(&bytes, "random", &ctx(), &DicomOptions::default())
            .expect("one file is always scanned");
        prop_assert_eq!(converted.summary.files_scanned, 1);
    }

    #[test]
    fn random_bodies_after_a_preamble_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let bytes = with_preamble(&body);
        let _ = read_header(Cursor::new(&bytes), bytes.len() as u64, &ReadLimits::default());
    }

    #[test]
    fn flipped_bytes_never_panic(position in 0usize..4096, value in any::<u8>()) {
        let mut bytes = sample();
        let at = position % bytes.len();
        bytes[at] = value;
        let _ = convert_bytes(&bytes, "flipped", &ctx(), &DicomOptions::default());
    }
}

#[test]
fn every_truncation_is_refused_with_a_reason_or_read() {
    let bytes = sample();
    let whole = convert_bytes(&bytes, "whole", &ctx(), &DicomOptions::default()).expect("scans");
    assert_eq!(whole.summary.studies, 1, "{:?}", whole.conversion.report);
    for cut in 0..bytes.len().min(4096) {
        let part = &bytes[..cut];
        let converted =
            convert_bytes(part, "cut", &ctx(), &DicomOptions::default()).expect("scans");
        assert_eq!(converted.summary.files_scanned, 1);
        if converted.summary.studies == 0 {
            let entries = &converted.conversion.report.entries;
            assert!(
                entries
                    .iter()
                    .any(|entry| entry.location == "cut" && !entry.message.is_empty()),
                "cut at {cut}: no reason given: {entries:?}"
            );
        }
    }
}

#[test]
fn an_element_longer_than_the_file_is_refused_before_allocating() {
    // File meta with an explicit transfer syntax, then (0010,0010) PN claiming 0xFFFFFFF0 bytes
    // in implicit VR little endian.
    let ts = b"1.2.840.10008.1.2\0";
    let mut meta = Vec::new();
    meta.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
    meta.extend_from_slice(&(ts.len() as u16).to_le_bytes());
    meta.extend_from_slice(ts);
    let mut body = meta;
    body.extend_from_slice(&[0x10, 0x00, 0x10, 0x00]);
    body.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    body.extend_from_slice(b"Short^Name");
    let bytes = with_preamble(&body);
    let error = read_header(
        Cursor::new(&bytes),
        bytes.len() as u64,
        &ReadLimits::default(),
    )
    .expect_err("refused");
    assert!(error.to_string().contains("(0010,0010)"), "{error}");
}
