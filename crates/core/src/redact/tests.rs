//! Table tests and property tests for [`redact`](super::redact).

use proptest::prelude::*;

use super::redact;

mod cookies;
mod idempotence;
mod precheck;
mod quotes;
mod schemes;
mod vendors;
mod xml;

#[track_caller]
fn check(input: &str, expected: &str) {
    assert_eq!(redact(input), expected, "input: {input}");
}

/// Checks every case and reports all the mismatches at once, not only the first.
#[track_caller]
fn check_all(cases: &[(&str, &str)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(input, expected)| redact(input) != *expected)
        .map(|(input, expected)| {
            format!(
                "input:    {input:?}\nexpected: {expected:?}\ngot:      {:?}",
                redact(input)
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
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
        // Named forms that the key rule covers already: kept here so that they stay covered.
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED]",
        ),
        (
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls",
            "AWS_SECRET_ACCESS_KEY=[REDACTED] aws s3 ls",
        ),
        (
            "AWS_SESSION_TOKEN=FwoGZXIvYXdz",
            "AWS_SESSION_TOKEN=[REDACTED]",
        ),
        ("refresh_token=xyz rest", "refresh_token=[REDACTED] rest"),
        ("x-api-key: xyz rest", "x-api-key: [REDACTED] rest"),
        ("PGPASSWORD=hunter2 psql", "PGPASSWORD=[REDACTED] psql"),
        ("MYSQL_PWD=hunter2 mysql", "MYSQL_PWD=[REDACTED] mysql"),
        ("sasl.password=hunter2", "sasl.password=[REDACTED]"),
        (
            "redis://:password@host:6379",
            "redis://[REDACTED]@host:6379",
        ),
        (
            "jdbc:postgresql://db/x?user=u&password=p",
            "jdbc:postgresql://db/x?user=u&password=[REDACTED]",
        ),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn leaves_plain_text_alone() {
    let cases = [
        "connection refused",
        "redis-cli -h cache -p 6380 ping",
        "http://example.com/a@b is not userinfo",
        "topic orders.created has no handler",
        "unauthorized: check the broker ACLs",
        "the response was slow",
        "response=200 after 3 retries",
        "signature verified",
        "Signature mismatch: check the clock",
        "Digest mismatch",
        "HTTP Digest authentication failed",
        "auth failed",
        "AUTH_FAILED",
        "NOAUTH Authentication required.",
        "ERR AUTH <password> called without any password configured for the default user",
        "design=blue, assignee=bob",
        // Near-misses of the cookie, XML, Redis and vendor token rules.
        "cookie consent banner shown",
        "Set-Cookie header missing",
        "cookie: none",
        "<password/> <Password /> <token></token>",
        "expected <token> here",
        "<Signature>\n  <SignedInfo/>\n</Signature>",
        "<p>token expired</p>",
        "auth failed: WRONGPASS invalid username-password pair",
        "auth failed after 3 retries",
        "auth error 401",
        "Basic auth Enabled",
        "ERR wrong number of arguments for 'auth' command",
        "the 'auth' step failed",
        "oauth token refreshed",
        "config get requirepass",
        "requirepass <password>",
        "masteruser replica",
        "npm_config_user_agent=npm/10.2.4 node/v20.11.0",
        "npm_package_dependencies_lodash",
        "sk_live_mode",
        "ghp_example gho_ github_pat_ glpat-short xoxb-123",
        "rk_live_key_rotation_is_due",
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
        key in "(password|db_password|PASSWORD|secret|client_secret|token|access_token|api_key|apikey|api-key|private_key|credentials|sasl\\.password|ssl_key_passphrase|AccountKey|sig|X-Amz-Signature|Signature|X-Amz-Credential|X-Amz-Security-Token)",
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
}

/// Key names that the key rule did not know: Azure's `sig` and `AccountKey`, key
/// passphrases, and AWS signatures.
#[test]
fn more_secret_key_names_are_redacted() {
    let cases = [
        (
            "GET https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01&sig=Zm9vYmFy%3D&spr=https failed",
            "GET https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01&sig=[REDACTED] failed",
        ),
        (
            "SharedAccessSignature sr=acct&sig=Zm9vYmFy&se=1700000000",
            "SharedAccessSignature sr=acct&sig=[REDACTED]",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED]",
        ),
        (
            "ssl_key_passphrase=hunter2 next",
            "ssl_key_passphrase=[REDACTED] next",
        ),
        (
            "GET /k?X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404&X-Amz-Date=20130524T000000Z failed",
            "GET /k?X-Amz-Signature=[REDACTED] failed",
        ),
        (
            "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
            "Signature=[REDACTED]",
        ),
    ];
    check_all(&cases);
}
