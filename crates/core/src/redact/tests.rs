//! Table tests and property tests for [`redact`](super::redact).

use proptest::prelude::*;

use super::redact;

#[track_caller]
fn check(input: &str, expected: &str) {
    assert_eq!(redact(input), expected, "input: {input}");
}

#[test]
fn redacts_known_shapes() {
    let cases = [
        (
            "redis://user:pass@localhost:6379/0",
            "redis://[REDACTED]@localhost:6379/0",
        ),
        ("redis://:pass@localhost", "redis://[REDACTED]@localhost"),
        ("postgres://u:p@ss@db/x", "postgres://[REDACTED]@db/x"),
        (
            "amqp://svc:c2Vj/cmV0+Zm9v==@host/",
            "amqp://[REDACTED]@host/",
        ),
        ("amqp://svc:a/b@c@host/q", "amqp://[REDACTED]@host/q"),
        (
            "redis://app:p@ss/word@cache/x",
            "redis://[REDACTED]@cache/x",
        ),
        (
            "redis://app:2024/Secret@cache/x",
            "redis://[REDACTED]@cache/x",
        ),
        // A port and a path with an `@` look like a password with a `/`: redacted too.
        ("http://example.com:8080/a@b", "http://[REDACTED]@b"),
        (
            "kafka://svc:s3cr3t@broker:9092",
            "kafka://[REDACTED]@broker:9092",
        ),
        ("password=hunter2 next", "password=[REDACTED] next"),
        ("DB_PASSWORD: hunter2", "DB_PASSWORD: [REDACTED]"),
        (
            r#"{"password":"hunter2","user":"bob"}"#,
            r#"{"password":[REDACTED],"user":"bob"}"#,
        ),
        (
            "sasl.password='x y z' rest",
            "sasl.password=[REDACTED] rest",
        ),
        ("url?token=abc&x=1", "url?token=[REDACTED]"),
        ("api_key=AbC123", "api_key=[REDACTED]"),
        ("X-Api-Key: AbC123", "X-Api-Key: [REDACTED]"),
        ("client_secret=xyz", "client_secret=[REDACTED]"),
        (
            "Authorization: Bearer eyJhbGciOi.abc.def",
            "Authorization: [REDACTED]",
        ),
        (
            "Authorization: Basic dXNlcjpwYXNz",
            "Authorization: [REDACTED]",
        ),
        (
            "sent bearer abc.def-ghi= to api",
            "sent bearer [REDACTED] to api",
        ),
        ("key AKIAIOSFODNN7EXAMPLE leaked", "key [REDACTED] leaked"),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn leaves_plain_text_alone() {
    let cases = [
        "connection refused",
        "http://example.com/a@b is not userinfo",
        "topic orders.created has no handler",
        "unauthorized: check the broker ACLs",
        "",
    ];
    for input in cases {
        check(input, input);
        assert!(matches!(redact(input), std::borrow::Cow::Borrowed(_)));
    }
}

/// A secret that cannot be confused with the surrounding text: the filler is lowercase
/// words, and every secret has an uppercase letter and a digit.
fn secret(alphabet: &'static str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z][0-9]{alphabet}{{10,30}}")).unwrap()
}

fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("([a-z]{1,8} ){0,6}").unwrap()
}

const URL_CHARS: &str = "[A-Za-z0-9._~!$&'()*+,;=%-]";
const VALUE_CHARS: &str = "[A-Za-z0-9._~!#$%&()*+,/:;<=>?@^|-]";

proptest! {
    #[test]
    fn url_userinfo_never_survives(
        before in filler(),
        after in filler(),
        scheme in "(redis|rediss|kafka|postgres|amqp|https?)",
        user in "[a-z]{0,8}",
        password in secret(URL_CHARS),
        host in "[a-z]{1,10}(\\.[a-z]{2,5})?(:[0-9]{2,5})?",
        path in "(/[a-z0-9]{0,8}){0,2}",
    ) {
        let text = format!("{before}{scheme}://{user}:{password}@{host}{path} {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&password), "{password} survived in {out}");
    }

    #[test]
    fn url_passwords_with_a_slash_never_survive(
        scheme in "(redis|amqp|https?)",
        user in "[a-z]{0,8}",
        head in secret(URL_CHARS),
        tail in "[A-Za-z0-9+/=]{1,20}",
        host in "[a-z]{1,10}(:[0-9]{2,5})?",
    ) {
        let password = format!("{head}/{tail}");
        let text = format!("connecting to {scheme}://{user}:{password}@{host}/queue failed");
        let out = redact(&text);
        prop_assert!(!out.contains(&password), "{password} survived in {out}");
        prop_assert!(!out.contains(&head), "{head} survived in {out}");
    }

    #[test]
    fn key_values_never_survive(
        before in filler(),
        after in filler(),
        key in "(password|db_password|PASSWORD|secret|client_secret|token|access_token|api_key|apikey|api-key|private_key|credentials|sasl\\.password)",
        separator in "(=|: |:|\\s*=\\s*)",
        value in secret(VALUE_CHARS),
        quote in "(\"|'|)",
    ) {
        let text = format!("{before}{key}{separator}{quote}{value}{quote} {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&value), "{value} survived in {out}");
    }

    #[test]
    fn bearer_tokens_never_survive(
        before in filler(),
        after in filler(),
        word in "(Bearer|bearer|BEARER)",
        token in secret("[A-Za-z0-9._~+/-]"),
        header in proptest::bool::ANY,
    ) {
        let prefix = if header { "Authorization: " } else { "" };
        let text = format!("{before}{prefix}{word} {token} {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&token), "{token} survived in {out}");
    }

    #[test]
    fn redaction_is_idempotent(text in ".{0,80}") {
        let once = redact(&text).into_owned();
        prop_assert_eq!(redact(&once), once.as_str());
    }
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

/// A value redacted already is left alone: redacting twice over-redacts nothing.
#[test]
fn redacting_json_twice_changes_nothing() {
    for input in [
        r#"{"password":"hunter2","user":"bob"}"#,
        r#"body: "{\"password\":\"hunter2\",\"user\":\"bob\"}""#,
    ] {
        let once = redact(input).into_owned();
        assert!(once.contains("bob"), "{once}");
        assert_eq!(redact(&once), once.as_str());
    }
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
