//! Validation benchmark (criterion): parse + validate, from the JSON text, a DiagnosticReport
//! with 5 contained Observations (`profiles/benches/data/diagnostic-report-5-obs.json`, made
//! up) against base R4 — the same work `benches/peers/validate/run.sh` times for the npm
//! packages `fhir` and `@medplum/core`. Definitions are loaded and compiled once, outside the
//! measured loop, as the peers do. Also: the same resource validated from an already-parsed
//! value, and against the JP Core DiagnosticReport radiology profile. Run:
//! `cargo bench -p tsunagi-profiles --bench validate -- --warm-up-time 2 --measurement-time 5`;
//! resources per second = 1 / the time per iteration.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsunagi_profiles::validate::{ValidateOptions, Validator};
use tsunagi_profiles::Format;

const REPORT: &[u8] = include_bytes!("data/diagnostic-report-5-obs.json");
const JP_RADIOLOGY: &str =
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_DiagnosticReport_Radiology";

fn validate(c: &mut Criterion) {
    let validator = Validator::r4_core();
    let base = ValidateOptions::default();
    let outcome = validator.validate_bytes(REPORT, Format::Json, &base);
    assert!(
        outcome.is_valid(),
        "the fixture is valid: {:?}",
        outcome.issues
    );
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_and_validate_dr_5_obs", |b| {
        b.iter(|| validator.validate_bytes(black_box(REPORT), Format::Json, &base))
    });
    let value: serde_json::Value = serde_json::from_slice(REPORT).unwrap_or_default();
    group.bench_function("validate_parsed_dr_5_obs", |b| {
        b.iter(|| validator.validate(black_box(&value), &base))
    });
    let jp = ValidateOptions {
        profiles: vec![JP_RADIOLOGY.to_owned()],
        ..ValidateOptions::default()
    };
    group.bench_function("validate_parsed_dr_5_obs_jp_radiology", |b| {
        b.iter(|| validator.validate(black_box(&value), &jp))
    });
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
