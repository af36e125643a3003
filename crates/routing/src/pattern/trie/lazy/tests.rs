//! Unit tests of the lazy DFA: the same answers as the NFA walk, long segments, bounds.

use proptest::{collection::vec, prelude::*};

use super::*;
use crate::pattern::{
    GlobEngine, Pattern,
    entry::{position, rank},
    syntax::Repr,
    trie::GlobTrieBuilder,
};

fn trie(globs: &[&str]) -> GlobTrie {
    let mut builder = GlobTrieBuilder::new();
    for (i, glob) in globs.iter().enumerate() {
        let pattern = Pattern::parse(glob).unwrap();
        let Repr::Glob(segments) = pattern.repr() else {
            panic!("{glob} is not a glob");
        };
        builder.insert(segments, pattern.as_str(), rank(0, i));
    }
    builder.build(GlobEngine::LazyDfa)
}

/// The position of the glob the DFA picks for `topic`, after checking that the NFA walk
/// picks the same.
fn best(trie: &GlobTrie, topic: &str) -> Option<usize> {
    let dfa = trie.best_match(topic, NO_RANK);
    assert_eq!(dfa, trie.walk_best_match(topic, NO_RANK), "{topic}");
    (dfa != NO_RANK).then(|| position(dfa))
}

fn cache_sizes(trie: &GlobTrie) -> (usize, usize, usize) {
    let cache = trie
        .dfa
        .as_ref()
        .unwrap()
        .caches
        .get()
        .expect("a lookup ran here")
        .borrow();
    (
        cache.states.len(),
        cache.transitions.len(),
        cache.nodes.len(),
    )
}

#[test]
fn answers_repeat_from_the_cache() {
    let t = trie(&["a.*.c", "a.**", "**.audit", "a.b?.c"]);
    for _ in 0..3 {
        assert_eq!(best(&t, "a.x.c"), Some(0));
        assert_eq!(best(&t, "a.bb.c"), Some(0));
        assert_eq!(best(&t, "a.x.y"), Some(1));
        assert_eq!(best(&t, "z.audit"), Some(2));
        assert_eq!(best(&t, "z.y"), None);
    }
    let (states, transitions, _) = cache_sizes(&t);
    assert!(states > 2 && transitions > 0);
}

#[test]
fn long_segments_are_read_by_wild_children() {
    let long = "b".repeat(40);
    let t = trie(&["a.b*c.x", &format!("**.{long}.y"), "a.*.z"]);
    assert_eq!(best(&t, &format!("a.{long}c.x")), Some(0));
    // The same unknown long text shape, but not matching the wild segment.
    assert_eq!(best(&t, &format!("a.{long}d.x")), None);
    assert_eq!(best(&t, &format!("a.{long}.y")), Some(1));
    assert_eq!(best(&t, &format!("a.{long}d.z")), Some(2));
    assert_eq!(best(&t, &format!("a.{long}c.z")), Some(2));
}

#[test]
fn long_unknown_segments_share_a_transition_where_no_wild_child_reads_them() {
    let t = trie(&["a.*.z"]);
    for i in 0..100 {
        assert_eq!(best(&t, &format!("a.{}{i}.z", "q".repeat(20))), Some(0));
    }
    let (_, transitions, _) = cache_sizes(&t);
    assert!(transitions <= 3, "{transitions} transitions");
}

#[test]
fn a_flood_of_distinct_topics_stays_within_the_bounds() {
    let t = trie(&["*.*.x", "a.**", "**.b"]);
    for i in 0..MAX_TRANSITIONS + 1000 {
        let topic = format!("t{i}.s{}.x", i % 7);
        // Twice: a topic's transitions are cached on its second sight.
        assert_eq!(best(&t, &topic), Some(0));
        assert_eq!(best(&t, &topic), Some(0));
        let (states, transitions, nodes) = cache_sizes(&t);
        assert!(states <= MAX_STATES && transitions <= MAX_TRANSITIONS && nodes <= MAX_NODES);
    }
    // The cache was cleared on the way, and goes on answering.
    let (_, transitions, _) = cache_sizes(&t);
    assert!(transitions < MAX_TRANSITIONS);
    assert_eq!(best(&t, "a.b"), Some(1));
}

#[test]
fn topics_seen_once_fill_nothing() {
    let t = trie(&["*.*.x", "a.**", "**.b"]);
    assert_eq!(best(&t, "a.b"), Some(1));
    assert_eq!(best(&t, "a.b"), Some(1));
    let before = cache_sizes(&t);
    for i in 0..1000 {
        assert_eq!(best(&t, &format!("a.{i}.b")), Some(1));
        assert_eq!(best(&t, &format!("t{i}.s.x")), Some(0));
    }
    // The memory of topics seen is a Bloom filter: a few of the 2000 pass for seen (about
    // 3 expected), each adding at most three transitions. Were they all admitted, the
    // cache would hold thousands.
    let (_, after, _) = cache_sizes(&t);
    assert!(
        after - before.1 < 100,
        "{} transitions added",
        after - before.1
    );
    // Seen twice, a topic is cached (by then, whether or not it passed for seen the first
    // time), and then answered from the cache.
    assert_eq!(best(&t, "fresh.s.x"), Some(0));
    assert_eq!(best(&t, "fresh.s.x"), Some(0));
    let (_, transitions, _) = cache_sizes(&t);
    assert!(transitions > after);
    assert_eq!(best(&t, "fresh.s.x"), Some(0));
    assert_eq!(cache_sizes(&t).1, transitions);
}

#[test]
fn every_thread_has_its_own_cache() {
    let t = trie(&["a.*", "**.b"]);
    assert_eq!(best(&t, "a.x"), Some(0));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            assert!(t.dfa.as_ref().unwrap().caches.get().is_none());
            assert_eq!(best(&t, "a.x"), Some(0));
            assert_eq!(best(&t, "c.b"), Some(1));
        });
    });
    assert_eq!(best(&t, "c.b"), Some(1));
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..8u32).prop_map(|k| format!("s{k}")),
        1 => (0..4u32).prop_map(|k| format!("{}{k}", "l".repeat(16))),
        2 => (0..8u32).prop_map(|k| format!("s{k}*")),
        1 => Just("l*".to_owned()),
        1 => (0..4u32).prop_map(|k| format!("?{k}")),
        1 => Just("[a-m]*".to_owned()),
        1 => Just("*".to_owned()),
        1 => Just("**".to_owned()),
    ]
}

fn topic_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..10u32).prop_map(|k| format!("s{k}")),
        1 => (0..6u32).prop_map(|k| format!("{}{k}", "l".repeat(16))),
        1 => (0..6u32).prop_map(|k| format!("{}{k}", "m".repeat(20))),
        1 => Just(String::new()),
    ]
}

proptest! {
    #[test]
    fn the_dfa_agrees_with_the_walk(
        globs in vec(vec(segment(), 1..5).prop_map(|s| s.join(".")), 1..40),
        topics in vec(vec(topic_segment(), 1..6).prop_map(|s| s.join(".")), 1..40),
    ) {
        let globs: Vec<&str> = globs
            .iter()
            .map(String::as_str)
            .filter(|g| Pattern::parse(g).is_ok_and(|p| p.kind() == crate::pattern::PatternKind::Glob))
            .collect();
        let t = trie(&globs);
        // Three times: walked on first sight, cached on the second, from the cache on
        // the third.
        for _ in 0..3 {
            for topic in &topics {
                let expected = globs
                    .iter()
                    .position(|g| Pattern::parse(g).unwrap().matches(topic));
                prop_assert_eq!(best(&t, topic), expected, "{}", topic);
            }
        }
    }
}
