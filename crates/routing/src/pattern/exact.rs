//! [`ExactIndex`]: the exact patterns of an index, in one hash map from topic to entries.

use foldhash::{HashMap, HashMapExt as _};

use super::entry::{NO_RANK, Rank};

/// Exact patterns, frozen: one hash lookup per topic.
///
/// Each exact pattern's topic is known when the index is built, so the index also resolves
/// [`find_first`](super::PatternIndex::find_first) for it then, globs and regexes included,
/// and stores the answer with the entry: a lookup of that topic is then this one hash
/// lookup. This is not a cache: it holds one rank per exact pattern of the configuration,
/// never anything about the topics looked up, and it is built with the index it belongs to.
///
/// The map uses foldhash rather than std's SipHash: topics are short, and hashing them is
/// most of the cost of a lookup. foldhash seeds every map at random, so keys chosen to
/// collide cannot be prepared in advance; and the keys here come from configuration, never
/// from the topics being looked up.
#[derive(Debug)]
pub(crate) struct ExactIndex {
    map: HashMap<Box<str>, Slot>,
    /// The ranks of each topic's entries, best first, topic after topic.
    ranks: Box<[Rank]>,
}

#[derive(Debug)]
struct Slot {
    /// The best rank of any entry (of any kind) matching this topic.
    answer: Rank,
    first: u32,
    count: u32,
}

impl ExactIndex {
    /// If `topic` is the topic of an exact pattern, the best rank of any entry matching it.
    pub(crate) fn answer(&self, topic: &str) -> Option<Rank> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(topic).map(|slot| slot.answer)
    }

    /// Resolves every topic's answer: `best_other(topic, floor)` is the best rank above
    /// `floor` among the other kinds of pattern matching `topic`, or [`NO_RANK`].
    pub(crate) fn resolve(&mut self, mut best_other: impl FnMut(&str, Rank) -> Rank) {
        for (topic, slot) in &mut self.map {
            slot.answer = slot.answer.max(best_other(topic, slot.answer));
        }
    }

    /// Appends the rank of every exact pattern equal to `topic` to `out`, best first.
    pub(crate) fn all_matches(&self, topic: &str, out: &mut Vec<Rank>) {
        if let Some(slot) = self.map.get(topic) {
            let first = slot.first as usize;
            out.extend_from_slice(&self.ranks[first..first + slot.count as usize]);
        }
    }
}

/// Collects exact patterns, then freezes them into an [`ExactIndex`].
#[derive(Debug, Default)]
pub(crate) struct ExactIndexBuilder {
    map: HashMap<Box<str>, Vec<Rank>>,
}

impl ExactIndexBuilder {
    pub(crate) fn insert(&mut self, topic: &str, rank: Rank) {
        match self.map.get_mut(topic) {
            Some(ranks) => ranks.push(rank),
            None => {
                self.map.insert(topic.into(), vec![rank]);
            }
        }
    }

    pub(crate) fn build(self) -> ExactIndex {
        let mut ranks = Vec::new();
        let mut map = HashMap::with_capacity(self.map.len());
        for (topic, mut entries) in self.map {
            entries.sort_unstable_by(|a, b| b.cmp(a));
            let slot = Slot {
                answer: entries.first().copied().unwrap_or(NO_RANK),
                // Entries are bounded by `PatternLimits::max_entries`, below `u32::MAX`.
                first: ranks.len() as u32,
                count: entries.len() as u32,
            };
            ranks.extend_from_slice(&entries);
            map.insert(topic, slot);
        }
        ExactIndex {
            map,
            ranks: ranks.into_boxed_slice(),
        }
    }
}
