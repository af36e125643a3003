//! Credentials that follow a scheme word rather than a key: HTTP Digest, AWS Signature
//! Version 4, the Redis `AUTH` command and password directives, and PEM private keys.

use proptest::prelude::*;

use super::{VALUE_CHARS, check_all, filler, redact, secret};

/// A Digest `response` is a hash of the password that can be attacked offline; the header
/// also names the user. Outside an `Authorization:` header (a `WWW-Authenticate` challenge,
/// a log fragment) nothing matched, and inside one the rule took `Digest username=` as the
/// whole value and left the rest.
#[test]
fn digest_credentials_are_redacted() {
    check_all(&[
        (
            r#"Digest username="bob", realm="api", nonce="dcd98b", uri="/a", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc""#,
            "Digest [REDACTED]",
        ),
        (
            r#"401 for Digest username="bob", response="6629fae49393a05397450978507c4ef1" (retrying)"#,
            "401 for Digest [REDACTED] (retrying)",
        ),
        (
            r#"Authorization: Digest username="bob", realm="api", response="6629fae49393a05397450978507c4ef1""#,
            "Authorization: [REDACTED]",
        ),
        (
            r#"Proxy-Authorization: digest username="bob",response="6629fae49393a05397450978507c4ef1""#,
            "Proxy-Authorization: [REDACTED]",
        ),
        // A header map in a JSON log line escapes the quotes of the parameters.
        (
            r#"{"Authorization":"Digest username=\"bob\", response=\"6629fae49393a05397450978507c4ef1\""}"#,
            r#"{"Authorization: [REDACTED]"}"#,
        ),
        // A cut-off line: the open quote runs to the end.
        (
            r#"Digest username="bob", response="6629fae4939"#,
            "Digest [REDACTED]",
        ),
        // A challenge holds no secret, but it is shaped the same: redacting it is the safe
        // side of the trade.
        (
            r#"WWW-Authenticate: Digest realm="api", nonce="dcd98b", qop="auth""#,
            "WWW-Authenticate: Digest [REDACTED]",
        ),
    ]);
}

/// SigV4 puts a signature (valid until the request expires) in the `Authorization` value or
/// in a presigned URL's query.
#[test]
fn aws_sigv4_credentials_are_redacted() {
    check_all(&[
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
            "Authorization: [REDACTED]",
        ),
        (
            "signed AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024 (403)",
            "signed AWS4-HMAC-SHA256 [REDACTED] (403)",
        ),
        // The presigned forms that the key rule covered already (`credential`, `token`).
        (
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 failed",
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED] failed",
        ),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F&X-Amz-Signature=aeee",
            "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=[REDACTED]",
        ),
        (
            "x-amz-security-token: FwoGZXIvYXdzEJr",
            "x-amz-security-token: [REDACTED]",
        ),
    ]);
}

/// `AUTH [username] password` in Redis command text (a client's trace, `MONITOR` output).
/// Only the upper-case command word counts, so that `auth failed` stays, and an argument
/// in angle brackets is a placeholder in Redis's own error text, not a password.
#[test]
fn redis_auth_commands_are_redacted() {
    check_all(&[
        ("command AUTH hunter2", "command AUTH [REDACTED]"),
        ("AUTH default hunter2", "AUTH [REDACTED]"),
        (
            "HELLO 3 AUTH default hunter2 SETNAME app",
            "HELLO 3 AUTH [REDACTED] SETNAME app",
        ),
        (
            r#"1339518083.107412 [0 127.0.0.1:60866] "AUTH" "hunter2 x""#,
            r#"1339518083.107412 [0 127.0.0.1:60866] "AUTH" [REDACTED]"#,
        ),
    ]);
}

/// The `AUTH` command in other cases and other quoting, and the `requirepass` and
/// `masterauth` directives, which only the upper-case unquoted `AUTH` rule and no key rule
/// covered. Unquoted lower-case `auth` is prose as often as a command (`auth failed`), so it
/// counts only before a password-shaped argument: one with a letter and a digit, or a
/// symbol; `tests::leaves_plain_text_alone` holds the near-misses.
#[test]
fn redis_auth_in_any_case_and_config_passwords_are_redacted() {
    check_all(&[
        ("auth hunter2", "auth [REDACTED]"),
        ("auth default s3cret", "auth [REDACTED]"),
        ("Auth default p@ss", "Auth [REDACTED]"),
        (
            "127.0.0.1:6379> auth hunter2\nOK",
            "127.0.0.1:6379> auth [REDACTED]\nOK",
        ),
        (
            "hello 3 auth default hunter2 setname app",
            "hello 3 auth [REDACTED] setname app",
        ),
        // `MONITOR` quotes every argument, whatever they look like; a `Debug` argument
        // list separates them with commas; Redis echoes an unknown command's arguments.
        (
            r#"1339518083.107412 [0 127.0.0.1:60866] "auth" "hunter""#,
            r#"1339518083.107412 [0 127.0.0.1:60866] "auth" [REDACTED]"#,
        ),
        (
            r#"cmd ["AUTH", "default", "hunter2"] failed"#,
            r#"cmd ["AUTH", [REDACTED]] failed"#,
        ),
        (
            "ERR unknown command 'auth', with args beginning with: 'default' 'hunter' ",
            "ERR unknown command 'auth', with args beginning with: [REDACTED] ",
        ),
        // `redis-cli`'s password options, wherever they are on its command line.
        (
            "redis-cli -h cache -a hunter2 ping",
            "redis-cli -h cache -a [REDACTED] ping",
        ),
        (
            "$ redis-cli --user app --pass 's3cret x' -p 6380 info",
            "$ redis-cli --user app --pass [REDACTED] -p 6380 info",
        ),
        // The directives, in a config line, a command line, a command and an error.
        ("requirepass foobared", "requirepass [REDACTED]"),
        (
            "redis-server --requirepass hunter2 --port 6380",
            "redis-server --requirepass [REDACTED] --port 6380",
        ),
        (
            r#"CONFIG SET masterauth "hunter 2""#,
            "CONFIG SET masterauth [REDACTED]",
        ),
        (
            r#"["config", "set", "requirepass", "hunter"]"#,
            r#"["config", "set", "requirepass", [REDACTED]]"#,
        ),
        (
            "Reading the configuration file, at line 3\n>>> 'masterauth hunter2 x'\nwrong number of arguments",
            "Reading the configuration file, at line 3\n>>> 'masterauth [REDACTED] x'\nwrong number of arguments",
        ),
        ("MASTERAUTH=hunter2", "MASTERAUTH=[REDACTED]"),
        // Single quotes (`redis-cli` takes them), and a key before the argument: half of
        // its quoted value survived.
        ("AUTH default 'hunter 2' x", "AUTH [REDACTED] x"),
        ("auth 'hunter 2", "auth [REDACTED]"),
        ("auth password: 'a1 b2", "auth password: [REDACTED]"),
        ("AUTH password: Some(\"a b\")", "AUTH [REDACTED]"),
        (
            r#"{"requirepass":"hunter2","port":6379}"#,
            r#"{"requirepass":[REDACTED],"port":6379}"#,
        ),
    ]);
}

