//! The "limit" peer for `GET /fhir/Patient/{id}` (shared/design PEERS.md): a bare actix-web
//! handler that answers every id with one fixed Patient, no store, cache, negotiation or
//! headers beyond Content-Type. `benches/bench.sh` runs it beside `tsunagi serve` so the
//! gateway's GET throughput can be read as a fraction of what actix-web itself does here.
//!
//! Usage: `bare_actix [ADDR]` (default 127.0.0.1:18081); one worker per core.

use actix_web::{web, App, HttpResponse, HttpServer};

/// The Patient `benches/bench.sh` stores in Tsunagi, as Tsunagi returns it (id and meta set).
const PATIENT: &str = r#"{"resourceType":"Patient","id":"bench-1","identifier":[{"system":"urn:oid:1.2.392.100495.20.3.51.11310000","value":"00012345"}],"active":true,"name":[{"use":"official","family":"Yamada","given":["Taro"]}],"telecom":[{"system":"phone","value":"+81-3-1234-5678","use":"home"}],"gender":"male","birthDate":"1970-01-01","address":[{"use":"home","line":["1-2-3 Marunouchi"],"city":"Chiyoda-ku","state":"Tokyo","postalCode":"100-0005","country":"JP"}],"meta":{"versionId":"1","lastUpdated":"2026-11-05T00:00:00.000Z"}}"#;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let patient = || async {
        HttpResponse::Ok()
            .content_type("application/fhir+json")
            .body(PATIENT)
    };
    HttpServer::new(move || App::new().route("/fhir/Patient/{id}", web::get().to(patient)))
        .workers(workers)
        .bind(address)?
        .run()
        .await
}
