//! Referral packages: FHIR R4 document Bundles that one hospital signs and another verifies.
pub mod canonical;
pub mod signature;

#[cfg(test)]
pub(crate) mod test_pki;
