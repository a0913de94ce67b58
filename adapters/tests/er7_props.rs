//! Property tests for the ER7 parser: no panics on any input, escape/unescape round trips,
//! and canonical messages read back exactly.

use proptest::collection::vec;
use proptest::prelude::*;
use tsunagi_adapters::hl7v2::er7::{
    build_ack, build_reject_for_unparsable, escape, split_messages, unescape, unescape_in, AckCode,
    AckError, Charset, DecodeOptions, Delimiters, Message,
};

const CHARSETS: [Charset; 5] = [
    Charset::Ascii,
    Charset::Latin1,
    Charset::Utf8,
    Charset::Iso2022Jp,
    Charset::ShiftJis,
];

const MSH18_VALUES: [&str; 9] = [
    "",
    "~ISO IR87",
    "~ISOIR87",
    "UNICODE UTF-8",
    "8859/1",
    "SJIS",
    "ASCII",
    "~ISO IR87~ISO IR159",
    "ISO IR13",
];

/// Calls every accessor on a parsed message, or every error method on a failure, and checks
/// that the reply built for either parses again.
fn exercise(bytes: &[u8], opts: &DecodeOptions) {
    match Message::parse(bytes, opts) {
        Ok(m) => {
            let _ = (m.message_type(), m.control_id(), m.charset(), m.text());
            assert!(m.segment_count() >= 1);
            assert_eq!(m.segments().count(), m.segment_count());
            for segment in m.segments() {
                let _ = (segment.location(), segment.id(), segment.raw());
                for n in 0..=segment.field_count() + 1 {
                    let field = segment.field(n);
                    let _ = (field.text(), field.is_null(), field.component(3).text());
                    assert_eq!(field.repetitions().count(), field.repetition_count());
                    for repetition in field.repetitions() {
                        let _ = repetition.text();
                        assert_eq!(
                            repetition.components().count(),
                            repetition.component_count()
                        );
                        for component in repetition.components() {
                            let _ = component.text();
                            for k in 0..=component.subcomponent_count() + 1 {
                                let _ = component.subcomponent_text(k);
                            }
                        }
                    }
                }
            }
            let location = m.segment(m.segment_count()).unwrap().field_location(2);
            let error = AckError {
                location: Some(&location),
                hl7_error_code: "207",
                severity: 'E',
                text: "x|y^z",
            };
            let reply = build_ack(&m, AckCode::Error, Some(&error), "20240401", "A1");
            let ack = Message::parse(&reply, opts)
                .unwrap_or_else(|e| panic!("ACK does not parse: {e}\n{reply:?}"));
            assert_eq!(ack.first("MSA").unwrap().field(1).text(), "AE");
        }
        Err(e) => {
            let _ = (e.location(), e.to_string(), e.hl7_error_code());
            let reply = build_reject_for_unparsable(bytes, &e, "20240401", "R1");
            let ack = Message::parse(&reply, &DecodeOptions::default())
                .unwrap_or_else(|e2| panic!("reject does not parse: {e2}\n{reply:?}"));
            assert_eq!(ack.first("MSA").unwrap().field(1).text(), "AR");
        }
    }
}

/// Bytes that hit the parser's decisions often: delimiters, escapes, ISO 2022 escape
/// sequences, terminators, framing bytes, Shift_JIS lead bytes.
fn hl7ish_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => prop::sample::select(b"|^~\\&#".to_vec()),
        1 => prop::sample::select(b"\x1b$(BDIJ@\r\n\x0b\x1c\x0e\x0fMSHPIDFX0".to_vec()),
        1 => prop::sample::select(vec![0x81u8, 0x9F, 0xE0, 0xFB, 0xFC, 0x7C, 0x5C, 0xC3, 0xA9, 0xFF]),
    ]
}

