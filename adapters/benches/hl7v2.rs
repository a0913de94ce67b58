//! HL7 v2 benchmarks.
//!
//! `er7_parse`: parse the made-up ORU^R01 with 10 OBX in `benches/data/oru_r01_10obx.hl7`,
//! one message per iteration so criterion reports messages per second: parse only; parse and
//! read every field's text; parse and read every component of every repetition (more than a
//! mapping ever reads); and an SS-MIX2-style ISO-2022-JP ADT^A08 (decoded before it is
//! split). Run with
//! `cargo bench -p tsunagi-adapters --bench hl7v2 -- er7_parse`; the peer figures for the same
//! file come from `benches/peers/hl7v2/run.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsunagi_adapters::hl7v2::er7::{DecodeOptions, Message};

const ORU_R01_10OBX: &[u8] = include_bytes!("data/oru_r01_10obx.hl7");
const ADT_A08_ISO2022JP: &[u8] = include_bytes!("data/adt_a08_iso2022jp.hl7");

/// Parses and reads the unescaped text of every field; returns the total text length so
/// nothing is optimised away.
fn parse_and_touch_fields(bytes: &[u8], opts: &DecodeOptions) -> usize {
    let message = Message::parse(bytes, opts).expect("the benchmark message parses");
    let mut total = 0;
    for segment in message.segments() {
        for n in 1..=segment.field_count() {
            total += segment.field(n).text().len();
        }
    }
    total
}

/// Parses and reads the unescaped text of every component of every repetition of every
/// field.
fn parse_and_touch_components(bytes: &[u8], opts: &DecodeOptions) -> usize {
    let message = Message::parse(bytes, opts).expect("the benchmark message parses");
    let mut total = 0;
    for segment in message.segments() {
        for n in 1..=segment.field_count() {
            for repetition in segment.field(n).repetitions() {
                for component in repetition.components() {
                    total += component.text().len();
                }
            }
        }
    }
    total
}

fn er7_parse(c: &mut Criterion) {
    let opts = DecodeOptions::default();
    assert!(parse_and_touch_fields(ORU_R01_10OBX, &opts) > 500);
    assert!(parse_and_touch_components(ORU_R01_10OBX, &opts) > 1000);
    let mut group = c.benchmark_group("er7_parse");
    group.throughput(Throughput::Elements(1));
    group.bench_function("oru_r01_10obx_parse_only", |b| {
        b.iter(|| Message::parse(black_box(ORU_R01_10OBX), &opts).map(|m| m.segment_count()))
    });
    group.bench_function("oru_r01_10obx_parse_and_touch_fields", |b| {
        b.iter(|| parse_and_touch_fields(black_box(ORU_R01_10OBX), &opts))
    });
    group.bench_function("oru_r01_10obx_parse_and_touch_components", |b| {
        b.iter(|| parse_and_touch_components(black_box(ORU_R01_10OBX), &opts))
    });
    assert!(parse_and_touch_fields(ADT_A08_ISO2022JP, &opts) > 100);
    group.bench_function("adt_a08_iso2022jp_parse_and_touch_fields", |b| {
        b.iter(|| parse_and_touch_fields(black_box(ADT_A08_ISO2022JP), &opts))
    });
    group.finish();
}

/// `hl7v2_convert`: the whole conversion of the same ORU^R01 (parse, map to a transaction
/// Bundle with its report, written as compact JSON bytes), one message per iteration. Run with `cargo bench -p tsunagi-adapters --bench hl7v2 -- hl7v2_convert`.
fn hl7v2_convert(c: &mut Criterion) {
    use tsunagi_adapters::hl7v2::{convert, Hl7Options};
    use tsunagi_adapters::SourceContext;
    let ctx = SourceContext::new("bench-hospital", "+09:00");
    let opts = Hl7Options::default();
    let convert_to_json = |bytes: &[u8]| {
        let conversion = convert(bytes, &ctx, &opts).expect("the benchmark message converts");
        conversion.bundle_json
    };
    assert!(convert_to_json(ORU_R01_10OBX).len() > 5_000);
    let mut group = c.benchmark_group("hl7v2_convert");
    group.throughput(Throughput::Elements(1));
    group.bench_function("oru_r01_10obx_to_bundle_json", |b| {
        b.iter(|| convert_to_json(black_box(ORU_R01_10OBX)))
    });
    group.finish();
}

criterion_group!(benches, er7_parse, hl7v2_convert);
criterion_main!(benches);
