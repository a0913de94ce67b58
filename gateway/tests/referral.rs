//! The referral story end to end, with two real gateway processes on loopback, each with its
//! own SQLite store: hospital A ingests a patient's orders, CT and ultrasound studies and
//! reports, queues a signed referral package for hospital B while B is down, and delivers it
//! once B is up; B verifies it, links it to its own record of the patient and shows the
//! referral in its worklist. A changed byte, an untrusted signer and a replay change nothing
//! at B.

mod common;

#[path = "../src/referral/test_pki.rs"]
mod test_pki;

use common::hl7v2_message;
use common::media::{dicom_data, folder_zip};
use common::replica::{free_port, Replica};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const INSTITUTION_CODE: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
const A_CODE: &str = "1311111111";
const B_CODE: &str = "1322222222";

/// One hospital's gateway: its process, store and configuration file.
struct Hospital {
    base: String,
    db: String,
    config: String,
    port: u16,
    process: Option<Replica>,
}

impl Hospital {
    fn new(dir: &Path, name: &str, toml: &str) -> Hospital {
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(&config, toml).expect("write config");
        let port = free_port();
        Hospital {
            base: format!("http://127.0.0.1:{port}/fhir"),
            db: dir.join(format!("{name}.db")).display().to_string(),
            config: config.display().to_string(),
            port,
            process: None,
        }
    }

    async fn start(&mut self, client: &reqwest::Client) {
        let replica = Replica::start_on(self.port, &self.db, &["--config", &self.config]);
        replica.wait_ready(client).await;
        self.process = Some(replica);
    }

    /// `tsunagi ARGS… --config C --db D` on this hospital's store.
    fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_tsunagi"))
            .args(args)
            .args(["--config", &self.config, "--db", &self.db])
            .env("TSUNAGI_LOG", "warn")
            .output()
            .expect("run tsunagi")
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let response = client
            .post(format!("{}/{path}", self.base))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, client: &reqwest::Client, path: &str) -> Value {
        let response = client
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    /// The resources of a searchset (matches only).
    async fn search(&self, client: &reqwest::Client, query: &str) -> Vec<Value> {
        let bundle = self.get(client, query).await;
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["search"]["mode"] != "include")
            .map(|entry| entry["resource"].clone())
            .collect()
    }

    /// Every version of every resource: what a replay or a refused package must not change.
    async fn history_total(&self, client: &reqwest::Client) -> usize {
        let bundle = self.get(client, "_history?_count=1000").await;
        bundle["entry"].as_array().map_or(0, Vec::len)
    }
}

fn id_of(resource: &Value) -> String {
    resource["id"].as_str().expect("id").to_owned()
}

fn references(resource: &Value, element: &str) -> Vec<String> {
    resource[element]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["reference"].as_str().map(str::to_owned))
        .collect()
}

async fn ingest(hospital: &Hospital, client: &reqwest::Client, content_type: &str, body: Vec<u8>) {
    let (status, outcome) = hospital.post(client, "$ingest", content_type, body).await;
    assert_eq!(status, 200, "{outcome}");
}

