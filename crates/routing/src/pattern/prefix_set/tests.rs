//! Unit tests of the prefix set: examples, and a property test against a plain scan.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::PrefixSet;

fn set(keys: &[&str]) -> PrefixSet<usize> {
    PrefixSet::new(
        keys.iter()
            .enumerate()
            .map(|(i, key)| (Box::from(*key), i))
            .collect(),
    )
}

fn found(set: &PrefixSet<usize>, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    set.for_each_prefix_of(text, |key, _| out.push(key.to_owned()));
    // Longest first, whichever way the set found them.
    out.sort_by_key(|key| std::cmp::Reverse(key.len()));
    out
}

#[test]
fn finds_every_member_that_is_a_prefix_longest_first() {
    let s = set(&["", "a", "ab", "abd", "ac", "b", "abc"]);
    assert_eq!(found(&s, "abcd"), ["abc", "ab", "a", ""]);
    assert_eq!(found(&s, "ad"), ["a", ""]);
    assert_eq!(found(&s, "abe"), ["ab", "a", ""]);
    assert_eq!(found(&s, "b"), ["b", ""]);
    assert_eq!(found(&s, ""), [""]);
    assert!(found(&set(&["b"]), "a").is_empty());
    assert!(found(&set(&[]), "a").is_empty());
    assert!(set(&[]).is_empty());
}

proptest! {
    #[test]
    fn agrees_with_a_scan(
        keys in proptest::collection::btree_set("[ab]{0,4}", 0..24),
        text in "[abc]{0,5}",
    ) {
        let members: BTreeMap<Box<str>, ()> = keys.iter().map(|k| (Box::from(k.as_str()), ())).collect();
        let prefixes = PrefixSet::new(members);
        let mut got = Vec::new();
        prefixes.for_each_prefix_of(&text, |key, ()| got.push(key.to_owned()));
        got.sort();
        let expected: Vec<String> = keys.iter().filter(|k| text.starts_with(k.as_str())).cloned().collect();
        prop_assert_eq!(got, expected);
    }
}
