//! Acceptance: every official R4 JSON example the model parses survives PUT then GET unchanged
//! (apart from meta.versionId/lastUpdated), as JSON and as XML parsed back. Numbers are compared
//! by their exact decimal text (serde_json runs with arbitrary_precision).

mod common;

use common::examples::{example_files, r4_examples_dir};
use common::{without_version_meta, TestServer};
use serde_json::Value;
use std::fmt::Write as _;
use tsunagi_profiles::{ParseLimits, Resource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parseable_r4_example_round_trips_through_put_and_get() {
    let Some(dir) = r4_examples_dir() else { return };
    let files = example_files(&dir);
    assert!(
        files.len() > 5000,
        "expected the 5,300-odd examples, found {}",
        files.len()
    );
    let server = TestServer::start_with(|config| config.cache.max_bytes = 0);
    let limits = ParseLimits::default();

    let mut unparseable = Vec::new();
    let mut without_id = Vec::new();
    let mut refused = Vec::new();
    let mut mismatches = Vec::new();
    let mut passed = 0usize;
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let bytes = std::fs::read(file).expect("read example");
        let resource = match Resource::from_json(&bytes, &limits) {
            Ok(resource) => resource,
            Err(error) => {
                unparseable.push(format!("{name}: {error}"));
                continue;
            }
        };
        let Some(id) = resource.id().map(str::to_owned) else {
            without_id.push(name);
            continue;
        };
        let path = format!("{}/{id}", resource.resource_type());
        let original = without_version_meta(resource.as_value().clone());
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
            refused.push(format!(
                "{name}: id '{id}' breaks the R4 id rule; refused with 400"
            ));
            continue;
        }
        if status != 200 && status != 201 {
            let body = put.text().await.unwrap_or_default();
            mismatches.push(format!("{name}: PUT answered {status}: {body}"));
            continue;
        }
        let (status, json) = server.get_json(&path).await;
        if status != 200 || without_version_meta(json.clone()) != original {
            mismatches.push(format!("{name}: JSON GET ({status}) differs"));
            continue;
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
        match Resource::from_xml(&xml, &limits) {
            Ok(back) if without_version_meta(back.as_value().clone()) == original => passed += 1,
            Ok(back) => mismatches.push(format!(
                "{name}: XML differs: {}",
                first_difference(&original, &without_version_meta(back.into_value()))
            )),
            Err(error) => mismatches.push(format!("{name}: XML does not parse back: {error}")),
        }
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "R4 examples: {} files, {passed} round-trip as JSON and XML, {} not parseable by the model, {} refused by id rules, {} without id, {} mismatches",
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
    walk("", expected, actual).unwrap_or_else(|| "no difference found".into())
}
