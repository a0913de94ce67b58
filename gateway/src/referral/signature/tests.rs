//! Signing and verifying with a PKI made at test time (see `referral::test_pki`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{json, Map, Value};

use super::*;
use crate::referral::test_pki::{issue_cert, issue_intermediate_ca, self_signed, test_ca, KeyKind};

const WHEN: &str = "2026-11-26T10:00:00+09:00";

fn referral_bundle() -> Value {
    serde_json::from_str(
        r#"{
        "resourceType": "Bundle",
        "id": "referral-0001",
        "meta": {"lastUpdated": "2026-11-26T09:59:00+09:00"},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:6f1c1e40-0000-4000-8000-000000000001"},
        "type": "document",
        "timestamp": "2026-11-26T09:59:00+09:00",
        "entry": [
            {"fullUrl": "urn:uuid:6f1c1e40-0000-4000-8000-000000000002",
             "resource": {"resourceType": "Composition", "status": "final",
                          "type": {"coding": [{"system": "http://loinc.org", "code": "57133-1"}]},
                          "title": "診療情報提供書", "date": "2026-11-26"}},
            {"fullUrl": "urn:uuid:6f1c1e40-0000-4000-8000-000000000003",
             "resource": {"resourceType": "Patient", "active": true,
                          "name": [{"family": "架空", "given": ["花子"]}], "birthDate": "1970-01-01"}},
            {"fullUrl": "urn:uuid:6f1c1e40-0000-4000-8000-000000000004",
             "resource": {"resourceType": "Observation", "status": "final",
                          "valueQuantity": {"value": 7.20, "unit": "%"}}}
        ]
        }"#,
    )
    .unwrap()
}

fn who() -> Value {
    json!({"reference": "Organization/hospital-a", "display": "架空総合病院"})
}

/// A root CA, a hospital-A certificate of `kind` issued by it, and a store trusting the root.
fn hospital_a(kind: KeyKind) -> (Signer, TrustStore) {
    let (ca_key, ca_cert) = test_ca();
    let (key, cert) = issue_cert(&ca_key, &ca_cert, "Hospital A", kind, 365);
    let signer = Signer::from_pem(&key, &cert).unwrap();
    (signer, TrustStore::from_pem(&ca_cert).unwrap())
}

fn signed_by(signer: &Signer) -> Value {
    let mut bundle = referral_bundle();
    signer.sign_bundle(&mut bundle, who(), WHEN).unwrap();
    bundle
}

fn data_of(bundle: &Value) -> String {
    bundle["signature"]["data"].as_str().unwrap().to_owned()
}

/// The JWS compact text inside `Bundle.signature.data`.
fn compact_of(bundle: &Value) -> String {
    String::from_utf8(STANDARD.decode(data_of(bundle)).unwrap()).unwrap()
}

fn set_compact(bundle: &mut Value, compact: &str) {
    bundle["signature"]["data"] = json!(STANDARD.encode(compact));
}

fn header_of(bundle: &Value) -> Map<String, Value> {
    let compact = compact_of(bundle);
    let header_b64 = compact.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).unwrap()).unwrap()
}

/// Rewrites the JWS header (keeping the old signature value), as an attacker could.
fn forge_header(bundle: &mut Value, edit: impl FnOnce(&mut Map<String, Value>)) {
    let mut header = header_of(bundle);
    edit(&mut header);
    let compact = compact_of(bundle);
    let signature_b64 = compact.rsplit('.').next().unwrap().to_owned();
    let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    set_compact(bundle, &format!("{header_b64}..{signature_b64}"));
}

fn malformed_part(error: &SignatureError) -> Option<SignaturePart> {
    match error {
        SignatureError::Malformed { part, .. } => Some(*part),
        _ => None,
    }
}

