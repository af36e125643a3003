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
