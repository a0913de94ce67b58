//! Deterministic resource ids. A resource's id is derived from who sent it, what type it is,
//! and its business identifier, so re-ingesting the same export never duplicates anything and
//! messages that arrive in any order still reference each other (ARCHITECTURE-BRIEF.md,
//! "Resource ids are deterministic").

use uuid::Uuid;

/// The fixed namespace of every Tsunagi UUIDv5 resource id:
/// `00313e5b-015a-463d-9fa8-2a2c0d2f22c9`. Changing it would change every stored id.
pub const TSUNAGI_NAMESPACE: Uuid = Uuid::from_u128(0x00313e5b_015a_463d_9fa8_2a2c0d2f22c9);

/// The id of the resource of `resource_type` whose business identifier is
/// `business_identifier` at `institution`: UUIDv5 in [`TSUNAGI_NAMESPACE`] over
/// `"<institution>|<resource_type>|<business_identifier>"`, lower-case and hyphenated (a valid
/// FHIR id of 36 characters).
pub fn resource_id(institution: &str, resource_type: &str, business_identifier: &str) -> String {
    let parts = [
        institution.as_bytes(),
        b"|",
        resource_type.as_bytes(),
        b"|",
        business_identifier.as_bytes(),
    ];
    let length: usize = parts.iter().map(|part| part.len()).sum();
    // Typical names fit on the stack; longer keys take a heap buffer.
    let mut stack = [0u8; 160];
    let mut heap = Vec::new();
    let name: &mut [u8] = match stack.get_mut(..length) {
        Some(name) => name,
        None => {
            heap.resize(length, 0);
            &mut heap
        }
    };
    let mut at = 0;
    for part in parts {
        if let Some(slot) = name.get_mut(at..at + part.len()) {
            slot.copy_from_slice(part);
        }
        at += part.len();
    }
    let uuid = Uuid::new_v5(&TSUNAGI_NAMESPACE, name);
    let mut buffer = Uuid::encode_buffer();
    uuid.hyphenated().encode_lower(&mut buffer).to_owned()
}

/// A stable digest of raw bytes as a business identifier (`raw:<uuid>`): the source message's
/// `Binary` and `Provenance` are keyed by it, so a byte-identical resend maps onto the same
/// resources while a different message that reuses a control id (MSH-10) does not.
pub fn content_key(bytes: &[u8]) -> String {
    let uuid = Uuid::new_v5(&TSUNAGI_NAMESPACE, bytes);
    let mut buffer = Uuid::encode_buffer();
    let mut key = String::with_capacity(40);
    key.push_str("raw:");
    key.push_str(uuid.hyphenated().encode_lower(&mut buffer));
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_uuidv5_over_the_three_parts() {
        let id = resource_id("toro", "Patient", "12345");
        // The same name hashed directly: the id is UUIDv5("toro|Patient|12345").
        let expected = Uuid::new_v5(&TSUNAGI_NAMESPACE, b"toro|Patient|12345").to_string();
        assert_eq!(id, expected);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "5", "version nibble");
        assert_eq!(id, id.to_ascii_lowercase());
        assert_eq!(id, resource_id("toro", "Patient", "12345"));
        // A key too long for the stack buffer hashes the same way.
        let long = "k".repeat(500);
        assert_eq!(
            resource_id("toro", "Patient", &long),
            Uuid::new_v5(
                &TSUNAGI_NAMESPACE,
                format!("toro|Patient|{long}").as_bytes()
            )
            .to_string()
        );
    }

    #[test]
    fn every_part_changes_the_id() {
        let base = resource_id("toro", "Patient", "1");
        assert_ne!(base, resource_id("shizuoka", "Patient", "1"));
        assert_ne!(base, resource_id("toro", "Practitioner", "1"));
        assert_ne!(base, resource_id("toro", "Patient", "2"));
    }

    #[test]
    fn content_keys_follow_the_bytes() {
        assert_eq!(content_key(b"MSH|a"), content_key(b"MSH|a"));
        assert_ne!(content_key(b"MSH|a"), content_key(b"MSH|b"));
        assert!(content_key(b"").starts_with("raw:"));
    }
}
