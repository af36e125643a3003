//! Unit tests of the configuration checks of `FanOutBuilder::build`.

use std::time::Duration;

use crate::fan::{BuildError, FanOut, FanOutBuilder, Output, SlowConsumerPolicy};

/// Builds `builder` and checks the error.
fn check_build(builder: FanOutBuilder, expected: BuildError) {
    assert_eq!(builder.build().map(|_| ()).expect_err("invalid"), expected);
}

#[test]
fn invalid_configurations_are_typed_errors() {
    let out = |name: &str| Output::new(name, 1);
    check_build(
        FanOut::builder().output("kafka://", Output::new("kafka", 0)),
        BuildError::ZeroBuffer {
            output: "kafka".into(),
        },
    );
    check_build(
        FanOut::builder().output("kafka://", Output::new("kafka", usize::MAX)),
        BuildError::BufferTooLarge {
            output: "kafka".into(),
            buffer: usize::MAX,
            max: Output::MAX_BUFFER,
        },
    );
    assert!(
        FanOut::builder()
            .output("kafka://", Output::new("kafka", Output::MAX_BUFFER))
            .build()
            .is_ok(),
        "the maximum itself is accepted"
    );
    check_build(
        FanOut::builder().loop_output(Output::new("loop", 0)),
        BuildError::ZeroBuffer {
            output: "loop".into(),
        },
    );
    check_build(
        FanOut::builder().dead_letter(Output::new("deadletter", 0)),
        BuildError::ZeroBuffer {
            output: "deadletter".into(),
        },
    );
    check_build(
        FanOut::builder().output("kafka://", out("")),
        BuildError::EmptyName { what: "output" },
    );
    check_build(
        FanOut::builder()
            .output("kafka://", out("a"))
            .output("redis://", out("a")),
        BuildError::DuplicateOutput { name: "a".into() },
    );
    check_build(
        FanOut::builder()
            .output("kafka://", out("loop"))
            .loop_output(out("loop")),
        BuildError::DuplicateOutput {
            name: "loop".into(),
        },
    );
    check_build(
        FanOut::builder().output("", out("a")),
        BuildError::EmptyPrefix { output: "a".into() },
    );
    check_build(
        FanOut::builder()
            .output("kafka://", out("a"))
            .output("kafka://", out("b")),
        BuildError::DuplicatePrefix {
            prefix: "kafka://".into(),
            first: "a".into(),
            second: "b".into(),
        },
    );
    check_build(
        FanOut::builder().output("loop://x", out("a")),
        BuildError::ReservedPrefix {
            prefix: "loop://x".into(),
            output: "a".into(),
        },
    );
    check_build(
        FanOut::builder().loop_scheme(""),
        BuildError::EmptyLoopScheme,
    );
    check_build(
        FanOut::builder().output(
            "kafka://",
            out("a").policy(SlowConsumerPolicy::BlockFor(Duration::ZERO)),
        ),
        BuildError::ZeroTimeout { output: "a".into() },
    );
    check_build(
        FanOut::builder().loop_output(out("loop").policy(SlowConsumerPolicy::DeadLetter)),
        BuildError::InvalidOverflow {
            output: "loop".into(),
            problem: "is not configured",
        },
    );
    check_build(
        FanOut::builder().dead_letter(out("deadletter").policy(SlowConsumerPolicy::DeadLetter)),
        BuildError::InvalidOverflow {
            output: "deadletter".into(),
            problem: "is this output itself",
        },
    );
}

/// Second reading: prefixes were cut to a bounded length but not redacted, so a prefix with
/// credentials (`amqp://user:pw@host/`) put the password into the error and its text. They
/// are redacted before they are cut, so that a cut cannot hide a credential from redaction.
#[test]
fn prefixes_in_errors_are_redacted_before_they_are_cut() {
    let out = |name: &str| Output::new(name, 1);
    check_build(
        FanOut::builder()
            .output("amqp://user:pw@host/", out("a"))
            .output("amqp://user:pw@host/", out("b")),
        BuildError::DuplicatePrefix {
            prefix: "amqp://[REDACTED]@host/".into(),
            first: "a".into(),
            second: "b".into(),
        },
    );
    check_build(
        FanOut::builder().output("loop://user:pw@host/", out("a")),
        BuildError::ReservedPrefix {
            prefix: "loop://[REDACTED]@host/".into(),
            output: "a".into(),
        },
    );
    // A password long enough that cutting first would leave it without its `@`.
    let long = format!("amqp://user:{}@host/", "p".repeat(300));
    let err = FanOut::builder()
        .output(long.clone(), out("a"))
        .output(long, out("b"))
        .build()
        .map(|_| ())
        .expect_err("duplicate");
    assert!(!err.to_string().contains("ppp"), "{err}");
    assert!(!format!("{err:?}").contains("ppp"), "{err:?}");
}
