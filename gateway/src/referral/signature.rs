//! Signing and verifying a referral document Bundle with a detached-payload JWS.
//!
//! Hospital A's [`Signer`] puts a `Bundle.signature` on the package: its `data` is the base64 of
//! a JWS in compact form with an empty payload part (RFC 7515 appendix F, `header..signature`).
//! The payload it covers is the base64url of [`signing_input`](super::canonical::signing_input),
//! the canonical JSON of the Bundle without `id`, `meta` and `signature`. The protected header
//! carries `alg` (ES256 or RS256), `kid` (base64url SHA-256 of the signer's certificate), `x5c`
//! (the signer's certificate chain, leaf first) and `sigT` (the signing time), as the FHIR R4
//! signatures page suggests for JSON signatures.
//!
//! Hospital B's [`TrustStore`] checks the chain from `x5c` against the certificates it trusts
//! (CA certificates, or a sender's own self-signed certificate) and then the signature with the
//! leaf certificate's key. Packages arrive over the network, so every part is checked and size
//! limited before use; nothing here panics on any input.

mod certificates;
mod jws;
mod signer;
mod trust;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use signer::Signer;
pub use trust::TrustStore;

/// The JWS algorithms a referral signature may use (RFC 7518 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// ECDSA on P-256 with SHA-256; the signature is the 64-byte `r || s`.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, with an RSA key of at least 2048 bits.
    Rs256,
}

impl SignatureAlgorithm {
    /// The JWS `alg` header value: `"ES256"` or `"RS256"`.
    pub fn jws_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::Rs256 => "RS256",
        }
    }

    /// The algorithm for a JWS `alg` value, when it is one we accept (case-sensitive).
    pub fn from_jws_name(name: &str) -> Option<SignatureAlgorithm> {
        match name {
            "ES256" => Some(SignatureAlgorithm::Es256),
            "RS256" => Some(SignatureAlgorithm::Rs256),
            _ => None,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.jws_name())
    }
}

/// Who signed a Bundle whose signature verified, as [`TrustStore::verify_bundle`] found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSigner {
    /// The signer certificate's subject, most specific part first (`CN=…, O=…, C=…`).
    pub subject: String,
    /// SHA-256 of the signer certificate's DER, as lowercase hex (64 characters).
    pub certificate_sha256: String,
    /// The algorithm the signature was made with.
    pub algorithm: SignatureAlgorithm,
    /// The signing time from the signed JWS header (`sigT`), when the signer gave one. Unlike
    /// `Bundle.signature.when`, this value is covered by the signature.
    pub signed_at: Option<String>,
}

/// The part of `Bundle.signature` that is malformed, for [`SignatureError::Malformed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignaturePart {
    /// `Bundle.signature` itself (not a JSON object).
    Element,
    /// `Bundle.signature.sigFormat`.
    SigFormat,
    /// `Bundle.signature.data` (missing, not a string, too large).
    Data,
    /// The base64 encoding of `Bundle.signature.data`.
    Base64,
    /// The JWS compact form inside `data` (`header..signature`).
    Jws,
    /// The JWS protected header.
    Header,
    /// The `x5c` certificate chain in the header.
    X5c,
    /// The `kid` in the header.
    Kid,
    /// The signature value (third part of the JWS).
    SignatureValue,
}

impl fmt::Display for SignaturePart {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            SignaturePart::Element => "Bundle.signature",
            SignaturePart::SigFormat => "Bundle.signature.sigFormat",
            SignaturePart::Data => "Bundle.signature.data",
            SignaturePart::Base64 => "the base64 encoding of Bundle.signature.data",
            SignaturePart::Jws => "the JWS in Bundle.signature.data",
            SignaturePart::Header => "the JWS header",
            SignaturePart::X5c => "the certificate chain (x5c) in the JWS header",
            SignaturePart::Kid => "the key id (kid) in the JWS header",
            SignaturePart::SignatureValue => "the signature value of the JWS",
        })
    }
}

