//! [`Signer`]: the sending hospital's key and certificate chain, and putting a
//! `Bundle.signature` on a referral package.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};

use super::certificates::{algorithm_for_key, certificate_sha256, readable_subject};
use super::jws::{self, MAX_CHAIN_CERTIFICATES};
use super::{SignatureAlgorithm, SignatureError};
use crate::referral::canonical::signing_input;

/// A private key with its certificate chain, ready to sign referral Bundles.
///
/// The algorithm follows from the key: EC P-256 signs with ES256, RSA of 2048 bits or more with
/// RS256; other keys are refused when the signer is built.
#[derive(Clone)]
pub struct Signer {
    private_key: PKey<Private>,
    algorithm: SignatureAlgorithm,
    leaf_subject: String,
    /// base64url SHA-256 of the leaf certificate, the JWS `kid`.
    kid: String,
    /// base64 DER of each chain certificate, leaf first, the JWS `x5c`.
    x5c: Vec<String>,
    /// The signer's certificate (its validity is checked before each signature).
    leaf: X509,
}

impl fmt::Debug for Signer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        formatter
            .debug_struct("Signer")
            .field("algorithm", &self.algorithm)
            .field("subject", &self.leaf_subject)
            .field("kid", &self.kid)
            .field("chain_length", &self.x5c.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a PEM private key (PKCS#8 or traditional, unencrypted) and a PEM certificate
    /// chain: the key's own certificate first, then any intermediates (the root may be left out).
    pub fn from_pem(
        private_key_pem: &[u8],
        certificate_chain_pem: &[u8],
    ) -> Result<Signer, SignatureError> {
        let private_key = PKey::private_key_from_pem(private_key_pem).map_err(|error| {
            SignatureError::PemInvalid {
                what: "private key",
                reason: format!(
                    "expected an unencrypted PEM private key (BEGIN PRIVATE KEY, BEGIN EC PRIVATE \
                     KEY or BEGIN RSA PRIVATE KEY); openssl said: {error}"
                ),
            }
        })?;
        let algorithm =
            algorithm_for_key(&private_key).map_err(|found| SignatureError::UnsupportedKey {
                what: "private key",
                found,
            })?;
        let chain = X509::stack_from_pem(certificate_chain_pem).map_err(|error| {
            SignatureError::PemInvalid {
                what: "certificate chain",
                reason: format!("openssl said: {error}"),
            }
        })?;
        let Some(leaf) = chain.first() else {
            return Err(SignatureError::PemInvalid {
                what: "certificate chain",
                reason: "it holds no certificate (BEGIN CERTIFICATE)".to_owned(),
            });
        };
        if chain.len() > MAX_CHAIN_CERTIFICATES {
            return Err(SignatureError::ChainTooLong {
                count: chain.len(),
                limit: MAX_CHAIN_CERTIFICATES,
            });
        }
        let leaf_subject = readable_subject(leaf);
        let leaf_key = leaf
            .public_key()
            .map_err(SignatureError::crypto("reading the certificate's key"))?;
        if !leaf_key.public_eq(&private_key) {
            return Err(SignatureError::KeyCertificateMismatch {
                subject: leaf_subject,
            });
        }
        let kid = jws::kid_for(&certificate_sha256(leaf)?);
        let leaf = leaf.clone();
        let mut x5c = Vec::with_capacity(chain.len());
        for certificate in &chain {
            let der = certificate
                .to_der()
                .map_err(SignatureError::crypto("encoding a certificate"))?;
            x5c.push(STANDARD.encode(der));
        }
        Ok(Signer {
            private_key,
            algorithm,
            leaf_subject,
            kid,
            x5c,
            leaf,
        })
    }

    /// [`Signer::from_pem`] with the key and the chain read from files.
    pub fn from_pem_files(key: &Path, chain: &Path) -> Result<Signer, SignatureError> {
        let private_key_pem = read_file("private key", key)?;
        let chain_pem = read_file("certificate chain", chain)?;
        Signer::from_pem(&private_key_pem, &chain_pem)
    }

    /// The JWS algorithm this signer uses.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The signer certificate's subject, most specific part first (`CN=…, O=…`).
    pub fn subject(&self) -> String {
        self.leaf_subject.clone()
    }

    /// Signs `bundle` in place: sets `Bundle.signature` (replacing any earlier one) to an
    /// author's signature by `who` (a FHIR Reference) at `when` (a FHIR instant), whose `data`
    /// is a detached JWS over [`signing_input`] of the Bundle.
    pub fn sign_bundle(
        &self,
        bundle: &mut Value,
        who: Value,
        when: &str,
    ) -> Result<(), SignatureError> {
        // A package signed with an expired certificate would be refused by every receiver.
        let now =
            Asn1Time::days_from_now(0).map_err(SignatureError::crypto("reading the clock"))?;
        if self.leaf.not_after() < now {
            return Err(SignatureError::CertificateExpired {
                subject: self.leaf_subject.clone(),
                not_after: self.leaf.not_after().to_string(),
            });
        }
        self.write_signature(bundle, who, when)
    }

    /// [`Signer::sign_bundle`] without the validity check (tests make expired packages).
    pub(super) fn write_signature(
        &self,
        bundle: &mut Value,
        who: Value,
        when: &str,
    ) -> Result<(), SignatureError> {
        if !bundle.is_object() {
            return Err(SignatureError::NotABundle);
        }
        let header_b64 = jws::encode_header(self.algorithm, &self.kid, &self.x5c, when);
        let input = jws::jws_signing_input(&header_b64, &signing_input(bundle));
        let signature = self.sign_bytes(&input)?;
        let signature_element = json!({
            "type": [{
                "system": "urn:iso-astm:E1762-95:2013",
                "code": "1.2.840.10065.1.12.1.1",
                "display": "Author's Signature",
            }],
            "when": when,
            "who": who,
            "sigFormat": "application/jose",
            "targetFormat": "application/fhir+json",
            "data": jws::encode_data(&header_b64, &signature),
        });
        if let Value::Object(properties) = bundle {
            properties.insert("signature".to_owned(), signature_element);
        }
        Ok(())
    }

    /// The JWS signature value over `input`.
    fn sign_bytes(&self, input: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.private_key)
            .map_err(SignatureError::crypto("preparing to sign"))?;
        let signature = signer
            .sign_oneshot_to_vec(input)
            .map_err(SignatureError::crypto("signing"))?;
        match self.algorithm {
            SignatureAlgorithm::Es256 => jws::ecdsa_der_to_jws(&signature),
            SignatureAlgorithm::Rs256 => Ok(signature),
        }
    }
}

/// Reads a key or certificate file, naming it in the error.
pub(super) fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, SignatureError> {
    std::fs::read(path).map_err(|source| SignatureError::FileUnreadable {
        what,
        path: path.to_path_buf(),
        source,
    })
}
