//! [`GlobTrie`]: every glob of an index in one trie of segments, matched against a topic
//! segment by segment as an NFA, so that the cost depends on the topic and on how many
//! patterns share its path, not on how many globs there are.

use std::{cell::RefCell, sync::Arc};

use foldhash::HashMap;

pub(crate) use self::build::GlobTrieBuilder;
use self::lazy::LazyDfa;
use super::{
    entry::{NO_RANK, Rank},
    glob::Wild,
    prefix_set::{PrefixSet, starts_with},
    symbols::Symbols,
};

mod build;
mod lazy;

/// No such child.
const NONE: u32 = u32::MAX;

/// `max_rest` below a `**`: any number of segments. Counts too large for `u16` become
/// this as well, which only keeps more branches.
const UNBOUNDED: u16 = u16::MAX;

/// A `rest` that stands for any number of segments: the lazy DFA's states do not depend on
/// the topic's length, so that every topic can share them.
const ANY_REST: usize = usize::MAX;

/// The root node's index.
const ROOT: u32 = 0;

/// Nodes with up to this many literal children keep them in a slice, scanned in one or
/// two cache lines; wider ones in a hash table.
const NARROW: usize = 8;

/// Node sets up to this size are kept duplicate-free by scanning them.
const SCAN_LIMIT: usize = 64;

/// Scratch buffers above this many node slots are dropped after use, so that one
/// pathological lookup does not keep its memory for the life of the thread.
const SCRATCH_KEEP: usize = 4096;

/// The globs of one index, frozen.
///
/// Each node stands for a sequence of glob segments; its children are keyed by the next
/// segment: literal children, one `*` child, one `**` child, and wild children (`order*`,
/// `v?`, `[a-m]*`) found by their literal prefix. A node reached through `**` loops: it may
/// take any number of further segments.
///
/// Literal segments are interned: a topic segment is hashed once per step to its symbol,
/// and each active node then costs an integer comparison or probe, not a string hash. The
/// layout is for the cache: a node is one cache line; the edges of narrow nodes and the
/// wild prefixes sit in arenas in node order, so a tenant's subtree is a few neighbouring
/// lines rather than a chase through scattered allocations; a one-word filter on each node
/// and the segment counts below it rule out most probes and branches before they are made.
///
/// Matching keeps the set of nodes the topic has reached so far, segment by segment, each
/// node at most once. That is what keeps many `**` from exploding: a step costs at most the
/// number of nodes, never the number of ways to split the topic.
#[derive(Debug)]
pub(crate) struct GlobTrie {
    nodes: Box<[Node]>,
    /// Every literal segment text of the globs, numbered.
    symbols: Symbols,
    /// The literal children `(symbol, child)` of nodes with at most [`NARROW`] of them,
    /// node after node in node order, so that a tenant's edges lie next to each other.
    narrow_edges: Box<[(u32, u32)]>,
    /// The literal children of wider nodes (the root, with one per tenant), by
    /// [`edge`]`(parent, symbol)`.
    wide_edges: HashMap<u64, u32>,
    /// The wild children of every node, node after node in node order, each node's sorted
    /// by literal prefix.
    wild_edges: Box<[WildEdge]>,
    /// The literal prefixes of `wild_edges`, one after another.
    wild_text: String,
    /// For nodes with more than [`NARROW`] wild children: their distinct prefixes, each
    /// with the range of `wild_edges` that share it, for a binary search.
    wide_wild: HashMap<u32, PrefixSet<(usize, usize)>>,
    /// The ranks of the entries that end at each node, best first, node after node.
    terminals: Box<[Rank]>,
    /// The NFA above, determinized as lookups go, per thread; `None` with
    /// [`GlobEngine::Walk`](crate::pattern::GlobEngine::Walk).
    dfa: Option<LazyDfa>,
}

/// A node: 64 bytes, one cache line.
#[derive(Debug)]
struct Node {
    /// The best rank of an entry at this node or below it; 0 if none. Lookups skip a node
    /// that cannot beat what they already have.
    best: Rank,
    star: u32,
    double_star: u32,
    /// This node's wild children are `wild_edges[first_wild..][..wild_count]`.
    first_wild: u32,
    wild_count: u32,
    /// A one-word Bloom filter of the symbols of the literal children: bit `symbol % 64`
    /// is set for each. Most active nodes have no child for most segments (a `**.audit`
    /// node sees every segment of every topic), and this rules them out without a probe.
    literal_mask: u64,
    /// This node's entries are `terminals[first_terminal..][..terminal_count]`.
    first_terminal: u32,
    terminal_count: u32,
    /// This node's literal children are `narrow_edges[first_edge..][..edge_count]`, or in
    /// `wide_edges` if there are more than [`NARROW`].
    first_edge: u32,
    edge_count: u32,
    /// The fewest and most further topic segments that an entry at or below this node can
    /// take (`max_rest` is [`UNBOUNDED`] below a `**`). The topic's segment count is known
    /// before the walk, so a branch of the wrong length is dropped as soon as it is
    /// reached: `*.payments.*.failed` never runs on a topic of three segments.
    min_rest: u16,
    max_rest: u16,
    /// Reached through `**`: takes any further segment and stays.
    looping: bool,
}

