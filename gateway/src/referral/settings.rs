//! `[referral]`: the keys that sign packages, the senders trusted to receive from, and where
//! packages go.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Referral package settings. Signing needs `signing_key` and `certificate_chain`; receiving
/// needs at least one `trusted_certificates` file (without it every package is refused).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReferralConfig {
    /// PEM private key (EC P-256 → ES256, RSA ≥ 2048 → RS256) that signs outgoing packages.
    pub signing_key: Option<String>,
    /// PEM certificate chain of that key, the key's own certificate first.
    pub certificate_chain: Option<String>,
    /// PEM files of the CAs (or self-signed sender certificates) whose packages are accepted.
    pub trusted_certificates: Vec<String>,
    /// Where packages may be sent, by name (`POST …/$referral-package?destination=name`).
    pub destinations: BTreeMap<String, DestinationConfig>,
    /// How often the delivery worker looks for packages due, in milliseconds.
    pub poll_interval_ms: u64,
    /// Wait before the second attempt, in seconds; it doubles after each failure.
    pub retry_initial_secs: u64,
    /// Longest wait between attempts, in seconds.
    pub retry_max_secs: u64,
    /// Attempts before a delivery is given up (`Task.status` failed).
    pub max_attempts: u32,
    /// How long one attempt may take (connect, send, answer), in seconds.
    pub send_timeout_secs: u64,
}

/// One receiving gateway or FHIR server.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// Its FHIR base URL, e.g. `https://hospital-b.example.jp/fhir`.
    pub url: String,
    /// `tsunagi` (POST `[base]/$receive-referral`) or `fhir` (POST `[base]/Bundle`, with
    /// `If-None-Exist` on the package identifier).
    #[serde(default)]
    pub kind: DestinationKind,
    /// PEM client certificate presented on the TLS connection (mTLS), with `client_key`.
    pub client_certificate: Option<String>,
    /// PEM private key of `client_certificate`.
    pub client_key: Option<String>,
    /// PEM CA certificate(s) the destination's server certificate must chain to, besides the
    /// system's roots.
    pub ca_certificate: Option<String>,
}

/// What kind of server a destination is.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    /// Another Tsunagi: the package goes to `$receive-referral`, which verifies and links it.
    #[default]
    Tsunagi,
    /// Any FHIR server: the package is created as a Bundle resource.
    Fhir,
}

impl Default for ReferralConfig {
    fn default() -> Self {
        ReferralConfig {
            signing_key: None,
            certificate_chain: None,
            trusted_certificates: Vec::new(),
            destinations: BTreeMap::new(),
            poll_interval_ms: 1000,
            retry_initial_secs: 5,
            retry_max_secs: 900,
            max_attempts: 20,
            send_timeout_secs: 60,
        }
    }
}

impl ReferralConfig {
    /// The wait after `failures` failed attempts (1 → `retry_initial_secs`, doubling, capped).
    pub fn backoff_secs(&self, failures: u32) -> u64 {
        let doublings = failures.saturating_sub(1).min(32);
        self.retry_initial_secs
            .saturating_mul(1u64 << doublings)
            .min(self.retry_max_secs.max(self.retry_initial_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = ReferralConfig {
            retry_initial_secs: 2,
            retry_max_secs: 30,
            ..ReferralConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| config.backoff_secs(n)).collect();
        assert_eq!(waits, [2, 4, 8, 16, 30, 30]);
        assert_eq!(config.backoff_secs(200), 30);
    }

    #[test]
    fn destinations_parse_from_toml() {
        let config: ReferralConfig = toml::from_str(
            "trusted_certificates = [\"ca.pem\"]\n[destinations.b]\nurl = \"https://b/fhir\"\n\
             client_certificate = \"c.pem\"\nclient_key = \"k.pem\"\n",
        )
        .unwrap();
        let b = &config.destinations["b"];
        assert_eq!(b.kind, DestinationKind::Tsunagi);
        assert_eq!(b.client_key.as_deref(), Some("k.pem"));
        assert!(
            toml::from_str::<ReferralConfig>("[destinations.b]\nurl=\"x\"\nkind=\"smtp\"").is_err()
        );
    }
}
