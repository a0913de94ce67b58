//! Requests per client: a token bucket per peer IP address, and the middleware that answers
//! 429 (OperationOutcome `throttled`, with `Retry-After`) once a client's bucket is empty.
//!
//! There is no authentication yet, so a client is its peer address; IPv6 peers are keyed by
//! their /64 prefix (one host usually holds a whole /64). Behind a reverse proxy every
//! request comes from the proxy's address: raise the limit or turn it off there
//! (`rate_limit_per_minute = 0`). `X-Forwarded-For` is not trusted. `/healthz`, `/readyz` and
//! `/metrics` are never limited, so probes and scrapes keep working under load.

use super::respond::error_response;
use super::routes::negotiated_of;
use crate::GatewayError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::web::Data;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most clients whose buckets are held at once; past it the least used are forgotten (a
/// forgotten client starts again with a full bucket).
const MAX_CLIENTS: u64 = 100_000;

/// Paths never limited: health probes and metrics scrapes.
const EXEMPT_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// One client's bucket: tokens left (fractional while refilling) as of `updated`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Within the limit: serve it.
    Allowed,
    /// Over the limit: refuse it; a token is back after `retry_after`.
    Limited {
        /// Time until the client's next request would be allowed.
        retry_after: Duration,
    },
}

/// Token buckets per client: each holds up to `per_minute` tokens (the burst) and refills at
/// `per_minute` per minute; a request takes one token.
pub struct RateLimiter {
    per_minute: u32,
    buckets: moka::sync::Cache<IpAddr, Arc<Mutex<Bucket>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute per client (0 allows everything).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            // An idle bucket refills completely within a minute, so one idle that long can be
            // forgotten: a new full bucket is the same thing.
            buckets: moka::sync::Cache::builder()
                .max_capacity(MAX_CLIENTS)
                .time_to_idle(Duration::from_secs(60))
                .build(),
        }
    }

    /// Takes a token for a request from `client` at `now` (the clock is the caller's, so
    /// tests need not sleep).
    pub fn check_at(&self, client: IpAddr, now: Instant) -> Decision {
        if self.per_minute == 0 {
            return Decision::Allowed;
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let bucket = self.buckets.get_with(client_key(client), || {
            Arc::new(Mutex::new(Bucket {
                tokens: capacity,
                updated: now,
            }))
        });
        // A poisoned lock still holds a usable bucket: no code panics while holding it.
        let mut bucket = bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Decision::Limited {
                retry_after: Duration::from_secs_f64(wait),
            }
        }
    }

    /// [`RateLimiter::check_at`] now.
    pub fn check(&self, client: IpAddr) -> Decision {
        self.check_at(client, Instant::now())
    }
}

/// The key a client's bucket is held under: IPv4 as is (also when mapped into IPv6), IPv6
/// by its /64 prefix.
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

/// Whole seconds to put in `Retry-After`: rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

/// Serves the request if its client is within the limit of the app's [`RateLimiter`] (app
/// data `Data<RateLimiter>`), else answers 429 with `Retry-After`. Requests without a peer
/// address (not over TCP), the exempt paths and apps without a limiter are not limited.
pub async fn limit_rate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let exempt = EXEMPT_PATHS.contains(&request.path());
    let limiter = request.app_data::<Data<RateLimiter>>();
    let decision = match (limiter, request.peer_addr()) {
        (Some(limiter), Some(peer)) if !exempt => limiter.check(peer.ip()),
        _ => Decision::Allowed,
    };
    match decision {
        Decision::Allowed => next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body),
        Decision::Limited { retry_after } => {
            let retry_after_secs = retry_after_secs(retry_after);
            let error = GatewayError::TooManyRequests { retry_after_secs };
            let mut response = error_response(&error, negotiated_of(request.request()));
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(request.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Seconds to wait, or `None` when allowed.
    fn wait_secs(decision: Decision) -> Option<f64> {
        match decision {
            Decision::Allowed => None,
            Decision::Limited { retry_after } => Some(retry_after.as_secs_f64()),
        }
    }

    fn assert_waits(decision: Decision, expected_secs: f64) {
        let wait = wait_secs(decision).expect("limited");
        assert!(
            (wait - expected_secs).abs() < 1e-6,
            "{wait} s, not {expected_secs} s"
        );
    }

    #[test]
    fn a_burst_of_the_limit_passes_then_the_next_waits_for_a_refill() {
        let limiter = RateLimiter::new(6);
        let start = Instant::now();
        let client = ip("192.0.2.10");
        for _ in 0..6 {
            assert_eq!(limiter.check_at(client, start), Decision::Allowed);
        }
        // 6 per minute: one token every 10 s.
        assert_waits(limiter.check_at(client, start), 10.0);
        assert_waits(
            limiter.check_at(client, start + Duration::from_secs(4)),
            6.0,
        );
        assert_eq!(
            limiter.check_at(client, start + Duration::from_secs(11)),
            Decision::Allowed
        );
        assert!(matches!(
            limiter.check_at(client, start + Duration::from_secs(11)),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn a_bucket_refills_to_the_burst_and_no_further() {
        let limiter = RateLimiter::new(3);
        let start = Instant::now();
        let client = ip("192.0.2.11");
        for _ in 0..3 {
            assert_eq!(limiter.check_at(client, start), Decision::Allowed);
        }
        let later = start + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.check_at(client, later), Decision::Allowed);
        }
        assert!(matches!(
            limiter.check_at(client, later),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn clients_have_their_own_buckets_and_ipv6_counts_by_slash_64() {
        let limiter = RateLimiter::new(1);
        let now = Instant::now();
        assert_eq!(limiter.check_at(ip("192.0.2.1"), now), Decision::Allowed);
        assert_eq!(limiter.check_at(ip("192.0.2.2"), now), Decision::Allowed);
        assert!(matches!(
            limiter.check_at(ip("::ffff:192.0.2.1"), now),
            Decision::Limited { .. }
        ));
        assert_eq!(limiter.check_at(ip("2001:db8::1"), now), Decision::Allowed);
        assert!(matches!(
            limiter.check_at(ip("2001:db8::ffff:2"), now),
            Decision::Limited { .. }
        ));
        assert_eq!(
            limiter.check_at(ip("2001:db8:0:1::1"), now),
            Decision::Allowed
        );
    }

    #[test]
    fn an_earlier_clock_reading_takes_no_tokens_back() {
        let limiter = RateLimiter::new(2);
        let now = Instant::now() + Duration::from_secs(100);
        let client = ip("192.0.2.12");
        assert_eq!(limiter.check_at(client, now), Decision::Allowed);
        assert_eq!(
            limiter.check_at(client, now - Duration::from_secs(50)),
            Decision::Allowed
        );
        assert!(matches!(
            limiter.check_at(client, now),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn zero_per_minute_limits_nothing() {
        let limiter = RateLimiter::new(0);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(limiter.check_at(ip("192.0.2.13"), now), Decision::Allowed);
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(12)), 12);
        assert_eq!(retry_after_secs(Duration::from_millis(12_001)), 13);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
