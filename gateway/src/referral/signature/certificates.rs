//! Facts about keys and certificates that signing and verifying share: which JWS algorithm a key
//! allows, how to describe a key or a subject to a person, and a certificate's SHA-256.

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKeyRef};
use openssl::x509::{X509NameRef, X509Ref};

use super::{SignatureAlgorithm, SignatureError};

/// The smallest RSA modulus we sign or verify with (NIST SP 800-57: 112-bit security).
const MIN_RSA_BITS: u32 = 2048;

/// The algorithm a key is used with: EC P-256 → ES256, RSA ≥ 2048 bits → RS256. Any other key
/// is refused with a description of what it is.
pub(super) fn algorithm_for_key<T: HasPublic>(
    key: &PKeyRef<T>,
) -> Result<SignatureAlgorithm, String> {
    match key.id() {
        Id::EC if ec_curve(key) == Some(Nid::X9_62_PRIME256V1) => Ok(SignatureAlgorithm::Es256),
        Id::RSA if key.bits() >= MIN_RSA_BITS => Ok(SignatureAlgorithm::Rs256),
        _ => Err(describe_key(key)),
    }
}

/// A key's type and size in words: "an RSA key of 1024 bits", "an EC key on curve secp384r1".
pub(super) fn describe_key<T: HasPublic>(key: &PKeyRef<T>) -> String {
    match key.id() {
        Id::RSA => format!("an RSA key of {} bits", key.bits()),
        Id::RSA_PSS => format!("an RSA-PSS key of {} bits", key.bits()),
        Id::EC => match ec_curve(key).and_then(|curve| curve.short_name().ok()) {
            Some(curve) => format!("an EC key on curve {curve}"),
            None => "an EC key on an unnamed curve".to_owned(),
        },
        Id::ED25519 => "an Ed25519 key".to_owned(),
        Id::ED448 => "an Ed448 key".to_owned(),
        Id::DSA => "a DSA key".to_owned(),
        other => format!("a key of openssl type {}", other.as_raw()),
    }
}

fn ec_curve<T: HasPublic>(key: &PKeyRef<T>) -> Option<Nid> {
    key.ec_key().ok().and_then(|ec| ec.group().curve_name())
}

/// A certificate's subject for people, most specific part first: `CN=…, O=…, C=…`.
pub(super) fn readable_subject(certificate: &X509Ref) -> String {
    readable_name(certificate.subject_name())
}

fn readable_name(name: &X509NameRef) -> String {
    let mut parts: Vec<String> = name
        .entries()
        .map(|entry| {
            let attribute = entry
                .object()
                .nid()
                .short_name()
                .map(str::to_owned)
                .unwrap_or_else(|_| entry.object().to_string());
            let value = entry
                .data()
                .to_string()
                .map(|text| escape_name_value(&text))
                .unwrap_or_else(|_| "(unreadable)".to_owned());
            format!("{attribute}={value}")
        })
        .collect();
    // DER holds the name from the root of the naming tree down; people read CN first.
    parts.reverse();
    if parts.is_empty() {
        "(empty subject)".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Escapes the characters that would make `readable_name` ambiguous (RFC 4514 style).
fn escape_name_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        if matches!(character, ',' | '+' | '\\' | '=') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// SHA-256 of a certificate's DER encoding.
pub(super) fn certificate_sha256(certificate: &X509Ref) -> Result<Vec<u8>, SignatureError> {
    certificate
        .digest(MessageDigest::sha256())
        .map(|digest| digest.to_vec())
        .map_err(SignatureError::crypto("hashing a certificate"))
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}