#[test]
fn es256_round_trip_names_the_signer() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    assert_eq!(signer.algorithm(), SignatureAlgorithm::Es256);
    assert_eq!(signer.subject(), "CN=Hospital A, O=Tsunagi Test PKI, C=JP");
    let bundle = signed_by(&signer);
    let verified = trust.verify_bundle(&bundle).unwrap();
    assert_eq!(verified.algorithm, SignatureAlgorithm::Es256);
    assert_eq!(verified.subject, "CN=Hospital A, O=Tsunagi Test PKI, C=JP");
    assert_eq!(verified.signed_at.as_deref(), Some(WHEN));
    assert_eq!(verified.certificate_sha256.len(), 64);
    assert!(verified
        .certificate_sha256
        .bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)));
    let signature_value = compact_of(&bundle).rsplit('.').next().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(signature_value).unwrap().len(), 64);
}

#[test]
fn rs256_round_trip() {
    let (signer, trust) = hospital_a(KeyKind::Rsa2048);
    assert_eq!(signer.algorithm(), SignatureAlgorithm::Rs256);
    let bundle = signed_by(&signer);
    let verified = trust.verify_bundle(&bundle).unwrap();
    assert_eq!(verified.algorithm, SignatureAlgorithm::Rs256);
    assert_eq!(verified.subject, signer.subject());
}

#[test]
fn signature_element_and_header_have_the_agreed_shape() {
    let (ca_key, ca_cert) = test_ca();
    let (key, cert) = issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, 365);
    let signer = Signer::from_pem(&key, &cert).unwrap();
    let bundle = signed_by(&signer);
    let signature = &bundle["signature"];
    assert_eq!(
        signature["type"],
        json!([{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1",
                "display": "Author's Signature"}])
    );
    assert_eq!(signature["when"], json!(WHEN));
    assert_eq!(signature["who"], who());
    assert_eq!(signature["sigFormat"], json!("application/jose"));
    assert_eq!(signature["targetFormat"], json!("application/fhir+json"));
    let compact = compact_of(&bundle);
    let parts: Vec<&str> = compact.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert!(parts[1].is_empty(), "payload must be detached");
    let header = header_of(&bundle);
    assert_eq!(header["alg"], json!("ES256"));
    assert_eq!(header["sigT"], json!(WHEN));
    let leaf_der = openssl::x509::X509::from_pem(&cert)
        .unwrap()
        .to_der()
        .unwrap();
    assert_eq!(header["x5c"], json!([STANDARD.encode(&leaf_der)]));
    let leaf_sha256 = openssl::sha::sha256(&leaf_der);
    assert_eq!(header["kid"], json!(URL_SAFE_NO_PAD.encode(leaf_sha256)));
    let verified = TrustStore::from_pem(&ca_cert)
        .unwrap()
        .verify_bundle(&bundle)
        .unwrap();
    assert_eq!(verified.certificate_sha256, certificates::hex(&leaf_sha256));
}

/// JSON pointers of every primitive value under `/entry`.
fn entry_leaves(value: &Value, pointer: String, leaves: &mut Vec<String>) {
    match value {
        Value::Object(properties) => {
            for (name, child) in properties {
                entry_leaves(child, format!("{pointer}/{name}"), leaves);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                entry_leaves(child, format!("{pointer}/{index}"), leaves);
            }
        }
        _ => leaves.push(pointer),
    }
}

#[test]
fn any_changed_value_in_any_entry_does_not_verify() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let bundle = signed_by(&signer);
    let mut leaves = Vec::new();
    entry_leaves(&bundle["entry"], "/entry".to_owned(), &mut leaves);
    assert!(leaves.len() > 15, "{leaves:?}");
    for pointer in leaves {
        let mut changed = bundle.clone();
        let leaf = changed.pointer_mut(&pointer).unwrap();
        *leaf = match leaf.take() {
            // One character (one byte for ASCII) different.
            Value::String(text) => {
                let mut characters: Vec<char> = text.chars().collect();
                characters[0] = if characters[0] == 'x' { 'y' } else { 'x' };
                Value::String(characters.into_iter().collect())
            }
            Value::Bool(flag) => Value::Bool(!flag),
            Value::Number(_) => serde_json::from_str("7.2").unwrap(),
            other => panic!("unexpected leaf {other}"),
        };
        let error = trust.verify_bundle(&changed).unwrap_err();
        assert!(
            matches!(error, SignatureError::DoesNotVerify),
            "{pointer}: {error}"
        );
    }
    let mut reordered = bundle.clone();
    reordered["entry"].as_array_mut().unwrap().swap(1, 2);
    assert!(matches!(
        trust.verify_bundle(&reordered),
        Err(SignatureError::DoesNotVerify)
    ));
    let mut extra = bundle.clone();
    extra["entry"][1]["resource"]["gender"] = json!("female");
    assert!(matches!(
        trust.verify_bundle(&extra),
        Err(SignatureError::DoesNotVerify)
    ));
}

