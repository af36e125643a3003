//! HTTP cookies: every value of a `Cookie` header and the value of a `Set-Cookie` header
//! (a session cookie is as good as a password until it expires).

use proptest::prelude::*;

use super::{check_all, filler, redact, secret};

/// A cookie value is a credential whatever its name (`sid`, `JSESSIONID`), so the key rule,
/// which goes by the name, let all but the `token`-named ones through. The names and the
/// `Set-Cookie` attributes stay readable.
#[test]
fn cookie_values_are_redacted() {
    check_all(&[
        (
            "Cookie: sid=abc123; theme=dark",
            "Cookie: sid=[REDACTED]; theme=[REDACTED]",
        ),
        (
            "GET /a\ncookie: JSESSIONID=1A2B3C4D\nhost: x",
            "GET /a\ncookie: JSESSIONID=[REDACTED]\nhost: x",
        ),
        (
            "Cookie: sid=YWJjZA==;x=1",
            "Cookie: sid=[REDACTED];x=[REDACTED]",
        ),
        (
            r#"Cookie: sid="abc 123"; x=1"#,
            "Cookie: sid=[REDACTED]; x=[REDACTED]",
        ),
        (
            "Set-Cookie: sid=abc123; Path=/; HttpOnly; Secure",
            "Set-Cookie: sid=[REDACTED]; Path=/; HttpOnly; Secure",
        ),
        (
            "set-cookie: id=a3fWa; Expires=Thu, 21 Oct 2021 07:28:00 GMT; Max-Age=2592000",
            "set-cookie: id=[REDACTED]; Expires=Thu, 21 Oct 2021 07:28:00 GMT; Max-Age=2592000",
        ),
        // A header map's `Debug`, and JSON quoted inside a string.
        (
            r#"{"cookie": "sid=abc123; theme=dark", "accept": "*/*"}"#,
            r#"{"cookie": "sid=[REDACTED]; theme=[REDACTED]", "accept": "*/*"}"#,
        ),
        (
            r#"{"set-cookie": "sid=abc123; Path=/"}"#,
            r#"{"set-cookie": "sid=[REDACTED]; Path=/"}"#,
        ),
        (
            r#"{\"Cookie\":\"sid=abc123\"}"#,
            r#"{\"Cookie\":\"sid=[REDACTED]\"}"#,
        ),
        // An empty value (a cookie being deleted) is written over too.
        (
            "Set-Cookie: sid=; Max-Age=0",
            "Set-Cookie: sid=[REDACTED]; Max-Age=0",
        ),
        ("Cookie: a=; b=2", "Cookie: a=[REDACTED]; b=[REDACTED]"),
        // A secret-named cookie: the key rule must not take the `;` and the attributes.
        (
            "Set-Cookie: session_token=abc123; Path=/",
            "Set-Cookie: session_token=[REDACTED]; Path=/",
        ),
    ]);
}

proptest! {
    #[test]
    fn cookie_values_never_survive(
        before in filler(),
        after in filler(),
        header in "(Cookie|cookie|COOKIE|Set-Cookie|set-cookie)",
        names in proptest::collection::vec("[A-Za-z_][A-Za-z0-9_.-]{0,8}", 1..4),
        values in proptest::collection::vec(secret("[A-Za-z0-9!#$%&'()*+./:<=>?@^_`|~-]"), 4),
        separator in "(; |;)",
    ) {
        let set_cookie = header.to_ascii_lowercase().starts_with("set-");
        // A `Set-Cookie` header carries one cookie; what follows it are attributes.
        let count = if set_cookie { 1 } else { names.len() };
        let pairs: Vec<String> = names
            .iter()
            .zip(&values)
            .take(count)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let attributes = if set_cookie { "; Path=/; HttpOnly" } else { "" };
        let text = format!("{before}{header}: {}{attributes}\n{after}", pairs.join(&separator));
        let out = redact(&text);
        for value in values.iter().take(count) {
            prop_assert!(!out.contains(value.as_str()), "{value} survived in {out}");
        }
        if set_cookie {
            prop_assert!(out.contains("; Path=/; HttpOnly"), "attributes lost in {out}");
        }
    }
}
