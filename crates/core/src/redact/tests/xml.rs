//! XML elements whose name says they hold a secret: `<Password>`, AWS's
//! `<SignatureProvided>` and `<SecretAccessKey>`, `<token>`.

use proptest::prelude::*;

use super::{check_all, filler, redact, secret};

/// The key rule wants a `:` or `=` after the name, so an element's text went through
/// whole: a SOAP or S3 error body, an STS response in a log line.
#[test]
fn secret_named_xml_elements_are_redacted() {
    check_all(&[
        (
            "<Password>hunter2</Password>",
            "<Password>[REDACTED]</Password>",
        ),
        ("<token>abc.def</token>", "<token>[REDACTED]</token>"),
        (
            r#"<password type="x">hunter 2</password>"#,
            r#"<password type="x">[REDACTED]</password>"#,
        ),
        (
            "<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>fe5f80f77d5f</SignatureProvided><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>",
            "<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>[REDACTED]</SignatureProvided><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>",
        ),
        (
            "<Credentials><SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey><SessionToken>FwoGZXIvYXdz</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>",
            "<Credentials><SecretAccessKey>[REDACTED]</SecretAccessKey><SessionToken>[REDACTED]</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>",
        ),
        // A namespace prefix, a multi-line value, CDATA.
        (
            "<wsse:Password>hunter2</wsse:Password>",
            "<wsse:Password>[REDACTED]</wsse:Password>",
        ),
        (
            "<db_password>\n    hunter2\n</db_password>",
            "<db_password>[REDACTED]</db_password>",
        ),
        (
            "<password><![CDATA[a<b</c]]></password>",
            "<password>[REDACTED]</password>",
        ),
        // XML quoted inside a JSON string escapes the attribute quotes.
        (
            r#"{"body":"<Password enc=\"plain\">hunter2</Password>"}"#,
            r#"{"body":"<Password enc=\"plain\">[REDACTED]</Password>"}"#,
        ),
    ]);
}

proptest! {
    #[test]
    fn xml_element_values_never_survive(
        before in filler(),
        after in filler(),
        prefix in "(|ns1:)",
        name in "(Password|password|SignatureProvided|SecretAccessKey|token|ApiKey|client_secret)",
        attributes in "(| type=\"x\"| a='1' b=\"2\")",
        value in secret("[A-Za-z0-9!#$%&'()*+,./:;=?@^_`|~ -]"),
    ) {
        let text = format!("{before}<{prefix}{name}{attributes}>{value}</{prefix}{name}> {after}");
        let out = redact(&text);
        prop_assert!(!out.contains(&value), "{value} survived in {out}");
    }
}
