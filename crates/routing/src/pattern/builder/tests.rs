//! Unit tests of the builder: ids, removal, copy-on-write rebuilds and its limits.

use crate::pattern::{PatternError, PatternIndex, PatternLimits};

#[test]
fn ids_survive_rebuilds_and_are_never_reused() {
    let mut builder = PatternIndex::builder();
    let a = builder.insert("a.*", 0, 'a').unwrap();
    let b = builder.insert("b.*", 0, 'b').unwrap();
    let index = builder.build();

    let mut next = index.to_builder();
    assert_eq!(next.remove(b), Some('b'));
    assert_eq!(next.remove(b), None);
    let c = next.insert("c.*", 0, 'c').unwrap();
    assert!(c > b);
    let next = next.build();
    assert_eq!(next.get(a).map(|m| *m.value), Some('a'));
    assert!(next.get(b).is_none());
    assert_eq!(next.get(c).map(|m| *m.value), Some('c'));
    // The original is untouched.
    assert_eq!(index.len(), 2);
    assert!(index.get(c).is_none());
}

#[test]
fn removal_keeps_registration_order_for_ties() {
    let mut builder = PatternIndex::builder();
    let ids: Vec<_> = (0..4)
        .map(|i| builder.insert("x.*", 1, i).unwrap())
        .collect();
    let mut rebuilt = builder.build().to_builder();
    rebuilt.remove(ids[0]);
    rebuilt.insert("**", 1, 9).unwrap();
    let index = rebuilt.build();
    let order: Vec<i32> = index.find_all("x.y").iter().map(|m| *m.value).collect();
    assert_eq!(order, [1, 2, 3, 9]);
}

#[test]
fn retain_keeps_what_the_predicate_accepts() {
    let mut builder = PatternIndex::builder();
    for (i, pattern) in ["a", "b.*", "re:c"].into_iter().enumerate() {
        builder.insert(pattern, 0, i).unwrap();
    }
    builder.retain(|_, pattern, &value| value != 1 && pattern.as_str() != "re:c");
    assert_eq!(builder.len(), 1);
    assert!(!builder.is_empty());
}

#[test]
fn a_full_builder_rejects_inserts_and_stays_as_it_was() {
    let limits = PatternLimits::new().with_max_entries(2);
    let mut builder = PatternIndex::builder().with_limits(limits);
    builder.insert("a", 0, ()).unwrap();
    builder.insert("b", 0, ()).unwrap();
    assert_eq!(
        builder.insert("c", 0, ()).unwrap_err(),
        PatternError::TooManyEntries { max: 2 }
    );
    assert_eq!(builder.len(), 2);
    let index = builder.build();
    assert_eq!(index.limits().max_entries(), 2);
    // The limits carry over to copy-on-write builders.
    assert!(index.to_builder().insert("c", 0, ()).is_err());
}

#[test]
fn an_invalid_pattern_leaves_the_builder_unchanged() {
    let mut builder = PatternIndex::builder();
    builder.insert("a", 0, ()).unwrap();
    assert!(builder.insert("a..b", 0, ()).is_err());
    assert_eq!(builder.len(), 1);
    let limits = PatternLimits::new().with_max_segments(2);
    let mut strict = PatternIndex::builder().with_limits(limits);
    assert!(strict.insert("a.b.c", 0, ()).is_err());
    // A pattern parsed elsewhere keeps the limits it was parsed with.
    let pattern = crate::pattern::Pattern::parse("a.b.c").unwrap();
    assert!(strict.insert_pattern(pattern, 0, ()).is_ok());
}
