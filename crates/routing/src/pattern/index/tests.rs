//! Unit tests of lookups across the three kinds: order, ties, duplicates, and the views.

use crate::pattern::{PatternIndex, PatternKind};

fn index(entries: &[(&str, u32)]) -> PatternIndex<usize> {
    let mut builder = PatternIndex::builder();
    for (i, (pattern, priority)) in entries.iter().enumerate() {
        builder.insert(pattern, *priority, i).unwrap();
    }
    builder.build()
}

fn all(index: &PatternIndex<usize>, topic: &str) -> Vec<usize> {
    index.find_all(topic).iter().map(|m| *m.value).collect()
}

fn first(index: &PatternIndex<usize>, topic: &str) -> Option<usize> {
    index.find_first(topic).map(|m| *m.value)
}

#[test]
fn priority_wins_across_kinds() {
    let i = index(&[
        ("orders.created", 1),
        ("orders.*", 3),
        (r"re:^orders\.", 2),
        ("**", 0),
    ]);
    assert_eq!(first(&i, "orders.created"), Some(1));
    assert_eq!(all(&i, "orders.created"), [1, 2, 0, 3]);
    assert_eq!(all(&i, "orders"), [3]);
}

#[test]
fn ties_go_to_the_earliest_registration_whatever_the_kind() {
    let i = index(&[
        (r"re:created$", 5),
        ("**.created", 5),
        ("orders.created", 5),
        ("orders.*", 5),
    ]);
    assert_eq!(first(&i, "orders.created"), Some(0));
    assert_eq!(all(&i, "orders.created"), [0, 1, 2, 3]);
    let i = index(&[("orders.created", 5), ("orders.*", 5), (r"re:created$", 5)]);
    assert_eq!(first(&i, "orders.created"), Some(0));
}

#[test]
fn duplicate_patterns_are_separate_entries() {
    let i = index(&[
        ("a.b", 1),
        ("a.b", 2),
        ("a.*", 1),
        ("a.*", 1),
        ("re:b", 0),
        ("re:b", 0),
    ]);
    assert_eq!(all(&i, "a.b"), [1, 0, 2, 3, 4, 5]);
    assert_eq!(first(&i, "a.c"), Some(2));
}

#[test]
fn no_match_is_none() {
    let i = index(&[("a.b", 1), ("a.*.c", 1), (r"re:^x", 1)]);
    assert_eq!(first(&i, "b"), None);
    assert!(all(&i, "a.b.d").is_empty());
    let empty: PatternIndex<usize> = PatternIndex::default();
    assert_eq!(first(&empty, "a"), None);
    assert!(empty.is_empty());
}

#[test]
fn a_match_shows_its_entry() {
    let mut builder = PatternIndex::builder();
    let id = builder.insert("orders.*", 7, "v").unwrap();
    let index = builder.build();
    let found = index.find_first("orders.x").unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.priority, 7);
    assert_eq!(found.pattern.as_str(), "orders.*");
    assert_eq!(*found.value, "v");
    let again = index.get(id).unwrap();
    assert_eq!(again.id, id);
}

#[test]
fn views_list_entries_in_registration_order() {
    let i = index(&[("b", 0), ("a.*", 9), ("re:x", 1)]);
    assert_eq!(i.len(), 3);
    let values: Vec<usize> = i.iter().map(|m| *m.value).collect();
    assert_eq!(values, [0, 1, 2]);
    assert_eq!(i.iter().next_back().map(|m| *m.value), Some(2));
    assert_eq!(i.count(PatternKind::Exact), 1);
    assert_eq!(i.count(PatternKind::Glob), 1);
    assert_eq!(i.count(PatternKind::Regex), 1);
    assert_eq!(
        format!("{i:?}"),
        "PatternIndex { exact: 1, glob: 1, regex: 1, .. }"
    );
}
