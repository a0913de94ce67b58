//! The HTTP edge (actix-web): routes, content negotiation, body limits, and rendering of
//! results and errors. Everything FHIR-specific below this module is HTTP-free.

mod body;
mod headers;
mod metered;
mod negotiate;
mod operations;
mod patient_match;
mod rate_limit;
mod referral;
mod respond;
mod routes;
mod timeout;
mod validate;

pub use negotiate::{format_of, parse_prefer, request_format, response_format, Prefer};

use crate::Gateway;
use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Starts the FHIR HTTP server on an already-bound listener (tests bind port 0) and returns
/// the running server; await it to serve until shutdown (SIGINT/SIGTERM drain in-flight
/// requests first).
///
/// Every request passes, outermost first: security headers, metrics, the rate limit per
/// client and the request timeout (`[limits]`), so refusals are counted and carry the headers.
pub fn start(gateway: Arc<Gateway>, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::from(gateway.clone());
    let config = gateway.config();
    let base_path = config.base_path.clone();
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let limits = &config.limits;
    let request_timeout = timeout::RequestTimeout(Duration::from_secs(limits.request_timeout_secs));
    let limiter = web::Data::new(rate_limit::RateLimiter::new(limits.rate_limit_per_minute));
    let keep_alive = match limits.keep_alive_secs {
        0 => KeepAlive::Disabled,
        secs => KeepAlive::Timeout(Duration::from_secs(secs)),
    };
    let server = HttpServer::new(move || {
        let base_path = base_path.clone();
        App::new()
            .app_data(data.clone())
            .app_data(limiter.clone())
            .app_data(request_timeout)
            .wrap(from_fn(timeout::limit_time))
            .wrap(from_fn(rate_limit::limit_rate))
            .wrap(from_fn(metered::record))
            .wrap(from_fn(headers::secure))
            .configure(move |config| routes::configure(config, &base_path))
    })
    .workers(workers)
    .keep_alive(keep_alive)
    .client_request_timeout(Duration::from_secs(limits.client_request_timeout_secs))
    .listen(listener)?
    .run();
    Ok(server)
}
