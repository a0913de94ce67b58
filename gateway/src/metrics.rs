//! Operational metrics in the Prometheus text format (`GET /metrics`): HTTP requests by route
//! pattern, method and status with their latency, ingest outcomes by adapter, and the store's
//! connection pool. Labels never carry ids, identifiers or any other patient data: routes are
//! the patterns (`/fhir/{type}/{id}`), not the paths.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;

/// Latency buckets from 0.5 ms to about 16 s.
#[derive(Clone)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.0005, 2.0, 16))
    }
}

/// How full a store's connection pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (lent or idle).
    pub open: usize,
    /// Of those, idle.
    pub idle: usize,
    /// The most the pool opens.
    pub max: usize,
}

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, LatencyBuckets>,
    ingest: Family<Labels, Counter>,
    pool: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tsunagi");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::new_with_constructor(LatencyBuckets);
        let ingest = Family::<Labels, Counter>::default();
        let pool = Family::<Labels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by route pattern and method",
            latency.clone(),
        );
        registry.register(
            "ingest_messages",
            "Legacy exports ingested (HL7 v2 messages, DICOM studies), by adapter and outcome",
            ingest.clone(),
        );
        registry.register(
            "store_connections",
            "Store connections by state (open, idle, max)",
            pool.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            ingest,
            pool,
        }
    }

    /// Counts one answered HTTP request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let route = ("route", route.to_owned());
        let method = ("method", method.to_owned());
        self.requests
            .get_or_create(&vec![
                route.clone(),
                method.clone(),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![route, method])
            .observe(seconds);
    }

    /// Counts one ingested export: `adapter` (`hl7v2`, `dicom`) and `outcome` (`stored`,
    /// `refused`, `failed`).
    pub fn record_ingest(&self, adapter: &str, outcome: &str) {
        self.ingest
            .get_or_create(&vec![
                ("adapter", adapter.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    /// The metrics as Prometheus text, with the pool's state as of now.
    pub fn render(&self, pool: Option<PoolStats>) -> String {
        if let Some(pool) = pool {
            for (state, value) in [("open", pool.open), ("idle", pool.idle), ("max", pool.max)] {
                self.pool
                    .get_or_create(&vec![("state", state.to_owned())])
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_ingest_and_pool_are_rendered() {
        let metrics = Metrics::new();
        metrics.record_request("/fhir/{type}/{id}", "GET", 200, 0.002);
        metrics.record_request("/fhir/{type}/{id}", "GET", 200, 0.004);
        metrics.record_request("/fhir/{type}/{id}", "GET", 404, 0.001);
        metrics.record_ingest("hl7v2", "stored");
        let text = metrics.render(Some(PoolStats {
            open: 3,
            idle: 2,
            max: 16,
        }));
        assert!(text.contains(
            r#"tsunagi_http_requests_total{route="/fhir/{type}/{id}",method="GET",status="200"} 2"#
        ), "{text}");
        assert!(text.contains(
            r#"tsunagi_http_requests_total{route="/fhir/{type}/{id}",method="GET",status="404"} 1"#
        ));
        assert!(text.contains(
            r#"tsunagi_http_request_duration_seconds_count{route="/fhir/{type}/{id}",method="GET"} 3"#
        ));
        assert!(
            text.contains(r#"tsunagi_ingest_messages_total{adapter="hl7v2",outcome="stored"} 1"#)
        );
        assert!(text.contains(r#"tsunagi_store_connections{state="max"} 16"#));
        assert!(text.ends_with("# EOF\n"));
    }
}
