//! Why a referral package could not be built, sent or received.

use super::signature::SignatureError;
use crate::outcome::Issue;

/// A referral failure; [`crate::GatewayError::Referral`] maps it to HTTP and OperationOutcome.
#[derive(Debug, thiserror::Error)]
pub enum ReferralError {
    /// The package's signature is missing, malformed, broken or from an untrusted signer.
    #[error("the package's signature is not accepted: {0}")]
    Signature(#[from] SignatureError),
    /// No trusted sender is configured, so no package can be accepted.
    #[error("this gateway trusts no referral sender yet: set [referral] trusted_certificates")]
    NoTrustedSenders,
    /// No signing key is configured, so no package can be signed.
    #[error(
        "referral packages cannot be signed here: set [referral] signing_key and certificate_chain"
    )]
    NoSigningKey,
    /// The body is not a referral document Bundle.
    #[error("not a referral document: {message}")]
    NotADocument {
        /// What is wrong.
        message: String,
        /// Where, e.g. `Bundle.entry[0].resource`.
        location: String,
    },
    /// `destination` names no configured destination.
    #[error("no referral destination named '{0}' is configured ([referral.destinations])")]
    UnknownDestination(String),
    /// A package with this identifier was received before with other content.
    #[error("package {0} was already received with different content; a changed package needs a new identifier")]
    IdentifierReused(String),
}

impl ReferralError {
    /// A [`ReferralError::NotADocument`].
    pub fn not_a_document(message: impl Into<String>, location: impl Into<String>) -> Self {
        ReferralError::NotADocument {
            message: message.into(),
            location: location.into(),
        }
    }
}

impl ReferralError {
    /// The HTTP status it answers with: 403 for a signer this gateway does not trust or no
    /// trusted signer at all, 400 for a broken or missing signature or a malformed document,
    /// 409 for a reused identifier, 422 when signing is not configured.
    pub fn status(&self) -> u16 {
        match self {
            ReferralError::Signature(signature) if signature_untrusted(signature) => 403,
            ReferralError::NoTrustedSenders => 403,
            ReferralError::Signature(_)
            | ReferralError::NotADocument { .. }
            | ReferralError::UnknownDestination(_) => 400,
            ReferralError::IdentifierReused(_) => 409,
            ReferralError::NoSigningKey => 422,
        }
    }

    /// The OperationOutcome issue describing it.
    pub fn issue(&self) -> Issue {
        match self {
            ReferralError::Signature(_) | ReferralError::NoTrustedSenders => {
                Issue::error("security", self.to_string()).at("Bundle.signature")
            }
            ReferralError::NoSigningKey => Issue::error("not-supported", self.to_string()),
            ReferralError::NotADocument { location, .. } => {
                Issue::error("invalid", self.to_string()).at(location.clone())
            }
            ReferralError::UnknownDestination(_) => {
                Issue::error("not-found", self.to_string()).at("destination")
            }
            ReferralError::IdentifierReused(_) => {
                Issue::error("duplicate", self.to_string()).at("Bundle.identifier")
            }
        }
    }
}

/// True when the signature is sound but its signer is not trusted here.
fn signature_untrusted(error: &SignatureError) -> bool {
    matches!(error, SignatureError::NotTrusted { .. })
}
