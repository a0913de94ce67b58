//! The HTTP edge (actix-web): routes, content negotiation, body limits, and rendering of
//! results and errors. Everything FHIR-specific below this module is HTTP-free.

mod body;
mod metered;
mod negotiate;
mod operations;
mod patient_match;
mod referral;
mod respond;
mod routes;
mod validate;

pub use negotiate::{format_of, parse_prefer, request_format, response_format, Prefer};

use crate::Gateway;
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// Starts the FHIR HTTP server on an already-bound listener (tests bind port 0) and returns
/// the running server; await it to serve until shutdown (SIGINT/SIGTERM drain in-flight
/// requests first).
pub fn start(gateway: Arc<Gateway>, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::from(gateway.clone());
    let base_path = gateway.config().base_path.clone();
    let workers = gateway
        .config()
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let server = HttpServer::new(move || {
        let base_path = base_path.clone();
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(metered::record))
            .configure(move |config| routes::configure(config, &base_path))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
