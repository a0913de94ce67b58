//! A bounded in-memory cache of each resource's current version (moka), so hot reads skip the
//! store. Entries only move forward: a version is cached only if it is newer than what is
//! there. Writes refresh entries that are cached but add none; a read that raced a write
//! (the write generation moved while it read) drops what it cached, so a slow reader can never
//! leave behind a version a writer has already replaced.

use crate::store::StoredVersion;
use moka::ops::compute::Op;
use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Current versions by `Type/id`.
#[derive(Clone)]
pub struct ResourceCache {
    entries: Option<Cache<String, Arc<StoredVersion>>>,
    write_generation: Arc<AtomicU64>,
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
        ResourceCache {
            entries,
            write_generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The write generation; take it before reading the store for [`Self::offer_read`].
    pub fn generation(&self) -> u64 {
        self.write_generation.load(Ordering::SeqCst)
    }

    /// Caches a version read from the store when no write committed since `generation`.
    pub fn offer_read(&self, stored: Arc<StoredVersion>, generation: u64) {
        let key = stored.reference();
        self.offer(stored);
        if self.generation() != generation {
            if let Some(entries) = &self.entries {
                entries.invalidate(&key);
            }
        }
    }

    /// Records committed writes: bumps the generation, then refreshes cached entries.
    pub fn written(&self, versions: impl Iterator<Item = Arc<StoredVersion>>) {
        self.write_generation.fetch_add(1, Ordering::SeqCst);
        versions.for_each(|stored| self.refresh(stored));
    }

    /// The cached current version of `res_type/id`, if any.
    pub fn get(&self, res_type: &str, id: &str) -> Option<Arc<StoredVersion>> {
        let key = format!("{res_type}/{id}");
        self.entries.as_ref()?.get(&key)
    }

    /// Refreshes the entry for a version just written, if that resource is cached at all: a
    /// bulk ingest then does not fill the cache with resources nobody has read.
    fn refresh(&self, stored: Arc<StoredVersion>) {
        let Some(entries) = &self.entries else {
            return;
        };
        entries
            .entry(stored.reference())
            .and_compute_with(|existing| match existing {
                Some(entry) if entry.value().version < stored.version => {
                    Op::Put(Arc::clone(&stored))
                }
                _ => Op::Nop,
            });
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
    fn writes_refresh_cached_entries_and_add_none() {
        let cache = ResourceCache::new(1 << 20);
        cache.written([version(1)].into_iter());
        assert!(cache.get("Patient", "p").is_none());
        cache.offer(version(1));
        cache.written([version(2)].into_iter());
        assert_eq!(cache.get("Patient", "p").unwrap().version, 2);
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = ResourceCache::new(1 << 20);
        let before_read = cache.generation();
        cache.written([version(2)].into_iter()); // committed while the read was under way
        cache.offer_read(version(1), before_read);
        assert!(cache.get("Patient", "p").is_none());
        let calm = cache.generation();
        cache.offer_read(version(2), calm);
        assert_eq!(cache.get("Patient", "p").unwrap().version, 2);
    }

    #[test]
    fn a_zero_size_cache_holds_nothing() {
        let cache = ResourceCache::new(0);
        cache.offer(version(1));
        assert!(cache.get("Patient", "p").is_none());
    }
}
