//! [`LazyDfa`]: the glob trie's NFA made deterministic one transition at a time, as lookups
//! need them, in a bounded cache per thread.
//!
//! The NFA walk keeps a set of trie nodes per topic segment, and each step costs a symbol
//! lookup plus a probe per node of the set. A state of the DFA is such a set, interned; a
//! transition is `(state, segment text) → state`. Once a topic's transitions are cached, a
//! lookup costs one hash probe per segment, whatever the number of nodes the sets hold,
//! which is what keeps the tail of the latency down where `**` and wildcards keep several
//! branches alive. This is the technique of the `regex` crate's lazy DFA, applied to
//! segments instead of bytes.
//!
//! A topic's transitions are made and cached on its second sight, not its first: until
//! then a miss finishes the topic with the NFA walk. Topics that never come back (ones
//! that carry an order id, say) then cost what the walk costs and do not push out the
//! transitions of topics that do.
//!
//! The cache is bounded: when it reaches [`MAX_STATES`] states, [`MAX_TRANSITIONS`]
//! transitions or [`MAX_NODES`] stored nodes, it is cleared and refilled by the lookups that
//! follow. Topics come from outside, so a flood of distinct ones cannot make it grow; it
//! only makes the lookups pay for the NFA steps again. Each thread has its own cache, so
//! lookups share nothing mutable and take no lock; the caches go with the index.

use std::{cell::RefCell, fmt, hash::BuildHasher};

use foldhash::{HashMap, HashMapExt as _, fast::RandomState};
use hashbrown::HashTable;
use thread_local::ThreadLocal;

use self::seen::Seen;
use super::{ANY_REST, GlobTrie, SCRATCH_KEEP, segment_count};
use crate::pattern::{
    entry::{NO_RANK, Rank},
    symbols::inline_key,
};

/// The most states one thread's cache holds before it is cleared. Unit tests use small
/// bounds, so that their random tables clear the cache in the middle of lookups.
#[cfg(not(test))]
const MAX_STATES: usize = 1 << 15;
#[cfg(test)]
const MAX_STATES: usize = 1 << 6;

/// The most transitions one thread's cache holds before it is cleared.
#[cfg(not(test))]
const MAX_TRANSITIONS: usize = 1 << 15;
#[cfg(test)]
const MAX_TRANSITIONS: usize = 1 << 6;

/// The most trie nodes, summed over its states, that one thread's cache holds before it
/// is cleared. With the two bounds above, a cache stays under about 5 MiB.
#[cfg(not(test))]
const MAX_NODES: usize = 1 << 18;
#[cfg(test)]
const MAX_NODES: usize = 1 << 8;

/// The empty set: no glob can match any more.
const DEAD: u32 = 0;

/// The set before the first segment: the root and its `**` closure.
const START: u32 = 1;

/// The transition key of a segment too long for an inline key whose text is a literal
/// segment of some glob: the marker in the top byte, which no inline key has (theirs holds
/// a length of at most 15), and the symbol below.
const LONG_SYMBOL: u128 = 0xFE << 120;

/// The transition key of any segment too long for an inline key that is no glob's literal
/// segment. Only wild segments could tell two such texts apart, so states with wild
/// children do not use it.
const LONG_UNKNOWN: u128 = 0xFF << 120;

/// The key of a transition: the state, then the segment key in four words. Words rather
/// than a `u128` keep the entry at 24 bytes instead of 48, which halves the cache lines
/// that a table of thousands of transitions spreads over.
type Transition = (u32, [u32; 4]);

fn transition(state: u32, key: u128) -> Transition {
    let word = |shift: u32| (key >> shift) as u32;
    (state, [word(0), word(32), word(64), word(96)])
}

/// Per-thread DFA caches over one [`GlobTrie`].
pub(super) struct LazyDfa {
    caches: ThreadLocal<RefCell<Cache>>,
}

impl LazyDfa {
    pub(super) fn new() -> Self {
        Self {
            caches: ThreadLocal::new(),
        }
    }