/// Waits until the delivery Task satisfies `done`, returning it.
async fn wait_task(
    hospital: &Hospital,
    client: &reqwest::Client,
    task: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current = hospital.get(client, task).await;
        if done(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "the task never got there: {current}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_travels_from_hospital_a_to_hospital_b() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (ca_key, ca_cert) = test_pki::test_ca();
    let (a_key, a_cert) = test_pki::issue_cert(
        &ca_key,
        &ca_cert,
        "Tsunagi General Hospital",
        test_pki::KeyKind::EcP256,
        30,
    );
    let (rogue_key, rogue_cert) =
        test_pki::self_signed("Tsunagi General Hospital", test_pki::KeyKind::EcP256);
    for (name, pem) in [
        ("ca.pem", &ca_cert),
        ("a.key", &a_key),
        ("a.pem", &a_cert),
        ("rogue.key", &rogue_key),
        ("rogue.pem", &rogue_cert),
    ] {
        std::fs::write(path(name), pem).expect("write PEM");
    }
    let b_port = free_port();
    let a_toml = format!(
        "[source]\ninstitution = \"hospital-a\"\ninstitution_code = \"{A_CODE}\"\n\
         dicomweb_base = \"https://pacs.hospital-a.example/dicom-web\"\n\
         [referral]\nsigning_key = \"{}\"\ncertificate_chain = \"{}\"\n\
         poll_interval_ms = 100\nretry_initial_secs = 1\nretry_max_secs = 1\nsend_timeout_secs = 5\n\
         [referral.destinations.hospital-b]\nurl = \"http://127.0.0.1:{b_port}/fhir\"\n",
        path("a.key"),
        path("a.pem")
    );
    let b_toml = format!(
        "[source]\ninstitution = \"hospital-b\"\ninstitution_code = \"{B_CODE}\"\n\
         [referral]\ntrusted_certificates = [\"{}\"]\n",
        path("ca.pem")
    );
    let rogue_toml = format!(
        "[source]\ninstitution = \"hospital-a\"\ninstitution_code = \"{A_CODE}\"\n\
         [referral]\nsigning_key = \"{}\"\ncertificate_chain = \"{}\"\n",
        path("rogue.key"),
        path("rogue.pem")
    );
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let mut a = Hospital::new(dir.path(), "a", &a_toml);
    let mut b = Hospital::new(dir.path(), "b", &b_toml);
    b.port = b_port;
    b.base = format!("http://127.0.0.1:{b_port}/fhir");

    // Hospital A: orders, studies and reports of one patient.
    a.start(&client).await;
    let er7 = "x-application/hl7-v2+er7";
    ingest(&a, &client, er7, hl7v2_message("omi_o23_ct_order.hl7")).await;
    ingest(&a, &client, er7, hl7v2_message("omi_o23_us_order.hl7")).await;
    ingest(&a, &client, er7, hl7v2_message("oru_r01_us_report.hl7")).await;
    ingest(
        &a,
        &client,
        "application/zip",
        folder_zip(&dicom_data("cd-ct")),
    )
    .await;
    let us_image = std::fs::read(dicom_data("single/us_abdomen.dcm")).expect("US image");
    ingest(&a, &client, "application/dicom", us_image).await;

    let patients = a.search(&client, "Patient?identifier=TK-000417").await;
    assert_eq!(patients.len(), 1, "{patients:?}");
    let patient = id_of(&patients[0]);
    let orders = a
        .search(
            &client,
            &format!("ServiceRequest?subject=Patient/{patient}"),
        )
        .await;
    assert_eq!(orders.len(), 2, "the CT and US orders: {orders:?}");
    let doctor = orders[0]["requester"]["reference"]
        .as_str()
        .expect("requester")
        .to_owned();
    let receiver = json!({"resourceType": "Organization",
        "identifier": [{"system": INSTITUTION_CODE, "value": B_CODE}], "name": "セカンドオピニオン病院"});
    let (status, receiver) = a
        .post(
            &client,
            "Organization",
            "application/fhir+json",
            receiver.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 201);
    let receiver = format!("Organization/{}", id_of(&receiver));
    let referral = json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "3457005",
            "display": "Patient referral"}]}],
        "code": {"text": "セカンドオピニオン"},
        "subject": {"reference": format!("Patient/{patient}")},
        "requester": {"reference": doctor},
        "performer": [{"reference": receiver}],
        "basedOn": orders.iter().map(|order| json!({"reference": format!("ServiceRequest/{}", id_of(order))})).collect::<Vec<_>>(),
        "reasonCode": [{"text": "肺結節と肝嚢胞の評価"}]});
    let (status, created) = a
        .post(
            &client,
            "ServiceRequest",
            "application/fhir+json",
            referral.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let referral_id = id_of(&created);

    // A queues the package while B is down: the first attempts fail and wait.
    let (status, task) = a
        .post(
            &client,
            &format!("ServiceRequest/{referral_id}/$referral-package?destination=hospital-b"),
            "application/fhir+json",
            Vec::new(),
        )
        .await;
    assert_eq!(status, 202, "{task}");
    let task_path = format!("Task/{}", id_of(&task));
    let waiting = wait_task(&a, &client, &task_path, |task| {
        task["status"] == "requested"
            && task["businessStatus"]["text"]
                .as_str()
                .is_some_and(|text| text.contains("failed"))
    })
    .await;
    assert!(
        waiting["businessStatus"]["text"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{waiting}"
    );

    // B has its own record of the same person, then comes up; A delivers on its next attempt.
    let registered = b.cli(&[
        "ingest",
        "--from",
        "hl7v2",
        &common::hl7v2_path("adt_a04_hospital_b.hl7")
            .display()
            .to_string(),
    ]);
    assert!(
        registered.status.success(),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    b.start(&client).await;
    let own_patients = b.search(&client, "Patient?identifier=B-7788").await;
    assert_eq!(own_patients.len(), 1);
    let own_patient = id_of(&own_patients[0]);
    let delivered = wait_task(&a, &client, &task_path, |task| {
        task["status"] != "requested" && task["status"] != "in-progress"
    })
    .await;
    assert_eq!(delivered["status"], "completed", "{delivered}");

    // B: the referral in its worklist, the studies with order and endpoint, the reports, the
    // patient linked to B's own record.
    let own_organizations = b
        .search(
            &client,
            &format!("Organization?identifier={INSTITUTION_CODE}|{B_CODE}"),
        )
        .await;
    assert_eq!(
        own_organizations.len(),
        1,
        "B's own organization: {own_organizations:?}"
    );
    let worklist = b
        .search(
            &client,
            &format!(
                "ServiceRequest?performer=Organization/{}&status=active",
                id_of(&own_organizations[0])
            ),
        )
        .await;
    assert_eq!(worklist.len(), 1, "{worklist:?}");
    let received_patient = worklist[0]["subject"]["reference"]
        .as_str()
        .expect("subject")
        .to_owned();
    let received = b.get(&client, &received_patient).await;
    assert_eq!(
        received["link"][0]["other"]["reference"],
        format!("Patient/{own_patient}"),
        "{received}"
    );
    assert!(
        received.to_string().contains("TK-000417"),
        "A's identifier is kept: {received}"
    );
    let studies = b
        .search(&client, &format!("ImagingStudy?subject={received_patient}"))
        .await;
    let modalities: std::collections::BTreeSet<String> = studies
        .iter()
        .filter_map(|study| study["modality"][0]["code"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        modalities.into_iter().collect::<Vec<_>>(),
        ["CT", "US"],
        "{studies:?}"
    );
    for study in &studies {
        assert_eq!(references(study, "basedOn").len(), 1, "{study}");
        assert_eq!(references(study, "endpoint").len(), 1, "{study}");
        assert!(references(study, "basedOn")[0].starts_with("ServiceRequest/"));
    }
    let reports = b
        .search(
            &client,
            &format!("DiagnosticReport?subject={received_patient}"),
        )
        .await;
    assert!(
        reports.len() >= 2,
        "the CT (SR) and US (ORU) reports: {reports:?}"
    );
    let everything = b
        .get(
            &client,
            &format!("Patient/{own_patient}/$everything?_count=500"),
        )
        .await;
    let everything_text = everything.to_string();
    for study in &studies {
        assert!(
            everything_text.contains(&id_of(study)),
            "$everything of B's patient shows A's study"
        );
    }
    let provenances = b
        .search(&client, &format!("Provenance?target={received_patient}"))
        .await;
    assert!(
        provenances
            .iter()
            .any(|p| p["activity"]["text"] == "referral package received"),
        "{provenances:?}"
    );

    // The same package again, straight to B: recognized, nothing changes.
    let package_id = delivered["focus"]["reference"]
        .as_str()
        .expect("focus")
        .to_owned();
    let mut package = a.get(&client, &package_id).await;
    package.as_object_mut().expect("object").remove("meta");
    let before = b.history_total(&client).await;
    let (status, replay) = b
        .post(
            &client,
            "$receive-referral",
            "application/fhir+json",
            package.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{replay}");
    assert!(replay.to_string().contains("received before"), "{replay}");
    assert_eq!(b.history_total(&client).await, before);

    // One byte changed in an entry (the patient's birth date): refused, nothing stored.
    let original = package.to_string();
    let text = original.replacen(
        "\"birthDate\":\"1978-03-15\"",
        "\"birthDate\":\"1978-03-16\"",
        1,
    );
    assert_ne!(text, original);
    let (status, refused) = b
        .post(
            &client,
            "$receive-referral",
            "application/fhir+json",
            text.into_bytes(),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["issue"][0]["code"], "security", "{refused}");
    assert_eq!(b.history_total(&client).await, before);

    // Signed by a key B does not trust (built offline on A's store): refused, nothing stored.
    let rogue_config = dir.path().join("rogue.toml");
    std::fs::write(&rogue_config, rogue_toml).expect("rogue config");
    let rogue_out = path("rogue-package.json");
    let built = Command::new(env!("CARGO_BIN_EXE_tsunagi"))
        .args([
            "referral",
            "build",
            &referral_id,
            "--out",
            &rogue_out,
            "--config",
        ])
        .arg(&rogue_config)
        .args(["--db", &a.db])
        .env("TSUNAGI_LOG", "warn")
        .output()
        .expect("referral build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let (status, refused) = b
        .post(
            &client,
            "$receive-referral",
            "application/fhir+json",
            std::fs::read(&rogue_out).expect("package"),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(b.history_total(&client).await, before);
}
