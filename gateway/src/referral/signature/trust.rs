//! [`TrustStore`]: the certificates a receiving hospital trusts, and verifying a signed
//! referral Bundle against them.

use std::path::PathBuf;

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509StoreContext, X509};
use serde_json::Value;

use super::certificates::{algorithm_for_key, describe_key, hex, readable_subject};
use super::jws::{self, DetachedJws, ProtectedHeader};
use super::signer::read_file;
use super::{SignatureAlgorithm, SignatureError, SignaturePart, VerifiedSigner};
use crate::referral::canonical::signing_input;

/// openssl's `X509_V_ERR_CERT_NOT_YET_VALID`.
const VERIFY_ERROR_NOT_YET_VALID: i32 = 9;
/// openssl's `X509_V_ERR_CERT_HAS_EXPIRED`.
const VERIFY_ERROR_EXPIRED: i32 = 10;

/// The certificates a receiver trusts to vouch for senders: CA certificates, or a sender's own
/// certificate (self-signed or not). Every certificate here is a trust anchor, so a chain is
/// accepted as soon as it reaches any of them.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    certificates: Vec<X509>,
}

impl TrustStore {
    /// A trust store from one or more PEM certificates (concatenated).
    pub fn from_pem(certificates_pem: &[u8]) -> Result<TrustStore, SignatureError> {
        let certificates = parse_certificates(certificates_pem)?;
        Ok(TrustStore { certificates })
    }

    /// A trust store from PEM files, each holding one or more certificates. No files give an
    /// empty store, which trusts nobody.
    pub fn from_pem_files(paths: &[PathBuf]) -> Result<TrustStore, SignatureError> {
        let mut certificates = Vec::new();
        for path in paths {
            let pem = read_file("trusted certificate", path)?;
            certificates.extend(parse_certificates(&pem).map_err(|error| match error {
                SignatureError::PemInvalid { reason, .. } => SignatureError::PemInvalid {
                    what: "trusted certificate file",
                    reason: format!("{}: {reason}", path.display()),
                },
                other => other,
            })?);
        }
        Ok(TrustStore { certificates })
    }

    /// Whether the store trusts no certificate at all.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// Checks the signature on a referral Bundle: the chain in the JWS header must lead to a
    /// trusted certificate and be valid now, and the signature must match the Bundle's
    /// [`signing_input`] and the leaf certificate's key.
    pub fn verify_bundle(&self, bundle: &Value) -> Result<VerifiedSigner, SignatureError> {
        let jws = read_signature_element(bundle)?;
        let header = jws::read_header(&jws.header)?;
        let Some(leaf) = header.chain.first() else {
            return Err(SignatureError::malformed(SignaturePart::X5c, "is empty"));
        };
        let leaf_key = leaf_key_for(leaf, header.algorithm)?;
        self.check_chain(&header)?;
        let input = jws::jws_signing_input(&jws.header_b64, &signing_input(bundle));
        check_signature(&leaf_key, header.algorithm, &input, &jws.signature)?;
        Ok(VerifiedSigner {
            subject: readable_subject(leaf),
            certificate_sha256: hex(&header.leaf_sha256),
            algorithm: header.algorithm,
            signed_at: header.signed_at,
        })
    }

