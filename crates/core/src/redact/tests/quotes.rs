//! Quoted values: escaped quotes, a missing closing quote, a `Debug` wrapper.

use proptest::prelude::*;

use super::{VALUE_CHARS, check_all, filler, redact, secret};

proptest! {
    /// A quoted value runs to its closing quote, and without one to the end of the text: the
    /// part after a space used to survive when the closing quote was missing (a cut-off line).
    #[test]
    fn quoted_values_never_survive_in_part(
        before in filler(),
        after in filler(),
        key in "(password|secret|token|api_key|sasl\\.password)",
        separator in "(=|: |:)",
        quote in "(\"|'|\\\\\")",
        head in secret(VALUE_CHARS),
        tail in secret(VALUE_CHARS),
        closed in proptest::bool::ANY,
    ) {
        let close = if closed { quote.as_str() } else { "" };
        let text = format!("{before}{key}{separator}{quote}{head} {tail}{close} {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&head), "{head} survived in {out}");
        prop_assert!(!out.contains(&tail), "{tail} survived in {out}");
    }
}

/// A quoted value whose closing quote is missing (the line was cut off) runs to the end of
/// the text: the rule used to fall back to `\S+` and leave everything after the first space.
#[test]
fn quoted_values_without_a_closing_quote_are_redacted_to_the_end() {
    let cases = [
        (r#"password="abc def"#, "password=[REDACTED]"),
        ("password='abc def ghi", "password=[REDACTED]"),
        (r#"{\"password\":\"abc def"#, r#"{\"password\":[REDACTED]"#),
        ("password=\"abc def\ncaused by: x", "password=[REDACTED]"),
        // A closed quote still ends the value.
        (r#"password="abc def" next"#, "password=[REDACTED] next"),
    ];
    check_all(&cases);
}

/// Rust's `Debug` wraps values: `Some("a b")`, and `{:#?}` puts the value on its own line,
/// so the bare-value fallback took `Some(` alone and left the secret.
#[test]
fn quoted_values_inside_a_debug_wrapper_are_redacted() {
    let cases = [
        (
            r#"RedisConnectionInfo { db: 0, password: Some("hunter2 tail") }"#,
            "RedisConnectionInfo { db: 0, password: [REDACTED]) }",
        ),
        (
            "Config {\n    password: Some(\n        \"hunter2\",\n    ),\n}",
            "Config {\n    password: [REDACTED],\n    ),\n}",
        ),
    ];
    check_all(&cases);
}

/// JSON quoted inside a string (a body in an error's `{:?}`, a JSON log line whose message
/// holds JSON) escapes every quote: `\"password\":\"hunter2\"`. The key-value and
/// `Authorization` rules used to allow only a bare quote between the key and the `:`, so
/// neither matched and the whole secret survived.
#[test]
fn secrets_in_escaped_json_do_not_survive() {
    let cases = [
        r#"body: "{\"password\":\"hunter2\"}""#,
        r#"{"msg":"sent {\"Authorization\":\"Basic dXNlcjpwYXNz\"}"}"#,
        r#"{"msg":"login {\"user\":\"bob\",\"api_key\":\"AbC123xyz\"}"}"#,
    ];
    let leaks: Vec<String> = cases
        .into_iter()
        .zip(["hunter2", "dXNlcjpwYXNz", "AbC123xyz"])
        .map(|(input, secret)| (redact(input), secret))
        .filter(|(out, secret)| out.contains(secret))
        .map(|(out, secret)| format!("{secret:?} survives in {out}"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// A JSON string value may hold an escaped quote (`\"`); the rule's `"[^"]*"` used to stop
/// at it and leave the rest of the password in the text.
#[test]
fn json_passwords_with_an_escaped_quote_do_not_survive_in_part() {
    let input = r#"{"password":"Xk9\"tail-of-secret","user":"bob"}"#;
    let out = redact(input);
    assert!(
        !out.contains("tail-of-secret"),
        "part of the secret survives: {out}"
    );
}

/// Ruby, Perl and PHP write a hash as `key => value` (a Rails `Parameters:` line, a Faraday
/// header dump). The separator allowed only `:` or `=`, so the value was taken to be the
/// lone `>` and the secret after it survived, whole or in part.
#[test]
fn values_after_a_hash_rocket_are_redacted() {
    check_all(&[
        ("password => hunter2", "password => [REDACTED]"),
        (
            r#"{"user"=>{"password"=>"a b"}, "x"=>1}"#,
            r#"{"user"=>{"password"=>[REDACTED]}, "x"=>1}"#,
        ),
        (
            ":password => 'a b', :user => 'u'",
            ":password => [REDACTED], :user => 'u'",
        ),
        (
            r#"{"Authorization"=>"Basic dXNlcjpwYXNz"}"#,
            r#"{"Authorization: [REDACTED]"}"#,
        ),
        (
            "authorization => Basic dXNlcjpwYXNz",
            "authorization: [REDACTED]",
        ),
        // Near-misses: a rocket after a key that names no secret.
        (r#"{"user"=>"bob", "x"=>1}"#, r#"{"user"=>"bob", "x"=>1}"#),
        ("match kind => handler", "match kind => handler"),
    ]);
}

/// JSON encoders that escape `/` (PHP's by default, some Java ones) write a URL as
/// `https:\/\/user:pw@host`: the userinfo rules wanted a literal `://` and let it through.
#[test]
fn userinfo_in_json_with_escaped_slashes_is_redacted() {
    check_all(&[
        (
            r#"{"url":"https:\/\/user:hunter2@host\/x"}"#,
            r#"{"url":"https:\/\/[REDACTED]@host\/x"}"#,
        ),
        (
            r#"{"url":"redis:\/\/tok3n@cache:6379"}"#,
            r#"{"url":"redis:\/\/[REDACTED]@cache:6379"}"#,
        ),
        (
            r#"{"url":"https:\/\/host\/a@b"}"#,
            r#"{"url":"https:\/\/host\/a@b"}"#,
        ),
    ]);
}

/// A URL without userinfo in JSON, followed by a field with an `@` (an email address): a
/// URL's userinfo cannot hold a `"` (RFC 3986 wants it percent-encoded), so the rules stop
/// at the string's end instead of reading the next field as a password and mangling both.
#[test]
fn a_url_without_userinfo_in_json_is_left_alone() {
    check_all(&[
        (
            r#"{"url":"https:\/\/example.com","email":"bob@example.com"}"#,
            r#"{"url":"https:\/\/example.com","email":"bob@example.com"}"#,
        ),
        (
            r#"{"url":"https://example.com","email":"bob@example.com"}"#,
            r#"{"url":"https://example.com","email":"bob@example.com"}"#,
        ),
        (
            r#"{"url":"https://example.com/","owner":"team@eu"}"#,
            r#"{"url":"https://example.com/","owner":"team@eu"}"#,
        ),
        // The secret is still found inside its own string.
        (
            r#"{"url":"https://user:hunter2@host","email":"bob@example.com"}"#,
            r#"{"url":"https://[REDACTED]@host","email":"bob@example.com"}"#,
        ),
    ]);
}
