//! The literal prefix that every match of an anchored regex starts with, read by a small,
//! deliberately conservative scan of the regex text.
//!
//! The index uses the prefix to skip regexes that cannot match a topic. A prefix that is
//! not truly required would make the index miss matches, so whenever the scan is unsure it
//! answers `None`, which only costs speed: the regex then runs for every topic.

/// Characters that the regex crate treats as literal when escaped with `\`. Other escapes
/// (`\d`, `\b`, `\<`, `\x41`, ...) end the scan.
const ESCAPABLE: &str = "\\.+*?()|[]{}^$#&-~";

/// Characters that end a literal run when they appear unescaped.
const META: &str = "\\.+*?()|[]{}^$";

/// The text that the whole haystack must start with for `regex` to match it, if `regex` is
/// anchored at the start (begins with `^`), has no alternation at its top level, and starts
/// with at least one literal character after the `^`.
///
/// Regexes compile with the default flags, so `^` is the start of the haystack and literals
/// are case-sensitive: a flag group such as `(?i)` or `(?m)` can only appear after the
/// prefix (where the scan stops at its `(`) or before the `^` (then nothing is returned).
pub(crate) fn required_prefix(regex: &str) -> Option<String> {
    let body = regex.strip_prefix('^')?;
    if !top_level_is_alternation_free(regex) {
        return None;
    }
    let mut prefix = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        let literal = if c == '\\' {
            match chars.next() {
                Some(escaped) if ESCAPABLE.contains(escaped) => escaped,
                _ => break,
            }
        } else if META.contains(c) {
            break;
        } else {
            c
        };
        match chars.peek() {
            // The character may repeat zero times: it is not required.
            Some('*' | '?' | '{') => break,
            // It appears at least once, unless another operator follows (`a+*` is `(a+)*`,
            // and `a+??` an optional lazy `a+`); what follows it may not be literal.
            Some('+') => {
                chars.next();
                if !matches!(chars.peek(), Some('*' | '?' | '{' | '+')) {
                    prefix.push(literal);
                }
                break;
            }
            _ => prefix.push(literal),
        }
    }
    (!prefix.is_empty()).then_some(prefix)
}

/// Whether `regex` certainly has no `|` outside every group, so that a prefix read from its
/// start is required of every match.
///
/// The scan follows the regex crate's syntax: `\` escapes one character; inside a class
/// (`[...]`, which may nest, as in `[a[bc]]` or `[[:alpha:]]`) nothing but brackets counts,
/// and a `]` right after the opening `[`, `[^` or run of `-` is a literal; outside classes,
/// parentheses nest. Verbose mode (flag `x`) can hide any of that in `#` comments or shift
/// it with whitespace, so a regex that could enable it gets a safe "no".
fn top_level_is_alternation_free(regex: &str) -> bool {
    if !regex.contains('|') {
        return true;
    }
    if regex.contains('#') || may_enable_verbose_mode(regex) {
        return false;
    }
    let chars: Vec<char> = regex.chars().collect();
    let (mut i, mut parens, mut classes) = (0, 0usize, 0usize);
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 1,
            '[' => {
                classes += 1;
                i = skip_class_start(&chars, i + 1);
                continue;
            }
            ']' if classes > 0 => classes -= 1,
            _ if classes > 0 => {}
            '(' => parens += 1,
            ')' => parens = parens.saturating_sub(1),
            '|' if parens == 0 => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// Skips what may follow a class's `[` without being its end: `^`, then `-`s, or else a
/// `]` that is a literal. Returns the index after them.
fn skip_class_start(chars: &[char], mut i: usize) -> usize {
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    let after_negation = i;
    while chars.get(i) == Some(&'-') {
        i += 1;
    }
    if i == after_negation && chars.get(i) == Some(&']') {
        i += 1;
    }
    i
}

/// Whether a flag group (`(?x)`, `(?ix:...)`, even `(?-x)`) mentions the verbose flag.
fn may_enable_verbose_mode(regex: &str) -> bool {
    regex.match_indices("(?").any(|(at, _)| {
        regex[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .any(|c| c == 'x')
    })
}

#[cfg(test)]
mod tests;
