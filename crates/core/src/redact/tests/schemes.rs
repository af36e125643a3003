//! Credentials that follow a scheme word rather than a key: HTTP Digest, AWS Signature
//! Version 4, the Redis `AUTH` command and PEM private keys.

use proptest::prelude::*;

use super::{check_all, filler, redact};

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
