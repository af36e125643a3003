//! [`PatternTable`]: the pattern subscriptions, in a routing [`PatternIndex`] plus a short
//! delta of recent subscriptions.
//!
//! **Why a delta.** A [`PatternIndex`] is frozen and rebuilt whole on change, which costs
//! O(patterns): 10k pattern subscriptions registered one at a time would cost 50M entry
//! copies. New pattern subscriptions therefore go to a delta of at most [`MAX_DELTA`]
//! entries that publishes match one by one, and removed ones are marked and skipped; the
//! index is rebuilt when the delta or the removals reach [`MAX_DELTA`], and otherwise soon
//! after by the bus's task, so that in a steady state the delta is empty.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use arc_swap::{ArcSwap, Guard};
use switchyard_routing::pattern::{Match, Pattern, PatternIndex};

use super::target::Target;

/// The most pattern subscriptions kept out of the index, and the most removed ones kept in
/// it, before the index is rebuilt at once.
pub(super) const MAX_DELTA: usize = 64;

/// The pattern subscriptions: a frozen index and the delta registered since it was built.
#[derive(Default)]
pub(super) struct PatternSet {
    index: Arc<PatternIndex<Arc<Target>>>,
    delta: Vec<Arc<(Pattern, Arc<Target>)>>,
}

impl PatternSet {
    fn is_empty(&self) -> bool {
        self.index.is_empty() && self.delta.is_empty()
    }

    /// The entries of the index whose pattern matches `topic` (removed ones included: a
    /// removed target takes nothing), and the live targets of the delta that match it.
    pub(super) fn find(&self, topic: &str) -> (Vec<Match<'_, Arc<Target>>>, Vec<Arc<Target>>) {
        let indexed = if self.index.is_empty() {
            Vec::new()
        } else {
            self.index.find_all(topic)
        };
        let delta = self
            .delta
            .iter()
            .filter(|entry| !entry.1.is_removed() && entry.0.matches(topic))
            .map(|entry| Arc::clone(&entry.1))
            .collect();
        (indexed, delta)
    }
}

/// The pattern subscriptions of one bus. Read without a lock; changed only under the
/// registry's writer lock, which also keeps the count of removed targets still in the
/// index (`tombstones`).
pub(super) struct PatternTable {
    set: ArcSwap<PatternSet>,
    /// Whether `set` is not empty, so that publishes skip loading it when no pattern is
    /// subscribed. Changed with it.
    live: AtomicBool,
}

impl PatternTable {
    pub(super) fn new() -> Self {
        Self {
            set: ArcSwap::from_pointee(PatternSet::default()),
            live: AtomicBool::new(false),
        }
    }

    fn store(&self, set: PatternSet) {
        self.live.store(!set.is_empty(), Ordering::Release);
        self.set.store(Arc::new(set));
    }

    /// The current set, unless it is empty; keep it briefly.
    pub(super) fn load(&self) -> Option<Guard<Arc<PatternSet>>> {
        self.live.load(Ordering::Acquire).then(|| self.set.load())
    }

    /// Adds a pattern target to the delta; returns whether a rebuild is wanted soon.
    pub(super) fn add(
        &self,
        tombstones: &mut usize,
        pattern: Pattern,
        target: Arc<Target>,
    ) -> bool {
        let set = self.set.load_full();
        let mut delta = set.delta.clone();
        delta.push(Arc::new((pattern, target)));
        let full = delta.len() >= MAX_DELTA;
        self.store(PatternSet {
            index: Arc::clone(&set.index),
            delta,
        });
        if full {
            self.compact(tombstones);
        }
        !full
    }

    /// Removes a pattern target: from the delta if it is there, else by marking it (it is
    /// already marked removed) until the next rebuild. Returns whether a rebuild is wanted
    /// soon.
    pub(super) fn remove(&self, tombstones: &mut usize, target: &Arc<Target>) -> bool {
        let set = self.set.load_full();
        if set.delta.iter().any(|entry| Arc::ptr_eq(&entry.1, target)) {
            let delta = set
                .delta
                .iter()
                .filter(|entry| !Arc::ptr_eq(&entry.1, target))
                .cloned()
                .collect();
            self.store(PatternSet {
                index: Arc::clone(&set.index),
                delta,
            });
            return false;
        }
        *tombstones += 1;
        if *tombstones >= MAX_DELTA {
            self.compact(tombstones);
            return false;
        }
        true
    }

    /// Rebuilds the index with the delta in it and the removed targets out.
    pub(super) fn compact(&self, tombstones: &mut usize) {
        let set = self.set.load_full();
        if set.delta.is_empty() && *tombstones == 0 {
            return;
        }
        let mut builder = set.index.to_builder();
        if *tombstones > 0 {
            builder.retain(|_, _, target| !target.is_removed());
        }
        let mut delta = Vec::new();
        for entry in &set.delta {
            let (pattern, target) = &**entry;
            if target.is_removed() {
                continue;
            }
            if let Err(error) = builder.insert_pattern(pattern.clone(), 0, Arc::clone(target)) {
                // The index is full (millions of entries): keep matching it from the delta.
                tracing::warn!(error = %error, "pattern subscription kept out of the index");
                delta.push(Arc::clone(entry));
            }
        }
        self.store(PatternSet {
            index: Arc::new(builder.build()),
            delta,
        });
        *tombstones = 0;
    }

    /// Empties the table.
    pub(super) fn clear(&self) {
        self.store(PatternSet::default());
    }

    /// The number of pattern targets in the index and in the delta.
    #[cfg(test)]
    pub(super) fn shape(&self) -> (usize, usize) {
        let set = self.set.load();
        (set.index.len(), set.delta.len())
    }
}
