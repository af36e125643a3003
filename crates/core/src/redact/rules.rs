//! The redaction rules: their patterns, in the order they apply, and the set of all of them.

use std::sync::LazyLock;

use regex::{Captures, Regex, RegexSet};

use super::REDACTED;

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

/// What separates a key from its value: `:`, `=`, or the `=>` of a Ruby, Perl or PHP hash
/// (a Rails `Parameters:` line, a Faraday header dump). Without the `=>`, the `>` alone
/// was taken for the value, and the secret after it survived.
const SEPARATOR: &str = "(?:=>|[:=])";

/// The first line of a PEM private key (`RSA`, `EC`, `ENCRYPTED`, `OPENSSH`, `PGP ... BLOCK`).
const PEM_BEGIN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----";

/// The last line of a PEM private key.
const PEM_END: &str = r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----";

/// Words in a key or an XML element's name that name a secret: `db_password`,
/// `X-Amz-Signature`, `AccountKey`, `<SecretAccessKey>`, Redis's `requirepass`.
const SECRET_KEY_WORDS: &str = r"password|passwd|passphrase|pwd|secret|token|signature|api[_\-]?key|apikey|access[_\-]?key|account[_\-]?key|private[_\-]?key|credentials?|connection[_\-]?string|sasl[_.\-]?jaas[_.\-]?config|requirepass|masterauth";

/// A key or an XML element's name holding one of [`SECRET_KEY_WORDS`] (filled in).
const SECRET_NAME: &str = r"[a-z0-9_.\-]*(?:{SECRET_KEY_WORDS})[a-z0-9_.\-]*";

/// What comes between a header's name and its value: `: `, `=`, and the quotes of a JSON
/// header map, also escaped (`\"Cookie\":\"`).
const HEADER_SEPARATOR: &str = r#"\\?["']?\s*[:=]\s*\\?["']?"#;

/// A cookie's name: an RFC 9110 token, less the `'` that may quote a JSON key.
const COOKIE_NAME: &str = r"[a-z0-9!#$%&*+.^_`|~\-]+";

/// A cookie's value, quoted (see [`QUOTED`], filled in) or bare up to the `;` that ends it.
/// RFC 6265 allows no white space, `"` or `\` in one, which end it where a header ends
/// (a line, a JSON string); a `,` does not, as some servers write one into a value. A
/// quoted value runs on to the end of the word (`"a b"c`): stopping at its closing quote
/// would leave a tail that the next `redact` takes for the value.
const COOKIE_VALUE: &str = r#"(?:{QUOTED})[^;\s"\\]*|[^;\s"\\]+"#;

/// A Redis command's password argument after an unquoted lower- or mixed-case `auth`,
/// which is prose as often as a command (`auth failed`, `auth error 401`): it counts only
/// when it has a letter and a digit, or a symbol, as generated and most chosen passwords do
/// and English words and numbers do not.
const PASSWORD_SHAPED: &str = r"\S*?(?:[a-z]\S*?[0-9]|[0-9]\S*?[a-z]|[#$%&*+/=@^_~])\S*";

/// How many of the rules come first and run once more after the others, if any rule
/// replaced something: those redacting XML elements and URL userinfo, whose shape a later
/// rule can make out of text that was not (see `super::redact`). The XML rule comes first, as
/// redacting an element can take the white space out of a URL's userinfo.
pub(super) const RERUN_RULES: usize = 3;

