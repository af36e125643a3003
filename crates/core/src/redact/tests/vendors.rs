//! Vendor tokens and JSON Web Tokens recognised by their shape, wherever they appear.

use proptest::prelude::*;

use super::{check_all, filler, redact};

/// GitHub, Slack, Stripe, GitLab and npm tokens start with a fixed prefix, so they can be
/// found bare (a token pasted in a URL path, echoed in an error) without a key in front.
#[test]
fn vendor_tokens_are_redacted() {
    check_all(&[
        (
            "push rejected for ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "push rejected for [REDACTED]",
        ),
        (
            "gho_16C7e42F292c6912E7710c838347Ae178B4a ghu_16C7e42F292c6912E7710c838347Ae178B4a",
            "[REDACTED] [REDACTED]",
        ),
        (
            "(ghs_16C7e42F292c6912E7710c838347Ae178B4a, ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498)",
            "([REDACTED], [REDACTED])",
        ),
        (
            "token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 expired",
            "token [REDACTED] expired",
        ),
        (
            "slack xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy failed",
            "slack [REDACTED] failed",
        ),
        (
            "xoxp-123456789012-123456789012-123456789012-0123456789abcdef0123456789abcdef xoxa-2-abcdefghijklmnop xoxr-abcdefghijklmnop1234 xoxs-abcdefghijklmnop1234",
            "[REDACTED] [REDACTED] [REDACTED] [REDACTED]",
        ),
        (
            "stripe: sk_live_4eC39HqLyjWDarjtT1zdp7dc, rk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "stripe: [REDACTED], [REDACTED]",
        ),
        (
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc rk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "[REDACTED] [REDACTED]",
        ),
        (
            "GET /api/v4/projects?private=glpat-xxxxxxxxxxxxxxxxxxxx&x=1",
            "GET /api/v4/projects?private=[REDACTED]&x=1",
        ),
        (
            "//registry.npmjs.org/:_authToken npm_1234567890abcdefghijklmnopqrstuvwxyz",
            "//registry.npmjs.org/:_authToken [REDACTED]",
        ),
    ]);
}

/// A JSON Web Token is a bearer credential, and its shape is fixed: a header and a payload,
/// each base64url JSON and so starting `eyJ` (`{"`), and a signature, dot-separated. It
/// went through whole whenever no key or scheme word stood in front of it.
#[test]
fn bare_json_web_tokens_are_redacted() {
    check_all(&[
        (
            "jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rejected",
            "jwt=[REDACTED] rejected",
        ),
        (
            "GET /cb#id=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9. expired",
            "GET /cb#id=[REDACTED] expired",
        ),
        // Near-misses: text that merely starts the same way.
        ("eyJ is base64 for {\"", "eyJ is base64 for {\""),
        ("eyJhbGciOiJIUzI1NiJ9 alone", "eyJhbGciOiJIUzI1NiJ9 alone"),
    ]);
}

proptest! {
    #[test]
    fn vendor_tokens_never_survive(
        before in filler(),
        after in filler(),
        token in "(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}|xox[bpars]-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}|[sr]k_(live|test)_[A-Za-z0-9]{24,99}|glpat-[A-Za-z0-9_-]{20}|npm_[A-Za-z0-9]{36})",
        open in "(| |\\(|\"|/|=|: )",
    ) {
        let text = format!("{before}{open}{token} {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&token), "{token} survived in {out}");
    }
}
