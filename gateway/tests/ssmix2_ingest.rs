//! Bulk ingest of a generated SS-MIX2 tree (300 made-up patients,
//! `tsunagi_adapters::ssmix2::generate`) into real SQLite files: ingesting twice leaves the store
//! as once; interrupted at half and resumed leaves the same store (history included) as an
//! uninterrupted run; superseded versions are history, deleted records are marked, names come
//! out in kanji and kana; a dry run stores nothing; and the `tsunagi ingest` binary writes its
//! JSON report and resumes from its checkpoint.

use rusqlite::Connection;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tsunagi_adapters::hl7v2::Hl7Options;
use tsunagi_adapters::ssmix2::generate;
use tsunagi_adapters::SourceContext;
use tsunagi_gateway::config::Config;
use tsunagi_gateway::ingest_cli::engine::Target;
use tsunagi_gateway::ingest_cli::summary::Summary;
use tsunagi_gateway::ingest_cli::{ingest_ssmix2, BulkOptions};
use tsunagi_gateway::store::{SqliteStore, Store};
use tsunagi_gateway::Gateway;

const PATIENTS: usize = 300;
const INSTITUTION: &str = "bulk-test-hospital";

/// A temporary folder removed at the end.
struct Temp(PathBuf);

impl Temp {
    fn new(label: &str) -> Temp {
        let path = std::env::temp_dir().join(format!(
            "tsunagi-ssmix2-{label}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Temp(path)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_tree(root: &Path, patients: usize) {
    for file in generate::generate(patients) {
        let path = root.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.bytes).unwrap();
    }
}

fn context() -> SourceContext {
    SourceContext::new(INSTITUTION, "+09:00")
}

fn options(checkpoint: &Path, resume: bool, stop_after: Option<usize>) -> BulkOptions {
    BulkOptions {
        workers: 2,
        batch_messages: 50,
        max_entries: 1000,
        resume,
        checkpoint: checkpoint.to_path_buf(),
        stop_after,
    }
}

/// Ingests `tree` into the SQLite file `db` (`None`: dry run).
fn ingest(tree: &Path, db: Option<&Path>, options: &BulkOptions) -> Summary {
    let runtime = actix_web::rt::System::new();
    let cancel = AtomicBool::new(false);
    let Some(db) = db else {
        return ingest_ssmix2(
            tree,
            &context(),
            &Hl7Options::default(),
            options,
            None,
            &cancel,
            false,
        )
        .unwrap();
    };
    let config = Config::default();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db, &config.sqlite).unwrap());
    let gateway = Gateway::new(config, store.clone()).unwrap();
    let target = Target {
        gateway: &gateway,
        store: &store,
        runtime: &runtime,
    };
    ingest_ssmix2(
        tree,
        &context(),
        &Hl7Options::default(),
        options,
        Some(&target),
        &cancel,
        false,
    )
    .unwrap()
}

/// Every stored version, `Type/id/version` → body without `meta` (which holds the write time).
fn dump(db: &Path) -> BTreeMap<String, Value> {
    let connection = Connection::open(db).unwrap();
    let mut statement = connection
        .prepare("SELECT res_type, res_id, version, body FROM resource_version")
        .unwrap();
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })
        .unwrap();
    rows.map(|row| {
        let (res_type, id, version, body) = row.unwrap();
        let mut body: Value = body
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .unwrap_or(Value::Null);
        if let Some(object) = body.as_object_mut() {
            object.remove("meta");
        }
        (format!("{res_type}/{id}/{version}"), body)
    })
    .collect()
}

fn versions<'a>(dump: &'a BTreeMap<String, Value>, reference: &str) -> Vec<&'a Value> {
    dump.range(format!("{reference}/")..format!("{reference}0"))
        .map(|(_, body)| body)
        .collect()
}

#[test]
fn ingesting_twice_leaves_the_store_as_once() {
    let temp = Temp::new("twice");
    let tree = temp.0.join("tree");
    write_tree(&tree, PATIENTS);
    let db = temp.0.join("store.db");
    let checkpoint = temp.0.join("checkpoint.json");
    let first = ingest(&tree, Some(&db), &options(&checkpoint, false, None));
    let files = generate::file_count(PATIENTS);
    assert_eq!(first.total_steps, files);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let stored: usize = first.per_data_type.values().map(|c| c.stored).sum();
    assert_eq!(stored, files);
    let once = dump(&db);
    let second = ingest(&tree, Some(&db), &options(&checkpoint, false, None));
    assert_eq!(second.transactions, 0);
    let already: usize = second
        .per_data_type
        .values()
        .map(|c| c.already_stored)
        .sum();
    assert_eq!(already, files);
    assert_eq!(dump(&db), once);
}

