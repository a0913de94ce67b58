//! The core suite against the real gateway (in-process, real loopback HTTP, real SQLite file):
//! everything passes, twice in a row (the scripts clean up after themselves), within 30 s;
//! and the binary exits 0 with a consistent JUnit report.

mod common;

use common::{engine, run_suite, suite_dir, GatewayServer};
use std::time::Instant;
use tsunagi_conformance::Status;

fn failures(results: &[tsunagi_conformance::ScriptResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|script| {
            let load = script
                .load_error
                .iter()
                .map(move |error| format!("{}: {error}", script.name));
            let actions = script.cases().into_iter().flat_map(move |case| {
                case.actions
                    .iter()
                    .filter(|action| matches!(action.status, Status::Fail | Status::Error))
                    .map(move |action| {
                        format!(
                            "{} › {} › {}: {}",
                            script.name, case.name, action.title, action.message
                        )
                    })
            });
            load.chain(actions).collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_suite_passes_against_the_gateway() {
    let server = GatewayServer::start();
    let engine = engine(&server.base);
    for round in 1..=2 {
        let started = Instant::now();
        let results = run_suite(&engine, &suite_dir("core")).await;
        let elapsed = started.elapsed();
        println!("core suite round {round}: {:.2} s", elapsed.as_secs_f64());
        assert_eq!(failures(&results), Vec::<String>::new());
        let tests: usize = results.iter().map(|script| script.tests.len()).sum();
        assert!(tests >= 25, "{tests} tests");
        assert!(results
            .iter()
            .flat_map(|script| &script.tests)
            .all(|test| test.status == Status::Pass));
        assert!(elapsed.as_secs() < 30, "core suite took {elapsed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exits_0_against_the_gateway() {
    let server = GatewayServer::start();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("core.xml");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagi-conformance"))
        .args(["run", "--server", &server.base, "--junit"])
        .arg(&junit)
        .arg(suite_dir("core"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\nPASS — "), "{stdout}");
    let shape = common::junit_shape::read(&std::fs::read_to_string(&junit).unwrap());
    shape.assert_consistent();
    assert_eq!((shape.total("failures"), shape.total("errors")), (0, 0));
    assert!(shape.cases >= 25);
}
