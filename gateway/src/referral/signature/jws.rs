//! The JWS compact form with a detached payload (RFC 7515 §7.1, appendix F): building and
//! reading the protected header, the signing input, and the ES256 signature encoding.

use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::x509::X509;
use serde_json::{json, Map, Value};

use super::certificates::certificate_sha256;
use super::{SignatureAlgorithm, SignatureError, SignaturePart};
use crate::referral::canonical::canonical_json;

/// Largest protected header we decode, in bytes of JSON.
pub(super) const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most certificates `x5c` may hold (leaf plus intermediates; real chains have 2 or 3).
pub(super) const MAX_CHAIN_CERTIFICATES: usize = 8;
/// Largest `Bundle.signature.data` we decode, in characters: the base64 of a maximal header
/// plus a large RSA signature fits well within it.
const MAX_DATA_CHARS: usize = 128 * 1024;
/// Length of `r` and of `s` in an ES256 signature (RFC 7518 §3.4).
const ES256_COMPONENT_BYTES: usize = 32;
/// Header parameters we understand and so may be listed in `crit` (RFC 7515 §4.1.11).
const UNDERSTOOD_CRITICAL_PARAMETERS: [&str; 1] = ["sigT"];

/// `Bundle.signature.data` is FHIR base64Binary: standard alphabet; padding is tolerated missing.
const FHIR_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The base64url protected header for a signature made now.
pub(super) fn encode_header(
    algorithm: SignatureAlgorithm,
    kid: &str,
    x5c: &[String],
    signed_at: &str,
) -> String {
    let header = json!({
        "alg": algorithm.jws_name(),
        "kid": kid,
        "x5c": x5c,
        "sigT": signed_at,
    });
    URL_SAFE_NO_PAD.encode(canonical_json(&header))
}

/// The bytes the JWS signature covers: `header_b64 "." base64url(payload)`.
pub(super) fn jws_signing_input(header_b64: &str, payload: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(header_b64.len() + 1 + payload.len() * 4 / 3 + 4);
    input.extend_from_slice(header_b64.as_bytes());
    input.push(b'.');
    input.extend_from_slice(URL_SAFE_NO_PAD.encode(payload).as_bytes());
    input
}

/// `Bundle.signature.data` for a detached JWS: base64 of `header..signature`.
pub(super) fn encode_data(header_b64: &str, signature: &[u8]) -> String {
    let compact = format!("{header_b64}..{}", URL_SAFE_NO_PAD.encode(signature));
    base64::engine::general_purpose::STANDARD.encode(compact)
}

/// The kid we put in headers: base64url (no padding) of the leaf certificate's SHA-256.
pub(super) fn kid_for(leaf_sha256: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(leaf_sha256)
}

/// A JWS from `Bundle.signature.data`, split but not yet checked against any key.
pub(super) struct DetachedJws {
    /// The header exactly as sent, since the signature covers these characters.
    pub(super) header_b64: String,
    /// The decoded header.
    pub(super) header: Map<String, Value>,
    /// The decoded third part.
    pub(super) signature: Vec<u8>,
}

/// Decodes `Bundle.signature.data` into a detached JWS.
pub(super) fn decode_data(data: &str) -> Result<DetachedJws, SignatureError> {
    use SignaturePart::{Base64, Data, Header, Jws, SignatureValue};
    if data.len() > MAX_DATA_CHARS {
        return Err(SignatureError::malformed(
            Data,
            format!(
                "is {} characters long, more than the {MAX_DATA_CHARS} a signature may take",
                data.len()
            ),
        ));
    }
    // base64Binary may be wrapped over lines by some senders.
    let compact_base64: Vec<u8> = data
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if compact_base64.is_empty() {
        return Err(SignatureError::malformed(Data, "is empty"));
    }
    let jws_bytes = FHIR_BASE64
        .decode(&compact_base64)
        .map_err(|error| SignatureError::malformed(Base64, format!("is broken ({error})")))?;
    let jws = std::str::from_utf8(&jws_bytes).map_err(|_| {
        SignatureError::malformed(
            Jws,
            "is not text; expected a JWS of the form header..signature",
        )
    })?;
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SignatureError::malformed(
            Jws,
            "does not have the compact form header..signature (three parts separated by dots)",
        ));
    };
    if !payload_b64.is_empty() {
        return Err(SignatureError::malformed(
            Jws,
            "carries its own payload; a referral signature must leave the payload out \
             (header..signature) and cover the Bundle itself",
        ));
    }
    if header_b64.len() > MAX_HEADER_BYTES.div_ceil(3) * 4 {
        return Err(SignatureError::malformed(
            Header,
            format!("is larger than the limit of {MAX_HEADER_BYTES} bytes"),
        ));
    }
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).map_err(|error| {
        SignatureError::malformed(Header, format!("is not valid base64url ({error})"))
    })?;
    let header = match serde_json::from_slice::<Value>(&header_json) {
        Ok(Value::Object(header)) => header,
        Ok(_) => return Err(SignatureError::malformed(Header, "is not a JSON object")),
        Err(error) => {
            return Err(SignatureError::malformed(
                Header,
                format!("is not valid JSON ({error})"),
            ))
        }
    };
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|error| {
        SignatureError::malformed(SignatureValue, format!("is not valid base64url ({error})"))
    })?;
    Ok(DetachedJws {
        header_b64: header_b64.to_owned(),
        header,
        signature,
    })
}

