//! [`GlobTrieBuilder`]: inserts globs into a growing trie, then freezes it into the
//! compact [`GlobTrie`] that lookups walk.

use std::{collections::BTreeMap, sync::Arc};

use foldhash::{HashMap, HashMapExt as _};

use super::{GlobTrie, LazyDfa, NARROW, NONE, Node, ROOT, UNBOUNDED, WildEdge, edge, symbol_bit};
use crate::pattern::{
    entry::Rank,
    glob::{Segment, Wild},
    glob_engine::GlobEngine,
    prefix_set::PrefixSet,
    symbols::Symbols,
};

/// Collects globs, then freezes them into a [`GlobTrie`].
#[derive(Debug)]
pub(crate) struct GlobTrieBuilder {
    nodes: Vec<Node>,
    /// The parent of each node (the root's is itself).
    parents: Vec<u32>,
    symbols: Symbols,
    edges: HashMap<u64, u32>,
    /// Wild children while building, by parent and segment text.
    wild: HashMap<(u32, Box<str>), (Arc<Wild>, u32)>,
    /// `(node, rank)` of every entry.
    terminals: Vec<(u32, Rank)>,
}

impl GlobTrieBuilder {
    pub(crate) fn new() -> Self {
        Self {
            nodes: vec![Node::new(false)],
            parents: vec![ROOT],
            symbols: Symbols::new(),
            edges: HashMap::new(),
            wild: HashMap::new(),
            terminals: Vec::new(),
        }
    }

    /// Adds the glob `segments`, parsed from `source`, as an entry of rank `rank`.
    pub(crate) fn insert(&mut self, segments: &[Segment], source: &str, rank: Rank) {
        let mut node = ROOT;
        for segment in segments {
            node = match segment {
                Segment::Literal { start, end } => {
                    let text = source.get(*start as usize..*end as usize).unwrap_or("");
                    self.literal_child(node, text)
                }
                Segment::Star => match self.nodes[node as usize].star {
                    NONE => {
                        let child = self.push(node, false);
                        self.nodes[node as usize].star = child;
                        child
                    }
                    child => child,
                },
                Segment::DoubleStar => match self.nodes[node as usize].double_star {
                    NONE => {
                        let child = self.push(node, true);
                        self.nodes[node as usize].double_star = child;
                        child
                    }
                    child => child,
                },
                Segment::Wild { start, end, wild } => {
                    let text = source.get(*start as usize..*end as usize).unwrap_or("");
                    let key = (node, Box::from(text));
                    match self.wild.get(&key) {
                        Some(&(_, child)) => child,
                        None => {
                            let child = self.push(node, false);
                            self.wild.insert(key, (Arc::clone(wild), child));
                            child
                        }
                    }
                }
            };
        }
        self.terminals.push((node, rank));
    }

    fn literal_child(&mut self, node: u32, text: &str) -> u32 {
        let symbol = self.symbols.intern(text);
        if let Some(&child) = self.edges.get(&edge(node, symbol)) {
            return child;
        }
        let child = self.push(node, false);
        self.edges.insert(edge(node, symbol), child);
        self.nodes[node as usize].literal_mask |= symbol_bit(symbol);
        child
    }

    fn push(&mut self, parent: u32, looping: bool) -> u32 {
        // Node counts are bounded by entries × segments, far below `u32::MAX`.
        let index = self.nodes.len() as u32;
        self.nodes.push(Node::new(looping));
        self.parents.push(parent);
        index
    }

