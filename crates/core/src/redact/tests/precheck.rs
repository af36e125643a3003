//! The one-scan check that lets text no rule matches skip the rules.

use proptest::prelude::*;

use super::super::rules::{RULES, without_word_boundaries};
use super::idempotence::fragments;

#[test]
fn word_boundaries_are_left_out_and_nothing_else() {
    let cases = [
        (r"\bsig", "sig"),
        (r"(?i)\b(auth)\b[ \t]+\S*", r"(?i)(auth)[ \t]+\S*"),
        // An escaped backslash before a `b` is a backslash and a `b`.
        (r"\\b", r"\\b"),
        (r"\\\bx", r"\\x"),
        (r#"[^\s"\\]+\b"#, r#"[^\s"\\]+"#),
        ("\\", "\\"),
    ];
    for (pattern, expected) in cases {
        assert_eq!(
            without_word_boundaries(pattern),
            expected,
            "pattern: {pattern}"
        );
    }
}

/// Whether any rule matches `text`, one rule at a time.
fn any_rule_matches(text: &str) -> bool {
    RULES.rules.iter().any(|rule| rule.regex.is_match(text))
}

proptest! {
    /// The set may match more than the rules (it has no `\b`), never less: a miss would let
    /// a secret through unredacted.
    #[test]
    fn the_set_matches_whatever_a_rule_matches(text in fragments()) {
        if any_rule_matches(&text) {
            prop_assert!(RULES.any.is_match(&text), "input: {:?}", text);
        }
    }

    /// The same with any characters between the fragments, non-ASCII ones too, next to
    /// which a Unicode `\b` and an ASCII one disagree.
    #[test]
    fn the_set_matches_whatever_a_rule_matches_next_to_any_character(
        head in fragments(),
        between in "\\PC{0,4}",
        tail in fragments(),
    ) {
        let text = format!("{head}{between}{tail}");
        if any_rule_matches(&text) {
            prop_assert!(RULES.any.is_match(&text), "input: {:?}", text);
        }
    }
}