#[test]
fn bundle_id_meta_and_key_order_may_change_after_signing() {
    let (signer, trust) = hospital_a(KeyKind::Rsa2048);
    let bundle = signed_by(&signer);
    let mut moved = bundle.clone();
    moved["id"] = json!("stored-at-hospital-b");
    moved["meta"] = json!({"versionId": "1", "lastUpdated": "2026-11-27T08:00:00+09:00"});
    assert!(trust.verify_bundle(&moved).is_ok());
    // Re-serialised with sorted keys and spaces, as another server might send it.
    let reparsed: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&sorted(&bundle)).unwrap()).unwrap();
    assert!(trust.verify_bundle(&reparsed).is_ok());
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(properties) => {
            let mut names: Vec<&String> = properties.keys().collect();
            names.sort();
            Value::Object(
                names
                    .into_iter()
                    .map(|name| (name.clone(), sorted(&properties[name])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[test]
fn another_key_with_the_same_certificate_does_not_verify() {
    let (ca_key, ca_cert) = test_ca();
    let (key, cert) = issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, 365);
    let (other_key, other_cert) = issue_cert(&ca_key, &ca_cert, "Hospital C", KeyKind::EcP256, 365);
    let trust = TrustStore::from_pem(&ca_cert).unwrap();
    let genuine = signed_by(&Signer::from_pem(&key, &cert).unwrap());
    let mut forged = signed_by(&Signer::from_pem(&other_key, &other_cert).unwrap());
    // Hospital C's signature value under a header that names Hospital A.
    let forged_signature = compact_of(&forged).rsplit('.').next().unwrap().to_owned();
    let genuine_header = compact_of(&genuine).split('.').next().unwrap().to_owned();
    set_compact(
        &mut forged,
        &format!("{genuine_header}..{forged_signature}"),
    );
    let error = trust.verify_bundle(&forged).unwrap_err();
    assert!(matches!(error, SignatureError::DoesNotVerify), "{error}");
    assert!(error.to_string().contains("changed after signing"));
}

#[test]
fn untrusted_signers_are_refused() {
    let (signer, _) = hospital_a(KeyKind::EcP256);
    let (_, other_ca_cert) = test_ca();
    let trust_other_ca = TrustStore::from_pem(&other_ca_cert).unwrap();
    let error = trust_other_ca
        .verify_bundle(&signed_by(&signer))
        .unwrap_err();
    assert!(
        matches!(error, SignatureError::NotTrusted { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("CN=Hospital A"), "{error}");

    let (key, cert) = self_signed("Hospital Z", KeyKind::Rsa2048);
    let self_signed_signer = Signer::from_pem(&key, &cert).unwrap();
    let error = trust_other_ca
        .verify_bundle(&signed_by(&self_signed_signer))
        .unwrap_err();
    assert!(
        matches!(error, SignatureError::NotTrusted { .. }),
        "{error}"
    );

    let empty = TrustStore::from_pem_files(&[]).unwrap();
    assert!(empty.is_empty());
    let error = empty.verify_bundle(&signed_by(&signer)).unwrap_err();
    assert!(
        matches!(error, SignatureError::NotTrusted { .. }),
        "{error}"
    );
}

#[test]
fn a_trusted_self_signed_sender_certificate_verifies() {
    for kind in [KeyKind::EcP256, KeyKind::Rsa2048] {
        let (key, cert) = self_signed("Hospital A", kind);
        let signer = Signer::from_pem(&key, &cert).unwrap();
        let trust = TrustStore::from_pem(&cert).unwrap();
        let verified = trust.verify_bundle(&signed_by(&signer)).unwrap();
        assert_eq!(verified.subject, "CN=Hospital A, O=Tsunagi Test PKI, C=JP");
    }
}

#[test]
fn a_chain_through_an_intermediate_verifies_only_with_the_intermediate() {
    let (root_key, root_cert) = test_ca();
    let (intermediate_key, intermediate_cert) =
        issue_intermediate_ca(&root_key, &root_cert, "Tsunagi Test Issuing CA");
    let (key, cert) = issue_cert(
        &intermediate_key,
        &intermediate_cert,
        "Hospital A",
        KeyKind::Rsa2048,
        365,
    );
    let chain = [cert.clone(), intermediate_cert.clone()].concat();
    let trust = TrustStore::from_pem(&root_cert).unwrap();
    let bundle = signed_by(&Signer::from_pem(&key, &chain).unwrap());
    assert_eq!(header_of(&bundle)["x5c"].as_array().unwrap().len(), 2);
    let verified = trust.verify_bundle(&bundle).unwrap();
    assert_eq!(verified.subject, "CN=Hospital A, O=Tsunagi Test PKI, C=JP");

    let leaf_only = signed_by(&Signer::from_pem(&key, &cert).unwrap());
    let error = trust.verify_bundle(&leaf_only).unwrap_err();
    assert!(
        matches!(error, SignatureError::NotTrusted { .. }),
        "{error}"
    );
}

#[test]
fn an_expired_leaf_is_refused() {
    let (ca_key, ca_cert) = test_ca();
    let (key, cert) = issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, -1);
    let signer = Signer::from_pem(&key, &cert).unwrap();
    let mut bundle = referral_bundle();
    // The signer itself refuses: every receiver would.
    match signer.sign_bundle(&mut bundle, who(), WHEN) {
        Err(SignatureError::CertificateExpired { .. }) => {}
        other => panic!("expected CertificateExpired when signing, got {other:?}"),
    }
    signer.write_signature(&mut bundle, who(), WHEN).unwrap();
    let error = TrustStore::from_pem(&ca_cert)
        .unwrap()
        .verify_bundle(&bundle)
        .unwrap_err();
    match &error {
        SignatureError::CertificateExpired { subject, .. } => {
            assert!(subject.starts_with("CN=Hospital A"), "{subject}")
        }
        other => panic!("expected CertificateExpired, got {other}"),
    }
    assert!(error.to_string().contains("expired on"), "{error}");
}

#[test]
fn alg_none_hmac_and_unknown_algorithms_are_refused() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    for algorithm in [json!("none"), json!("HS256"), json!("es256"), json!(256)] {
        let mut bundle = signed_by(&signer);
        forge_header(&mut bundle, |header| {
            header.insert("alg".to_owned(), algorithm.clone());
        });
        let error = trust.verify_bundle(&bundle).unwrap_err();
        assert!(
            matches!(error, SignatureError::AlgorithmNotAllowed { .. }),
            "{algorithm}: {error}"
        );
    }
    // The classic unsigned token: alg none and an empty signature part.
    let mut bundle = signed_by(&signer);
    let mut header = header_of(&bundle);
    header.insert("alg".to_owned(), json!("none"));
    let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    set_compact(&mut bundle, &format!("{header_b64}.."));
    let error = trust.verify_bundle(&bundle).unwrap_err();
    assert!(
        error.to_string().contains("\"none\" is not allowed"),
        "{error}"
    );
    let mut bundle = signed_by(&signer);
    forge_header(&mut bundle, |header| {
        header.remove("alg");
    });
    let error = trust.verify_bundle(&bundle).unwrap_err();
    assert_eq!(
        malformed_part(&error),
        Some(SignaturePart::Header),
        "{error}"
    );
}

#[test]
fn an_algorithm_that_does_not_fit_the_key_is_refused() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let mut bundle = signed_by(&signer);
    forge_header(&mut bundle, |header| {
        header.insert("alg".to_owned(), json!("RS256"));
    });
    let error = trust.verify_bundle(&bundle).unwrap_err();
    assert!(
        matches!(error, SignatureError::AlgorithmKeyMismatch { .. }),
        "{error}"
    );
}

/// A change an attacker makes to a JWS header.
type HeaderEdit = dyn Fn(&mut Map<String, Value>);

#[test]
fn header_checks_refuse_crit_kid_and_x5c_problems() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let cases: Vec<(SignaturePart, Box<HeaderEdit>)> = vec![
        (
            SignaturePart::Header,
            Box::new(|header| {
                header.insert("crit".to_owned(), json!(["b64"]));
            }),
        ),
        (
            SignaturePart::Kid,
            Box::new(|header| {
                header.insert("kid".to_owned(), json!("not-the-leaf"));
            }),
        ),
        (
            SignaturePart::X5c,
            Box::new(|header| {
                header.remove("x5c");
            }),
        ),
        (
            SignaturePart::X5c,
            Box::new(|header| {
                header.insert("x5c".to_owned(), json!([]));
            }),
        ),
        (
            SignaturePart::X5c,
            Box::new(|header| {
                header.insert("x5c".to_owned(), json!(["bm90IGEgY2VydGlmaWNhdGU="]));
            }),
        ),
        (
            SignaturePart::X5c,
            Box::new(|header| {
                header.insert("x5c".to_owned(), json!(["***"]));
            }),
        ),
        (
            SignaturePart::X5c,
            Box::new(|header| {
                let leaf = header["x5c"][0].clone();
                header.insert("x5c".to_owned(), Value::Array(vec![leaf; 9]));
            }),
        ),
    ];
    for (expected_part, edit) in cases {
        let mut bundle = signed_by(&signer);
        forge_header(&mut bundle, |header| edit(header));
        let error = trust.verify_bundle(&bundle).unwrap_err();
        assert_eq!(malformed_part(&error), Some(expected_part), "{error}");
    }
    // crit naming sigT, which we understand, is fine (but this header was not signed).
    let mut bundle = signed_by(&signer);
    forge_header(&mut bundle, |header| {
        header.insert("crit".to_owned(), json!(["sigT"]));
    });
    assert!(matches!(
        trust.verify_bundle(&bundle),
        Err(SignatureError::DoesNotVerify)
    ));
}

#[test]
fn missing_and_broken_signature_elements_give_clear_errors() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let signed = signed_by(&signer);

    let error = trust.verify_bundle(&referral_bundle()).unwrap_err();
    assert!(matches!(error, SignatureError::Unsigned), "{error}");
    assert!(error.to_string().contains("no Bundle.signature"));
    assert!(matches!(
        trust.verify_bundle(&json!([1, 2])),
        Err(SignatureError::Unsigned)
    ));

    let edits: [(SignaturePart, &str, Value); 6] = [
        (SignaturePart::Element, "", json!("signed")),
        (SignaturePart::Data, "data", Value::Null),
        (SignaturePart::Data, "data", json!(42)),
        (SignaturePart::Data, "data", json!("  \n")),
        (SignaturePart::Base64, "data", json!("!!!! not base64 ????")),
        (
            SignaturePart::SigFormat,
            "sigFormat",
            json!("application/pkcs7-signature"),
        ),
    ];
    for (expected_part, field, replacement) in edits {
        let mut bundle = signed.clone();
        if field.is_empty() {
            bundle["signature"] = replacement;
        } else if replacement.is_null() {
            bundle["signature"].as_object_mut().unwrap().remove(field);
        } else {
            bundle["signature"][field] = replacement;
        }
        let error = trust.verify_bundle(&bundle).unwrap_err();
        assert_eq!(malformed_part(&error), Some(expected_part), "{error}");
    }

    let mut embedded = signed.clone();
    let compact = compact_of(&signed);
    let (header_b64, signature_b64) = compact.split_once("..").unwrap();
    set_compact(&mut embedded, &format!("{header_b64}.e30.{signature_b64}"));
    let error = trust.verify_bundle(&embedded).unwrap_err();
    assert_eq!(malformed_part(&error), Some(SignaturePart::Jws), "{error}");

    let mut oversized = signed.clone();
    oversized["signature"]["data"] = json!("A".repeat(200 * 1024));
    let error = trust.verify_bundle(&oversized).unwrap_err();
    assert_eq!(malformed_part(&error), Some(SignaturePart::Data), "{error}");

    let mut big_header = signed.clone();
    let huge_header = URL_SAFE_NO_PAD.encode(vec![b' '; 70 * 1024]);
    set_compact(&mut big_header, &format!("{huge_header}..AAAA"));
    let error = trust.verify_bundle(&big_header).unwrap_err();
    assert!(malformed_part(&error).is_some(), "{error}");
}

