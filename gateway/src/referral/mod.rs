//! Referral packages (紹介状 / 診療情報提供書 with images and reports): hospital A builds a
//! signed FHIR document from a referral ServiceRequest and sends it through an outbox;
//! hospital B verifies where it came from, matches the patient and stores it with a
//! Provenance. `docs/referral.md` tells the flow.
//!
//! - [`collect`]: which resources are reachable from the ServiceRequest and belong in it;
//! - [`composition`] and [`package`]: the document Bundle;
//! - [`canonical`] and [`signature`]: the detached JWS in `Bundle.signature`; [`keys`] loads
//!   the signing key and the trusted senders;
//! - [`outbox`] and [`delivery`]: Tasks in the store, sent with retries by a worker;
//! - [`receive`]: checks and stores an arriving package.

pub mod canonical;
pub mod collect;
pub mod composition;
pub mod delivery;
pub mod error;
pub mod keys;
pub mod outbox;
pub mod package;
pub mod receive;
pub mod settings;
pub mod signature;
#[cfg(test)]
pub(crate) mod test_pki;

use crate::clock::Instant;
use crate::{Gateway, GatewayError};
use error::ReferralError;
use package::Package;
use serde_json::json;

/// Builds and signs the package of `ServiceRequest/{referral_id}`.
pub async fn build_signed(gateway: &Gateway, referral_id: &str) -> Result<Package, GatewayError> {
    let signer = gateway.referral_keys().signer()?;
    let now = Instant::now();
    let mut package = package::build(gateway, referral_id, now).await?;
    let who = json!({"reference": package.author});
    signer
        .sign_bundle(&mut package.bundle, who, &now.to_fhir())
        .map_err(ReferralError::from)?;
    Ok(package)
}

/// Builds, signs and queues the package for `destination`; returns it with the delivery
/// Task's id.
pub async fn send(
    gateway: &Gateway,
    referral_id: &str,
    destination: &str,
) -> Result<(Package, String), GatewayError> {
    if !gateway
        .config()
        .referral
        .destinations
        .contains_key(destination)
    {
        return Err(ReferralError::UnknownDestination(destination.to_owned()).into());
    }
    let package = build_signed(gateway, referral_id).await?;
    let task_id = outbox::enqueue(
        gateway,
        &package.bundle,
        destination,
        &format!("ServiceRequest/{referral_id}"),
        &package.patient_reference,
    )
    .await?;
    Ok((package, task_id))
}