/// A PEM private key is many lines: a key rule stopped at the first white space and left
/// the body.
#[test]
fn pem_private_keys_are_redacted() {
    check_all(&[
        (
            "loaded -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nu1SU1LfVLPHCozMx\n-----END RSA PRIVATE KEY----- ok",
            "loaded [REDACTED] ok",
        ),
        (
            "private_key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----",
            "private_key: [REDACTED]",
        ),
        (
            "bad key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQ",
            "bad key: [REDACTED]",
        ),
        // A certificate is public.
        (
            "-----BEGIN CERTIFICATE-----\nMIIC",
            "-----BEGIN CERTIFICATE-----\nMIIC",
        ),
    ]);
}

/// Digest parameters other than `response`, in any order; names that are not secrets.
fn digest_params() -> impl Strategy<Value = Vec<&'static str>> {
    Just(vec![
        r#"username="bob""#,
        r#"realm="api""#,
        r#"nonce="dcd98b7102dd""#,
        r#"uri="/a/b?c=d""#,
        "qop=auth",
        "nc=00000001",
        r#"cnonce="0a4f113b""#,
        "algorithm=MD5",
    ])
    .prop_shuffle()
}

/// Presigned URL parameters other than the signature.
fn presign_params() -> impl Strategy<Value = Vec<&'static str>> {
    Just(vec![
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Date=20130524T000000Z",
        "X-Amz-Expires=86400",
        "X-Amz-SignedHeaders=host",
    ])
    .prop_shuffle()
}

proptest! {
    #[test]
    fn digest_responses_never_survive(
        before in filler(),
        after in filler(),
        prefix in "(Authorization: |Proxy-Authorization: |authorization=|WWW-Authenticate: |)",
        scheme in "(Digest|digest|DIGEST)",
        params in digest_params(),
        at in 0usize..=8,
        response in "[0-9a-f]{32}([0-9a-f]{32})?",
        quote in "(\"|)",
        separator in "(, |,)",
    ) {
        let response_param = format!("response={quote}{response}{quote}");
        let mut params = params;
        params.insert(at.min(params.len()), &response_param);
        let text = format!("{before}{prefix}{scheme} {} {after}", params.join(&separator));
        let out = redact(&text);
        prop_assert!(!out.contains(&response), "{response} survived in {out}");
    }

    #[test]
    fn aws_signatures_never_survive(
        before in filler(),
        after in filler(),
        prefix in "(Authorization: |authorization=|)",
        presigned in proptest::bool::ANY,
        params in presign_params(),
        at in 0usize..=4,
        signature in "[0-9a-f]{64}",
    ) {
        let text = if presigned {
            let signature_param = format!("X-Amz-Signature={signature}");
            let mut params = params;
            params.insert(at.min(params.len()), &signature_param);
            format!("{before}https://b.s3.amazonaws.com/k?{} {after}", params.join("&"))
        } else {
            format!(
                "{before}{prefix}AWS4-HMAC-SHA256 \
                 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature={signature} {after}"
            )
        };
        let out = redact(&text);
        prop_assert!(!out.contains(&signature), "{signature} survived in {out}");
    }
}

proptest! {
    /// A value after a Redis command word, quoted or after a key: the Redis rule took a key
    /// for a user name and a quoted value's first word for the password, and left the rest.
    #[test]
    fn values_after_a_redis_command_never_survive_in_part(
        command in "((AUTH|auth|Auth|HELLO 3 AUTH|hello 3 auth)( default)?|requirepass|masterauth)",
        key in "(|password: |token=|\"secret\": )",
        quote in "(\"|'|\\\\\")",
        head in secret(VALUE_CHARS),
        tail in secret(VALUE_CHARS),
        closed in proptest::bool::ANY,
    ) {
        let close = if closed { quote.as_str() } else { "" };
        let text = format!("{command} {key}{quote}{head} {tail}{close} next");
        let out = redact(&text);
        prop_assert!(!out.contains(&head), "{head} survived in {out}");
        prop_assert!(!out.contains(&tail), "{tail} survived in {out}");
    }
}
