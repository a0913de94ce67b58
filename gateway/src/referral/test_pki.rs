//! A throwaway PKI for tests: a root CA, intermediate CAs, hospital certificates and self-signed
//! certificates, made with openssl at test time and returned as PEM bytes.
//!
//! Uses nothing but `openssl`, so integration tests can include it with
//! `#[path = "../src/referral/test_pki.rs"] mod test_pki;`. Test code: it unwraps freely.
// An integration test that includes this file may use only some of the helpers.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509Ref, X509};

/// The kind of key a test certificate gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// EC on P-256 (signs ES256).
    EcP256,
    /// RSA of 2048 bits (signs RS256).
    Rsa2048,
}

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// A new root CA valid for ten years: `(key_pem, cert_pem)`.
pub(crate) fn test_ca() -> (Vec<u8>, Vec<u8>) {
    let key = new_key(KeyKind::EcP256);
    let name = name("Tsunagi Test Root CA");
    let mut builder = certificate_builder(&name, &key, -1, 3650);
    builder.set_issuer_name(&name).unwrap();
    add_ca_extensions(&mut builder, None);
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    to_pem(&key, &builder.build())
}

/// A hospital (leaf) certificate issued by the given CA, valid from a day before now (or
/// earlier, for an already expired one) until `not_after_days` from now; a negative
/// `not_after_days` gives an expired certificate. Returns `(key_pem, cert_pem)`.
pub(crate) fn issue_cert(
    ca_key_pem: &[u8],
    ca_cert_pem: &[u8],
    common_name: &str,
    key_kind: KeyKind,
    not_after_days: i64,
) -> (Vec<u8>, Vec<u8>) {
    let ca_key = PKey::private_key_from_pem(ca_key_pem).unwrap();
    let ca_cert = X509::from_pem(ca_cert_pem).unwrap();
    let key = new_key(key_kind);
    let not_before_days = not_after_days.min(0) - 1;
    let mut builder =
        certificate_builder(&name(common_name), &key, not_before_days, not_after_days);
    builder.set_issuer_name(ca_cert.subject_name()).unwrap();
    add_leaf_extensions(&mut builder, &ca_cert);
    builder.sign(&ca_key, MessageDigest::sha256()).unwrap();
    to_pem(&key, &builder.build())
}

/// A TLS certificate (EC P-256, thirty days) issued by the given CA for `localhost` and
/// 127.0.0.1, for a server (`server`) or a client (mTLS): `(key_pem, cert_pem)`.
pub(crate) fn issue_tls_cert(
    ca_key_pem: &[u8],
    ca_cert_pem: &[u8],
    common_name: &str,
    server: bool,
) -> (Vec<u8>, Vec<u8>) {
    let ca_key = PKey::private_key_from_pem(ca_key_pem).unwrap();
    let ca_cert = X509::from_pem(ca_cert_pem).unwrap();
    let key = new_key(KeyKind::EcP256);
    let mut builder = certificate_builder(&name(common_name), &key, -1, 30);
    builder.set_issuer_name(ca_cert.subject_name()).unwrap();
    let alternative_names = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&builder.x509v3_context(Some(&ca_cert), None))
        .unwrap();
    builder.append_extension(alternative_names).unwrap();
    let mut usage = ExtendedKeyUsage::new();
    if server {
        usage.server_auth();
    } else {
        usage.client_auth();
    }
    builder.append_extension(usage.build().unwrap()).unwrap();
    builder
        .append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .build()
                .unwrap(),
        )
        .unwrap();
    builder.sign(&ca_key, MessageDigest::sha256()).unwrap();
    to_pem(&key, &builder.build())
}