#[derive(Debug)]
struct WildEdge {
    /// The literal prefix is `wild_text[prefix_start..][..prefix_len]`.
    prefix_start: usize,
    prefix_len: u32,
    child: u32,
    /// What must follow the prefix; `None` when anything may (the segment is `prefix*`),
    /// which then needs no further read.
    rest: Option<Arc<Wild>>,
}

/// The bit of `symbol` in a node's `literal_mask`.
fn symbol_bit(symbol: u32) -> u64 {
    1 << (symbol % 64)
}

/// The key of a literal edge.
fn edge(parent: u32, symbol: u32) -> u64 {
    (u64::from(parent) << 32) | u64::from(symbol)
}

impl Node {
    /// Whether this node may still lead to an entry better than `floor` when `rest` topic
    /// segments remain after it ([`ANY_REST`]: whatever the number).
    fn fits(&self, rest: usize, floor: Rank) -> bool {
        self.best > floor
            && (rest == ANY_REST
                || usize::from(self.min_rest) <= rest
                    && (self.max_rest == UNBOUNDED || rest <= usize::from(self.max_rest)))
    }

    fn new(looping: bool) -> Self {
        Self {
            best: NO_RANK,
            star: NONE,
            double_star: NONE,
            first_wild: 0,
            wild_count: 0,
            literal_mask: 0,
            first_terminal: 0,
            terminal_count: 0,
            first_edge: 0,
            edge_count: 0,
            // Set by `GlobTrieBuilder::build`, from the entries below.
            min_rest: u16::MAX,
            max_rest: 0,
            looping,
        }
    }
}

impl GlobTrie {
    /// The best rank above `floor` of a glob matching `topic`, or [`NO_RANK`].
    ///
    /// The lazy DFA answers, on this thread's cache; the NFA walk if there is no DFA, or
    /// if that cache is in use further up the stack.
    pub(crate) fn best_match(&self, topic: &str, floor: Rank) -> Rank {
        if self.nodes[ROOT as usize].best <= floor {
            // No glob at all, or none that could beat `floor`.
            return NO_RANK;
        }
        let cached = self
            .dfa
            .as_ref()
            .and_then(|dfa| dfa.best_match(self, topic, floor));
        cached.unwrap_or_else(|| self.walk_best_match(topic, floor))
    }

    /// [`best_match`](Self::best_match) by the NFA walk alone, which caches nothing.
    pub(crate) fn walk_best_match(&self, topic: &str, floor: Rank) -> Rank {
        let mut best = NO_RANK;
        with_scratch(|scratch| best = self.best_terminal(self.walk(topic, floor, scratch)));
        if best > floor { best } else { NO_RANK }
    }

    /// Appends the rank of every glob matching `topic` to `out`, in no particular order.
    pub(crate) fn all_matches(&self, topic: &str, out: &mut Vec<Rank>) {
        with_scratch(|scratch| {
            for &node in self.walk(topic, NO_RANK, scratch) {
                let node = &self.nodes[node as usize];
                let first = node.first_terminal as usize;
                out.extend_from_slice(&self.terminals[first..first + node.terminal_count as usize]);
            }
        });
    }

