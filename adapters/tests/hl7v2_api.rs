//! The public entry points of the HL7 v2 adapter as the gateway uses them: one message, a
//! file of several (MLLP-framed here), an already parsed message, the adapter registry, and
//! the errors' locations and HL7 error codes.

use std::path::Path;
use tsunagi_adapters::adapter::{adapter, detect, AdapterError};
use tsunagi_adapters::hl7v2::er7::{DecodeOptions, Message};
use tsunagi_adapters::hl7v2::{
    convert, convert_all, convert_message, report_location, Hl7Error, Hl7Options,
};
use tsunagi_adapters::SourceContext;

fn golden(case: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/hl7v2/{case}.hl7"));
    std::fs::read(path).expect("golden input")
}

fn ctx() -> SourceContext {
    SourceContext::new("api-hospital", "+09:00")
}

fn mllp(message: &[u8]) -> Vec<u8> {
    let mut framed = vec![0x0B];
    framed.extend_from_slice(message);
    framed.extend_from_slice(&[0x1C, 0x0D]);
    framed
}

#[test]
fn a_file_of_several_messages_converts_each_on_its_own() {
    let mut file = mllp(&golden("orm_o01_nw"));
    file.extend(mllp(&golden("unsupported_rde_o11")));
    file.extend(mllp(&golden("adt_a04")));
    let results = convert_all(&file, &ctx(), &Hl7Options::default());
    assert_eq!(results.len(), 3);
    assert_eq!(
        results
            .iter()
            .map(|(raw, _)| raw.ordinal)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(results[0].1.is_ok());
    assert!(matches!(
        results[1].1,
        Err(Hl7Error::UnsupportedMessageType { .. })
    ));
    assert!(results[2].1.is_ok());
    // The message converted from the file gives the same resources, with the same ids, as the
    // message converted alone; only the Binary's bytes differ (the file's framing is trimmed).
    let alone = convert(&golden("adt_a04"), &ctx(), &Hl7Options::default()).expect("converts");
    let from_file = results[2].1.as_ref().expect("converts");
    let entries = |bundle: &serde_json::Value| bundle["entry"].as_array().expect("entries").clone();
    let (alone, from_file) = (entries(&alone.bundle()), entries(&from_file.bundle()));
    assert_eq!(alone.len(), from_file.len());
    for (one, other) in alone.iter().zip(&from_file) {
        assert_eq!(one["fullUrl"], other["fullUrl"]);
        if one["resource"]["resourceType"] != "Binary" {
            assert_eq!(one, other);
        }
    }
}

#[test]
fn an_already_parsed_message_converts_the_same() {
    let bytes = golden("oru_r01_lab");
    let message = Message::parse(&bytes, &DecodeOptions::default()).expect("parses");
    let parsed = convert_message(&message, &bytes, &ctx()).expect("converts");
    let direct = convert(&bytes, &ctx(), &Hl7Options::default()).expect("converts");
    assert_eq!(parsed.bundle_json, direct.bundle_json);
    assert_eq!(parsed.source_binary_id, direct.source_binary_id);
    assert_eq!(parsed.report, direct.report);
}

#[test]
fn errors_carry_their_location_and_hl7_code() {
    let unsupported = convert(
        &golden("unsupported_rde_o11"),
        &ctx(),
        &Hl7Options::default(),
    )
    .expect_err("refused");
    assert_eq!(unsupported.hl7_error_code(), "200");
    assert_eq!(
        report_location(unsupported.location().expect("located")),
        "MSH[1]-9"
    );

    let missing_pid3 = convert(
        &golden("broken_pid3_missing"),
        &ctx(),
        &Hl7Options::default(),
    )
    .expect_err("refused");
    assert_eq!(missing_pid3.hl7_error_code(), "101");
    assert_eq!(
        report_location(missing_pid3.location().expect("located")),
        "PID[2]-3"
    );
    assert!(missing_pid3.to_string().contains("PID-3"));

    let trigger = b"MSH|^~\\&|A|B|C|D|20240101||ADT^A60^ADT_A60|1|P|2.5\rPID|1||X1\r";
    let error = convert(trigger, &ctx(), &Hl7Options::default()).expect_err("refused");
    assert_eq!(
        error.hl7_error_code(),
        "201",
        "known type, unknown trigger event"
    );

    let garbage = convert(b"not hl7 at all", &ctx(), &Hl7Options::default()).expect_err("refused");
    assert!(matches!(garbage, Hl7Error::Parse(_)));

    let no_time = b"MSH|^~\\&|A|B|C|D|||ADT^A04^ADT_A04|1|P|2.5\rPID|1||X1\r";
    let error = convert(no_time, &ctx(), &Hl7Options::default()).expect_err("refused");
    assert_eq!(
        report_location(error.location().expect("located")),
        "MSH[1]-7"
    );
}

#[test]
fn the_registry_finds_and_runs_the_hl7v2_adapter() {
    let bytes = mllp(&golden("adt_a01"));
    let found = detect(&bytes).expect("detected");
    assert_eq!(found.id(), "hl7v2");
    let units = adapter("hl7v2")
        .expect("registered")
        .convert_all(&bytes, &ctx());
    assert_eq!(units.len(), 1);
    assert!(units[0].result.is_ok());
    let broken = adapter("hl7v2")
        .expect("registered")
        .convert_all(&golden("broken_pid3_missing"), &ctx());
    assert!(matches!(
        broken[0].result,
        Err(AdapterError::Hl7(Hl7Error::Mapping { .. }))
    ));
}

/// 画像 in ISO-2022-JP is the bytes `2hA|`: a `|` inside a kanji run must not split OBR-4.
#[test]
fn hl7v2_jis_delimiter_inside_kanji() {
    let bytes = golden("omg_o19_jis");
    assert!(
        bytes.windows(4).any(|window| window == b"2hA|"),
        "the fixture holds the bytes"
    );
    let conversion = convert(&bytes, &ctx(), &Hl7Options::default()).expect("converts");
    let bundle = conversion.bundle();
    let entries = bundle["entry"].as_array().expect("entries");
    let order = entries
        .iter()
        .map(|entry| &entry["resource"])
        .find(|resource| resource["resourceType"] == "ServiceRequest")
        .expect("a ServiceRequest");
    assert_eq!(order["code"]["coding"][0]["display"], "胸部ＣＴ画像検査");
    assert_eq!(
        order["code"]["coding"][0]["code"],
        "32000000000000000000000000000000"
    );
    assert_eq!(
        order["reasonCode"][0]["text"], "肺結節の精査",
        "the fields after OBR-4 stay in place"
    );
}
