//! [`PatternIndex`]: many patterns with priorities and values, frozen, answering "which
//! patterns match this topic, best first?" without trying them one by one.

use std::fmt;

use super::{
    builder::PatternIndexBuilder,
    entry::{Entry, EntryId, Match, NO_RANK, Rank, position},
    exact::ExactIndex,
    glob_engine::GlobEngine,
    limits::PatternLimits,
    regexes::RegexIndex,
    syntax::PatternKind,
    trie::GlobTrie,
};

/// Patterns with a priority and a value each, indexed for lookup by topic.
///
/// **Frozen after build.** An index never changes: lookups take no lock and see one
/// consistent set of patterns. To change it, rebuild it copy-on-write:
/// [`to_builder`](Self::to_builder) gives a builder with the same entries (same ids, same
/// registration order), on which you insert and remove before building a new index; the old
/// one keeps serving until you swap it out. [`SharedPatternIndex`](super::SharedPatternIndex)
/// does that swap for indexes that change at run time. A rebuild costs O(entries).
///
/// **Order.** Matches come best first: higher priority first, and among equal priorities
/// the earlier registration first, so the same index and topic always give the same answer.
///
/// **How it scales.** Exact patterns live in a hash map; globs in a trie of segments walked
/// once per topic, segment by segment; regexes in `RegexSet`s behind a literal-prefix
/// pre-filter (a regex anchored with `^` and a literal start only runs for topics that
/// start with that text). A lookup's cost depends on the topic and on the patterns that
/// share its path, not on the total number of patterns. [`find_first`](Self::find_first)
/// skips whatever cannot beat the best match found so far, and the topic of every exact
/// pattern is resolved when the index is built, so that looking it up costs one hash
/// lookup.
///
/// **Caching.** The glob trie is walked as an NFA, segment by segment; each thread that
/// looks topics up also keeps a lazy DFA of the globs, whose states are the sets of trie
/// nodes a walk can be in and whose transitions are filled in as topics arrive. A topic
/// whose transitions are known costs one hash probe per segment, however many `**` and
/// wildcards keep branches alive. A topic's transitions are cached on its second sight, so
/// topics that never come back cost a walk and fill nothing. The cache is per index and
/// per thread and never takes a lock; each is bounded (about 5 MiB at most) and cleared
/// when full, so a flood of distinct topics costs NFA walks, not memory. The caches live
/// as long as the index: count the threads that look topics up in it (a runtime's
/// workers, say) times that bound. Nothing else depends on the topics looked up.
///
/// ```
/// use switchyard_routing::pattern::PatternIndex;
///
/// let mut builder = PatternIndex::builder();
/// builder.insert("orders.created", 10, "exact")?;
/// builder.insert("orders.*", 5, "any order event")?;
/// builder.insert("**.created", 5, "anything created")?;
/// builder.insert(r"re:^orders\.(created|updated)$", 1, "regex")?;
/// let index = builder.build();
///
/// let best = index.find_first("orders.created").unwrap();
/// assert_eq!(*best.value, "exact");
///
/// // Priority first, then registration order.
/// let all: Vec<_> = index.find_all("orders.created").iter().map(|m| *m.value).collect();
/// assert_eq!(all, ["exact", "any order event", "anything created", "regex"]);
///
/// assert_eq!(*index.find_first("orders.updated").unwrap().value, "any order event");
/// assert!(index.find_first("payments.refunded").is_none());
/// # Ok::<(), switchyard_routing::pattern::PatternError>(())
/// ```
pub struct PatternIndex<T> {
    /// In registration order; ids grow along it.
    pub(super) entries: Box<[Entry<T>]>,
    pub(super) exact: ExactIndex,
    pub(super) globs: GlobTrie,
    pub(super) regexes: RegexIndex,
    /// The id that the next insert of a builder from [`Self::to_builder`] gets.
    pub(super) next_id: u64,
    pub(super) limits: PatternLimits,
    pub(super) glob_engine: GlobEngine,
}

impl<T> PatternIndex<T> {
    /// A builder for an index, with the default [`PatternLimits`].
    pub fn builder() -> PatternIndexBuilder<T> {
        PatternIndexBuilder::new()
    }

    /// The best entry whose pattern matches `topic`: the highest priority, and among those
    /// the earliest registered. `None` if no pattern matches.
    pub fn find_first(&self, topic: &str) -> Option<Match<'_, T>> {
        // The topic of an exact pattern was resolved when the index was built.
        if let Some(best) = self.exact.answer(topic) {
            return Some(self.at(best));
        }
        // Cheapest first, so that the regexes only look for something better.
        let best = self.globs.best_match(topic, NO_RANK);
        let best = best.max(self.regexes.best_match(topic, best));
        (best != NO_RANK).then(|| self.at(best))
    }

    /// Every entry whose pattern matches `topic`, best first (as [`find_first`] orders
    /// them), each once.
    ///
    /// [`find_first`]: Self::find_first
    pub fn find_all(&self, topic: &str) -> Vec<Match<'_, T>> {
        let mut ranks = Vec::new();
        self.exact.all_matches(topic, &mut ranks);
        self.globs.all_matches(topic, &mut ranks);
        self.regexes.all_matches(topic, &mut ranks);
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        ranks.into_iter().map(|rank| self.at(rank)).collect()
    }

    /// The entry with id `id`, if this index has it.
    pub fn get(&self, id: EntryId) -> Option<Match<'_, T>> {
        self.entries
            .binary_search_by_key(&id, |entry| entry.id)
            .ok()
            .map(|at| self.entries[at].view())
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in registration order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Match<'_, T>> + DoubleEndedIterator {
        self.entries.iter().map(Entry::view)
    }

    /// The number of entries of each kind: exact, glob, regex.
    pub fn count(&self, kind: PatternKind) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.pattern.kind() == kind)
            .count()
    }

    /// The limits that [`PatternIndexBuilder::insert`] applied, and that a builder from
    /// [`to_builder`](Self::to_builder) keeps applying.
    pub fn limits(&self) -> &PatternLimits {
        &self.limits
    }

    /// A builder holding this index's entries, with their ids, priorities and registration
    /// order, to insert and remove entries and build a changed copy. This index is left as
    /// it is.
    pub fn to_builder(&self) -> PatternIndexBuilder<T>
    where
        T: Clone,
    {
        PatternIndexBuilder::from_entries(
            self.entries.to_vec(),
            self.next_id,
            self.limits,
            self.glob_engine,
        )
    }

    fn at(&self, rank: Rank) -> Match<'_, T> {
        self.entries[position(rank)].view()
    }
}

impl<T> Default for PatternIndex<T> {
    /// An empty index with the default limits.
    fn default() -> Self {
        PatternIndexBuilder::new().build()
    }
}

impl<T> fmt::Debug for PatternIndex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The entries may be millions: show their shape, not their list.
        f.debug_struct("PatternIndex")
            .field("exact", &self.count(PatternKind::Exact))
            .field("glob", &self.count(PatternKind::Glob))
            .field("regex", &self.count(PatternKind::Regex))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