    /// The best rank above `floor` of a glob of `trie` matching `topic`, or [`NO_RANK`];
    /// `None` if this thread's cache is in use further up the stack.
    pub(super) fn best_match(&self, trie: &GlobTrie, topic: &str, floor: Rank) -> Option<Rank> {
        let cell = self.caches.get_or(|| RefCell::new(Cache::new(trie)));
        let mut cache = cell.try_borrow_mut().ok()?;
        let mut state = START;
        // Whether this topic's missing transitions are made and cached; decided at the first
        // miss, by whether the topic has been seen before.
        let mut admitted = false;
        for part in topic.split('.') {
            let key = match inline_key(part) {
                Some(key) => Some(key),
                None => match trie.symbols.get(part) {
                    Some(symbol) => Some(LONG_SYMBOL | u128::from(symbol)),
                    None if cache.states[state as usize].wild => None,
                    None => Some(LONG_UNKNOWN),
                },
            };
            let cached =
                key.and_then(|key| cache.transitions.get(&transition(state, key)).copied());
            state = match cached {
                Some(next) => next,
                None if admitted || cache.admit(topic) => {
                    admitted = true;
                    cache.advance(trie, state, part, key)
                }
                None => {
                    // `part` lies within `topic`: its offset is the distance between them.
                    let at = part.as_ptr() as usize - topic.as_ptr() as usize;
                    return Some(cache.walk_rest(trie, state, &topic[at..], floor));
                }
            };
            if state == DEAD {
                return Some(NO_RANK);
            }
        }
        let best = cache.states[state as usize].best;
        Some(if best > floor { best } else { NO_RANK })
    }
}

impl fmt::Debug for LazyDfa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyDfa").finish_non_exhaustive()
    }
}

/// One thread's states and transitions.
struct Cache {
    states: Vec<State>,
    /// The sorted node sets of the states, one after another.
    nodes: Vec<u32>,
    /// The states, by their node sets.
    interned: HashTable<u32>,
    hasher: RandomState,
    /// `(state, segment key) → state`. The keys hold topic text, which comes from outside.
    /// foldhash seeds each map at random but does not claim to resist keys crafted to
    /// collide; what bounds the harm is the cap of [`MAX_TRANSITIONS`] entries, and that a
    /// topic must be seen twice to add any.
    transitions: HashMap<Transition, u32>,
    /// The topics seen lately, for [`Cache::admit`].
    seen: Seen,
    /// Scratch node sets of a step.
    current: Vec<u32>,
    next: Vec<u32>,
}

/// A state: a set of trie nodes, and what a topic ending in it matches.
struct State {
    /// Its nodes are `Cache::nodes[first..][..len]`.
    first: u32,
    len: u32,
    /// The best rank of a glob ending at one of its nodes, or [`NO_RANK`].
    best: Rank,
    /// Some node has wild children, which read a segment's text rather than its symbol.
    wild: bool,
}

impl Cache {
    fn new(trie: &GlobTrie) -> Self {
        let mut cache = Self {
            states: Vec::new(),
            nodes: Vec::new(),
            interned: HashTable::new(),
            hasher: RandomState::default(),
            transitions: HashMap::new(),
            seen: Seen::new(),
            current: Vec::new(),
            next: Vec::new(),
        };
        cache.reset(trie);
        cache
    }

    /// Empties the cache but for [`DEAD`] and [`START`], which every cache has.
    fn reset(&mut self, trie: &GlobTrie) {
        self.states.clear();
        self.nodes.clear();
        // One set of the trie past the bound may have grown the arena beyond it.
        self.nodes.shrink_to(MAX_NODES);
        self.interned.clear();
        self.transitions.clear();
        let mut set = std::mem::take(&mut self.current);
        set.clear();
        let dead = self.intern(trie, &set);
        trie.start(&mut set, ANY_REST, NO_RANK);
        set.sort_unstable();
        let start = self.intern(trie, &set);
        debug_assert_eq!((dead, start), (DEAD, START));
        self.current = set;
    }