#[test]
fn every_truncation_of_the_data_is_refused_as_malformed() {
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let signed = signed_by(&signer);
    let data = data_of(&signed);
    // Dropping only the trailing `=` padding leaves the same bytes, which FHIR base64 tolerates.
    for cut in 0..data.trim_end_matches('=').len() {
        let mut truncated = signed.clone();
        truncated["signature"]["data"] = json!(data[..cut]);
        let error = trust.verify_bundle(&truncated).unwrap_err();
        assert!(malformed_part(&error).is_some(), "cut at {cut}: {error:?}");
    }
}

#[test]
fn signing_again_replaces_the_earlier_signature() {
    let (ca_key, ca_cert) = test_ca();
    let (key_a, cert_a) = issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, 365);
    let (key_b, cert_b) = issue_cert(&ca_key, &ca_cert, "Hospital B", KeyKind::Rsa2048, 365);
    let mut bundle = signed_by(&Signer::from_pem(&key_a, &cert_a).unwrap());
    Signer::from_pem(&key_b, &cert_b)
        .unwrap()
        .sign_bundle(&mut bundle, who(), "2026-11-27T00:00:00Z")
        .unwrap();
    let verified = TrustStore::from_pem(&ca_cert)
        .unwrap()
        .verify_bundle(&bundle)
        .unwrap();
    assert!(verified.subject.starts_with("CN=Hospital B"));
    assert_eq!(verified.signed_at.as_deref(), Some("2026-11-27T00:00:00Z"));
    assert_eq!(bundle["signature"]["when"], json!("2026-11-27T00:00:00Z"));
    let mut not_a_bundle = json!("text");
    assert!(matches!(
        Signer::from_pem(&key_a, &cert_a)
            .unwrap()
            .sign_bundle(&mut not_a_bundle, who(), WHEN),
        Err(SignatureError::NotABundle)
    ));
}

