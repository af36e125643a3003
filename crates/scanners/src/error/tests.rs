//! Error messages are stable and redacted.

use super::Error;

#[test]
fn messages_name_the_culprit_and_redact_secrets() {
    let cases = [
        (
            Error::ZeroInterval {
                scanner: "lease_expiry".into(),
            },
            "scanner `lease_expiry` has a zero interval",
        ),
        (
            Error::ZeroPartitions {
                family: "flow".into(),
            },
            "partition family `flow` has zero partitions",
        ),
        (
            Error::UnknownFamily {
                family: "budget".into(),
            },
            "unknown partition family `budget`",
        ),
        (
            Error::DuplicateName {
                name: "redis://app:hunter2@cache".into(),
            },
            "the name `redis://[REDACTED]@cache` is already taken",
        ),
        (
            Error::InvalidConfig {
                field: "jitter",
                reason: "must be in [0, 0.5)",
            },
            "invalid configuration `jitter`: must be in [0, 0.5)",
        ),
        (Error::ShutDown, "the supervisor is shut down"),
        (
            Error::NoRuntime,
            "no Tokio runtime is running on this thread",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error.to_string(), expected);
    }
}
