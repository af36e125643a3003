//! [`RegexIndex`]: the `re:` patterns of an index in `RegexSet`s, grouped by the literal
//! prefix that their matches must start with, so that a topic only runs the regexes that
//! could match it.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt as _};
use regex::{Regex, RegexSet, RegexSetBuilder};

use super::{
    entry::{NO_RANK, Rank},
    limits::PatternLimits,
    prefix_set::PrefixSet,
    syntax::RegexPattern,
};

/// The most regexes in one `RegexSet`. Chunks keep each set's compiled size within the
/// per-regex limits times a small factor, and let a lookup stop after the first chunk that
/// matches, since chunks are in rank order.
const CHUNK: usize = 32;

/// The most single-regex DFA budgets that one set's lazy DFA may use.
const SET_DFA_FACTOR: usize = 8;

/// The regexes of one index, frozen.
///
/// The pre-filter works on the required prefix of each regex (see `required_prefix`): a
/// regex whose matches must start with `tenant7.orders.` cannot match `tenant8.orders.x`
/// and is never run for it. Groups whose prefix holds a `.` are found by the topic's first
/// segment (one hash lookup) and then by prefix; the others, including the group of regexes
/// without a usable prefix (the empty prefix, which every topic starts with), by prefix
/// alone.
#[derive(Debug)]
pub(crate) struct RegexIndex {
    by_first_segment: HashMap<Box<str>, PrefixSet<Group>>,
    other: PrefixSet<Group>,
    best: Rank,
}

/// The regexes that share one prefix, as chunks in rank order, best first.
#[derive(Debug)]
struct Group {
    chunks: Box<[Chunk]>,
}

#[derive(Debug)]
enum Chunk {
    /// A lone regex runs faster on its own than as a set of one.
    One { regex: Regex, rank: Rank },
    /// The set's pattern `i` is `members[i]`; members are best first. The set answers
    /// "does any of them match?" in one pass; `find_first` then asks the members one by one,
    /// best first, only when one does.
    Set {
        set: RegexSet,
        members: Box<[(Regex, Rank)]>,
    },
    /// The regexes one by one, best first: the fallback if the set does not compile within
    /// its limits (each regex did on its own, so this always works).
    Each(Box<[(Regex, Rank)]>),
}

impl Chunk {
    fn best(&self) -> Rank {
        match self {
            Self::One { rank, .. } => *rank,
            Self::Set { members, .. } | Self::Each(members) => {
                members.first().map_or(NO_RANK, |&(_, rank)| rank)
            }
        }
    }

    fn first_match(&self, topic: &str) -> Option<Rank> {
        match self {
            Self::One { regex, rank } => regex.is_match(topic).then_some(*rank),
            // Most candidates do not match: one pass of the set rules them all out, where
            // `RegexSet::matches` would search for every match of every member.
            Self::Set { set, .. } if !set.is_match(topic) => None,
            Self::Set { members, .. } | Self::Each(members) => members
                .iter()
                .find(|(regex, _)| regex.is_match(topic))
                .map(|&(_, rank)| rank),
        }
    }

    fn all_matches(&self, topic: &str, out: &mut Vec<Rank>) {
        match self {
            Self::One { regex, rank } => {
                if regex.is_match(topic) {
                    out.push(*rank);
                }
            }
            Self::Set { set, members } => {
                out.extend(set.matches(topic).iter().map(|i| members[i].1));
            }
            Self::Each(each) => out.extend(
                each.iter()
                    .filter(|(regex, _)| regex.is_match(topic))
                    .map(|&(_, rank)| rank),
            ),
        }
    }
}

impl RegexIndex {
    /// The best rank above `floor` of a regex matching `topic`, or [`NO_RANK`].
    pub(crate) fn best_match(&self, topic: &str, floor: Rank) -> Rank {
        if self.best <= floor {
            return NO_RANK;
        }
        let mut best = floor;
        self.for_each_candidate(topic, |group| {
            for chunk in &group.chunks {
                if chunk.best() <= best {
                    break;
                }
                if let Some(rank) = chunk.first_match(topic) {
                    // Later chunks rank below this one's every regex.
                    best = best.max(rank);
                    break;
                }
            }
        });
        if best > floor { best } else { NO_RANK }
    }