    /// Whether the DFA should make and keep the missing transitions of `topic`: only for a
    /// topic seen lately (see [`Seen`]), so that topics that never come back, such as ones
    /// carrying an order id, cost an NFA walk and fill nothing.
    fn admit(&mut self, topic: &str) -> bool {
        self.seen.check_and_insert(self.hasher.hash_one(topic))
    }

    /// The scratch node sets, taken out of the cache (to be put back), the first holding
    /// the nodes of `state`.
    fn take_scratch(&mut self, state: u32) -> (Vec<u32>, Vec<u32>) {
        let (mut current, next) = (
            std::mem::take(&mut self.current),
            std::mem::take(&mut self.next),
        );
        let State { first, len, .. } = self.states[state as usize];
        current.clear();
        current.extend_from_slice(&self.nodes[first as usize..][..len as usize]);
        (current, next)
    }

    /// Puts the scratch node sets back, unless a pathological step made them large: then
    /// they go, so that one such topic does not keep their memory for the index's life.
    fn put_scratch(&mut self, current: Vec<u32>, next: Vec<u32>) {
        if current.capacity() <= SCRATCH_KEEP && next.capacity() <= SCRATCH_KEEP {
            (self.current, self.next) = (current, next);
        }
    }

    /// The best rank above `floor` of a glob matching the rest of a topic, `rest`, from
    /// `state` on, by the NFA walk; caches nothing.
    fn walk_rest(&mut self, trie: &GlobTrie, state: u32, rest: &str, floor: Rank) -> Rank {
        let (mut current, mut next) = self.take_scratch(state);
        trie.walk_from(&mut current, &mut next, rest, segment_count(rest), floor);
        let best = trie.best_terminal(&current);
        self.put_scratch(current, next);
        if best > floor { best } else { NO_RANK }
    }

    /// Takes the NFA step from `state` on the segment `part`, and caches it under `key`
    /// (if the step may be shared; see [`LONG_UNKNOWN`]). Returns the state reached.
    fn advance(&mut self, trie: &GlobTrie, state: u32, part: &str, key: Option<u128>) -> u32 {
        let (mut current, mut next) = self.take_scratch(state);
        trie.step(&current, part, ANY_REST, NO_RANK, &mut next);
        next.sort_unstable();
        next.dedup();
        let full = self.states.len() >= MAX_STATES
            || self.transitions.len() >= MAX_TRANSITIONS
            || self.nodes.len() + next.len() > MAX_NODES;
        if full {
            // `state` is gone with the rest; the lookup goes on from the state it reached.
            self.current = current;
            self.reset(trie);
            current = std::mem::take(&mut self.current);
        }
        let reached = self.intern(trie, &next);
        if let (false, Some(key)) = (full, key) {
            self.transitions.insert(transition(state, key), reached);
        }
        self.put_scratch(current, next);
        reached
    }

    /// The state of the sorted node set `set`, made if there is none yet.
    fn intern(&mut self, trie: &GlobTrie, set: &[u32]) -> u32 {
        let Self {
            states,
            nodes,
            interned,
            hasher,
            ..
        } = self;
        let nodes_of = |state: &State| &nodes[state.first as usize..][..state.len as usize];
        let hash = hasher.hash_one(set);
        if let Some(&found) = interned.find(hash, |&id| nodes_of(&states[id as usize]) == set) {
            return found;
        }
        let best = trie.best_terminal(set);
        let wild = set
            .iter()
            .any(|&index| trie.nodes[index as usize].wild_count > 0);
        // Bounded by `MAX_STATES` and `MAX_NODES` (or one set of the trie past them), far
        // below `u32::MAX`.
        let id = states.len() as u32;
        states.push(State {
            first: nodes.len() as u32,
            len: set.len() as u32,
            best,
            wild,
        });
        nodes.extend_from_slice(set);
        interned.insert_unique(hash, id, |&id| {
            let state = &states[id as usize];
            hasher.hash_one(&nodes[state.first as usize..][..state.len as usize])
        });
        id
    }
}

mod seen;
#[cfg(test)]
mod tests;
