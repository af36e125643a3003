//! The naive reference that the index is tested against (one regex per pattern, tried in
//! a loop), and the strategies that generate patterns and topics for the property tests.

use std::cmp::Reverse;

use proptest::{collection::vec, prelude::*, sample::select};
use regex::Regex;
use switchyard_routing::pattern::Pattern;

/// The naive matcher: one regex per pattern, tried in registration order, sorted by
/// priority afterwards. Globs are translated to regexes here, independently of the crate.
pub(super) struct Reference {
    /// `(pattern text, its regex, priority, value)` in registration order.
    pub(super) entries: Vec<(String, Regex, u32, usize)>,
}

impl Reference {
    pub(super) fn new(entries: &[(String, u32)]) -> Self {
        Self {
            entries: entries
                .iter()
                .enumerate()
                .map(|(value, (pattern, priority))| {
                    (pattern.clone(), Self::regex_for(pattern), *priority, value)
                })
                .collect(),
        }
    }

    /// A regex for `pattern`. A glob's regex runs on the topic with a `.` in front (see
    /// [`Self::haystack`]), so that every segment, the first included, is `\.` followed
    /// by its text, and `**` is simply "any number of those".
    pub(super) fn regex_for(pattern: &str) -> Regex {
        if let Some(regex) = pattern.strip_prefix("re:") {
            return Regex::new(regex).unwrap();
        }
        let mut out = String::from("^");
        for segment in pattern.split('.') {
            if segment == "**" {
                out.push_str(r"(?:\.[^.]*)*");
                continue;
            }
            out.push_str(r"\.");
            let chars: Vec<char> = segment.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    '*' => out.push_str("[^.]*"),
                    '?' => out.push_str("[^.]"),
                    '[' => {
                        i += 1;
                        let negated = matches!(chars[i], '!' | '^');
                        if negated {
                            i += 1;
                        }
                        out.push_str(if negated { "[^" } else { "[" });
                        while chars[i] != ']' {
                            let c = chars[i] as u32;
                            if chars.get(i + 1) == Some(&'-')
                                && chars.get(i + 2).is_some_and(|&d| d != ']')
                            {
                                out.push_str(&format!(
                                    r"\x{{{c:x}}}-\x{{{:x}}}",
                                    chars[i + 2] as u32
                                ));
                                i += 3;
                            } else {
                                out.push_str(&format!(r"\x{{{c:x}}}"));
                                i += 1;
                            }
                        }
                        // A wildcard never matches the separator.
                        if negated {
                            out.push_str(r"\x{2e}");
                        }
                        out.push(']');
                    }
                    c => out.push_str(&regex::escape(&c.to_string())),
                }
                i += 1;
            }
        }
        out.push('$');
        Regex::new(&out).unwrap()
    }

    pub(super) fn haystack(pattern: &str, topic: &str) -> String {
        if pattern.starts_with("re:") {
            topic.to_owned()
        } else {
            format!(".{topic}")
        }
    }

    /// The values of every matching entry, best first.
    pub(super) fn find_all(&self, topic: &str) -> Vec<usize> {
        let mut found: Vec<(u32, usize)> = self
            .entries
            .iter()
            .filter(|(pattern, regex, _, _)| regex.is_match(&Self::haystack(pattern, topic)))
            .map(|(_, _, priority, value)| (*priority, *value))
            .collect();
        // Stable: equal priorities stay in registration order.
        found.sort_by_key(|&(priority, _)| Reverse(priority));
        found.into_iter().map(|(_, value)| value).collect()
    }
}

fn glob_segment() -> impl Strategy<Value = String> {
    let token = select(vec![
        "a", "b", "ab", "?", "*", "[ab]", "[!a]", "[a-b]", "[^b]", "[b-]",
    ]);
    let wild = vec(token, 1..4)
        .prop_map(|tokens| tokens.concat())
        .prop_filter("`**` inside a segment is an error", |s| !s.contains("**"));
    prop_oneof![
        3 => select(vec!["a", "b", "ab", "ba", "a-b"]).prop_map(String::from),
        2 => Just("*".to_owned()),
        2 => Just("**".to_owned()),
        3 => wild,
    ]
}

fn regex_pattern() -> impl Strategy<Value = String> {
    let atom = select(vec![
        "a", "b", r"\.", ".", "(a|b)", "[ab.]", "a*", "b?", "(?:ab)+", "|", "$", "[^.]+", r"\w",
        "(?i)A",
    ]);
    (any::<bool>(), vec(atom, 1..5)).prop_filter_map(
        "the regex must compile",
        |(anchored, atoms)| {
            let text = format!("re:{}{}", if anchored { "^" } else { "" }, atoms.concat());
            Pattern::parse(&text).is_ok().then_some(text)
        },
    )
}

pub(super) fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => vec(glob_segment(), 1..5).prop_map(|segments| segments.join(".")),
        2 => vec(select(vec!["a", "b", "ab", "ba"]), 1..4).prop_map(|segments| segments.join(".")),
        2 => regex_pattern(),
    ]
}

pub(super) fn topic() -> impl Strategy<Value = String> {
    let segment = select(vec!["a", "b", "ab", "ba", "abb", "", "a-b", "é", "A"]);
    vec(segment, 1..6).prop_map(|segments| segments.join("."))
}

/// Patterns with priorities, some of them registered twice.
pub(super) fn entries() -> impl Strategy<Value = Vec<(String, u32)>> {
    (
        vec((pattern(), 0..4u32), 0..24),
        vec((any::<prop::sample::Index>(), 0..4u32), 0..4),
    )
        .prop_map(|(mut entries, duplicates)| {
            if !entries.is_empty() {
                for (index, priority) in duplicates {
                    let pattern = entries[index.index(entries.len())].0.clone();
                    entries.push((pattern, priority));
                }
            }
            entries
        })
}
