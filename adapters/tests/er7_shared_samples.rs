//! Parses the public sample messages under `shared/data/` (see its PROVENANCE.md), read in
//! place and never copied into the project. When the folder is absent the tests say why and
//! skip, unless the `CI` environment variable is set, in which case they fail.

mod common;

use common::{files_under, shared_folder};
use tsunagi_adapters::hl7v2::er7::{Charset, DecodeOptions, Message, ParseError};

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// Non-blank lines, split at CR or LF: an independent count of segments.
fn line_count(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\r' || b == b'\n')
        .filter(|line| {
            line.iter()
                .any(|b| !b.is_ascii_whitespace() && *b != 0x1C && *b != 0x0B)
        })
        .count()
}

#[test]
fn ssmix2_samples_decode_iso_2022_jp() {
    let Some(folder) = shared_folder("ssmix2-samples") else {
        return;
    };
    let files = files_under(&folder);
    assert_eq!(files.len(), 22, "PROVENANCE.md lists 22 files");
    let mut parsed = 0;
    let mut refused = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.strip_prefix(&folder).unwrap().display().to_string();
        match Message::parse(&bytes, &DecodeOptions::default()) {
            Ok(m) => {
                parsed += 1;
                assert_eq!(m.charset(), Charset::Iso2022Jp, "{name}");
                assert!(!m.text().contains('\u{1b}'), "{name}: ESC left in text");
                assert!(
                    !m.text().contains('\u{FFFD}'),
                    "{name}: replacement character"
                );
                assert_eq!(m.segment_count(), line_count(&bytes), "{name}");
                let pid = m.first("PID").unwrap_or_else(|| panic!("{name}: no PID"));
                let name_field = pid.field(5);
                let kanji_name = name_field.repetition(1);
                assert!(
                    kanji_name.component(1).text().chars().all(is_cjk),
                    "{name}: PID-5.1 {:?}",
                    kanji_name.component(1).text()
                );
                // SS-MIX2 sends the kanji name (I) then the kana reading (P).
                assert_eq!(kanji_name.component(7).text(), "L", "{name}");
                assert_eq!(name_field.repetition(2).component(7).text(), "L", "{name}");
                assert!(!m.control_id().is_empty(), "{name}");
                assert_eq!(m.message_type().code.len(), 3, "{name}");
            }
            Err(e) => refused.push((name, e)),
        }
    }
    assert_eq!(parsed, 19, "refused: {refused:#?}");
    // The three deliberately broken fixtures: two OMP-11 checker files that end in a bare
    // list of segment names including a second `MSH`, and the two bytes 0xFB 0xFC.
    assert_eq!(refused.len(), 3, "{refused:#?}");
    for (name, error) in &refused {
        let message = error.to_string();
        if name.contains("ADT-31") {
            assert!(
                matches!(error, ParseError::NoMsh { .. }),
                "{name}: {message}"
            );
            assert!(message.contains("\\xFB\\xFC"), "{message}");
        } else {
            assert!(
                name.starts_with("000/000/0000001/20000401/OMP-11/"),
                "{name}"
            );
            assert!(
                matches!(error, ParseError::UnexpectedMsh { .. }),
                "{name}: {message}"
            );
            assert!(message.contains("split_messages"), "{message}");
        }
    }
}