    /// Runs the NFA over `topic`'s segments; returns the nodes it ends in, each once.
    /// Nodes whose `best` is not above `floor` are left out: they cannot improve a result
    /// that already has `floor`; so are nodes whose entries cannot take the number of
    /// segments left.
    fn walk<'s>(&self, topic: &str, floor: Rank, scratch: &'s mut Scratch) -> &'s [u32] {
        let Scratch { current, next } = scratch;
        let segments = segment_count(topic);
        self.start(current, segments, floor);
        self.walk_from(current, next, topic, segments, floor);
        current
    }

    /// Runs the NFA over the `segments` segments of `topic` from the nodes in `current`,
    /// which it leaves holding the nodes it ends in; `next` is scratch.
    fn walk_from(
        &self,
        current: &mut Vec<u32>,
        next: &mut Vec<u32>,
        topic: &str,
        segments: usize,
        floor: Rank,
    ) {
        let mut rest = segments;
        for part in topic.split('.') {
            if current.is_empty() {
                break;
            }
            rest -= 1;
            self.step(current, part, rest, floor, next);
            std::mem::swap(current, next);
        }
    }

    /// The best rank of an entry ending at one of `nodes`, or [`NO_RANK`].
    fn best_terminal(&self, nodes: &[u32]) -> Rank {
        nodes
            .iter()
            .map(|&index| &self.nodes[index as usize])
            .filter(|node| node.terminal_count > 0)
            .map(|node| self.terminals[node.first_terminal as usize])
            .fold(NO_RANK, Rank::max)
    }

    /// The nodes before the first segment, into `set`: the root and its `**` closure, if
    /// the root fits `rest` segments and `floor`.
    fn start(&self, set: &mut Vec<u32>, rest: usize, floor: Rank) {
        set.clear();
        if self.nodes[ROOT as usize].fits(rest, floor) {
            set.push(ROOT);
            self.close(set, rest, floor);
        }
    }

    /// One step of the NFA: the nodes that `current` reaches on the topic segment `part`,
    /// with their `**` closure, into `next`, each once. `rest` is the number of segments
    /// after `part`, or [`ANY_REST`] to keep branches of every length.
    fn step(&self, current: &[u32], part: &str, rest: usize, floor: Rank, next: &mut Vec<u32>) {
        next.clear();
        // No symbol: no glob has this text as a literal segment, so no literal edge fits;
        // then the mask of no bit rules every probe out.
        let (symbol, bit) = match self.symbols.get(part) {
            Some(symbol) => (symbol, symbol_bit(symbol)),
            None => (0, 0),
        };
        for &index in current {
            let node = &self.nodes[index as usize];
            let mut reach = |child: u32| {
                if child != NONE && self.nodes[child as usize].fits(rest, floor) {
                    next.push(child);
                }
            };
            if node.literal_mask & bit != 0 {
                if let Some(child) = self.literal_child(index, node, symbol) {
                    reach(child);
                }
            }
            reach(node.star);
            if node.wild_count > 0 {
                self.wild_children(index, node, part, &mut reach);
            }
            // No edge leads to a looping node (only the closure does), so this cannot
            // duplicate anything pushed in this loop.
            if node.looping && node.fits(rest, floor) {
                next.push(index);
            }
        }
        self.close(next, rest, floor);
    }

    /// Calls `reach` with every wild child of `node` (whose index is `index`) that matches
    /// the topic segment `part`.
    fn wild_children(&self, index: u32, node: &Node, part: &str, reach: &mut impl FnMut(u32)) {
        let first = node.first_wild as usize;
        let edges = &self.wild_edges[first..first + node.wild_count as usize];
        let matches = |edge: &WildEdge| {
            let prefix_len = edge.prefix_len as usize;
            let prefix = &self.wild_text.as_bytes()[edge.prefix_start..][..prefix_len];
            starts_with(part.as_bytes(), prefix)
                && edge
                    .rest
                    .as_ref()
                    .is_none_or(|wild| wild.matches_rest(&part[prefix_len..]))
        };
        let wide = match edges.len() > NARROW {
            true => self.wide_wild.get(&index),
            false => None,
        };
        match wide {
            Some(by_prefix) => by_prefix.for_each_prefix_of(part, |_, &(start, count)| {
                for edge in &self.wild_edges[start..start + count] {
                    if matches(edge) {
                        reach(edge.child);
                    }
                }
            }),
            None => {
                for edge in edges {
                    if matches(edge) {
                        reach(edge.child);
                    }
                }
            }
        }
    }

    /// The literal child of `node` (whose index is `index`) for `symbol`.
    fn literal_child(&self, index: u32, node: &Node, symbol: u32) -> Option<u32> {
        if node.edge_count as usize > NARROW {
            return self.wide_edges.get(&edge(index, symbol)).copied();
        }
        let first = node.first_edge as usize;
        self.narrow_edges[first..first + node.edge_count as usize]
            .iter()
            .find(|&&(edge_symbol, _)| edge_symbol == symbol)
            .map(|&(_, child)| child)
    }

    /// Adds the `**` children of the nodes in `set`, and theirs, as a `**` may take no
    /// segment at all; keeps every node once.
    ///
    /// A `**` child may already be in the set through its own loop. Small sets are checked
    /// with a scan; a set past [`SCAN_LIMIT`] is sorted and deduplicated at the end instead,
    /// so that the cost stays O(n log n) however many `**` there are.
    fn close(&self, set: &mut Vec<u32>, rest: usize, floor: Rank) {
        let mut unsorted_duplicates = false;
        let mut i = 0;
        while let Some(&index) = set.get(i) {
            let child = self.nodes[index as usize].double_star;
            if child != NONE && self.nodes[child as usize].fits(rest, floor) {
                if set.len() > SCAN_LIMIT {
                    unsorted_duplicates = true;
                    set.push(child);
                } else if !set.contains(&child) {
                    set.push(child);
                }
            }
            i += 1;
        }
        if unsorted_duplicates {
            set.sort_unstable();
            set.dedup();
        }
    }
}

/// The number of dot-separated segments of `topic`.
fn segment_count(topic: &str) -> usize {
    topic.bytes().filter(|&byte| byte == b'.').count() + 1
}

/// The two node sets of a walk, kept per thread so that a lookup does not allocate.
#[derive(Default)]
struct Scratch {
    current: Vec<u32>,
    next: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers, or with fresh ones if they are unavailable
/// (the thread is exiting, or a lookup is already using them further up the stack).
fn with_scratch(mut f: impl FnMut(&mut Scratch)) {
    let pooled = SCRATCH.try_with(|cell| {
        let Ok(mut scratch) = cell.try_borrow_mut() else {
            return false;
        };
        f(&mut scratch);
        if scratch.current.capacity() > SCRATCH_KEEP || scratch.next.capacity() > SCRATCH_KEEP {
            *scratch = Scratch::default();
        }
        true
    });
    if !matches!(pooled, Ok(true)) {
        f(&mut Scratch::default());
    }
}

#[cfg(test)]
mod tests;