/// An intermediate CA (EC P-256, five years) issued by the given CA: `(key_pem, cert_pem)`.
pub(crate) fn issue_intermediate_ca(
    ca_key_pem: &[u8],
    ca_cert_pem: &[u8],
    common_name: &str,
) -> (Vec<u8>, Vec<u8>) {
    let ca_key = PKey::private_key_from_pem(ca_key_pem).unwrap();
    let ca_cert = X509::from_pem(ca_cert_pem).unwrap();
    let key = new_key(KeyKind::EcP256);
    let mut builder = certificate_builder(&name(common_name), &key, -1, 1825);
    builder.set_issuer_name(ca_cert.subject_name()).unwrap();
    add_ca_extensions(&mut builder, Some(&ca_cert));
    builder.sign(&ca_key, MessageDigest::sha256()).unwrap();
    to_pem(&key, &builder.build())
}

/// A self-signed hospital certificate valid for a year: `(key_pem, cert_pem)`.
pub(crate) fn self_signed(common_name: &str, key_kind: KeyKind) -> (Vec<u8>, Vec<u8>) {
    let key = new_key(key_kind);
    let name = name(common_name);
    let mut builder = certificate_builder(&name, &key, -1, 365);
    builder.set_issuer_name(&name).unwrap();
    let subject_key_id = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(None, None))
        .unwrap();
    builder.append_extension(subject_key_id).unwrap();
    builder
        .append_extension(BasicConstraints::new().critical().build().unwrap())
        .unwrap();
    builder
        .append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()
                .unwrap(),
        )
        .unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    to_pem(&key, &builder.build())
}

/// A new key of the given kind, as PEM (PKCS#8).
pub(crate) fn new_key_pem(key_kind: KeyKind) -> Vec<u8> {
    new_key(key_kind).private_key_to_pem_pkcs8().unwrap()
}

fn new_key(key_kind: KeyKind) -> PKey<Private> {
    match key_kind {
        KeyKind::EcP256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
            PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
        }
        KeyKind::Rsa2048 => PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
    }
}

fn name(common_name: &str) -> X509Name {
    let mut name = X509Name::builder().unwrap();
    name.append_entry_by_nid(Nid::COUNTRYNAME, "JP").unwrap();
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Tsunagi Test PKI")
        .unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .unwrap();
    name.build()
}

/// A builder with version, serial, subject, key and validity (days relative to now) set.
fn certificate_builder(
    subject: &X509Name,
    key: &PKey<Private>,
    not_before_days: i64,
    not_after_days: i64,
) -> X509Builder {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(63, MsbOption::MAYBE_ZERO, false).unwrap();
    builder
        .set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    builder.set_subject_name(subject).unwrap();
    builder.set_pubkey(key).unwrap();
    let not_before = Asn1Time::from_unix(now + not_before_days * SECONDS_PER_DAY).unwrap();
    let not_after = Asn1Time::from_unix(now + not_after_days * SECONDS_PER_DAY).unwrap();
    builder.set_not_before(&not_before).unwrap();
    builder.set_not_after(&not_after).unwrap();
    builder
}

fn add_ca_extensions(builder: &mut X509Builder, issuer: Option<&X509Ref>) {
    let subject_key_id = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(issuer, None))
        .unwrap();
    builder.append_extension(subject_key_id).unwrap();
    if let Some(issuer) = issuer {
        let authority_key_id = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&builder.x509v3_context(Some(issuer), None))
            .unwrap();
        builder.append_extension(authority_key_id).unwrap();
    }
    builder
        .append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    builder
        .append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
}

fn add_leaf_extensions(builder: &mut X509Builder, issuer: &X509Ref) {
    let subject_key_id = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(Some(issuer), None))
        .unwrap();
    builder.append_extension(subject_key_id).unwrap();
    let authority_key_id = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(issuer), None))
        .unwrap();
    builder.append_extension(authority_key_id).unwrap();
    builder
        .append_extension(BasicConstraints::new().critical().build().unwrap())
        .unwrap();
    builder
        .append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()
                .unwrap(),
        )
        .unwrap();
}

fn to_pem(key: &PKey<Private>, certificate: &X509) -> (Vec<u8>, Vec<u8>) {
    (
        key.private_key_to_pem_pkcs8().unwrap(),
        certificate.to_pem().unwrap(),
    )
}