/// Why a key could not be loaded, a Bundle could not be signed, or a signature was refused.
#[derive(thiserror::Error, Debug)]
pub enum SignatureError {
    /// A key or certificate file could not be read.
    #[error("cannot read the {what} file {}: {source}", path.display())]
    FileUnreadable {
        /// What the file should hold ("private key", "certificate chain", "trusted certificate").
        what: &'static str,
        /// The file as given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A key or certificate is not in a PEM form we can read.
    #[error("the {what} is not readable PEM: {reason}")]
    PemInvalid {
        /// What was being read ("private key", "certificate chain", "trusted certificates").
        what: &'static str,
        /// Why, in words (openssl's reason where it gave one).
        reason: String,
    },
    /// The key is of a type or size we do not sign or verify with.
    #[error(
        "the {what} is {found}, which is not supported: use an EC P-256 key (ES256) or an RSA \
         key of at least 2048 bits (RS256)"
    )]
    UnsupportedKey {
        /// Whose key ("private key", "signer's certificate key").
        what: &'static str,
        /// The key as found (e.g. "an RSA key of 1024 bits", "an EC key on curve secp384r1").
        found: String,
    },
    /// The private key does not belong to the first certificate of the chain.
    #[error(
        "the private key does not belong to the first certificate in the chain ({subject}); \
         the chain file must start with the certificate issued for this key"
    )]
    KeyCertificateMismatch {
        /// Subject of the first certificate in the chain.
        subject: String,
    },
    /// The certificate chain is longer than a signature may carry.
    #[error("the certificate chain has {count} certificates; at most {limit} are allowed")]
    ChainTooLong {
        /// Certificates found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The value given to sign is not a JSON object.
    #[error("only a Bundle (a JSON object) can be signed")]
    NotABundle,
    /// The Bundle carries no `signature` element.
    #[error("the Bundle is not signed: it has no Bundle.signature element")]
    Unsigned,
    /// Some part of `Bundle.signature` cannot be read.
    #[error("the Bundle signature is malformed: {part} {reason}")]
    Malformed {
        /// Which part.
        part: SignaturePart,
        /// What is wrong with it, as the rest of a sentence.
        reason: String,
    },
    /// The JWS names an algorithm we do not accept (including `none` and the HMAC ones).
    #[error(
        "the signature algorithm \"{algorithm}\" is not allowed; only ES256 and RS256 are accepted"
    )]
    AlgorithmNotAllowed {
        /// The `alg` value as sent.
        algorithm: String,
    },
    /// The JWS algorithm does not fit the signer certificate's key.
    #[error("the signature says it uses {algorithm}, but the signer's certificate holds {key}")]
    AlgorithmKeyMismatch {
        /// The algorithm in the header.
        algorithm: SignatureAlgorithm,
        /// The certificate's key as found.
        key: String,
    },
    /// The signature does not match the Bundle and the signer's key.
    #[error(
        "the signature does not verify: the Bundle was changed after signing or signed with \
         another key"
    )]
    DoesNotVerify,
    /// The signer's certificate chain does not lead to a trusted certificate.
    #[error("the signer's certificate ({subject}) is not trusted: {reason}")]
    NotTrusted {
        /// Subject of the signer (leaf) certificate.
        subject: String,
        /// openssl's reason, e.g. "unable to get local issuer certificate".
        reason: String,
    },
    /// A certificate in the chain has expired.
    #[error("the certificate {subject} expired on {not_after}; the sender must renew it")]
    CertificateExpired {
        /// Subject of the expired certificate.
        subject: String,
        /// Its end of validity, as openssl prints it.
        not_after: String,
    },
    /// A certificate in the chain is not valid yet.
    #[error(
        "the certificate {subject} is not valid before {not_before}; check the clocks of both \
         hospitals"
    )]
    CertificateNotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Its start of validity, as openssl prints it.
        not_before: String,
    },
    /// openssl failed at a step that should not fail on valid input.
    #[error("the cryptographic library failed while {doing}: {source}")]
    Crypto {
        /// The step, as the rest of a sentence ("signing", "building the trust store").
        doing: &'static str,
        /// openssl's error queue.
        source: openssl::error::ErrorStack,
    },
}

impl SignatureError {
    fn malformed(part: SignaturePart, reason: impl Into<String>) -> SignatureError {
        SignatureError::Malformed {
            part,
            reason: reason.into(),
        }
    }

    fn crypto(doing: &'static str) -> impl FnOnce(openssl::error::ErrorStack) -> SignatureError {
        move |source| SignatureError::Crypto { doing, source }
    }
}