#[test]
fn ssmix2_known_values() {
    let Some(folder) = shared_folder("ssmix2-samples") else {
        return;
    };
    let adt00 = folder
        .join("999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1");
    let m = Message::parse(&std::fs::read(adt00).unwrap(), &DecodeOptions::default()).unwrap();
    let msh = m.segment(1).unwrap();
    assert_eq!(msh.field(18).raw(), "~ISO IR87");
    assert_eq!(msh.field(20).text(), "ISO 2022-1994");
    let t = m.message_type();
    assert_eq!((t.code.as_str(), t.trigger.as_str()), ("ADT", "A08"));
    let pid = m.first("PID").unwrap();
    assert_eq!(pid.field(3).text(), "9999013");
    let name = pid.field(5);
    assert_eq!(name.repetition(1).component(1).text(), "患者");
    assert_eq!(name.repetition(1).component(2).text(), "太郎");
    assert_eq!(name.repetition(2).component(1).text(), "カンジャ");
    assert_eq!(name.repetition(2).component(2).text(), "タロウ");
    assert!(pid
        .field(11)
        .component(8)
        .text()
        .starts_with("静岡県静岡市登呂"));
    // OBX-3.2 body height, OBX-5 value.
    let obx = m.first("OBX").unwrap();
    assert_eq!(obx.field(3).component(2).text(), "身長");
    assert_eq!(obx.field(5).text(), "167.8");

    let adt61 = folder
        .join("999/901/9999013/-/ADT-61/9999013_-_ADT-61_999999999999999_20111014232213000_-_1");
    let m = Message::parse(&std::fs::read(adt61).unwrap(), &DecodeOptions::default()).unwrap();
    assert_eq!(m.first("PID").unwrap().field(5).text(), "山田");

    // MSH-13 of the broken fixture holds kanji before MSH-18 `~ISOIR87`; the first message of
    // the file (before the stray segment list) still parses once split.
    let broken = folder.join("000/000/0000001/20000401/OMP-11/0000001_20000401_OMP-11_123456789012345_20110701113813225_01_1");
    let bytes = std::fs::read(broken).unwrap();
    let pieces = tsunagi_adapters::hl7v2::er7::split_messages(&bytes);
    assert_eq!(pieces.len(), 3);
    let first = Message::parse(pieces[0].bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(first.segment(1).unwrap().field(13).text(), "番号");
    assert_eq!(first.charset(), Charset::Iso2022Jp);

    // The lone 0xFB 0xFC is Shift_JIS for 髙 (IBM extended kanji).
    let sjis = folder.join(
        "000/000/0000001/20000401/ADT-31/9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1",
    );
    let kanji = std::fs::read(sjis).unwrap();
    let message = [
        &b"MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5||||||SJIS\rPID|1||1||"[..],
        &kanji,
    ]
    .concat();
    let m = Message::parse(&message, &DecodeOptions::default()).unwrap();
    assert_eq!(m.first("PID").unwrap().field(5).text(), "髙");
}

#[test]
fn ms_fhir_converter_samples_parse() {
    let Some(folder) = shared_folder("hl7v2-peer-samples/ms-fhir-converter/input") else {
        return;
    };
    let files = files_under(&folder);
    assert_eq!(files.len(), 30, "PROVENANCE.md lists 30 inputs");
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let m = Message::parse(&bytes, &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_charset = if bytes.starts_with(b"\xEF\xBB\xBF") {
            Charset::Utf8
        } else {
            Charset::Ascii
        };
        assert_eq!(m.charset(), expected_charset, "{name}");
        assert!(!m.text().contains('\n'), "{name}: LF left in text");
        assert!(
            !m.text().starts_with('\u{FEFF}'),
            "{name}: BOM left in text"
        );
        assert_eq!(m.segment_count(), line_count(&bytes), "{name}");
        // Every segment's raw text is one of the file's lines.
        let text = String::from_utf8_lossy(&bytes);
        for segment in m.segments() {
            assert!(text.contains(segment.raw()), "{name}: {:?}", segment.raw());
        }
        let t = m.message_type();
        assert!(
            t.code.len() == 3 && t.code.chars().all(|c| c.is_ascii_uppercase()),
            "{name}: {t:?}"
        );
    }
    let oru = Message::parse(
        &std::fs::read(folder.join("LAB-ORU-1.hl7")).unwrap(),
        &DecodeOptions::default(),
    )
    .unwrap();
    let pid = oru.first("PID").unwrap();
    assert_eq!(pid.field(5).component(1).text(), "DUCK");
    assert_eq!(pid.field(5).component(2).text(), "DONALD");
    assert_eq!(pid.field(11).component(3).text(), "FOWL");
    let mislabelled = Message::parse(
        &std::fs::read(folder.join("OML-O21-02.hl7")).unwrap(),
        &DecodeOptions::default(),
    )
    .unwrap();
    assert_eq!(mislabelled.message_type().code, "ORM");
}
