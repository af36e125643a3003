//! [`TopicTable`]: the exact-topic subscriptions, in copy-on-write hash maps sharded by
//! topic.
//!
//! **Why sharded copy-on-write maps.** A publish looks its topic up with one atomic load
//! (`arc-swap`) and one hash lookup, never a lock, so publishers on many threads do not
//! contend. A change copies one shard of 64, so registering n distinct topics costs
//! O(n²/64) copies of `Arc`s in total instead of O(n²), while a sharded `RwLock` would put
//! a shared-cache-line write (the reader count) on every publish.

use std::{collections::HashMap, hash::BuildHasher, sync::Arc};

use arc_swap::{ArcSwap, Guard};

use super::target::Target;

/// Shards of the table.
const SHARDS: usize = 64;

type Hasher = foldhash::fast::RandomState;

/// One shard: each topic with its targets.
pub(super) type TopicMap = HashMap<Arc<str>, Arc<[Arc<Target>]>, Hasher>;

/// The exact-topic subscriptions. Read without a lock; changed only under the registry's
/// writer lock.
pub(super) struct TopicTable {
    shards: Box<[ArcSwap<TopicMap>]>,
    hasher: Hasher,
}

impl TopicTable {
    pub(super) fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| ArcSwap::from_pointee(TopicMap::default()))
                .collect(),
            hasher: Hasher::default(),
        }
    }

    fn shard(&self, topic: &str) -> &ArcSwap<TopicMap> {
        let hash = self.hasher.hash_one(topic);
        &self.shards[(hash % SHARDS as u64) as usize]
    }

    /// The shard that holds `topic`, to look it up in; keep it briefly.
    pub(super) fn load(&self, topic: &str) -> Guard<Arc<TopicMap>> {
        self.shard(topic).load()
    }

    /// Adds `target` to `topic`.
    pub(super) fn add(&self, topic: Arc<str>, target: Arc<Target>) {
        let shard = self.shard(&topic);
        let mut map = TopicMap::clone(&shard.load());
        let targets: Arc<[Arc<Target>]> = match map.get(&topic) {
            Some(existing) => existing.iter().cloned().chain([target]).collect(),
            None => Arc::from([target]),
        };
        map.insert(topic, targets);
        shard.store(Arc::new(map));
    }

    /// Removes `target` from its topic, and the topic once it has no target left.
    pub(super) fn remove(&self, target: &Arc<Target>) {
        let shard = self.shard(&target.subject);
        let mut map = TopicMap::clone(&shard.load());
        let Some(existing) = map.get(&target.subject) else {
            return;
        };
        let left: Arc<[Arc<Target>]> = existing
            .iter()
            .filter(|other| !Arc::ptr_eq(other, target))
            .cloned()
            .collect();
        if left.is_empty() {
            map.remove(&target.subject);
        } else {
            map.insert(Arc::clone(&target.subject), left);
        }
        shard.store(Arc::new(map));
    }

    /// Empties every shard.
    pub(super) fn clear(&self) {
        for shard in self.shards.iter() {
            shard.store(Arc::new(TopicMap::default()));
        }
    }
}