/// What the protected header says, checked for form (not yet for trust).
pub(super) struct ProtectedHeader {
    /// `alg`, one we accept.
    pub(super) algorithm: SignatureAlgorithm,
    /// `x5c` decoded: leaf first, at least one certificate.
    pub(super) chain: Vec<X509>,
    /// SHA-256 of the leaf's DER.
    pub(super) leaf_sha256: Vec<u8>,
    /// `sigT`, when present.
    pub(super) signed_at: Option<String>,
}

/// Reads and checks the protected header: `alg`, `crit`, `x5c`, `kid`, `sigT`.
pub(super) fn read_header(header: &Map<String, Value>) -> Result<ProtectedHeader, SignatureError> {
    let algorithm = match header.get("alg") {
        None => {
            return Err(SignatureError::malformed(
                SignaturePart::Header,
                "has no alg (signature algorithm)",
            ))
        }
        Some(Value::String(name)) => SignatureAlgorithm::from_jws_name(name).ok_or_else(|| {
            SignatureError::AlgorithmNotAllowed {
                algorithm: name.clone(),
            }
        })?,
        Some(other) => {
            return Err(SignatureError::AlgorithmNotAllowed {
                algorithm: other.to_string(),
            })
        }
    };
    check_critical(header.get("crit"))?;
    let chain = read_x5c(header.get("x5c"))?;
    let Some(leaf) = chain.first() else {
        return Err(SignatureError::malformed(SignaturePart::X5c, "is empty"));
    };
    let leaf_sha256 = certificate_sha256(leaf)?;
    match header.get("kid") {
        None => {}
        Some(Value::String(kid)) if *kid == kid_for(&leaf_sha256) => {}
        Some(Value::String(_)) => {
            return Err(SignatureError::malformed(
                SignaturePart::Kid,
                "does not match the first certificate in x5c",
            ))
        }
        Some(_) => {
            return Err(SignatureError::malformed(
                SignaturePart::Kid,
                "is not a string",
            ))
        }
    }
    let signed_at = match header.get("sigT") {
        None => None,
        Some(Value::String(time)) => Some(time.clone()),
        Some(_) => {
            return Err(SignatureError::malformed(
                SignaturePart::Header,
                "has a sigT (signing time) that is not a string",
            ))
        }
    };
    Ok(ProtectedHeader {
        algorithm,
        chain,
        leaf_sha256,
        signed_at,
    })
}

/// RFC 7515 §4.1.11: a receiver must refuse a JWS whose `crit` lists a parameter it does not
/// understand, since the sender said the signature means something else without it.
fn check_critical(critical: Option<&Value>) -> Result<(), SignatureError> {
    let Some(critical) = critical else {
        return Ok(());
    };
    let Value::Array(names) = critical else {
        return Err(SignatureError::malformed(
            SignaturePart::Header,
            "has a crit that is not a list",
        ));
    };
    for name in names {
        match name {
            Value::String(name) if UNDERSTOOD_CRITICAL_PARAMETERS.contains(&name.as_str()) => {}
            other => {
                return Err(SignatureError::malformed(
                    SignaturePart::Header,
                    format!(
                        "marks the extension {other} as critical, which this gateway does not \
                         understand"
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn read_x5c(x5c: Option<&Value>) -> Result<Vec<X509>, SignatureError> {
    let malformed = |reason: String| SignatureError::malformed(SignaturePart::X5c, reason);
    let entries = match x5c {
        None => {
            return Err(malformed(
                "is missing; the signer's certificate must travel with the signature".to_owned(),
            ))
        }
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(malformed("is not a list".to_owned())),
    };
    if entries.len() > MAX_CHAIN_CERTIFICATES {
        return Err(malformed(format!(
            "has {} certificates; at most {MAX_CHAIN_CERTIFICATES} are allowed",
            entries.len()
        )));
    }
    let mut chain = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let position = index + 1;
        let Value::String(encoded) = entry else {
            return Err(malformed(format!("entry {position} is not a string")));
        };
        // x5c uses standard base64 with padding (RFC 7515 §4.1.6), not base64url.
        let der = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|error| {
                malformed(format!("entry {position} is not valid base64 ({error})"))
            })?;
        let certificate = X509::from_der(&der)
            .map_err(|_| malformed(format!("entry {position} is not a DER X.509 certificate")))?;
        chain.push(certificate);
    }
    Ok(chain)
}

/// openssl's DER ECDSA signature → the JWS form, `r || s` with each padded to 32 bytes.
pub(super) fn ecdsa_der_to_jws(der: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let to_jws = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let signature = EcdsaSig::from_der(der)?;
        let width = ES256_COMPONENT_BYTES as i32;
        let mut raw = signature.r().to_vec_padded(width)?;
        raw.extend(signature.s().to_vec_padded(width)?);
        Ok(raw)
    };
    to_jws().map_err(SignatureError::crypto("encoding an ES256 signature"))
}

/// The JWS form of an ES256 signature (`r || s`) → the DER form openssl verifies.
pub(super) fn ecdsa_jws_to_der(raw: &[u8]) -> Result<Vec<u8>, SignatureError> {
    if raw.len() != 2 * ES256_COMPONENT_BYTES {
        return Err(SignatureError::malformed(
            SignaturePart::SignatureValue,
            format!(
                "has {} bytes; an ES256 signature has exactly {}",
                raw.len(),
                2 * ES256_COMPONENT_BYTES
            ),
        ));
    }
    let (r, s) = raw.split_at(ES256_COMPONENT_BYTES);
    let to_der = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?.to_der()
    };
    to_der().map_err(SignatureError::crypto("decoding an ES256 signature"))
}