    pub(crate) fn build(mut self, engine: GlobEngine) -> GlobTrie {
        // Entries of one node together, best first.
        self.terminals
            .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut terminals = Vec::with_capacity(self.terminals.len());
        for (node, rank) in self.terminals {
            let node = &mut self.nodes[node as usize];
            if node.terminal_count == 0 {
                node.first_terminal = terminals.len() as u32;
            }
            node.terminal_count += 1;
            terminals.push(rank);
        }

        // Wild edges, by parent and then prefix, in one arena with their prefixes.
        let mut wild_by_node: BTreeMap<u32, Vec<(Arc<Wild>, u32)>> = BTreeMap::new();
        for ((node, _), edge) in self.wild {
            wild_by_node.entry(node).or_default().push(edge);
        }
        let mut wild_edges = Vec::new();
        let mut wild_text = String::new();
        let mut wide_wild = HashMap::new();
        for (node, mut edges) in wild_by_node {
            edges.sort_by(|a, b| a.0.prefix().cmp(b.0.prefix()));
            let first = wild_edges.len();
            let parent = &mut self.nodes[node as usize];
            parent.first_wild = first as u32;
            parent.wild_count = edges.len() as u32;
            let mut ranges: BTreeMap<Box<str>, (usize, usize)> = BTreeMap::new();
            for (at, (wild, child)) in edges.into_iter().enumerate() {
                let prefix = wild.prefix();
                ranges
                    .entry(prefix.into())
                    .and_modify(|range| range.1 += 1)
                    .or_insert((first + at, 1));
                wild_edges.push(WildEdge {
                    prefix_start: wild_text.len(),
                    prefix_len: prefix.len() as u32,
                    child,
                    rest: (!wild.matches_any_rest()).then_some(Arc::clone(&wild)),
                });
                wild_text.push_str(prefix);
            }
            if ranges.values().map(|range| range.1).sum::<usize>() > NARROW {
                wide_wild.insert(node, PrefixSet::new(ranges));
            }
        }

        // Each node's best is its own best entry or a child's best, and its segment range
        // spans its own entries (0 further segments) and its children's ranges, one segment
        // further (or as far, through the `**` edge, which takes none). A child is always
        // pushed after its parent, so going from the last node to the first sees every
        // child complete before it reaches the parent.
        for node in &mut self.nodes {
            if node.terminal_count > 0 {
                node.best = terminals[node.first_terminal as usize];
                node.min_rest = 0;
            }
            if node.looping {
                node.max_rest = UNBOUNDED;
            }
        }
        for index in (1..self.nodes.len()).rev() {
            let Node {
                best,
                min_rest,
                max_rest,
                ..
            } = self.nodes[index];
            let parent = &mut self.nodes[self.parents[index] as usize];
            let step = u16::from(parent.double_star != index as u32);
            parent.best = parent.best.max(best);
            parent.min_rest = parent.min_rest.min(min_rest.saturating_add(step));
            parent.max_rest = match max_rest.checked_add(step) {
                Some(max) if max != UNBOUNDED && parent.max_rest != UNBOUNDED => {
                    parent.max_rest.max(max)
                }
                _ => UNBOUNDED,
            };
        }

        // Literal edges, by parent and then symbol: narrow nodes get a slice, wide ones
        // stay in the table.
        let mut edges: Vec<(u64, u32)> = self.edges.into_iter().collect();
        edges.sort_unstable();
        let mut narrow_edges = Vec::new();
        let mut wide_edges = HashMap::new();
        for group in edges.chunk_by(|a, b| a.0 >> 32 == b.0 >> 32) {
            let parent = &mut self.nodes[(group[0].0 >> 32) as usize];
            parent.edge_count = group.len() as u32;
            if group.len() > NARROW {
                wide_edges.extend(group.iter().copied());
            } else {
                parent.first_edge = narrow_edges.len() as u32;
                narrow_edges.extend(group.iter().map(|&(key, child)| (key as u32, child)));
            }
        }

        GlobTrie {
            nodes: self.nodes.into_boxed_slice(),
            symbols: self.symbols,
            narrow_edges: narrow_edges.into_boxed_slice(),
            wide_edges,
            wild_edges: wild_edges.into_boxed_slice(),
            wild_text,
            wide_wild,
            terminals: terminals.into_boxed_slice(),
            dfa: match engine {
                GlobEngine::LazyDfa => Some(LazyDfa::new()),
                GlobEngine::Walk => None,
            },
        }
    }
}
