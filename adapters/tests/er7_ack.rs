//! Acknowledgements: the reply's header, MSA and ERR, its character set, and rejects for
//! messages that could not be parsed. Replies are parsed back with the parser itself and
//! checked field by field.

use tsunagi_adapters::hl7v2::er7::{
    build_ack, build_reject_for_unparsable, AckCode, AckError, Charset, DecodeOptions, Location,
    Message,
};

fn parse(bytes: &[u8]) -> Message {
    Message::parse(bytes, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

const ORIGINAL_JIS: &[u8] = b"MSH|^~\\&|HIS|\x1b$BElBg\x1b(B|GW|RCV|20240401120000||ADT^A08^ADT_A01|MSG0001|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|1||123||\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B\rOBX|1|NM|HT||170\rOBX|2|NM|WT||";

#[test]
fn ack_swaps_sender_and_receiver_in_the_original_charset() {
    let original = parse(ORIGINAL_JIS);
    let reply = build_ack(
        &original,
        AckCode::Accept,
        None,
        "20240401120001+0900",
        "ACK0001",
    );
    // Encoded like the original: MSH-4 comes back as the same JIS bytes, no UTF-8.
    assert!(reply.windows(7).any(|w| w == b"\x1b$BElBg"));
    assert!(std::str::from_utf8(&reply).is_ok_and(str::is_ascii));
    assert!(reply.ends_with(b"\r"));
    assert!(!reply.contains(&b'\n') && !reply.contains(&0x0B) && !reply.contains(&0x1C));
    let ack = parse(&reply);
    assert_eq!(ack.charset(), Charset::Iso2022Jp);
    assert_eq!(ack.segment_count(), 2);
    let msh = ack.segment(1).unwrap();
    let fields: Vec<String> = (3..=6).map(|n| msh.field(n).text().into_owned()).collect();
    assert_eq!(fields, ["GW", "RCV", "HIS", "東大"]);
    assert_eq!(msh.field(7).text(), "20240401120001+0900");
    assert_eq!(msh.field(9).raw(), "ACK^A08^ACK");
    assert_eq!(ack.control_id(), "ACK0001");
    assert_eq!(msh.field(11).text(), "P");
    assert_eq!(msh.field(12).text(), "2.5");
    assert_eq!(msh.field(18).raw(), "~ISO IR87");
    assert_eq!(msh.field(20).raw(), "ISO 2022-1994");
    let msa = ack.first("MSA").unwrap();
    assert_eq!(msa.raw(), "MSA|AA|MSG0001");
    assert!(ack.first("ERR").is_none());
}

#[test]
fn ack_error_carries_location_code_and_text() {
    let original = parse(ORIGINAL_JIS);
    // The second OBX is segment 4; ERR-2's sequence is its occurrence (2).
    let location = Location {
        component: None,
        ..original.segment(4).unwrap().field_location(5)
    };
    let error = AckError {
        location: Some(&location),
        hl7_error_code: "101",
        severity: 'E',
        text: "OBX-5 is required when OBX-11 is F | final",
    };
    let reply = build_ack(
        &original,
        AckCode::Error,
        Some(&error),
        "20240401120001",
        "A2",
    );
    let ack = parse(&reply);
    assert_eq!(ack.first("MSA").unwrap().field(1).text(), "AE");
    let err = ack.first("ERR").unwrap();
    assert_eq!(err.field(2).raw(), "OBX^2^5");
    assert_eq!(err.field(3).raw(), "101^Required field missing^HL70357");
    assert_eq!(err.field(4).text(), "E");
    // The text is escaped on the way out and comes back intact.
    assert_eq!(err.field(8).text(), error.text);
    assert!(err.field(8).raw().contains("\\F\\"));
    // Location::erl alone uses the position in the message.
    assert_eq!(location.erl(original.delimiters()), "OBX^4^5");
}

#[test]
fn ack_in_utf8_and_latin1() {
    let utf8 = parse(
        "MSH|^~\\&|Läbor|Haus|GW|RCV|1||ORU^R01^ORU_R01|X9|T|2.5.1||||||UNICODE UTF-8\rPID|1"
            .as_bytes(),
    );
    let reply = build_ack(&utf8, AckCode::Accept, None, "20240401", "1");
    assert!(std::str::from_utf8(&reply)
        .unwrap()
        .contains("|GW|RCV|Läbor|Haus|"));
    let latin = parse(b"MSH|^~\\&|L\xe4bor|H|GW|RCV|1||ORU^R01|X9|T|2.5||||||8859/1\rPID|1");
    let reply = build_ack(&latin, AckCode::Reject, None, "20240401", "1");
    assert!(reply.windows(5).any(|w| w == b"L\xe4bor"));
    let ack = parse(&reply);
    assert_eq!(ack.segment(1).unwrap().field(5).text(), "Läbor");
    assert_eq!(ack.segment(1).unwrap().field(9).raw(), "ACK^R01^ACK");
    assert_eq!(ack.segment(1).unwrap().field(11).text(), "T");
    assert_eq!(ack.first("MSA").unwrap().raw(), "MSA|AR|X9");
}

#[test]
fn reject_for_unparsable_reads_what_it_can() {
    // Declared UTF-8 but holding a Latin-1 byte in PID-5.
    let bytes = b"\x0bMSH|^~\\&|LAB|H|GW|RCV|1||ORU^R01^ORU_R01|CTL42|P|2.5||||||UNICODE UTF-8\rPID|1||123||M\xfcller\r\x1c\r";
    let error = Message::parse(bytes, &DecodeOptions::default()).unwrap_err();
    let reply = build_reject_for_unparsable(bytes, &error, "20240401120001", "R1");
    let ack = parse(&reply);
    let msh = ack.segment(1).unwrap();
    assert_eq!(msh.field(3).text(), "GW");
    assert_eq!(msh.field(5).text(), "LAB");
    assert_eq!(msh.field(9).raw(), "ACK^R01^ACK");
    assert_eq!(msh.field(18).raw(), "UNICODE UTF-8");
    assert_eq!(ack.first("MSA").unwrap().raw(), "MSA|AR|CTL42");
    let err = ack.first("ERR").unwrap();
    assert_eq!(err.field(2).raw(), "PID^1^5^1^1^1");
    assert_eq!(err.field(3).component(1).text(), "102");
    assert_eq!(err.field(8).text(), error.to_string());
}

#[test]
fn reject_for_garbage_is_still_a_valid_ack() {
    for bytes in [&b"\xfb\xfc"[..], b"", b"MSH", b"MSH|^|x", b"\x0b\x1c\r"] {
        let error = Message::parse(bytes, &DecodeOptions::default()).unwrap_err();
        let reply = build_reject_for_unparsable(bytes, &error, "20240401", "R2");
        let ack = parse(&reply);
        assert_eq!(ack.segment(1).unwrap().field(9).raw(), "ACK");
        assert_eq!(ack.control_id(), "R2");
        let msa = ack.first("MSA").unwrap();
        assert_eq!(msa.field(1).text(), "AR");
        assert!(msa.field(2).is_empty());
        let err = ack.first("ERR").unwrap();
        assert_eq!(err.field(3).component(3).text(), "HL70357");
        assert_eq!(err.field(8).text(), error.to_string());
    }
}
