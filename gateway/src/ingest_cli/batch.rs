//! Batched transactions for bulk ingest: several converted messages go into one store
//! transaction. Entries that several messages write (the Patient, the ordering doctor) are
//! written once, with the last message's content, which is what applying the messages one by
//! one would leave as current. Two versions of one record never share a batch (each version
//! must become its own history entry), and neither do two writes of one ImagingStudy (the
//! store merges a study with what is stored, which a replacement inside a batch would skip).

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One entry of a converted Bundle.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `request.url` (`Type/id`), the entry's identity in the batch.
    pub url: String,
    /// The resource type.
    pub resource_type: String,
    /// The whole Bundle entry (`fullUrl`, `resource`, `request`).
    pub json: Value,
}

/// Splits a converted transaction Bundle into its entries.
pub fn entries_of(bundle_json: &[u8]) -> Result<Vec<Entry>, String> {
    let bundle: Value = serde_json::from_slice(bundle_json)
        .map_err(|error| format!("converted Bundle: {error}"))?;
    let Value::Object(mut bundle) = bundle else {
        return Err("converted Bundle: not an object".into());
    };
    let Some(Value::Array(entries)) = bundle.remove("entry") else {
        return Ok(Vec::new());
    };
    entries
        .into_iter()
        .map(|json| {
            let url = json["request"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let resource_type = json["resource"]["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if url.is_empty() || resource_type.is_empty() {
                return Err("converted Bundle: an entry without request.url or resource".into());
            }
            Ok(Entry {
                url,
                resource_type,
                json,
            })
        })
        .collect()
}

/// One message waiting in a batch.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its step in the ingest plan.
    pub step: usize,
    /// The record whose version it is (SS-MIX2), if any.
    pub record: Option<usize>,
    /// Its data type (the report's row).
    pub label: String,
    /// Its file, relative to the source root.
    pub path: String,
    /// True for a deleted version (condition flag 0).
    pub deleted: bool,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// Messages collected for one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    members: Vec<Member>,
    urls: HashSet<String>,
    records: HashSet<usize>,
}

impl Batch {
    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// True when `member` may join without a flush first: the batch is empty, or it has room
    /// (`max_messages`, `max_entries` distinct entries) and no version of the same record and
    /// no ImagingStudy that `member` writes too.
    pub fn accepts(&self, member: &Member, max_messages: usize, max_entries: usize) -> bool {
        if self.members.is_empty() {
            return true;
        }
        if self.members.len() >= max_messages {
            return false;
        }
        if member
            .record
            .is_some_and(|record| self.records.contains(&record))
        {
            return false;
        }
        let mut new = 0;
        for entry in &member.entries {
            if self.urls.contains(&entry.url) {
                if entry.resource_type == "ImagingStudy" {
                    return false;
                }
            } else {
                new += 1;
            }
        }
        self.urls.len() + new <= max_entries
    }

    /// Adds `member`.
    pub fn push(&mut self, member: Member) {
        if let Some(record) = member.record {
            self.records.insert(record);
        }
        for entry in &member.entries {
            if !self.urls.contains(&entry.url) {
                self.urls.insert(entry.url.clone());
            }
        }
        self.members.push(member);
    }

    /// Empties the batch, giving its members back.
    pub fn take(&mut self) -> Vec<Member> {
        self.urls.clear();
        self.records.clear();
        std::mem::take(&mut self.members)
    }

    /// The transaction Bundle of `members`: each entry once, at its first position, with the
    /// last member's content.
    pub fn bundle_json(members: &[Member]) -> Vec<u8> {
        let mut slots: Vec<&Value> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        for entry in members.iter().flat_map(|member| &member.entries) {
            match positions.get(entry.url.as_str()) {
                Some(&slot) => slots[slot] = &entry.json,
                None => {
                    positions.insert(&entry.url, slots.len());
                    slots.push(&entry.json);
                }
            }
        }
        let mut out = Vec::with_capacity(slots.len() * 1024);
        out.extend_from_slice(br#"{"resourceType":"Bundle","type":"transaction","entry":["#);
        for (index, entry) in slots.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            // Writing a Value to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, entry);
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// How many distinct resources of each type `members` write.
    pub fn written_types(members: &[Member]) -> BTreeMap<String, usize> {
        let mut seen = HashSet::new();
        let mut counts = BTreeMap::new();
        for entry in members.iter().flat_map(|member| &member.entries) {
            if seen.insert(entry.url.as_str()) {
                *counts.entry(entry.resource_type.clone()).or_insert(0) += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(resource_type: &str, id: &str, version: &str) -> Entry {
        Entry {
            url: format!("{resource_type}/{id}"),
            resource_type: resource_type.into(),
            json: json!({"resource": {"resourceType": resource_type, "id": id, "v": version},
                         "request": {"method": "PUT", "url": format!("{resource_type}/{id}")}}),
        }
    }

    fn member(step: usize, record: Option<usize>, entries: Vec<Entry>) -> Member {
        Member {
            step,
            record,
            label: "ADT-00".into(),
            path: format!("file{step}"),
            deleted: false,
            entries,
        }
    }

    #[test]
    fn shared_entries_are_written_once_with_the_last_content() {
        let mut batch = Batch::default();
        let first = member(
            0,
            Some(1),
            vec![
                entry("Patient", "p", "a"),
                entry("ServiceRequest", "s1", "a"),
            ],
        );
        let second = member(
            1,
            Some(2),
            vec![
                entry("Patient", "p", "b"),
                entry("ServiceRequest", "s2", "a"),
            ],
        );
        assert!(batch.accepts(&first, 10, 10));
        batch.push(first);
        assert!(batch.accepts(&second, 10, 10));
        assert!(
            !batch.accepts(&second, 10, 2),
            "3 distinct entries exceed 2"
        );
        batch.push(second);
        let members = batch.take();
        let bundle: Value = serde_json::from_slice(&Batch::bundle_json(&members)).unwrap();
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0]["resource"]["v"], "b");
        assert_eq!(entries[2]["resource"]["id"], "s2");
        let types = Batch::written_types(&members);
        assert_eq!(types.get("Patient"), Some(&1));
        assert_eq!(types.get("ServiceRequest"), Some(&2));
        assert!(batch.is_empty());
    }

    #[test]
    fn versions_of_one_record_and_shared_studies_split_batches() {
        let mut batch = Batch::default();
        batch.push(member(0, Some(7), vec![entry("ImagingStudy", "i", "a")]));
        assert!(!batch.accepts(&member(1, Some(7), vec![]), 10, 10));
        assert!(!batch.accepts(
            &member(1, Some(8), vec![entry("ImagingStudy", "i", "b")]),
            10,
            10
        ));
        assert!(batch.accepts(
            &member(1, None, vec![entry("ImagingStudy", "j", "b")]),
            10,
            10
        ));
        assert!(!batch.accepts(&member(1, None, vec![]), 1, 10));
    }

    #[test]
    fn entries_are_read_from_a_bundle() {
        let bundle = br#"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"x","resource":{"resourceType":"Patient","id":"p"},"request":{"method":"PUT","url":"Patient/p"}}]}"#;
        let entries = entries_of(bundle).unwrap();
        assert_eq!(entries[0].url, "Patient/p");
        assert_eq!(entries[0].resource_type, "Patient");
        assert!(entries_of(b"[1]").is_err());
        assert!(entries_of(br#"{"entry":[{"request":{}}]}"#).is_err());
    }
}
