//! Regression tests for the ER7 parser: character sets, framing, terminators, accessors,
//! limits and errors. Every message here is made up; JIS and Shift_JIS bytes are written out
//! by hand and checked against encoding_rs' encoders where it has one.

use tsunagi_adapters::hl7v2::er7::{
    split_messages, Charset, DecodeOptions, Message, ParseError, ParseLimits,
};

/// Joins segments with CR.
fn message(segments: &[&[u8]]) -> Vec<u8> {
    segments.join(&b'\r')
}

fn parse(bytes: &[u8]) -> Message {
    match Message::parse(bytes, &DecodeOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn parse_err(bytes: &[u8], opts: &DecodeOptions) -> ParseError {
    match Message::parse(bytes, opts) {
        Ok(m) => panic!("expected an error, parsed {:?}", m.text()),
        Err(e) => e,
    }
}

const MSH_JIS: &[u8] =
    b"MSH|^~\\&|HIS|SEND|GW|RCV|20240401120000||ADT^A08^ADT_A01|MSG0001|P|2.5||||||~ISO IR87||ISO 2022-1994";

#[test]
fn jis_delimiter_byte_inside_kanji() {
    // 画像 in JIS X 0208 is 0x32 0x68 0x41 0x7C: its last byte is `|`.
    let kanji = b"\x1b$B2hA|\x1b(B";
    let (encoded, _, _) = encoding_rs::ISO_2022_JP.encode("画像");
    assert_eq!(&encoded[..], &kanji[..]);
    let obx = [&b"OBX|1|ST|IMG01^"[..], kanji, b"^L||see report"].concat();
    let m = parse(&message(&[MSH_JIS, b"PID|1||123", &obx]));
    assert_eq!(m.charset(), Charset::Iso2022Jp);
    let obx = m.first("OBX").unwrap();
    assert_eq!(obx.field(3).component(2).text(), "画像");
    assert_eq!(obx.field(3).component(3).text(), "L");
    assert_eq!(obx.field(5).text(), "see report");
    assert_eq!(obx.field_count(), 5);
}

#[test]
fn msh18_second_repetition_selects_iso_ir87() {
    // 山田 = 0x3B 0x33, 0x45 0x44.
    let pid = b"PID|1||123||\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B";
    for msh18 in [
        &b"~ISO IR87"[..],
        b"~ISOIR87",
        b"ISO IR87",
        b"ASCII~ISO IR87",
    ] {
        let msh = [
            &b"MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||"[..],
            msh18,
        ]
        .concat();
        let m = parse(&message(&[&msh, pid]));
        assert_eq!(m.charset(), Charset::Iso2022Jp, "{msh18:?}");
        let name = m.first("PID").unwrap().field(5);
        assert_eq!(name.component(1).text(), "山田");
        assert_eq!(name.component(2).text(), "太郎");
    }
}

#[test]
fn half_width_katakana_iso_ir13() {
    // ﾔﾏﾀﾞ in JIS X 0201 katakana is 0x54 0x4F 0x40 0x5E: the dakuten is the `^` byte.
    let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode("ﾔﾏﾀﾞ");
    let jis_x_0201: Vec<u8> = cp932.iter().map(|b| b - 0x80).collect();
    assert_eq!(jis_x_0201, b"TO@^");
    let msh = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||~ISO IR13";
    // ｱﾛ = 0x31 0x5B.
    let pid = b"PID|1||123||\x1b(ITO@^\x1b(B^\x1b(I1[\x1b(B";
    let m = parse(&message(&[msh, pid]));
    assert_eq!(m.charset(), Charset::Iso2022Jp);
    let name = m.first("PID").unwrap().field(5);
    assert_eq!(name.component(1).text(), "ﾔﾏﾀﾞ");
    assert_eq!(name.component(2).text(), "ｱﾛ");
    assert_eq!(name.component_count(), 2);
}

#[test]
fn jis_x_0212_iso_ir159() {
    // 鷗 is JIS X 0212 row 76 cell 31 (0x6C 0x3F); EUC-JP writes it 0x8F 0xEC 0xBF
    // (encoding_rs decodes JIS X 0212 in EUC-JP but has no encoder for it).
    let (euc, _) = encoding_rs::EUC_JP.decode_without_bom_handling(b"\x8f\xec\xbf");
    assert_eq!(euc, "鷗");
    let msh = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||~ISO IR87~ISO IR159";
    let pid = b"PID|1||123||\x1b$(Dl?\x1b$BED\x1b(B^\x1b$B2V;R\x1b(B";
    let m = parse(&message(&[msh, pid]));
    let name = m.first("PID").unwrap().field(5);
    assert_eq!(name.component(1).text(), "鷗田");
    assert_eq!(name.component(2).text(), "花子");
}

#[test]
fn shift_jis_ibm_extended_kanji() {
    // 髙 is 0xFB 0xFC in CP932 (IBM extended kanji, not in JIS X 0208); 橋 is 0x8B 0xB4.
    // ポ (0x83 0x7C) and 表 (0x95 0x5C) end in the `|` and `\` bytes.
    let (encoded, _, _) = encoding_rs::SHIFT_JIS.encode("髙橋ポ表");
    assert_eq!(&encoded[..], b"\xfb\xfc\x8b\xb4\x83\x7c\x95\x5c");
    let msh_plain = &b"MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5"[..];
    let pid = [&b"PID|1||123||"[..], &encoded, b"^X"].concat();
    let configured = DecodeOptions {
        default_charset: Some(Charset::ShiftJis),
        ..DecodeOptions::default()
    };
    let m = Message::parse(&message(&[msh_plain, &pid]), &configured).unwrap();
    assert_eq!(m.charset(), Charset::ShiftJis);
    let name = m.first("PID").unwrap().field(5);
    assert_eq!(name.component(1).text(), "髙橋ポ表");
    assert_eq!(name.component(2).text(), "X");

    // Declared in MSH-18 instead of configured.
    let msh_sjis = &b"MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||SJIS"[..];
    let m = parse(&message(&[msh_sjis, &pid]));
    assert_eq!(m.first("PID").unwrap().field(5).text(), "髙橋ポ表");

    // Neither declared nor configured: the bytes are not UTF-8, so no guess is made.
    let err = parse_err(&message(&[msh_plain, &pid]), &DecodeOptions::default());
    match &err {
        ParseError::CharsetUndetermined {
            byte, byte_offset, ..
        } => {
            assert_eq!(*byte, 0xFB);
            assert_eq!(*byte_offset, msh_plain.len() + 1 + 12);
        }
        other => panic!("unexpected {other}"),
    }
    let location = err.location().unwrap();
    assert_eq!((location.segment_index, location.field), (2, Some(5)));
}

#[test]
fn crlf_and_lf_terminators() {
    let segments: [&[u8]; 3] = [
        b"MSH|^~\\&|A|B|C|D|20240401||ORU^R01^ORU_R01|1|P|2.5",
        b"PID|1||123",
        b"OBX|1|NM|GLU||5.4",
    ];
    let expected = parse(&segments.join(&b'\r'));
    for terminator in [&b"\n"[..], b"\r\n", b"\r\r", b"\n\n\n", b"\r\n \r\n"] {
        let bytes = segments.join(terminator);
        let m = parse(&bytes);
        assert_eq!(m.text(), expected.text(), "terminator {terminator:?}");
        assert_eq!(m.segment_count(), 3);
        assert_eq!(m.segment(3).unwrap().field(5).text(), "5.4");
    }
    // Mixed terminators, a trailing one, and leading blank lines.
    let mixed = b"\r\nMSH|^~\\&|A|B|C|D|20240401||ORU^R01^ORU_R01|1|P|2.5\rPID|1||123\r\nOBX|1|NM|GLU||5.4\n";
    assert_eq!(parse(mixed).text(), expected.text());
}

#[test]
fn mllp_frame_tolerated() {
    let body = message(&[
        b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5",
        b"PID|1||123",
    ]);
    let plain = parse(&body);
    let framed = [&b"\x0b"[..], &body, b"\r\x1c\r"].concat();
    assert_eq!(parse(&framed).text(), plain.text());
    // SS-MIX2 files end in CR plus a lone 0x1C.
    let trailing_fs = [&body[..], b"\r\x1c"].concat();
    assert_eq!(parse(&trailing_fs).text(), plain.text());
    assert_eq!(
        plain.text(),
        "MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5\rPID|1||123"
    );
}

#[test]
fn batch_file_envelopes_dropped() {
    let batch = b"FHS|^~\\&|A\rBHS|^~\\&|A\rMSH|^~\\&|A|B|C|D|1||ADT^A01|M1|P|2.5\rPID|1||111\rMSH|^~\\&|A|B|C|D|1||ADT^A01|M2|P|2.5\rPID|1||222\rBTS|2\rFTS|1\r";
    let pieces = split_messages(batch);
    assert_eq!(pieces.len(), 2);
    let ids: Vec<String> = pieces
        .iter()
        .map(|p| parse(p.bytes).control_id().into_owned())
        .collect();
    assert_eq!(ids, ["M1", "M2"]);
    let second = parse(pieces[1].bytes);
    assert_eq!(second.segment_count(), 2);
    assert_eq!(second.first("PID").unwrap().field(3).text(), "222");
    assert_eq!(&batch[pieces[1].byte_offset..][..3], b"MSH");
}

#[test]
fn utf8_bom_and_detection_without_msh18() {
    let body = "MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5\rPID|1||123||Müller^José".as_bytes();
    let with_bom = [&b"\xEF\xBB\xBF"[..], body].concat();
    let m = parse(&with_bom);
    assert_eq!(m.charset(), Charset::Utf8);
    assert_eq!(m.first("PID").unwrap().field(5).text(), "Müller");
    assert_eq!(parse(body).charset(), Charset::Utf8);
    let ascii = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5\rPID|1||123";
    assert_eq!(parse(ascii).charset(), Charset::Ascii);
    // ESC sequences without MSH-18: ISO-2022-JP.
    let jis = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5\rPID|1||123||\x1b$B;3ED\x1b(B";
    let m = parse(jis);
    assert_eq!(m.charset(), Charset::Iso2022Jp);
    assert_eq!(m.first("PID").unwrap().field(5).text(), "山田");
}

#[test]
fn declared_ascii_with_jis_escapes_reads_as_iso_2022_jp() {
    let bytes =
        b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5||||||ASCII\rPID|1||123||\x1b$B;3ED\x1b(B";
    let m = parse(bytes);
    assert_eq!(m.charset(), Charset::Iso2022Jp);
    assert_eq!(m.first("PID").unwrap().field(5).text(), "山田");
}

#[test]
fn latin1_declared() {
    let bytes = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5||||||8859/1\rPID|1||123||M\xfcller";
    let m = parse(bytes);
    assert_eq!(m.charset(), Charset::Latin1);
    assert_eq!(m.first("PID").unwrap().field(5).text(), "Müller");
}

#[test]
fn undecodable_bytes_report_offset_and_location() {
    let msh = &b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5||||||UNICODE UTF-8"[..];
    let pid = b"PID|1||123||Ab^C\xffD";
    let bytes = message(&[msh, pid]);
    let err = parse_err(&bytes, &DecodeOptions::default());
    let ParseError::Undecodable {
        charset,
        byte_offset,
        ref location,
        ..
    } = err
    else {
        panic!("unexpected {err}");
    };
    assert_eq!(charset, Charset::Utf8);
    assert_eq!(bytes[byte_offset], 0xFF);
    assert_eq!(byte_offset, msh.len() + 1 + 16);
    assert_eq!(location.segment_index, 2);
    assert_eq!(location.segment_id, "PID");
    assert_eq!(
        (location.field, location.repetition, location.component),
        (Some(5), Some(1), Some(2))
    );
    assert!(err.to_string().contains("PID (segment 2) field 5"), "{err}");

    // A bad JIS code: offsets count the raw bytes, escape sequences included.
    let jis = [MSH_JIS, b"\rPID|1||123||\x1b$B4A\"/\x1b(B"].concat();
    let err = parse_err(&jis, &DecodeOptions::default());
    match err {
        ParseError::Undecodable {
            byte_offset,
            ref location,
            ..
        } => {
            assert_eq!(&jis[byte_offset..byte_offset + 2], b"\"/");
            assert_eq!((location.segment_index, location.field), (2, Some(5)));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn unknown_msh18_is_refused_with_its_location() {
    let bytes = b"MSH|^~\\&|A|B|C|D|20240401||ADT^A01|1|P|2.5||||||ASCII~KS X 1001\rPID|1";
    let err = parse_err(bytes, &DecodeOptions::default());
    assert!(matches!(&err, ParseError::UnknownCharset { value, .. } if value == "KS X 1001"));
    let location = err.location().unwrap();
    assert_eq!(
        (
            location.segment_id.as_str(),
            location.field,
            location.repetition
        ),
        ("MSH", Some(18), Some(2))
    );
}

#[test]
fn msh_field_numbering_and_type() {
    let m =
        parse(b"MSH|^~\\&|LAB|HOSP|GW|RCV|20240401120000||ORU^R01^ORU_R01|CTL\\F\\9|P|2.5\rPID|1");
    let msh = m.segment(1).unwrap();
    assert_eq!(msh.id(), "MSH");
    assert_eq!(msh.field(0).raw(), "MSH");
    assert_eq!(msh.field(1).raw(), "|");
    assert_eq!(msh.field(2).raw(), "^~\\&");
    // MSH-2 is never split or unescaped.
    assert_eq!(msh.field(2).text(), "^~\\&");
    assert_eq!(msh.field(2).component(1).raw(), "^~\\&");
    assert_eq!(msh.field(2).component_count(), 1);
    assert_eq!(msh.field(3).text(), "LAB");
    assert_eq!(msh.field(12).text(), "2.5");
    assert_eq!(msh.field_count(), 12);
    assert_eq!(m.control_id(), "CTL|9");
    let t = m.message_type();
    assert_eq!(
        (t.code.as_str(), t.trigger.as_str(), t.structure.as_str()),
        ("ORU", "R01", "ORU_R01")
    );
    let pid = m.segment(2).unwrap();
    assert_eq!((pid.index(), pid.id(), pid.field_count()), (2, "PID", 1));
    assert_eq!(pid.field(1).text(), "1");
}

#[test]
fn accessors_split_lazily_and_past_the_end_are_empty() {
    let m = parse(b"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||111^^^H1&1.2.3&ISO^MR~222^^^H2^PI||A\\S\\B^C\\T\\D");
    let pid = m.first("PID").unwrap();
    let ids = pid.field(3);
    assert_eq!(ids.repetition_count(), 2);
    let reps: Vec<&str> = ids.repetitions().map(|r| r.component(1).raw()).collect();
    assert_eq!(reps, ["111", "222"]);
    let authority = ids.repetition(1).component(4);
    assert_eq!(authority.subcomponent_count(), 3);
    assert_eq!(authority.subcomponent(2), "1.2.3");
    assert_eq!(authority.text(), "H1");
    assert_eq!(ids.repetition(2).component(5).text(), "PI");
    assert_eq!(ids.repetition(1).component_count(), 5);
    // text() is the first subcomponent of the first component of the first repetition.
    assert_eq!(
        ids.text(),
        ids.repetition(1).component(1).subcomponent_text(1)
    );
    // Escapes are undone in text(), kept in raw().
    let name = pid.field(5);
    assert_eq!(name.component(1).text(), "A^B");
    assert_eq!(name.component(2).text(), "C&D");
    assert_eq!(name.component(2).raw(), "C\\T\\D");
    // Past the end: empty, never a panic.
    assert!(pid.field(99).is_empty());
    assert_eq!(pid.field(99).repetition_count(), 0);
    assert_eq!(pid.field(99).repetitions().count(), 0);
    assert!(ids.repetition(3).is_empty());
    assert!(ids.repetition(0).is_empty());
    assert!(ids.component(40).subcomponent_text(9).is_empty());
    assert!(m.segment(0).is_none());
    assert!(m.segment(3).is_none());
    assert!(m.first("OBX").is_none());
    let empty = pid.field(2);
    assert_eq!(
        (
            empty.repetition_count(),
            empty.component(1).subcomponent_count()
        ),
        (0, 0)
    );
}

#[test]
fn explicit_null_is_not_empty() {
    let m = parse(b"MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|1||123||\"\"|^\"\"");
    let pid = m.first("PID").unwrap();
    assert!(pid.field(5).is_null());
    assert!(!pid.field(5).is_empty());
    assert!(pid.field(6).component(2).is_null());
    assert!(!pid.field(6).is_null());
    assert!(pid.field(4).is_empty() && !pid.field(4).is_null());
}

#[test]
fn charset_escape_sequences_inside_fields() {
    // \M2442\ designates JIS X 0208 (ESC $ B) inside the field; \C2842\ returns to ASCII.
    let m = parse(b"MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|1||123||\\M2442\\;3ED\\C2842\\^Taro");
    let name = m.first("PID").unwrap().field(5);
    assert_eq!(name.component(1).text(), "山田");
    assert_eq!(name.component(1).raw(), "\\M2442\\;3ED\\C2842\\");
    assert_eq!(name.component(2).text(), "Taro");
}

#[test]
fn structural_errors_name_their_segment() {
    let opts = DecodeOptions::default();
    assert!(matches!(parse_err(b"", &opts), ParseError::Empty));
    assert!(matches!(
        parse_err(b"\x0b\x1c\r\n", &opts),
        ParseError::Empty
    ));
    let err = parse_err(b"\xfb\xfc", &opts);
    assert!(
        matches!(&err, ParseError::NoMsh { found, .. } if found == "\\xFB\\xFC"),
        "{err}"
    );
    assert!(matches!(
        parse_err(b"MSH", &opts),
        ParseError::BadFieldSeparator { .. }
    ));
    assert!(matches!(
        parse_err(b"MSH|^|A", &opts),
        ParseError::BadEncodingCharacters { .. }
    ));
    let err = parse_err(b"MSH|^~\\&|A\rPID|1\rpid|2", &opts);
    assert!(matches!(&err, ParseError::BadSegmentId { id, .. } if id == "pid"));
    assert_eq!(err.location().unwrap().segment_index, 3);
    let err = parse_err(b"MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B", &opts);
    assert!(matches!(err, ParseError::UnexpectedMsh { .. }));
    assert_eq!(err.location().unwrap().segment_index, 3);
}

#[test]
fn limits_are_enforced() {
    let tight = DecodeOptions {
        default_charset: None,
        limits: ParseLimits {
            max_message_bytes: 64,
            max_segments: 2,
            max_field_bytes: 8,
        },
    };
    let err = parse_err(&[b'M'; 65], &tight);
    assert!(matches!(
        err,
        ParseError::TooLarge {
            size: 65,
            limit: 64
        }
    ));
    let err = parse_err(b"MSH|^~\\&|A\rPID|1\rPV1|1", &tight);
    assert!(matches!(err, ParseError::TooManySegments { limit: 2, .. }));
    assert_eq!(err.location().unwrap().segment_index, 3);
    let err = parse_err(b"MSH|^~\\&|A\rPID|1||123456789|x", &tight);
    match &err {
        ParseError::FieldTooLong { length, .. } => assert_eq!(*length, 9),
        other => panic!("unexpected {other}"),
    }
    let location = err.location().unwrap();
    assert_eq!((location.segment_index, location.field), (2, Some(3)));
    let err = parse_err(b"MSH|^~\\&|ABCDEFGHIJ", &tight);
    assert_eq!(err.location().unwrap().field, Some(3));
    // Exactly at the limits is fine.
    assert!(Message::parse(b"MSH|^~\\&|A\rPID|12345678", &tight).is_ok());
}
