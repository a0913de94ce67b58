//! Acceptance: every official R4 JSON example the model parses survives PUT then GET unchanged
//! (apart from meta.versionId/lastUpdated), as JSON and as XML parsed back. Numbers are compared
//! by their exact decimal text (serde_json runs with arbitrary_precision). The report lists what
//! the model cannot parse and why; it is also written to the temp dir.

mod common;

use common::examples::{example_files, r4_examples_dir};
use common::{without_version_meta, TestServer};
use serde_json::Value;
use std::fmt::Write as _;
use tsunagi_gateway::config::{Synchronous, ValidationMode};
use tsunagi_profiles::{ParseLimits, Resource};

/// Requests in flight at once; examples sharing a type/id always go to the same lane, in order.
const LANES: usize = 4;

/// What happened to one example file.
enum Verdict {
    Passed,
    Refused(String),
    Mismatch(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parseable_r4_example_round_trips_through_put_and_get() {
    let Some(dir) = r4_examples_dir() else { return };
    let files = example_files(&dir);
    assert!(
        files.len() > 5000,
        "expected the 5,300-odd examples, found {}",
        files.len()
    );
    let server = TestServer::start_with(|config| {
        config.cache.max_bytes = 0; // every GET reads the store
        config.sqlite.synchronous = Synchronous::Normal;
        config.limits.max_body_bytes = 64 << 20;
        // This test is about storage round trips; profile validation of every example (four
        // times slower in a debug build) belongs to the validator's own suite.
        config.validation.mode = ValidationMode::Off;
    });
    // The package holds two Bundles of 20 and 35 MB: test them too.
    let limits = ParseLimits {
        max_bytes: 64 << 20,
        ..ParseLimits::default()
    };

    let mut unparseable = Vec::new();
    let mut without_id = Vec::new();
    let mut lanes: Vec<Vec<(String, Vec<u8>, Resource)>> = (0..LANES).map(|_| Vec::new()).collect();
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let bytes = std::fs::read(file).expect("read example");
        match Resource::from_json(&bytes, &limits) {
            Err(error) => unparseable.push(format!("{name}: {error}")),
            Ok(resource) => match resource.id() {
                None => without_id.push(name),
                Some(id) => {
                    let lane = lane_of(resource.resource_type(), id);
                    lanes[lane].push((name, bytes, resource));
                }
            },
        }
    }

    let verdicts = futures_util::future::join_all(lanes.into_iter().map(|lane| {
        let server = &server;
        async move {
            let mut verdicts = Vec::new();
            for (name, bytes, resource) in lane {
                verdicts.push((name, round_trip(server, bytes, resource).await));
            }
            verdicts
        }
    }))
    .await;

    let (mut passed, mut refused, mut mismatches) = (0usize, Vec::new(), Vec::new());
    for (name, verdict) in verdicts.into_iter().flatten() {
        match verdict {
            Verdict::Passed => passed += 1,
            Verdict::Refused(reason) => refused.push(format!("{name}: {reason}")),
            Verdict::Mismatch(reason) => mismatches.push(format!("{name}: {reason}")),
        }
    }
    refused.sort();
    mismatches.sort();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "R4 examples: {} files, {passed} round-trip as JSON and XML, {} not parseable by the model, {} refused by the R4 id rule, {} without id, {} mismatches",
        files.len(),
        unparseable.len(),
        refused.len(),
        without_id.len(),
        mismatches.len()
    );
    for line in unparseable.iter().chain(&refused).chain(&mismatches) {
        let _ = writeln!(report, "  {line}");
    }
    eprintln!("{report}");
    let _ = std::fs::write(
        std::env::temp_dir().join("tsunagi-r4-examples-report.txt"),
        &report,
    );
    assert!(mismatches.is_empty(), "{report}");
    assert!(passed > 5000, "{report}");
}

fn lane_of(resource_type: &str, id: &str) -> usize {
    let hash = resource_type
        .bytes()
        .chain(id.bytes())
        .fold(0usize, |hash, byte| {
            hash.wrapping_mul(31).wrapping_add(byte as usize)
        });
    hash % LANES
}

async fn round_trip(server: &TestServer, bytes: Vec<u8>, resource: Resource) -> Verdict {
    let id = resource.id().unwrap_or_default().to_owned();
    let path = format!("{}/{id}", resource.resource_type());
    let original = without_version_meta(resource.into_value());
    let put = server
        .client
        .put(server.url(&path))
        .header("Content-Type", "application/fhir+json")
        .body(bytes)
        .send()
        .await
        .expect("PUT sent");
    let status = put.status().as_u16();
    if status == 400 && !fhir_id_is_valid(&id) {
        // R4 ids are at most 64 characters; the server refuses longer ones, as it should.
        return Verdict::Refused(format!("id '{id}' breaks the R4 id rule; answered 400"));
    }
    if status != 200 && status != 201 {
        let body = put.text().await.unwrap_or_default();
        return Verdict::Mismatch(format!("PUT answered {status}: {body}"));
    }
    let (status, json) = server.get_json(&path).await;
    let json = without_version_meta(json);
    if status != 200 || json != original {
        return Verdict::Mismatch(format!(
            "JSON GET ({status}) differs: {}",
            first_difference(&original, &json)
        ));
    }
    let xml = server
        .client
        .get(server.url(&format!("{path}?_format=xml")))
        .send()
        .await
        .expect("GET xml sent")
        .bytes()
        .await
        .expect("xml body");
    let limits = ParseLimits {
        max_bytes: 64 << 20,
        ..ParseLimits::default()
    };
    match Resource::from_xml(&xml, &limits) {
        Ok(back) => {
            let back = without_version_meta(back.into_value());
            if back == original {
                Verdict::Passed
            } else {
                Verdict::Mismatch(format!(
                    "XML differs: {}",
                    first_difference(&original, &back)
                ))
            }
        }
        Err(error) => Verdict::Mismatch(format!("XML does not parse back: {error}")),
    }
}

/// The R4 id rule: 1-64 of `A-Z a-z 0-9 - .`.
fn fhir_id_is_valid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
}

/// A short description of where two JSON values first differ.
fn first_difference(expected: &Value, actual: &Value) -> String {
    fn walk(path: &str, expected: &Value, actual: &Value) -> Option<String> {
        match (expected, actual) {
            (Value::Object(left), Value::Object(right)) => {
                for (key, value) in left {
                    let child = format!("{path}.{key}");
                    match right.get(key) {
                        None => return Some(format!("{child} missing")),
                        Some(other) => {
                            if let Some(found) = walk(&child, value, other) {
                                return Some(found);
                            }
                        }
                    }
                }
                right
                    .keys()
                    .find(|key| !left.contains_key(*key))
                    .map(|key| format!("{path}.{key} added"))
            }
            (Value::Array(left), Value::Array(right)) if left.len() == right.len() => left
                .iter()
                .zip(right)
                .enumerate()
                .find_map(|(index, (l, r))| walk(&format!("{path}[{index}]"), l, r)),
            _ if expected == actual => None,
            _ => Some(format!("{path}: {expected} vs {actual}")),
        }
    }
    let difference = walk("", expected, actual).unwrap_or_else(|| "no difference found".into());
    difference.chars().take(300).collect()
}
