//! The onboarding suite against the real gateway: the sample exports go through `$ingest` and
//! every check passes, except the gateway defects listed in `KNOWN_GAPS` (each must still fail,
//! so the entry is removed when the gateway is fixed).

mod common;

use common::{engine, run_suite, suite_dir, GatewayServer};
use tsunagi_conformance::Status;

/// (test id, assert title, why it fails today) of gateway defects not fixed yet; each must
/// still fail, so a fixed one is removed here.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_suite_passes_against_the_gateway() {
    let server = GatewayServer::start();
    let results = run_suite(&engine(&server.base), &suite_dir("onboarding")).await;
    assert_eq!(results.len(), 1);
    let script = &results[0];
    assert_eq!(script.load_error, None);
    assert!(
        !script.setup.as_ref().unwrap().failed(),
        "{:?}",
        script.setup
    );
    let mut gaps_seen = Vec::new();
    for test in &script.tests {
        assert_ne!(test.status, Status::Skip, "{} skipped", test.id);
        for action in &test.actions {
            if !matches!(action.status, Status::Fail | Status::Error) {
                continue;
            }
            let known = KNOWN_GAPS
                .iter()
                .any(|(id, title, _)| *id == test.id && *title == action.title);
            assert!(
                known,
                "{} › {}: {}",
                test.name, action.title, action.message
            );
            gaps_seen.push(action.title.clone());
        }
    }
    let expected: Vec<String> = KNOWN_GAPS
        .iter()
        .map(|(_, title, _)| title.to_string())
        .collect();
    assert_eq!(
        gaps_seen, expected,
        "a known gap passes now: remove it from KNOWN_GAPS"
    );
    let ids: Vec<&str> = script.tests.iter().map(|test| test.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "service-request",
            "patient",
            "imaging-study",
            "diagnostic-report",
            "outcome",
            "resend"
        ]
    );
}
