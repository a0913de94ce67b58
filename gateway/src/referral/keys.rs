//! The signing key and the trusted senders, loaded once at start from `[referral]`.

use super::error::ReferralError;
use super::settings::ReferralConfig;
use super::signature::{Signer, TrustStore};
use crate::config::ConfigError;
use std::path::{Path, PathBuf};

/// What signs outgoing packages and what incoming ones must chain to.
pub struct ReferralKeys {
    signer: Option<Signer>,
    trust: TrustStore,
}

impl ReferralKeys {
    /// Loads the keys named in `config`; a named file that cannot be read or parsed stops the
    /// start (the error names the key).
    pub fn load(config: &ReferralConfig) -> Result<ReferralKeys, ConfigError> {
        let signer = match (&config.signing_key, &config.certificate_chain) {
            (Some(key), Some(chain)) => Some(
                Signer::from_pem_files(Path::new(key), Path::new(chain)).map_err(|error| {
                    ConfigError::Value {
                        name: "referral.signing_key".into(),
                        message: error.to_string(),
                    }
                })?,
            ),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Value {
                    name: "referral.signing_key".into(),
                    message: "signing_key and certificate_chain go together".into(),
                })
            }
        };
        let paths: Vec<PathBuf> = config
            .trusted_certificates
            .iter()
            .map(PathBuf::from)
            .collect();
        let trust = TrustStore::from_pem_files(&paths).map_err(|error| ConfigError::Value {
            name: "referral.trusted_certificates".into(),
            message: error.to_string(),
        })?;
        Ok(ReferralKeys { signer, trust })
    }

    /// No signer and no trusted sender.
    pub fn none() -> ReferralKeys {
        ReferralKeys {
            signer: None,
            trust: TrustStore::default(),
        }
    }

    /// The signer, or why there is none.
    pub fn signer(&self) -> Result<&Signer, ReferralError> {
        self.signer.as_ref().ok_or(ReferralError::NoSigningKey)
    }

    /// The trusted senders, or why none can be accepted.
    pub fn trust(&self) -> Result<&TrustStore, ReferralError> {
        if self.trust.is_empty() {
            Err(ReferralError::NoTrustedSenders)
        } else {
            Ok(&self.trust)
        }
    }
}
