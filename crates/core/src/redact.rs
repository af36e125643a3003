//! Credential redaction for any text that is about to be stored, logged or used as a label.
//!
//! [`redact`] lists what it covers. The rules (in `rules`) are regular expressions applied
//! in order, each keeping the non-secret context (a key, a scheme word, a cookie or element
//! name) and writing [`REDACTED`] over the secret. Nearly all the text that goes through
//! here holds no secret (a topic name, an error's message), so one scan for all the rules
//! at once comes first, and such text pays for that scan alone, however many rules there
//! are.

mod rules;

use std::borrow::Cow;

use rules::{RERUN_RULES, RULES, Replacement, Rule, Rules};

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

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
/// - cookies: every value of a `Cookie` header and the value of a `Set-Cookie` header,
///   keeping the cookie names and the `Set-Cookie` attributes (`Path=/; HttpOnly`);
/// - credentials after a scheme word anywhere: `Bearer` tokens, `Digest` and
///   `AWS4-HMAC-SHA256` parameter lists (a `WWW-Authenticate` challenge too), and PEM
///   private keys;
/// - Redis passwords: `AUTH [user] password` (in any case when the word or the arguments
///   are quoted, as in `MONITOR` output or a `Debug` argument list; unquoted in lower or
///   mixed case only before a password-shaped argument, one with a letter and a digit or
///   a symbol, so that `auth failed` stays), the `requirepass` and `masterauth`
///   directives, in a configuration line, a command line or `CONFIG SET`, and
///   `redis-cli`'s `-a` and `--pass` options;
/// - `key=value`, `key: value` and `"key": "value"` where the key contains `password`,
///   `passphrase`, `secret`, `token`, `signature`, `api_key`, `access_key`, `account_key`,
///   `private_key`, `credential`, `connection_string`, `requirepass`, `masterauth` and the
///   like (so `sasl.password=...`, `AWS_SECRET_ACCESS_KEY=...` and `X-Amz-Signature=...`
///   too), or is Azure's `sig`. A quoted value runs to its closing quote, or to the end of
///   the text when that is missing; a bare one to the next white space;
/// - the text of XML elements named the same way: `<Password>`, `<SecretAccessKey>`,
///   `<SignatureProvided>`, `<token>`, with a namespace prefix, attributes or CDATA;
/// - AWS access key ids, and GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
///   `github_pat_`), Slack (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`), Stripe
///   (`sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`), GitLab (`glpat-`) and npm (`npm_`)
///   tokens, by their prefix and a body of at least 16 characters;
/// - JSON Web Tokens: `eyJ...` `.eyJ...` `.signature`, the signature possibly empty.
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
    let Rules { any, rules } = &*RULES;
    // Text that no rule matches, nearly all of it, is left after one scan: running the
    // rules one after the other would leave it too, each after a scan of its own.
    if !any.is_match(text) {
        return Cow::Borrowed(text);
    }
    let (first, others) = rules.split_at(RERUN_RULES);
    let (out, replaced_first) = apply(Cow::Borrowed(text), first);
    let (out, replaced) = apply(out, others);
    // A later rule can make userinfo or an element out of text that was not: in
    // `redis://password="a b"@host` the space stops the URL rules until the key rule has
    // written `[REDACTED]` over the quoted value, and a bare value that the key rule takes
    // can be the start of an element's tag. These rules run once more then, so that
    // redacting twice changes nothing; text in which nothing was replaced skips this.
    if replaced || replaced_first {
        apply(out, first).0
    } else {
        out
    }
}

/// Applies `rules` in order, and says whether any of them replaced something.
fn apply<'a>(mut text: Cow<'a, str>, rules: &[Rule]) -> (Cow<'a, str>, bool) {
    let mut replaced = false;
    for Rule { regex, replacement } in rules {
        let out = match replacement {
            Replacement::Template(template) => regex.replace_all(&text, template.as_str()),
            Replacement::With(function) => regex.replace_all(&text, *function),
        };
        if let Cow::Owned(out) = out {
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
