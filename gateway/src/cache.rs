//! A bounded in-memory cache of each resource's current version (moka), so hot reads skip the
//! store. Entries only move forward: a version is cached only if it is newer than what is
//! there, so a slow reader can never put back a version a writer has already replaced.

use crate::store::StoredVersion;
use moka::ops::compute::Op;
use moka::sync::Cache;
use std::sync::Arc;

/// Current versions by `Type/id`.
#[derive(Clone)]
pub struct ResourceCache {
    entries: Option<Cache<String, Arc<StoredVersion>>>,
}

impl ResourceCache {
    /// A cache holding at most `max_bytes` of resource JSON; 0 disables it.
    pub fn new(max_bytes: u64) -> Self {
        let entries = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, stored: &Arc<StoredVersion>| {
                    let size = key.len() + stored.body.as_ref().map_or(0, |body| body.len()) + 64;
                    u32::try_from(size).unwrap_or(u32::MAX)
                })
                .build()
        });
        ResourceCache { entries }
    }

    /// The cached current version of `res_type/id`, if any.
    pub fn get(&self, res_type: &str, id: &str) -> Option<Arc<StoredVersion>> {
        let key = format!("{res_type}/{id}");
        self.entries.as_ref()?.get(&key)
    }

    /// Offers a version read or written; kept only if newer than the cached one.
    pub fn offer(&self, stored: Arc<StoredVersion>) {
        let Some(entries) = &self.entries else {
            return;
        };
        entries
            .entry(stored.reference())
            .and_compute_with(|existing| match existing {
                Some(entry) if entry.value().version >= stored.version => Op::Nop,
                _ => Op::Put(Arc::clone(&stored)),
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Instant;
    use crate::store::WriteMethod;

    fn version(number: u64) -> Arc<StoredVersion> {
        Arc::new(StoredVersion {
            res_type: "Patient".into(),
            id: "p".into(),
            version: number,
            last_updated: Instant { millis: 0 },
            method: WriteMethod::Put,
            body: Some(format!("{{\"v\":{number}}}").into_bytes().into()),
        })
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let cache = ResourceCache::new(1 << 20);
        cache.offer(version(2));
        cache.offer(version(1));
        assert_eq!(cache.get("Patient", "p").unwrap().version, 2);
        cache.offer(version(3));
        assert_eq!(cache.get("Patient", "p").unwrap().version, 3);
    }

    #[test]
    fn a_zero_size_cache_holds_nothing() {
        let cache = ResourceCache::new(0);
        cache.offer(version(1));
        assert!(cache.get("Patient", "p").is_none());
    }
}
