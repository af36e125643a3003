//! Unit tests of the required-prefix scan: what it reads, and every case where it must
//! refuse.

use proptest::{collection::vec, prelude::*, sample::select};
use regex::Regex;

use super::required_prefix;

fn check(regex: &str, expected: Option<&str>) {
    assert_eq!(required_prefix(regex).as_deref(), expected, "{regex:?}");
}

#[test]
fn reads_the_literal_start_of_anchored_regexes() {
    check(r"^orders\.(created|updated)$", Some("orders."));
    check(r"^tenant7\.orders\..*", Some("tenant7.orders."));
    check(r"^abc", Some("abc"));
    check(r"^a\-b\~c\&d", Some("a-b~c&d"));
    check(r"^a b", Some("a b"));
    check(r"^é\.x", Some("é.x"));
}

#[test]
fn leaves_out_a_last_character_that_may_repeat_zero_times() {
    check(r"^abc*", Some("ab"));
    check(r"^abc?", Some("ab"));
    check(r"^abc{0,2}", Some("ab"));
    check(r"^abc+d", Some("abc"));
    check(r"^a\.*", Some("a"));
    check(r"^a*", None);
    check(r"^ab+*", Some("a"));
    check(r"^ab+?c", Some("a"));
    check(r"^ab+{2}", Some("a"));
}

#[test]
fn refuses_when_unsure() {
    // Not anchored at the start of the text.
    check(r"orders\.created", None);
    check(r"(?m)^orders", None);
    check(r"\Aorders", None);
    // Alternation at the top level: either side may match.
    check(r"^orders|payments", None);
    check(r"^a(b|c)|d", None);
    // A class does not hide a top-level `|`...
    check(r"^a[(]|b", None);
    check(r"^a[-]|b", None);
    check(r"^a[]]|b", None);
    // ... and verbose mode could, with comments or whitespace: never trusted.
    check(
        r"^a(?x)#(
|b",
        None,
    );
    check(r"^a(?x)[ ]|b]", None);
    check(r"^a(?-x:b)|c", None);
    // Nothing literal after the anchor.
    check(r"^.orders", None);
    check(r"^(?i)orders", None);
    check(r"^\dorders", None);
    check(r"^\<word", None);
    check(r"^\x41", None);
    check(r"^^a", None);
    check(r"^", None);
}

#[test]
fn alternation_inside_groups_is_fine() {
    check(r"^ab(c|d)", Some("ab"));
    check(r"^ab\|c", Some("ab|c"));
    check(r"^ab(c\)|d)", Some("ab"));
}

#[test]
fn alternation_inside_classes_is_fine() {
    check(
        r"^tenant7\.(orders|payments)\.[a-z]+\.(failed|refunded)$",
        Some("tenant7."),
    );
    check(r"^a[|]b", Some("a"));
    check(r"^a[]|]b", Some("a"));
    check(r"^a[^]|(]b", Some("a"));
    check(r"^a[-|]b", Some("a"));
    check(r"^a[[:alpha:]|]b", Some("a"));
    check(r"^a[x[|(]]b", Some("a"));
    check(r"^a[\]|]b", Some("a"));
}

proptest! {
    /// Whatever the regex, a haystack it matches starts with the prefix, if there is one.
    #[test]
    fn every_match_starts_with_the_prefix(
        atoms in vec(select(vec![
            "a", "b", "ab", "ab", "|", "(a|b)", "(?:|a)", "[|(]", "[]a]", "[^]b]", "[-a]",
            "[a-]", r"\]", r"\|", ".", "*", "?", "+", "(?i)", "$", "[[:alpha:]]", "[a[|]]",
        ]), 0..6),
        haystacks in vec(vec(select(vec!["a", "b", "ab", "a", "b", "|", "(", "]", "-", "A"]), 0..6), 1..32),
    ) {
        let text = format!("^{}", atoms.concat());
        // Most random texts are not regexes; those are never asked about.
        if let (Ok(regex), Some(prefix)) = (Regex::new(&text), required_prefix(&text)) {
            for haystack in haystacks {
                let haystack = haystack.concat();
                if regex.is_match(&haystack) {
                    prop_assert!(haystack.starts_with(&prefix), "{text:?} matches {haystack:?} without {prefix:?}");
                }
            }
        }
    }
}
