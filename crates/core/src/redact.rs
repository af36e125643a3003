//! Credential redaction for any text that is about to be stored, logged or used as a label.

use std::{borrow::Cow, sync::LazyLock};

use regex::Regex;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The rules, applied in order. Each is a pattern and its replacement; the replacement keeps
/// the non-secret context (the URL scheme, the key name) so the text stays useful.
static RULES: LazyLock<Vec<(Regex, String)>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement: &str| {
        // The patterns are constants checked by the unit tests: failing here is a bug in this
        // file, not a runtime condition.
        (
            Regex::new(pattern).expect("redaction pattern is valid"),
            replacement.to_owned(),
        )
    };
    vec![
        // `scheme://user:password@host`, first with a password that may hold an unencoded
        // `/` or `@`, as generated (base64) secrets often do: `user:` and then everything
        // up to the last `@` of the word. A host and port followed by a path with an `@`
        // (`host:8080/a@b`) looks the same and is redacted too: over-redacting a rare URL
        // is the safe side of the trade.
        rule(
            r"(?i)([a-z][a-z0-9+.\-]*://)[^/\s@:]*:\S*@",
            &format!("${{1}}{REDACTED}@"),
        ),
        // Then userinfo without a `:` (a token as the user name): the whole userinfo goes,
        // greedy up to the last `@` before a `/` or white space.
        rule(
            r"(?i)([a-z][a-z0-9+.\-]*://)[^/\s]*@",
            &format!("${{1}}{REDACTED}@"),
        ),
        // `Authorization: Basic abc`, `authorization=...`: the scheme word and the value; also
        // inside JSON quoted in a string (`\"Authorization\":\"Basic abc\"`).
        rule(
            r#"(?i)\b((?:proxy-)?authorization)\\?["']?\s*[:=]\s*\\?["']?(?:[a-z]+\s+)?[^\s"',;\\]+"#,
            &format!("${{1}}: {REDACTED}"),
        ),
        // `Bearer <token>` anywhere (RFC 6750 token characters).
        rule(
            r"(?i)(bearer)\s+[a-z0-9._~+/\-]+=*",
            &format!("${{1}} {REDACTED}"),
        ),
        // `key=value`, `key: value`, `"key": "value"` where the key names a secret, also as
        // JSON quoted inside a string (`\"key\":\"value\"`). A quoted value runs to its
        // closing quote, past escaped quotes in it; a bare one to the next white space:
        // over-redacting a `&next=1` tail is the safe side of the trade. A value redacted
        // already is left as it is, so that redacting twice changes nothing.
        rule(
            r#"(?i)([a-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?|connection[_\-]?string|sasl[_.\-]?jaas[_.\-]?config)[a-z0-9_.\-]*)(\\?["']?\s*[:=]\s*)(?:\[REDACTED\]|\\"(?:[^\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|\S+)"#,
            &format!("${{1}}${{2}}{REDACTED}"),
        ),
        // AWS access key ids, which appear bare in client errors.
        rule(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", REDACTED),
    ]
});

/// Removes credentials from `text`.
///
/// Apply it to anything that came from outside before it is stored in an error, written to
/// a log or used as a metric label. It covers:
///
/// - the userinfo of URLs: `redis://user:password@host` becomes `redis://[REDACTED]@host`,
///   also when the password holds an unencoded `/` or `@` (a port followed by a path with
///   an `@` is redacted the same way);
/// - `Authorization` headers and `Bearer` tokens;
/// - `key=value`, `key: value` and `"key": "value"` where the key contains `password`,
///   `secret`, `token`, `api_key`, `private_key`, `credential`, `connection_string` and the
///   like (so `sasl.password=...` and `db_password=...` too);
/// - AWS access key ids.
///
/// It borrows `text` back unchanged when nothing matched.
///
/// ```
/// use switchyard_core::redact;
///
/// let text = "connect redis://app:hunter2@cache:6379 failed (token=abc123)";
/// assert_eq!(
///     redact(text),
///     "connect redis://[REDACTED]@cache:6379 failed (token=[REDACTED]"
/// );
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (regex, replacement) in RULES.iter() {
        if let Cow::Owned(replaced) = regex.replace_all(&out, replacement.as_str()) {
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// The text of a caught panic's payload, redacted: `panicked: <message>`.
///
/// For reporting a panic caught with `catch_unwind` (a handler's, a publisher's) in an
/// error, a log line or a health record, where its message, which may quote anything, must
/// not carry a credential.
///
/// ```
/// let payload: Box<dyn std::any::Any + Send> = Box::new("token=abc123 leaked");
/// assert_eq!(
///     switchyard_core::panic_text(&*payload),
///     "panicked: token=[REDACTED] leaked"
/// );
/// ```
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    format!("panicked: {}", redact(text))
}

#[cfg(test)]
mod tests;
