//! Collects the resources of one conversion and writes the transaction Bundle: every entry a
//! `PUT` to its deterministic id, with `fullUrl` `urn:uuid:<id>`, in a fixed type order so the
//! same message always gives byte-identical JSON.

use super::json::{obj, put, raw_reference, Obj, Value};
use super::json_write::{write_object, write_str};
use std::collections::HashMap;

/// A resource that is in, or will be in, the Bundle: its type and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    /// The FHIR resource type.
    pub resource_type: &'static str,
    /// The deterministic id.
    pub id: String,
}

impl ResourceRef {
    /// `{"reference": "<Type>/<id>"}`.
    pub fn to_reference(&self) -> Value {
        raw_reference(self.resource_type, &self.id)
    }
}

struct Entry {
    resource_type: &'static str,
    id: String,
    /// Where the resource's compact JSON, written when it was added, sits in `written`.
    json: std::ops::Range<usize>,
}

/// The resources produced so far, at most one per id.
#[derive(Default)]
pub struct BundleBuilder {
    entries: Vec<Entry>,
    written: Vec<u8>,
    /// Entry positions by id, kept only once there are more than [`LINEAR_LOOKUP`] entries
    /// (below that a scan of `entries` is cheaper than hashing).
    by_id: HashMap<String, usize>,
}

/// Up to this many entries, ids are looked up by scanning the entries.
const LINEAR_LOOKUP: usize = 32;

/// Where entries of each type go in the Bundle (anything else goes last, in arrival order).
const TYPE_ORDER: &[&str] = &[
    "Organization",
    "Patient",
    "Practitioner",
    "Encounter",
    "ServiceRequest",
    "Specimen",
    "ImagingStudy",
    "Observation",
    "DiagnosticReport",
    "Binary",
    "Provenance",
];

/// Starts a resource object with `resourceType` and `id`, the order FHIR JSON uses, with room
/// for `capacity` more elements (what a typical resource of that type holds).
pub fn start_resource(resource_type: &'static str, id: &str, capacity: usize) -> Obj {
    let mut resource = obj(capacity + 2);
    super::json::put_static(&mut resource, "resourceType", resource_type);
    put(&mut resource, "id", id);
    resource
}

impl BundleBuilder {
    /// True when a resource with this id is already in the Bundle.
    pub fn contains(&self, id: &str) -> bool {
        if self.entries.len() <= LINEAR_LOOKUP {
            self.entries.iter().any(|entry| entry.id == id)
        } else {
            self.by_id.contains_key(id)
        }
    }

    /// Adds a resource built with [`start_resource`]; a second resource with the same id is
    /// ignored and `false` returned (the caller decides whether that deserves a report entry).
    pub fn add(&mut self, resource_type: &'static str, id: String, resource: Obj) -> bool {
        if self.contains(&id) {
            return false;
        }
        let index = self.entries.len();
        if index == LINEAR_LOOKUP {
            // From now on the map is used: it gets every entry so far.
            for (earlier, entry) in self.entries.iter().enumerate() {
                self.by_id.insert(entry.id.clone(), earlier);
            }
        }
        if index >= LINEAR_LOOKUP {
            self.by_id.insert(id.clone(), index);
        }
        if self.written.capacity() == 0 {
            self.written.reserve(32 * 1024);
        }
        let start = self.written.len();
        write_object(&mut self.written, &resource);
        self.entries.push(Entry {
            resource_type,
            id,
            json: start..self.written.len(),
        });
        true
    }

    /// References to every resource added so far except the given types, in Bundle order.
    pub fn references_except(&self, excluded: &[&str]) -> Vec<Value> {
        self.ordered()
            .into_iter()
            .filter(|entry| !excluded.contains(&entry.resource_type))
            .map(|entry| raw_reference(entry.resource_type, &entry.id))
            .collect()
    }

    fn ordered(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|entry| rank(entry.resource_type));
        entries
    }

    /// The transaction Bundle as compact JSON.
    pub fn finish(self) -> Vec<u8> {
        let mut entries = self.entries;
        entries.sort_by_key(|entry| rank(entry.resource_type));
        let size: usize = self.written.len()
            + entries
                .iter()
                .map(|entry| 2 * entry.id.len() + 120)
                .sum::<usize>();
        let mut out = Vec::with_capacity(size + 64);
        out.extend_from_slice(br#"{"resourceType":"Bundle","type":"transaction","entry":["#);
        let mut text = String::with_capacity(64);
        for (index, entry) in entries.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            text.clear();
            text.push_str("urn:uuid:");
            text.push_str(&entry.id);
            out.extend_from_slice(br#"{"fullUrl":"#);
            write_str(&mut out, &text);
            out.extend_from_slice(br#","resource":"#);
            out.extend_from_slice(self.written.get(entry.json.clone()).unwrap_or_default());
            text.clear();
            text.push_str(entry.resource_type);
            text.push('/');
            text.push_str(&entry.id);
            out.extend_from_slice(br#","request":{"method":"PUT","url":"#);
            write_str(&mut out, &text);
            out.extend_from_slice(b"}}");
        }
        out.extend_from_slice(b"]}");
        out
    }
}

fn rank(resource_type: &str) -> usize {
    TYPE_ORDER
        .iter()
        .position(|known| *known == resource_type)
        .unwrap_or(TYPE_ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_unique_past_the_linear_lookup() {
        let mut builder = BundleBuilder::default();
        let count = 3 * LINEAR_LOOKUP;
        for i in 0..count {
            let id = format!("o{i}");
            assert!(builder.add(
                "Observation",
                id.clone(),
                start_resource("Observation", &id, 0)
            ));
        }
        for i in 0..count {
            let id = format!("o{i}");
            assert!(builder.contains(&id));
            assert!(!builder.add(
                "Observation",
                id.clone(),
                start_resource("Observation", &id, 0)
            ));
        }
        assert!(!builder.contains("o-1"));
        assert_eq!(builder.entries.len(), count);
    }

    #[test]
    fn entries_are_puts_in_type_order_and_ids_are_unique() {
        let mut builder = BundleBuilder::default();
        assert!(builder.add(
            "Observation",
            "o1".into(),
            start_resource("Observation", "o1", 0)
        ));
        assert!(builder.add("Patient", "p1".into(), start_resource("Patient", "p1", 0)));
        assert!(!builder.add("Patient", "p1".into(), start_resource("Patient", "p1", 0)));
        assert!(builder.contains("o1"));
        assert_eq!(
            builder.references_except(&["Observation"]),
            vec![raw_reference("Patient", "p1")]
        );
        let bundle: serde_json::Value =
            serde_json::from_slice(&builder.finish()).expect("valid JSON");
        assert_eq!(bundle["type"], "transaction");
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["resource"]["resourceType"], "Patient");
        assert_eq!(entries[0]["fullUrl"], "urn:uuid:p1");
        assert_eq!(entries[0]["request"]["method"], "PUT");
        assert_eq!(entries[0]["request"]["url"], "Patient/p1");
        assert_eq!(entries[1]["request"]["url"], "Observation/o1");
    }
}