#[test]
fn unsupported_keys_are_refused_when_loading() {
    let (_, cert) = self_signed("Hospital A", KeyKind::EcP256);
    let rsa_1024 = PKey::from_rsa(Rsa::generate(1024).unwrap())
        .unwrap()
        .private_key_to_pem_pkcs8()
        .unwrap();
    let p384 = EcGroup::from_curve_name(Nid::SECP384R1).unwrap();
    let ec_p384 = PKey::from_ec_key(EcKey::generate(&p384).unwrap())
        .unwrap()
        .private_key_to_pem_pkcs8()
        .unwrap();
    let ed25519 = PKey::generate_ed25519()
        .unwrap()
        .private_key_to_pem_pkcs8()
        .unwrap();
    for (key, described) in [
        (rsa_1024, "an RSA key of 1024 bits"),
        (ec_p384, "an EC key on curve secp384r1"),
        (ed25519, "an Ed25519 key"),
    ] {
        let error = Signer::from_pem(&key, &cert).unwrap_err();
        assert!(
            matches!(&error, SignatureError::UnsupportedKey { found, .. } if found == described),
            "{error}"
        );
    }
}

#[test]
fn key_and_certificate_problems_are_reported_when_loading() {
    let (key, cert) = self_signed("Hospital A", KeyKind::EcP256);
    let (_, other_cert) = self_signed("Hospital C", KeyKind::EcP256);
    let error = Signer::from_pem(&key, &other_cert).unwrap_err();
    assert!(
        matches!(error, SignatureError::KeyCertificateMismatch { ref subject } if subject.starts_with("CN=Hospital C")),
        "{error}"
    );
    assert!(matches!(
        Signer::from_pem(b"not a key", &cert),
        Err(SignatureError::PemInvalid {
            what: "private key",
            ..
        })
    ));
    assert!(matches!(
        Signer::from_pem(&key, b""),
        Err(SignatureError::PemInvalid {
            what: "certificate chain",
            ..
        })
    ));
    let too_long = cert.repeat(9);
    assert!(matches!(
        Signer::from_pem(&key, &too_long),
        Err(SignatureError::ChainTooLong { count: 9, .. })
    ));
    assert!(matches!(
        TrustStore::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        Err(SignatureError::PemInvalid { .. })
    ));
    assert!(matches!(
        TrustStore::from_pem(b""),
        Err(SignatureError::PemInvalid { .. })
    ));
}

