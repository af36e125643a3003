//! Unit tests of the glob trie: sharing of nodes, `**` without blow-up, and pruning by
//! rank.

use super::*;
use crate::pattern::{
    GlobEngine, Pattern,
    entry::{position, rank},
    syntax::Repr,
};

fn trie(globs: &[(&str, u32)]) -> GlobTrie {
    let mut builder = GlobTrieBuilder::new();
    for (i, (glob, priority)) in globs.iter().enumerate() {
        let pattern = Pattern::parse(glob).unwrap();
        let Repr::Glob(segments) = pattern.repr() else {
            panic!("{glob} is not a glob");
        };
        builder.insert(segments, pattern.as_str(), rank(*priority, i));
    }
    builder.build(GlobEngine::LazyDfa)
}

fn all(trie: &GlobTrie, topic: &str) -> Vec<usize> {
    let mut ranks = Vec::new();
    trie.all_matches(topic, &mut ranks);
    let mut positions: Vec<usize> = ranks.into_iter().map(position).collect();
    positions.sort_unstable();
    positions
}

#[test]
fn equal_segments_share_nodes() {
    let t = trie(&[
        ("a.*.c", 0),
        ("a.*.d", 0),
        ("a.b*.c", 0),
        ("a.b*.d", 0),
        ("a.**", 0),
        ("a.**.c", 0),
    ]);
    // root, a, *, c, d, b*, c, d, **, c
    assert_eq!(t.nodes.len(), 10);
    assert_eq!(all(&t, "a.bx.c"), [0, 2, 4, 5]);
}

#[test]
fn node_sets_stay_small_with_many_double_stars() {
    let globs = [("**.a.**.a.**.a.**.b", 0), ("**.a.**.b", 0), ("**", 0)];
    let t = trie(&globs);
    let topic = vec!["a"; 2000].join(".") + ".b";
    assert_eq!(all(&t, &topic), [0, 1, 2]);
    let mut scratch = Scratch::default();
    let reached = t.walk(&topic, NO_RANK, &mut scratch).len();
    // Every node at most once: the set can never exceed the trie.
    assert!(reached <= t.nodes.len(), "{reached} nodes reached");
    let mut unique = t.walk(&topic, NO_RANK, &mut scratch).to_vec();
    unique.dedup();
    assert_eq!(unique.len(), reached);
}

#[test]
fn best_match_prefers_priority_then_registration() {
    let t = trie(&[("a.*", 1), ("*.b", 2), ("a.b*", 2), ("**", 0)]);
    assert_eq!(position(t.best_match("a.b", NO_RANK)), 1);
    assert_eq!(position(t.best_match("a.c", NO_RANK)), 0);
    assert_eq!(position(t.best_match("x", NO_RANK)), 3);
}

#[test]
fn best_match_only_reports_what_beats_the_floor() {
    let t = trie(&[("a.*", 1), ("**", 0)]);
    assert_eq!(t.best_match("a.b", rank(5, 9)), NO_RANK);
    assert_eq!(position(t.best_match("a.b", rank(0, 9))), 0);
    // A floor between the two: only the better one qualifies.
    assert_eq!(position(t.best_match("a.b", rank(1, 7))), 0);
}

#[test]
fn an_empty_trie_matches_nothing() {
    let t = trie(&[]);
    assert_eq!(t.best_match("a", NO_RANK), NO_RANK);
    assert!(all(&t, "a").is_empty());
}

#[test]
fn topics_of_the_wrong_length_are_pruned_early() {
    let t = trie(&[("*.payments.*.failed", 0), ("a.**", 0), ("**.z", 0)]);
    assert_eq!(all(&t, "x.payments.y.failed"), [0]);
    assert_eq!(all(&t, "a.payments.failed"), [1]);
    let mut scratch = Scratch::default();
    // After `x` only `**` can still match a topic of three segments: `*` needs four.
    assert!(
        t.walk("x.payments.failed", NO_RANK, &mut scratch)
            .is_empty()
    );
    assert_eq!(all(&t, "x.payments.z"), [2]);
}

/// Strategies for wide nodes: many literal and wild children under one node, beyond the
/// linear-scan limits, checked against each glob on its own.
mod wide {
    use proptest::{collection::vec, prelude::*};

    use super::{all, trie};
    use crate::pattern::Pattern;

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (0..24u32).prop_map(|k| format!("s{k}")),
            2 => (0..24u32).prop_map(|k| format!("s{k}*")),
            1 => (0..6u32).prop_map(|k| format!("?{k}")),
            1 => Just("*".to_owned()),
            1 => Just("**".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn wide_nodes_agree_with_each_glob(
            globs in vec(vec(segment(), 1..4).prop_map(|s| s.join(".")), 1..60),
            topics in vec(vec((0..30u32).prop_map(|k| format!("s{k}")), 1..4).prop_map(|s| s.join(".")), 1..20),
        ) {
            let globs: Vec<String> = globs
                .into_iter()
                .filter(|g| Pattern::parse(g).is_ok_and(|p| p.kind() == crate::pattern::PatternKind::Glob))
                .collect();
            let entries: Vec<(&str, u32)> = globs.iter().map(|g| (g.as_str(), 0)).collect();
            let t = trie(&entries);
            for topic in &topics {
                let expected: Vec<usize> = globs
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| Pattern::parse(g).unwrap().matches(topic))
                    .map(|(i, _)| i)
                    .collect();
                prop_assert_eq!(all(&t, topic), expected, "{}", topic);
            }
        }
    }
}
