//! Credential redaction for any text that is about to be stored, logged or used as a label.

use std::{borrow::Cow, sync::LazyLock};

use regex::Regex;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// A quoted value, with the escaped quotes of JSON quoted inside a string (`\"...\"`) or
/// plain ones, running past escaped quotes in it. A value whose closing quote is missing (a
/// cut-off line) runs to the end of the text: stopping at a space would leave the rest of a
/// secret that holds one, and `redact` sees one error level or one field at a time, so the
/// end of the text is not far.
const QUOTED: &str = r#"\\"(?:[^\\]|\\[^"])*(?:\\"|\\?$)|"(?:[^"\\]|\\[\s\S])*(?:"|\\?$)"#;

/// The `name=value, name=value` list of HTTP auth parameters (RFC 9110 §11.2) that Digest
/// and AWS Signature Version 4 credentials are made of; `{QUOTED}` is filled in. A bare
/// value does not start with `[`, so that `[REDACTED]`, written by a later rule into a list
/// this one did not match, does not make it match the second time.
const AUTH_PARAMS: &str = r#"[a-z0-9_\-]+=(?:{QUOTED}|[^\s,"\\\[][^\s,"\\]*)(?:\s*,\s*[a-z0-9_\-]+=(?:{QUOTED}|[^\s,"\\\[][^\s,"\\]*))*"#;

/// The first line of a PEM private key (`RSA`, `EC`, `ENCRYPTED`, `OPENSSH`, `PGP ... BLOCK`).
const PEM_BEGIN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----";

/// The last line of a PEM private key.
const PEM_END: &str = r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----";

/// Words in a key that name a secret: `db_password`, `X-Amz-Signature`, `AccountKey`.
const SECRET_KEY_WORDS: &str = r"password|passwd|passphrase|pwd|secret|token|signature|api[_\-]?key|apikey|access[_\-]?key|account[_\-]?key|private[_\-]?key|credentials?|connection[_\-]?string|sasl[_.\-]?jaas[_.\-]?config";

/// How many of [`RULES`] come first and redact URL userinfo.
const URL_RULES: usize = 2;

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
    let auth_params = AUTH_PARAMS.replace("{QUOTED}", QUOTED);
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
        // `Authorization: Basic abc`, `authorization=...`: the scheme word and the value,
        // which is one token or a list of parameters (Digest, AWS4-HMAC-SHA256); also
        // inside JSON quoted in a string (`\"Authorization\":\"Basic abc\"`). A value
        // redacted already is left alone: a list can end where a token would go on.
        rule(
            &format!(
                r#"(?i)\b((?:proxy-)?authorization)\\?["']?\s*[:=]\s*\\?["']?(?:[a-z][a-z0-9\-]*\s+)?(?:\[REDACTED\]|{auth_params}|[^\s"',;\\]+)"#
            ),
            &format!("${{1}}: {REDACTED}"),
        ),
        // Credentials after a scheme or command word, wherever they appear (a log fragment,
        // a `WWW-Authenticate` challenge); one pass for all of them, so one alternative each:
        // - `Bearer <token>` (RFC 6750 token characters);
        // - `Digest` and `AWS4-HMAC-SHA256` parameter lists: the whole list, as a Digest
        //   `response` is a hash of the password and a SigV4 `Signature` is valid until the
        //   request expires (a challenge holds no secret but is redacted the same way);
        // - Redis's `AUTH [user] password`, upper case only so that `auth failed` stays,
        //   and not `AUTH <password>`, a placeholder in Redis's own error text; a value
        //   redacted already is left alone so that the user name form stays idempotent;
        // - a PEM private key, up to its last line or the end of the text.
        rule(
            &format!(
                r#"(?i)(?:(bearer\s+)[a-z0-9._~+/\-]+=*|\b((?:digest|aws4-[a-z0-9\-]+)\s+){auth_params}|\b((?-i:AUTH)"?[ \t]+)(?:\[REDACTED\]|(?:{QUOTED}|[^\s<"]\S*)(?:[ \t]+(?:{QUOTED}|[^\s<"]\S*))?)|{PEM_BEGIN}[\s\S]*?(?:{PEM_END}|$))"#
            ),
            &format!("${{1}}${{2}}${{3}}{REDACTED}"),
        ),
        // `key=value`, `key: value`, `"key": "value"` where the key names a secret, also as
        // JSON quoted inside a string (`\"key\":\"value\"`), and Azure's `sig=` on its own.
        // A quoted value runs to its closing quote (see `QUOTED`), also inside a `Debug`
        // wrapper (`Some("a b")`, on its own line in `{:#?}`); a bare one to the next
        // white space: over-redacting a `&next=1` tail is the safe side of the trade. A
        // value redacted already is left as it is, so that redacting twice changes nothing.
        rule(
            &format!(
                r#"(?i)([a-z0-9_.\-]*(?:{SECRET_KEY_WORDS})[a-z0-9_.\-]*|\bsig)(\\?["']?\s*[:=]\s*)(?:\[REDACTED\]|(?:[a-z][a-z0-9_]*\(\s*)?(?:{QUOTED}|'[^']*(?:'|$))|\S+)"#
            ),
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
/// - `Authorization` and `Proxy-Authorization` values, a token (`Basic`, `Bearer`) or a
///   parameter list (`Digest`, `AWS4-HMAC-SHA256`);
/// - credentials after a scheme or command word anywhere: `Bearer` tokens, `Digest` and
///   `AWS4-HMAC-SHA256` parameter lists (a `WWW-Authenticate` challenge too), Redis's
///   `AUTH [user] password` (the upper-case command only) and PEM private keys;
/// - `key=value`, `key: value` and `"key": "value"` where the key contains `password`,
///   `passphrase`, `secret`, `token`, `signature`, `api_key`, `access_key`, `account_key`,
///   `private_key`, `credential`, `connection_string` and the like (so `sasl.password=...`,
///   `AWS_SECRET_ACCESS_KEY=...` and `X-Amz-Signature=...` too), or is Azure's `sig`. A
///   quoted value runs to its closing quote, or to the end of the text when that is
///   missing; a bare one to the next white space;
/// - AWS access key ids.
///
/// It does not guess at bare strings that merely look random (a 40-character AWS secret
/// key on its own, a hex digest): those would take too much ordinary text with them.
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
    let (urls, others) = RULES.split_at(URL_RULES);
    let (out, _) = apply(Cow::Borrowed(text), urls);
    let (out, replaced) = apply(out, others);
    // A later rule can make userinfo out of text that was not: in
    // `redis://password="a b"@host` the space stops the URL rules until the key rule has
    // written `[REDACTED]` over the quoted value. The URL rules run once more then, so that
    // redacting twice changes nothing; text in which nothing was replaced skips this.
    if replaced { apply(out, urls).0 } else { out }
}

/// Applies `rules` in order, and says whether any of them replaced something.
fn apply<'a>(mut text: Cow<'a, str>, rules: &[(Regex, String)]) -> (Cow<'a, str>, bool) {
    let mut replaced = false;
    for (regex, replacement) in rules {
        if let Cow::Owned(out) = regex.replace_all(&text, replacement.as_str()) {
            text = Cow::Owned(out);
            replaced = true;
        }
    }
    (text, replaced)
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