    /// Verifies the `x5c` chain against the trusted certificates at the current time.
    fn check_chain(&self, header: &ProtectedHeader) -> Result<(), SignatureError> {
        let Some((leaf, intermediates)) = header.chain.split_first() else {
            return Err(SignatureError::malformed(SignaturePart::X5c, "is empty"));
        };
        let leaf_subject = readable_subject(leaf);
        if self.certificates.is_empty() {
            return Err(SignatureError::NotTrusted {
                subject: leaf_subject,
                reason: "this gateway trusts no certificate yet; add the sender's CA or \
                         certificate to the trust store"
                    .to_owned(),
            });
        }
        let building = SignatureError::crypto("building the certificate store");
        let store = (|| {
            let mut builder = X509StoreBuilder::new()?;
            for certificate in &self.certificates {
                builder.add_cert(certificate.clone())?;
            }
            // Any certificate the receiver put in the store is an anchor, also a sender's own
            // leaf or an intermediate, not only self-signed roots.
            builder.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
            Ok(builder.build())
        })()
        .map_err(building)?;
        let mut untrusted = Stack::new().map_err(SignatureError::crypto("building the chain"))?;
        for certificate in intermediates {
            untrusted
                .push(certificate.clone())
                .map_err(SignatureError::crypto("building the chain"))?;
        }
        let mut context =
            X509StoreContext::new().map_err(SignatureError::crypto("verifying the chain"))?;
        let outcome = context
            .init(&store, leaf, &untrusted, |context| {
                let verified = context.verify_cert()?;
                let failing_certificate = context.current_cert().map(|c| c.to_owned());
                Ok((verified, context.error(), failing_certificate))
            })
            .map_err(SignatureError::crypto("verifying the chain"))?;
        let (verified, error, failing_certificate) = outcome;
        if verified {
            return Ok(());
        }
        let failing_certificate = failing_certificate.as_deref().unwrap_or(leaf);
        Err(match error.as_raw() {
            VERIFY_ERROR_EXPIRED => SignatureError::CertificateExpired {
                subject: readable_subject(failing_certificate),
                not_after: failing_certificate.not_after().to_string(),
            },
            VERIFY_ERROR_NOT_YET_VALID => SignatureError::CertificateNotYetValid {
                subject: readable_subject(failing_certificate),
                not_before: failing_certificate.not_before().to_string(),
            },
            _ => SignatureError::NotTrusted {
                subject: leaf_subject,
                reason: error.error_string().to_owned(),
            },
        })
    }
}

fn parse_certificates(pem: &[u8]) -> Result<Vec<X509>, SignatureError> {
    let certificates = X509::stack_from_pem(pem).map_err(|error| SignatureError::PemInvalid {
        what: "trusted certificates",
        reason: format!("openssl said: {error}"),
    })?;
    if certificates.is_empty() {
        return Err(SignatureError::PemInvalid {
            what: "trusted certificates",
            reason: "no certificate (BEGIN CERTIFICATE) found".to_owned(),
        });
    }
    Ok(certificates)
}

/// Finds `Bundle.signature`, checks its format and decodes its `data`.
fn read_signature_element(bundle: &Value) -> Result<DetachedJws, SignatureError> {
    let element = match bundle.get("signature") {
        None | Some(Value::Null) => return Err(SignatureError::Unsigned),
        Some(Value::Object(element)) => element,
        Some(_) => {
            return Err(SignatureError::malformed(
                SignaturePart::Element,
                "is not a JSON object",
            ))
        }
    };
    match element.get("sigFormat") {
        None => {}
        Some(Value::String(format)) if format == "application/jose" => {}
        Some(other) => {
            return Err(SignatureError::malformed(
                SignaturePart::SigFormat,
                format!("is {other}; only application/jose (JWS) signatures are understood"),
            ))
        }
    }
    match element.get("data") {
        None => Err(SignatureError::malformed(
            SignaturePart::Data,
            "is missing, so there is no signature value to check",
        )),
        Some(Value::String(data)) => jws::decode_data(data),
        Some(_) => Err(SignatureError::malformed(
            SignaturePart::Data,
            "is not a string",
        )),
    }
}

/// The leaf certificate's key, when it is a key `algorithm` signs with.
fn leaf_key_for(
    leaf: &X509Ref,
    algorithm: SignatureAlgorithm,
) -> Result<PKey<Public>, SignatureError> {
    let key = leaf
        .public_key()
        .map_err(|_| SignatureError::UnsupportedKey {
            what: "signer's certificate key",
            found: "a key openssl cannot read".to_owned(),
        })?;
    match algorithm_for_key(&key) {
        Ok(key_algorithm) if key_algorithm == algorithm => Ok(key),
        Ok(_) => Err(SignatureError::AlgorithmKeyMismatch {
            algorithm,
            key: describe_key(&key),
        }),
        Err(found) => Err(SignatureError::UnsupportedKey {
            what: "signer's certificate key",
            found,
        }),
    }
}

fn check_signature(
    key: &PKey<Public>,
    algorithm: SignatureAlgorithm,
    input: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let der_signature;
    let signature = match algorithm {
        SignatureAlgorithm::Es256 => {
            der_signature = jws::ecdsa_jws_to_der(signature)?;
            der_signature.as_slice()
        }
        SignatureAlgorithm::Rs256 => signature,
    };
    let mut verifier = Verifier::new(MessageDigest::sha256(), key)
        .map_err(SignatureError::crypto("preparing to verify"))?;
    // openssl reports some wrong signatures as errors rather than `false`; both mean the same.
    match verifier.verify_oneshot(signature, input) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(SignatureError::DoesNotVerify),
    }
}