#[test]
fn files_are_read_and_missing_files_are_named() {
    let folder = tempfile::tempdir().unwrap();
    let (ca_key, ca_cert) = test_ca();
    let (key, cert) = issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, 365);
    let key_path = folder.path().join("hospital-a.key.pem");
    let chain_path = folder.path().join("hospital-a.chain.pem");
    let ca_path = folder.path().join("ca.pem");
    std::fs::write(&key_path, &key).unwrap();
    std::fs::write(&chain_path, &cert).unwrap();
    std::fs::write(&ca_path, &ca_cert).unwrap();
    let signer = Signer::from_pem_files(&key_path, &chain_path).unwrap();
    let trust = TrustStore::from_pem_files(std::slice::from_ref(&ca_path)).unwrap();
    assert!(!trust.is_empty());
    assert!(trust.verify_bundle(&signed_by(&signer)).is_ok());

    let missing = folder.path().join("missing.pem");
    let error = Signer::from_pem_files(&missing, &chain_path).unwrap_err();
    assert!(
        matches!(&error, SignatureError::FileUnreadable { what: "private key", path, .. } if *path == missing),
        "{error}"
    );
    assert!(error.to_string().contains("missing.pem"), "{error}");
    let error = TrustStore::from_pem_files(&[ca_path, key_path.clone()]).unwrap_err();
    assert!(error.to_string().contains("hospital-a.key.pem"), "{error}");
}