    /// Appends the rank of every regex matching `topic` to `out`, in no particular order.
    pub(crate) fn all_matches(&self, topic: &str, out: &mut Vec<Rank>) {
        if self.best == NO_RANK {
            return;
        }
        self.for_each_candidate(topic, |group| {
            for chunk in &group.chunks {
                chunk.all_matches(topic, out);
            }
        });
    }

    /// Calls `visit` for every group whose prefix `topic` starts with.
    fn for_each_candidate(&self, topic: &str, mut visit: impl FnMut(&Group)) {
        if !self.by_first_segment.is_empty() {
            let first = topic.split('.').next().unwrap_or(topic);
            if let Some(groups) = self.by_first_segment.get(first) {
                groups.for_each_prefix_of(topic, |_, group| visit(group));
            }
        }
        if !self.other.is_empty() {
            self.other
                .for_each_prefix_of(topic, |_, group| visit(group));
        }
    }
}

type Members = Vec<(Regex, Rank)>;

/// Collects regexes, then freezes them into a [`RegexIndex`].
#[derive(Debug)]
pub(crate) struct RegexIndexBuilder {
    by_first_segment: HashMap<Box<str>, BTreeMap<Box<str>, Members>>,
    other: BTreeMap<Box<str>, Members>,
    limits: PatternLimits,
    best: Rank,
}

impl RegexIndexBuilder {
    pub(crate) fn new(limits: PatternLimits) -> Self {
        Self {
            by_first_segment: HashMap::new(),
            other: BTreeMap::new(),
            limits,
            best: NO_RANK,
        }
    }

    pub(crate) fn insert(&mut self, pattern: &RegexPattern, rank: Rank) {
        self.best = self.best.max(rank);
        let prefix = pattern.prefix.as_deref().unwrap_or("");
        let member = (pattern.regex.clone(), rank);
        let groups = match prefix.split_once('.') {
            Some((first, _)) => self.by_first_segment.entry(first.into()).or_default(),
            None => &mut self.other,
        };
        groups.entry(prefix.into()).or_default().push(member);
    }

    pub(crate) fn build(self) -> RegexIndex {
        let limits = self.limits;
        let freeze = |groups: BTreeMap<Box<str>, Members>| {
            PrefixSet::new(
                groups
                    .into_iter()
                    .map(|(prefix, members)| (prefix, group(members, &limits)))
                    .collect(),
            )
        };
        RegexIndex {
            by_first_segment: self
                .by_first_segment
                .into_iter()
                .map(|(first, groups)| (first, freeze(groups)))
                .collect(),
            other: freeze(self.other),
            best: self.best,
        }
    }
}

fn group(mut members: Members, limits: &PatternLimits) -> Group {
    members.sort_unstable_by_key(|member| std::cmp::Reverse(member.1));
    let chunks = members
        .chunks(CHUNK)
        .map(|chunk| match chunk {
            [(regex, rank)] => Chunk::One {
                regex: regex.clone(),
                rank: *rank,
            },
            _ => {
                let set = RegexSetBuilder::new(chunk.iter().map(|(regex, _)| regex.as_str()))
                    .size_limit(limits.max_regex_size().saturating_mul(chunk.len()))
                    .dfa_size_limit(
                        limits
                            .max_regex_dfa_size()
                            .saturating_mul(chunk.len().min(SET_DFA_FACTOR)),
                    )
                    .nest_limit(PatternLimits::REGEX_NEST_LIMIT)
                    .build();
                match set {
                    Ok(set) => Chunk::Set {
                        set,
                        members: chunk.into(),
                    },
                    Err(_) => Chunk::Each(chunk.into()),
                }
            }
        })
        .collect();
    Group { chunks }
}

#[cfg(test)]
mod tests;