#[test]
fn interrupted_at_half_and_resumed_leaves_the_same_store() {
    let temp = Temp::new("resume");
    let tree = temp.0.join("tree");
    write_tree(&tree, PATIENTS);
    let whole_db = temp.0.join("whole.db");
    ingest(
        &tree,
        Some(&whole_db),
        &options(&temp.0.join("whole.json"), false, None),
    );

    let db = temp.0.join("resumed.db");
    let checkpoint = temp.0.join("resumed.json");
    let files = generate::file_count(PATIENTS);
    let half = ingest(
        &tree,
        Some(&db),
        &options(&checkpoint, false, Some(files / 2)),
    );
    assert!(half.interrupted);
    let saved: Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    let done = saved["done"].as_u64().unwrap() as usize;
    assert!(
        done > 0 && done <= files / 2,
        "checkpoint at {done} of {files}"
    );
    assert_ne!(dump(&db), dump(&whole_db));

    let rest = ingest(&tree, Some(&db), &options(&checkpoint, true, None));
    assert!(!rest.interrupted);
    assert_eq!(rest.resumed_from, done);
    assert_eq!(rest.processed, files - done);
    let saved: Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["done"], files);
    assert_eq!(dump(&db), dump(&whole_db));
}

#[test]
fn superseded_versions_are_history_and_deleted_records_are_marked() {
    let temp = Temp::new("versions");
    let tree = temp.0.join("tree");
    write_tree(&tree, 30);
    let db = temp.0.join("store.db");
    ingest(
        &tree,
        Some(&db),
        &options(&temp.0.join("c.json"), false, None),
    );
    let dump = dump(&db);
    // Patient 10: its radiology order was first a plain X-ray, then a CT (the current one).
    let order = versions(
        &dump,
        &format!(
            "ServiceRequest/{}",
            service_request(&dump, "R00000000000010")
        ),
    );
    assert_eq!(order.len(), 2, "{order:?}");
    let code = |version: &Value| {
        version["code"]["coding"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(code(order[0]).starts_with("31"), "older version: X-ray");
    assert!(code(order[1]).starts_with("32"), "current version: CT");
    // Patient 25: the examination order's newest version is deleted: revoked, not removed.
    let exam = versions(
        &dump,
        &format!(
            "ServiceRequest/{}",
            service_request(&dump, "E00000000000025")
        ),
    );
    assert_eq!(exam.len(), 2);
    assert_eq!(exam[0]["status"], "active");
    assert_eq!(exam[1]["status"], "revoked");
    // Names in kanji and kana.
    let patients: Vec<&Value> = dump
        .iter()
        .filter(|(reference, _)| reference.starts_with("Patient/"))
        .map(|(_, body)| body)
        .collect();
    assert_eq!(patients.len(), 30);
    let (kanji, kana) = generate::patient_names(7);
    let seven = patients
        .iter()
        .find(|patient| {
            patient["identifier"]
                .to_string()
                .contains(&generate::patient_id(7))
        })
        .expect("patient 7");
    assert_eq!(seven["name"][0]["text"], kanji.as_str());
    assert_eq!(seven["name"][0]["extension"][0]["valueCode"], "IDE");
    assert_eq!(seven["name"][1]["text"], kana.as_str());
    assert_eq!(seven["name"][1]["extension"][0]["valueCode"], "SYL");
}

/// The id of the ServiceRequest whose identifiers include `order_number`.
fn service_request(dump: &BTreeMap<String, Value>, order_number: &str) -> String {
    dump.iter()
        .find(|(reference, body)| {
            reference.starts_with("ServiceRequest/")
                && body["identifier"].to_string().contains(order_number)
        })
        .map(|(_, body)| body["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no ServiceRequest for {order_number}"))
}

#[test]
fn a_dry_run_converts_and_checks_everything_and_stores_nothing() {
    let temp = Temp::new("dry");
    let tree = temp.0.join("tree");
    write_tree(&tree, 20);
    let checkpoint = temp.0.join("c.json");
    let summary = ingest(&tree, None, &options(&checkpoint, false, None));
    assert!(summary.dry_run);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let checked: usize = summary.per_data_type.values().map(|c| c.stored).sum();
    assert_eq!(checked, generate::file_count(20));
    assert_eq!(summary.transactions, 0);
    assert!(!checkpoint.exists());
}

#[test]
fn the_binary_reports_as_json_and_resumes_from_its_checkpoint() {
    let temp = Temp::new("cli");
    let tree = temp.0.join("tree");
    write_tree(&tree, 40);
    let files = generate::file_count(40);
    let db = temp.0.join("store.db");
    let report = temp.0.join("report.json");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tsunagi"))
            .args(["ingest", "--from", "ssmix2", "--quiet", "--batch", "20"])
            .arg("--db")
            .arg(&db)
            .arg("--report")
            .arg(&report)
            .args(extra)
            .arg(&tree)
            .env("TSUNAGI_INSTITUTION", INSTITUTION)
            .output()
            .unwrap()
    };
    let first = run(&["--stop-after", "60"]);
    assert_eq!(
        first.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json[0]["interrupted"], true);
    let stored_first = json[0]["perDataType"]["ADT-00"]["stored"].as_u64().unwrap();
    assert!(stored_first > 0);
    let second = run(&["--resume"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json[0]["interrupted"], false);
    let resumed_from = json[0]["resumedFrom"].as_u64().unwrap() as usize;
    assert!(resumed_from > 0 && resumed_from <= 60);
    assert_eq!(
        json[0]["processed"].as_u64().unwrap() as usize,
        files - resumed_from
    );
    assert_eq!(json[0]["totalSteps"].as_u64().unwrap() as usize, files);
    assert!(json[0]["perResourceType"]["Patient"].as_u64().unwrap() > 0);
    let text = String::from_utf8_lossy(&second.stderr);
    assert!(text.contains("resumed at"), "{text}");
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_completes_to_the_uninterrupted_store() {
    let temp = Temp::new("sigint");
    let tree = temp.0.join("tree");
    write_tree(&tree, PATIENTS);
    let files = generate::file_count(PATIENTS);
    let whole_db = temp.0.join("whole.db");
    ingest(
        &tree,
        Some(&whole_db),
        &options(&temp.0.join("whole.json"), false, None),
    );

    let db = temp.0.join("store.db");
    let checkpoint = temp.0.join("checkpoint.json");
    let report = temp.0.join("report.json");
    let command = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tsunagi"));
        command
            .args(["ingest", "--from", "ssmix2", "--quiet", "--workers", "2"])
            .arg("--db")
            .arg(&db)
            .arg("--checkpoint")
            .arg(&checkpoint)
            .arg("--report")
            .arg(&report)
            .args(extra)
            .arg(&tree)
            .env("TSUNAGI_INSTITUTION", INSTITUTION);
        command
    };
    // Small batches: many commits, so the signal lands in the middle of the run.
    let mut child = command(&["--batch", "2"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !checkpoint.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(checkpoint.exists(), "no checkpoint within 60 s");
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "Ctrl-C ends with 130");
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json[0]["interrupted"], true);
    let saved: Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    let done = saved["done"].as_u64().unwrap() as usize;
    assert!(done < files, "stopped at {done} of {files}");

    let resumed = command(&["--resume"]).output().unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json[0]["resumedFrom"].as_u64().unwrap() as usize, done);
    // Different batch sizes change no current resource; history may differ for resources that
    // several messages write, so compare what is current.
    let current = |db: &Path| -> BTreeMap<String, Value> {
        let all = dump(db);
        let mut latest: BTreeMap<String, (u64, Value)> = BTreeMap::new();
        for (reference, body) in all {
            let (resource, version) = reference.rsplit_once('/').unwrap();
            let version: u64 = version.parse().unwrap();
            let slot = latest
                .entry(resource.to_owned())
                .or_insert((0, Value::Null));
            if version > slot.0 {
                *slot = (version, body);
            }
        }
        latest
            .into_iter()
            .map(|(resource, (_, body))| (resource, body))
            .collect()
    };
    assert_eq!(current(&db), current(&whole_db));
}

#[test]
fn hl7v2_files_ingest_through_the_same_pipeline() {
    let temp = Temp::new("hl7v2");
    let folder = temp.0.join("messages");
    std::fs::create_dir_all(&folder).unwrap();
    // Every generated message as a plain HL7 v2 file, plus a file that is not HL7 v2.
    let messages: Vec<_> = generate::generate(5).collect();
    for (index, file) in messages.iter().enumerate() {
        std::fs::write(folder.join(format!("{index:03}.hl7")), &file.bytes).unwrap();
    }
    std::fs::write(folder.join("README.txt"), "not a message").unwrap();
    let db = temp.0.join("store.db");
    let report = temp.0.join("report.json");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_tsunagi"))
            .args(["ingest", "--from", "hl7v2", "--quiet"])
            .arg("--db")
            .arg(&db)
            .arg("--report")
            .arg(&report)
            .arg(&folder)
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let per_type = json[0]["perDataType"].as_object().unwrap();
    let stored: u64 = per_type
        .values()
        .map(|c| c["stored"].as_u64().unwrap())
        .sum();
    assert_eq!(stored as usize, messages.len());
    assert_eq!(
        per_type["ADT^A08"]["stored"].as_u64().unwrap() as usize,
        messages
            .iter()
            .filter(|f| f.name.data_type == "ADT-00")
            .count()
    );
    assert_eq!(per_type["not HL7 v2"]["notMapped"], 1);
    let second = run();
    assert_eq!(second.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json[0]["transactions"], 0, "a second run stores nothing");
}