/// What a rule writes over each of its matches.
pub(super) enum Replacement {
    /// A `regex` replacement template: `${1}` is the first group's text.
    Template(String),
    /// A function of the match, for a value that is a list (a `Cookie` header).
    With(fn(&Captures<'_>) -> String),
}

/// A pattern and what replaces its matches.
pub(super) struct Rule {
    pub(super) regex: Regex,
    pub(super) replacement: Replacement,
}

/// The rules in the order they apply, and all their patterns in one set, which tells in
/// one scan whether any of them matches.
pub(super) struct Rules {
    pub(super) any: RegexSet,
    pub(super) rules: Vec<Rule>,
}

/// The rules. Each replacement keeps the non-secret context (the URL scheme, the key, the
/// cookie or element name) so the text stays useful.
pub(super) static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let template =
        |pattern: String, replacement: String| (pattern, Replacement::Template(replacement));
    let auth_params = AUTH_PARAMS.replace("{QUOTED}", QUOTED);
    let secret_name = SECRET_NAME.replace("{SECRET_KEY_WORDS}", SECRET_KEY_WORDS);
    let cookie_value = COOKIE_VALUE.replace("{QUOTED}", QUOTED);
    let cookie_pair = format!("{COOKIE_NAME}=(?:{cookie_value})?");
    let redis_quoted_arg = format!("{QUOTED}|'[^']*(?:'|$)");
    let redis_arg = format!(r#"{redis_quoted_arg}|[^\s<"']\S*"#);
    let specs = vec![
        // The text of an XML element with a secret's name (`<Password>`, AWS's
        // `<SignatureProvided>`), with a namespace prefix or attributes, and CDATA. It has to
        // run up to a closing tag with a secret's name, so that `<password>` as a
        // placeholder in prose (`AUTH <password> called without ...`) is no element. Names
        // and the white space of tags are ASCII, which keeps the automaton small: the
        // Unicode one spent microseconds on each element.
        template(
            format!(
                r"(<(?i-u:(?:[a-z0-9_.\-]+:)?{secret_name})(?:[ \t\r\n]+[^>]*[^>/ \t\r\n])?[ \t\r\n]*>)(?:<!\[CDATA\[[\s\S]*?\]\]>|[^<])+(</(?i-u:(?:[a-z0-9_.\-]+:)?{secret_name})[ \t\r\n]*>)"
            ),
            format!("${{1}}{REDACTED}${{2}}"),
        ),
        // `scheme://user:password@host`, first with a password that may hold an unencoded
        // `/` or `@`, as generated (base64) secrets often do: `user:` and then everything
        // up to the last `@` of the word. A host and port followed by a path with an `@`
        // (`host:8080/a@b`) looks the same and is redacted too: over-redacting a rare URL
        // is the safe side of the trade. The slashes may be escaped (`https:\/\/`), as JSON
        // encoders that escape `/` (PHP's by default) write them. Userinfo holds no `"`
        // (RFC 3986 wants it percent-encoded): the match ends with a JSON string, and does
        // not take the next field's `@` (an email address) for the end of a password.
        template(
            r#"(?i)([a-z][a-z0-9+.\-]*:\\?/\\?/)[^/\s@:"]*:[^\s"]*@"#.to_owned(),
            format!("${{1}}{REDACTED}@"),
        ),
        // Then userinfo without a `:` (a token as the user name): the whole userinfo goes,
        // greedy up to the last `@` before a `/` or white space.
        template(
            r#"(?i)([a-z][a-z0-9+.\-]*:\\?/\\?/)[^/\s"]*@"#.to_owned(),
            format!("${{1}}{REDACTED}@"),
        ),
        // Cookies: a `Set-Cookie` header's one value, before its attributes (`Path=/`),
        // or every value of a `Cookie` header's list; see `redact_cookies`. Before the key
        // rule, which would take a `session_token` cookie's `;` and attributes with it, and
        // before the `Authorization` rule, which writes `authorization: [REDACTED]` over an
        // `authorization=[REDACTED]` cookie. A `Set-Cookie` matches first, further left
        // than the `Cookie` in its name.
        (
            format!(
                r"(?i)\b(?:(set-cookie{HEADER_SEPARATOR}{COOKIE_NAME}=)(?:{cookie_value})?|(cookie{HEADER_SEPARATOR})({cookie_pair}(?:\s*;\s*{cookie_pair})*))"
            ),
            Replacement::With(redact_cookies),
        ),
        // `Authorization: Basic abc`, `authorization=...`: the scheme word and the value,
        // which is one token or a list of parameters (Digest, AWS4-HMAC-SHA256); also
        // inside JSON quoted in a string (`\"Authorization\":\"Basic abc\"`). A value
        // redacted already is left alone: a list can end where a token would go on.
        template(
            format!(
                r#"(?i)\b((?:proxy-)?authorization)\\?["']?\s*{SEPARATOR}\s*\\?["']?(?:[a-z][a-z0-9\-]*\s+)?(?:\[REDACTED\]|{auth_params}|[^\s"',;\\]+)"#
            ),
            format!("${{1}}: {REDACTED}"),
        ),
        // Credentials after a scheme word, wherever they appear (a log fragment, a
        // `WWW-Authenticate` challenge); one pass for all of them, so one alternative each:
        // - `Bearer <token>` (RFC 6750 token characters);
        // - `Digest` and `AWS4-HMAC-SHA256` parameter lists: the whole list, as a Digest
        //   `response` is a hash of the password and a SigV4 `Signature` is valid until the
        //   request expires (a challenge holds no secret but is redacted the same way);
        // - a PEM private key, up to its last line or the end of the text.
        template(
            format!(
                r#"(?i)(?:(bearer\s+)[a-z0-9._~+/\-]+=*|\b((?:digest|aws4-[a-z0-9\-]+)\s+){auth_params}|{PEM_BEGIN}[\s\S]*?(?:{PEM_END}|$))"#
            ),
            format!("${{1}}${{2}}{REDACTED}"),
        ),
        // `key=value`, `key: value`, `"key": "value"` where the key names a secret, also as
        // JSON quoted inside a string (`\"key\":\"value\"`), and Azure's `sig=` on its own.
        // A quoted value runs to its closing quote (see `QUOTED`), also inside a `Debug`
        // wrapper (`Some("a b")`, on its own line in `{:#?}`); a bare one to the next
        // white space: over-redacting a `&next=1` tail is the safe side of the trade. A
        // value redacted already is left as it is, so that redacting twice changes nothing.
        template(
            format!(
                r#"(?i)({secret_name}|\bsig)(\\?["']?\s*{SEPARATOR}\s*)(?:\[REDACTED\]|(?:[a-z][a-z0-9_]*\(\s*)?(?:{QUOTED}|'[^']*(?:'|$))|\S+)"#
            ),
            format!("${{1}}${{2}}{REDACTED}"),
        ),
        // Redis passwords in command text (a client's trace, `MONITOR`, `redis-cli`) and
        // configuration, one alternative each:
        // - `AUTH [user] password`, the upper-case word unquoted: whatever follows, except
        //   `AUTH <password>`, a placeholder in Redis's own error text;
        // - the word quoted, in any case, before quoted arguments: `"auth" "pw"`
        //   (`MONITOR`), `["AUTH", "user", "pw"]` (`Debug`), and Redis's echo of an unknown
        //   command, `'auth', with args beginning with: 'pw'`; `'auth' command` is prose;
        // - `auth [user] password` in another case, only before a password-shaped argument
        //   (see `PASSWORD_SHAPED`), so that `auth failed` stays;
        // - the `requirepass` and `masterauth` directives and `CONFIG SET` parameters,
        //   before whatever follows (a `name=value` form is the key rule's);
        // - `redis-cli`'s `-a <password>` and `--pass <password>` options, anywhere on its
        //   command line.
        // A value redacted already is left alone, so that the user name forms stay
        // idempotent. After the key rule, which knows where a value ends: in
        // `auth password: 'a b'` this rule would take `password:` for a user name and leave
        // half the value.
        template(
            [
                format!(
                    r#"\b((?-i:AUTH)"?[ \t]+)(?:\[REDACTED\]|(?:{redis_arg})(?:[ \t]+(?:{redis_arg}))?)"#
                ),
                format!(
                    r#"(["'](?i:auth)["'](?:\s*,\s*(?i:with args beginning with:)?\s*|[ \t]+))(?:\[REDACTED\]|(?:{redis_quoted_arg})(?:(?:[ \t]+|\s*,\s*)(?:{redis_quoted_arg}))?)"#
                ),
                format!(
                    r#"(?i:\b(auth[ \t]+)(?:\[REDACTED\]|(?:[^\s<"]\S*[ \t]+)?(?:{redis_quoted_arg}|{PASSWORD_SHAPED})))"#
                ),
                format!(
                    r#"(?i:\b((?:requirepass|masterauth)(?:["']\s*,\s*|["']?[ \t]+))(?:\[REDACTED\]|{redis_arg}))"#
                ),
                format!(
                    r#"(\bredis-cli\b[^\n]*?[ \t](?:-a|--pass)[ \t]+)(?:\[REDACTED\]|{redis_arg})"#
                ),
            ]
            .join("|"),
            format!("${{1}}${{2}}${{3}}${{4}}${{5}}{REDACTED}"),
        ),
        // Tokens known by their shape, which appear bare in client errors and URLs: AWS
        // access key ids, and the documented prefixes of GitHub, Slack, Stripe, GitLab and
        // npm tokens before a body of at least 16 characters, so that a name such as
        // `npm_config_cache` or `sk_live_mode` is no token. The bodies are the characters
        // each vendor uses: npm, GitHub and Stripe none of `_`, which keeps
        // `npm_package_dependencies_lodash` out. And JSON Web Tokens, bearer credentials
        // whose header and payload are base64url JSON objects, so both start `eyJ` (`{"`).
        template(
            r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}\b|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*|gh[oprsu]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9]{16,}(?:_[A-Za-z0-9]+)?|xox[abprs]-[A-Za-z0-9\-]{16,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_\-]{16,}|npm_[A-Za-z0-9]{16,})".to_owned(),
            REDACTED.to_owned(),
        ),
    ];
    // The patterns are constants checked by the unit tests: failing here is a bug in this
    // file, not a runtime condition.
    let any = RegexSet::new(
        specs
            .iter()
            .map(|(pattern, _)| without_word_boundaries(pattern)),
    )
    .expect("redaction patterns are valid");
    let rules = specs
        .into_iter()
        .map(|(pattern, replacement)| Rule {
            regex: Regex::new(&pattern).expect("redaction pattern is valid"),
            replacement,
        })
        .collect();
    Rules { any, rules }
});

