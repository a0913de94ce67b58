//! `tsunagi health`: asks a running gateway's `/healthz` (or `/readyz` with `--ready`) over
//! plain HTTP on loopback and exits 0 when it answers 200. It is the container image's
//! `HEALTHCHECK`, so the runtime image needs no HTTP client of its own.

use crate::cli::HealthArgs;
use crate::config::Config;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

/// Runs `tsunagi health`.
pub fn run(args: &HealthArgs) -> ExitCode {
    let address = match &args.address {
        Some(address) => address.clone(),
        None => match Config::load(None) {
            Ok(config) => probe_address(&config.listen),
            Err(message) => {
                eprintln!("tsunagi health: {message}");
                return ExitCode::from(1);
            }
        },
    };
    let path = if args.ready { "/readyz" } else { "/healthz" };
    match probe(
        &address,
        path,
        Duration::from_secs(args.timeout_secs.max(1)),
    ) {
        Ok(200) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("tsunagi health: {address}{path} answered {status}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("tsunagi health: {address}{path}: {error}");
            ExitCode::from(1)
        }
    }
}

/// The address to probe for a listen address: a wildcard host becomes loopback.
pub fn probe_address(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("0.0.0.0" | "[::]" | "", port)) => format!("127.0.0.1:{port}"),
        _ => listen.to_owned(),
    }
}

/// `GET path` on `address`; the response's status code.
pub fn probe(address: &str, path: &str, timeout: Duration) -> std::io::Result<u16> {
    let target: SocketAddr = address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the address resolves to nothing",
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..read]);
    line.split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_probed_on_loopback() {
        assert_eq!(probe_address("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(probe_address("[::]:9000"), "127.0.0.1:9000");
        assert_eq!(probe_address("10.0.0.5:8080"), "10.0.0.5:8080");
    }

    #[test]
    fn a_closed_port_is_an_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap();
        // The listener is gone: nothing answers there.
        assert!(probe(
            &format!("127.0.0.1:{port}"),
            "/healthz",
            Duration::from_secs(1)
        )
        .is_err());
    }
}