/// A valid delimiter set: distinct punctuation, with the optional characters positional.
fn delimiters() -> impl Strategy<Value = Delimiters> {
    let punctuation: Vec<char> = "|^~\\&#!$%*+,-./:;<=>?@[]_`{}'\"()".chars().collect();
    (Just(punctuation).prop_shuffle(), 2usize..=5).prop_map(|(chars, used)| Delimiters {
        field: chars[0],
        component: chars[1],
        repetition: chars[2],
        escape: (used >= 3).then_some(chars[3]),
        subcomponent: (used >= 4).then_some(chars[4]),
        truncation: (used >= 5).then_some(chars[5]),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..400)) {
        exercise(&bytes, &DecodeOptions::default());
    }

    #[test]
    fn parse_never_panics_after_a_valid_header(
        msh18 in prop::sample::select(MSH18_VALUES.to_vec()),
        body in vec(hl7ish_byte(), 0..400),
    ) {
        let mut bytes = format!("MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||{msh18}\r").into_bytes();
        bytes.extend_from_slice(&body);
        exercise(&bytes, &DecodeOptions::default());
    }

    #[test]
    fn parse_never_panics_for_each_configured_charset(
        charset in prop::sample::select(CHARSETS.to_vec()),
        header_tail in vec(hl7ish_byte(), 0..40),
        body in vec(hl7ish_byte(), 0..300),
    ) {
        let mut bytes = b"MSH|^~\\&|".to_vec();
        bytes.extend_from_slice(&header_tail);
        bytes.push(b'\r');
        bytes.extend_from_slice(&body);
        let opts = DecodeOptions { default_charset: Some(charset), ..DecodeOptions::default() };
        exercise(&bytes, &opts);
    }

    #[test]
    fn unescape_of_escape_is_identity(text in any::<String>(), d in delimiters()) {
        let escaped = escape(&text, &d);
        prop_assert_eq!(unescape(&escaped, &d), text.as_str());
        for charset in CHARSETS {
            prop_assert_eq!(unescape_in(&escaped, &d, charset), text.as_str());
        }
        // Escaped text never holds a structural delimiter or a line end.
        if d.escape.is_some() {
            prop_assert!(!escaped.chars().any(|c| c == d.field || c == d.component || c == d.repetition
                || Some(c) == d.subcomponent || c == '\r' || c == '\n'));
        }
    }

    #[test]
    fn unescape_never_panics(raw in "[\\\\A-Za-z0-9.+ |^~&#-]{0,40}|\\PC{0,20}", d in delimiters()) {
        for charset in CHARSETS {
            let _ = unescape_in(&raw, &d, charset);
        }
    }

    #[test]
    fn canonical_messages_read_back_exactly(
        d in delimiters().prop_filter("needs an escape character", |d| d.escape.is_some()),
        segments in vec(
            (
                "[A-LN-Z][A-Z0-9]{2}",
                vec(vec(vec(any::<String>(), 1..4), 1..3), 0..6),
            ),
            1..5,
        ),
    ) {
        let f = d.field.to_string();
        let mut text = format!("MSH{f}{}{f}APP{f}FAC{f}GW{f}RCV{f}20240401{f}{f}ADT{c}A08{f}CTL{f}P{f}2.5{f}{f}{f}{f}{f}{f}UNICODE UTF8",
            d.encoding_characters(), c = d.component);
        for (id, fields) in &segments {
            text.push('\r');
            text.push_str(id);
            for field in fields {
                text.push(d.field);
                let reps: Vec<String> = field
                    .iter()
                    .map(|rep| {
                        rep.iter()
                            .map(|comp| escape(comp, &d).into_owned())
                            .collect::<Vec<_>>()
                            .join(&d.component.to_string())
                    })
                    .collect();
                text.push_str(&reps.join(&d.repetition.to_string()));
            }
        }
        // A last segment keeps trailing whitespace of the random text from being trimmed
        // as framing.
        text.push_str(&format!("\rZZZ{f}end"));
        let m = Message::parse(text.as_bytes(), &DecodeOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(m.text(), text.as_str());
        prop_assert_eq!(m.segment_count(), segments.len() + 2);
        prop_assert_eq!(m.delimiters(), &d);
        prop_assert_eq!(m.control_id(), "CTL");
        for (i, (id, fields)) in segments.iter().enumerate() {
            let segment = m.segment(i + 2).unwrap();
            prop_assert_eq!(segment.id(), id.as_str());
            prop_assert_eq!(segment.field_count(), fields.len());
            for (n, field) in fields.iter().enumerate() {
                let got = segment.field(n + 1);
                let expected_reps = if field.len() == 1 && field[0].len() == 1 && field[0][0].is_empty() { 0 } else { field.len() };
                prop_assert_eq!(got.repetition_count(), expected_reps);
                for (r, rep) in field.iter().enumerate() {
                    for (c, comp) in rep.iter().enumerate() {
                        let component = got.repetition(r + 1).component(c + 1);
                        prop_assert_eq!(component.text(), comp.as_str());
                        prop_assert_eq!(component.subcomponent_text(1), comp.as_str());
                    }
                }
            }
        }
    }

    #[test]
    fn split_messages_returns_ordered_slices_of_the_input(bytes in vec(hl7ish_byte(), 0..600)) {
        let pieces = split_messages(&bytes);
        let mut previous_end = 0;
        for (i, piece) in pieces.iter().enumerate() {
            prop_assert_eq!(piece.ordinal, i + 1);
            prop_assert!(piece.byte_offset >= previous_end);
            prop_assert!(!piece.bytes.is_empty());
            prop_assert_eq!(&bytes[piece.byte_offset..piece.byte_offset + piece.bytes.len()], piece.bytes);
            previous_end = piece.byte_offset + piece.bytes.len();
            exercise(piece.bytes, &DecodeOptions::default());
        }
    }
}