/// `pattern` without its `\b` assertions, for the set that tells whether any rule matches.
///
/// Leaving out an assertion only lets more text match, so the set still matches all that
/// the rules do. A Unicode `\b` stops the fast engine (the lazy DFA) at the first non-ASCII
/// byte, and the one the set then falls back on scanned clean non-ASCII text four times
/// slower than all the rules one after the other. A `\\` is an escaped backslash, kept.
pub(super) fn without_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // A backslash escapes the character after it, which is never the start of another
        // escape.
        match chars.next() {
            Some('b') => {}
            Some(escaped) => {
                out.push(c);
                out.push(escaped);
            }
            None => out.push(c),
        }
    }
    out
}

/// One cookie of a `Cookie` header's list: its name and its value (see `COOKIE_VALUE`),
/// which may be empty.
static COOKIE: LazyLock<Regex> = LazyLock::new(|| {
    let value = COOKIE_VALUE.replace("{QUOTED}", QUOTED);
    Regex::new(&format!("(?i)({COOKIE_NAME}=)(?:{value})?")).expect("cookie pattern is valid")
});

/// Writes [`REDACTED`] over the value of a `Set-Cookie` header's cookie, keeping its name and
/// the attributes after it, or over every value of a `Cookie` header's list, keeping the
/// names. An empty value is written over too: left empty, the key rule would take what
/// follows a `session_token=` for its value, and the text after that for a cookie the
/// second time.
fn redact_cookies(caps: &Captures<'_>) -> String {
    let group = |i| caps.get(i).map_or("", |m| m.as_str());
    if let Some(set_cookie) = caps.get(1) {
        return format!("{}{REDACTED}", set_cookie.as_str());
    }
    let list = COOKIE.replace_all(group(3), |cookie: &Captures<'_>| {
        format!("{}{REDACTED}", cookie.get(1).map_or("", |m| m.as_str()))
    });
    format!("{}{list}", group(2))
}