#[test]
fn jws_names_round_trip_and_the_header_is_covered_by_the_signature() {
    for algorithm in [SignatureAlgorithm::Es256, SignatureAlgorithm::Rs256] {
        assert_eq!(
            SignatureAlgorithm::from_jws_name(algorithm.jws_name()),
            Some(algorithm)
        );
        assert_eq!(algorithm.to_string(), algorithm.jws_name());
    }
    assert_eq!(SignatureAlgorithm::from_jws_name("none"), None);
    let (signer, trust) = hospital_a(KeyKind::EcP256);
    let mut bundle = signed_by(&signer);
    forge_header(&mut bundle, |header| {
        header.remove("sigT");
    });
    // The header is covered by the signature, so removing sigT breaks it.
    assert!(matches!(
        trust.verify_bundle(&bundle),
        Err(SignatureError::DoesNotVerify)
    ));
}

#[test]
fn a_hospital_certificate_cannot_issue_certificates() {
    let (ca_key, ca_cert) = test_ca();
    let (hospital_key, hospital_cert) =
        issue_cert(&ca_key, &ca_cert, "Hospital A", KeyKind::EcP256, 365);
    // Hospital A's certificate is not a CA, so what it "issues" must not be trusted.
    let (key, cert) = issue_cert(
        &hospital_key,
        &hospital_cert,
        "Impostor",
        KeyKind::EcP256,
        365,
    );
    let chain = [cert, hospital_cert].concat();
    let bundle = signed_by(&Signer::from_pem(&key, &chain).unwrap());
    let error = TrustStore::from_pem(&ca_cert)
        .unwrap()
        .verify_bundle(&bundle)
        .unwrap_err();
    assert!(
        matches!(error, SignatureError::NotTrusted { .. }),
        "{error}"
    );
}
