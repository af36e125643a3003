//! Tests of error classification: every core and router error maps to a user-facing
//! category, and nothing internal or secret reaches the user.

use std::time::Duration;

use switchyard_core::{Error, LimitedField};
use switchyard_routing::router::RouterError;

use super::{ErrorCategory, MAX_USER_MESSAGE_CHARS, UserError};

fn decode_error() -> Error {
    let source = serde_json::from_str::<u32>("\"seven\"").unwrap_err();
    Error::Decode {
        target: "my_app::Order",
        source,
    }
}

/// Checks the category and the user-facing message of one error.
fn check(error: Error, category: ErrorCategory, message: &str) {
    let shown = UserError::from_error(&error);
    assert_eq!(shown.category(), category, "{error:?}");
    assert_eq!(ErrorCategory::of(&error), category, "{error:?}");
    assert_eq!(shown.message(), message, "{error:?}");
}

#[test]
fn core_errors_are_classified() {
    use ErrorCategory::*;
    let generic = |category: ErrorCategory| category.generic_message();

    check(
        Error::InvalidAttributeName {
            name: "Bad".into(),
            reason: "may contain only lowercase ASCII letters and digits",
        },
        BadRequest,
        "invalid attribute name \"Bad\": may contain only lowercase ASCII letters and digits",
    );
    check(
        Error::InvalidAttributeValue {
            name: "time".into(),
            reason: "must be an RFC 3339 timestamp",
        },
        BadRequest,
        "invalid value for attribute `time`: must be an RFC 3339 timestamp",
    );
    check(
        Error::MissingAttribute { name: "type" },
        BadRequest,
        "missing required attribute `type`",
    );
    check(
        Error::TooLarge {
            field: LimitedField::Payload,
            size: 10,
            limit: 4,
        },
        BadRequest,
        "payload is 10 bytes, over the limit of 4 bytes",
    );
    // The Rust type the handler wanted is ours: it is not shown.
    check(
        decode_error(),
        BadRequest,
        "cannot decode payload: invalid type: string \"seven\", expected u32 at line 1 column 7",
    );
    check(
        Error::UnsupportedContentType {
            content_type: "text/csv".into(),
        },
        BadRequest,
        "cannot decode content type \"text/csv\" as JSON",
    );
    check(
        Error::Timeout {
            operation: "handler",
            after: Duration::from_secs(1),
        },
        Timeout,
        generic(Timeout),
    );
    check(
        Error::QueueFull {
            queue: "orders".into(),
        },
        Unavailable,
        generic(Unavailable),
    );
    check(
        Error::Closed { component: "bus" },
        Unavailable,
        generic(Unavailable),
    );
    check(
        Error::transient_transport("connection reset"),
        Unavailable,
        generic(Unavailable),
    );
    check(
        Error::transient_handler("busy"),
        Unavailable,
        generic(Unavailable),
    );
    check(
        Error::permanent_transport("access denied"),
        Internal,
        generic(Internal),
    );
    check(Error::permanent_handler("bug"), Internal, generic(Internal));
    check(
        Error::UnknownDestination {
            destination: "kafka://x".into(),
        },
        Internal,
        generic(Internal),
    );
    let not_a_string_key = std::collections::BTreeMap::from([(vec![1_u8], 1_u8)]);
    let encode = Error::Encode(serde_json::to_vec(&not_a_string_key).unwrap_err());
    check(encode, Internal, generic(Internal));
}

#[test]
fn a_handler_error_takes_the_category_of_the_error_it_wraps() {
    use ErrorCategory::*;
    check(
        Error::permanent_handler(decode_error()),
        BadRequest,
        "cannot decode payload: invalid type: string \"seven\", expected u32 at line 1 column 7",
    );
    check(
        Error::permanent_handler(Error::transient_handler(Error::MissingAttribute {
            name: "subject",
        })),
        BadRequest,
        "missing required attribute `subject`",
    );
    check(
        Error::permanent_handler(Error::Timeout {
            operation: "db",
            after: Duration::from_secs(2),
        }),
        Timeout,
        Timeout.generic_message(),
    );
}

#[test]
fn router_errors_are_classified() {
    let check_router = |error: RouterError, category: ErrorCategory, message: &str| {
        let shown = UserError::from_router_error(&error);
        assert_eq!(
            (shown.category(), shown.message()),
            (category, message),
            "{error:?}"
        );
        assert_eq!(ErrorCategory::of_router(&error), category);
    };
    check_router(
        RouterError::MissingType { id: "m-1".into() },
        ErrorCategory::BadRequest,
        "the message has no `type` attribute",
    );
    check_router(
        RouterError::NoHandler {
            message_type: "users.delete".into(),
        },
        ErrorCategory::BadRequest,
        "no handler for message type `users.delete`",
    );
    check_router(
        RouterError::Handler {
            message_type: "a".into(),
            source: Error::MissingAttribute { name: "subject" },
        },
        ErrorCategory::BadRequest,
        "missing required attribute `subject`",
    );
    check_router(
        RouterError::Handler {
            message_type: "a".into(),
            source: Error::transient_handler("db down"),
        },
        ErrorCategory::Unavailable,
        ErrorCategory::Unavailable.generic_message(),
    );
    check_router(
        RouterError::DuplicateType {
            message_type: "a".into(),
        },
        ErrorCategory::Internal,
        ErrorCategory::Internal.generic_message(),
    );
}

#[test]
fn internals_and_credentials_never_reach_the_user() {
    let secret = "connect postgres://app:hunter2@db:5432 failed, password=hunter2";
    for error in [
        Error::permanent_handler(secret),
        Error::transient_handler(secret),
        Error::permanent_transport(secret),
        Error::UnknownDestination {
            destination: secret.into(),
        },
    ] {
        let shown = UserError::from_error(&error);
        assert!(!shown.message().contains("hunter2"), "{shown}");
        assert!(
            !shown.message().contains("postgres"),
            "internals leak: {shown}"
        );
    }
    // A bad request echoes the request, redacted.
    let shown = UserError::bad_request("bad attribute token=abc123");
    assert_eq!(shown.message(), "bad attribute token=[REDACTED]");
}

#[test]
fn a_bad_request_message_is_bounded() {
    let long = "x".repeat(10 * MAX_USER_MESSAGE_CHARS);
    let shown = UserError::bad_request(&long);
    assert_eq!(shown.message().chars().count(), MAX_USER_MESSAGE_CHARS + 1);
    assert!(shown.message().ends_with('…'));
    let exact = "é".repeat(MAX_USER_MESSAGE_CHARS);
    assert_eq!(
        UserError::bad_request(&exact).message(),
        exact,
        "at the bound, nothing is cut"
    );
}

#[test]
fn category_names_are_stable() {
    let names: Vec<&str> = [
        ErrorCategory::BadRequest,
        ErrorCategory::Unavailable,
        ErrorCategory::Timeout,
        ErrorCategory::Internal,
    ]
    .map(ErrorCategory::as_str)
    .to_vec();
    assert_eq!(names, ["bad_request", "unavailable", "timeout", "internal"]);
    assert_eq!(
        UserError::generic(ErrorCategory::Timeout).to_string(),
        "timeout: the request timed out"
    );
}
