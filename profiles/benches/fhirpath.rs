//! FHIRPath benchmarks (criterion).
//!
//! `evaluate_10k`: each of 20 common R4 search-parameter expressions evaluated (search view,
//! [`Expression::evaluate`]) over 10,000 resources: the R4 example package
//! (`~/.cache/tsunagi-fixtures/hl7.fhir.r4.examples-4.0.1/package`, or under
//! `TSUNAGI_FIXTURE_CACHE`) cycled to 10,000; criterion's throughput is evaluations per second.
//! `parse`: parsing a long expression; `compile_cached_hit`: a cache lookup of it. Run:
//! `cargo bench -p tsunagi-profiles --bench fhirpath -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use tsunagi_profiles::fhirpath::{compile_cached, Expression};

const RESOURCES: usize = 10_000;

/// Common R4 search-parameter expressions (as the R4 SearchParameter resources write them).
const EXPRESSIONS: [&str; 20] = [
    "Patient.name",
    "Observation.code",
    "Observation.subject",
    "(Observation.value as Quantity) | (Observation.value as SampledData)",
    "DiagnosticReport.result",
    "ServiceRequest.status",
    "Resource.id",
    "Resource.meta.lastUpdated",
    "Patient.birthDate",
    "Patient.identifier",
    "Observation.effective",
    "Encounter.subject",
    "Condition.code",
    "Observation.subject.where(resolve() is Patient)",
    "Patient.telecom.where(system='phone')",
    "Patient.address.city",
    "Practitioner.name",
    "Resource.meta.tag",
    "Patient.gender",
    "Patient.deceased.exists() and Patient.deceased != false",
];

/// A long expression for the parse figures: R4's `clinical-patient` union.
const LONG_EXPRESSION: &str = "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | CareTeam.subject.where(resolve() is Patient) | ClinicalImpression.subject.where(resolve() is Patient) | Composition.subject.where(resolve() is Patient) | Condition.subject.where(resolve() is Patient) | Consent.patient | DetectedIssue.patient | DeviceRequest.subject.where(resolve() is Patient) | DeviceUseStatement.subject | DiagnosticReport.subject.where(resolve() is Patient) | DocumentManifest.subject.where(resolve() is Patient) | DocumentReference.subject.where(resolve() is Patient) | Encounter.subject.where(resolve() is Patient) | EpisodeOfCare.patient | FamilyMemberHistory.patient | Flag.subject.where(resolve() is Patient) | Goal.subject.where(resolve() is Patient) | ImagingStudy.subject.where(resolve() is Patient) | Immunization.patient | List.subject.where(resolve() is Patient) | MedicationAdministration.subject.where(resolve() is Patient) | MedicationDispense.subject.where(resolve() is Patient) | MedicationRequest.subject.where(resolve() is Patient) | MedicationStatement.subject.where(resolve() is Patient) | NutritionOrder.patient | Observation.subject.where(resolve() is Patient) | Procedure.subject.where(resolve() is Patient) | RiskAssessment.subject.where(resolve() is Patient) | ServiceRequest.subject.where(resolve() is Patient) | SupplyDelivery.patient | VisionPrescription.patient";

fn package_folder() -> Option<PathBuf> {
    let root = std::env::var_os("TSUNAGI_FIXTURE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    let folder = root.join("tsunagi-fixtures/hl7.fhir.r4.examples-4.0.1/package");
    folder.is_dir().then_some(folder)
}

/// The example resources cycled to [`RESOURCES`].
fn resources() -> Vec<Value> {
    let Some(folder) = package_folder() else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let examples: Vec<Value> = paths
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter(|value| value.get("resourceType").is_some_and(Value::is_string))
        .collect();
    examples.iter().cycle().take(RESOURCES).cloned().collect()
}

fn evaluate_10k(c: &mut Criterion) {
    let resources = resources();
    if resources.is_empty() {
        eprintln!("SKIPPED: the R4 example package is not in ~/.cache/tsunagi-fixtures");
        return;
    }
    let mut group = c.benchmark_group("evaluate_10k");
    group.throughput(Throughput::Elements(resources.len() as u64));
    for text in EXPRESSIONS {
        let expression = Expression::parse(text).expect("R4 expression parses");
        group.bench_function(text, |b| {
            b.iter(|| {
                let mut found = 0;
                for resource in &resources {
                    found += black_box(expression.evaluate(resource)).len();
                }
                found
            });
        });
    }
    group.finish();
}

fn parse_and_cache(c: &mut Criterion) {
    c.bench_function("parse", |b| {
        b.iter(|| Expression::parse(black_box(LONG_EXPRESSION)));
    });
    c.bench_function("parse_short", |b| {
        b.iter(|| Expression::parse(black_box("Observation.value.as(Quantity).value")));
    });
    compile_cached(LONG_EXPRESSION).expect("parses");
    c.bench_function("compile_cached_hit", |b| {
        b.iter(|| compile_cached(black_box(LONG_EXPRESSION)));
    });
}

criterion_group!(benches, evaluate_10k, parse_and_cache);
criterion_main!(benches);
