//! The one error type of `switchyard-scanners`: configuration and supervision failures.
//!
//! Failures of a scan itself, and of the stores it works against, are
//! [`switchyard_core::Error`]s: transports produce those, and the supervisor catches them.

use switchyard_core::redact;

/// Everything that can go wrong when configuring scanners or handing them to a
/// [`Supervisor`](crate::Supervisor).
///
/// Every message is safe to log: names are passed through [`redact`] before they are
/// displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scanner or reconciler was given a zero interval, which would make it spin.
    #[error("scanner `{}` has a zero interval", redact(scanner))]
    ZeroInterval {
        /// The scanner, or the configuration field, with the zero interval.
        scanner: String,
    },

    /// A partition family was declared with zero partitions.
    #[error("partition family `{}` has zero partitions", redact(family))]
    ZeroPartitions {
        /// The family.
        family: String,
    },

    /// A scanner names a partition family that the router does not know.
    #[error("unknown partition family `{}`", redact(family))]
    UnknownFamily {
        /// The family that was asked for.
        family: String,
    },

    /// Two scanners, listeners or partition families share a name.
    #[error("the name `{}` is already taken", redact(name))]
    DuplicateName {
        /// The name used twice.
        name: String,
    },

    /// A configuration value is out of its valid range.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why the value is rejected.
        reason: &'static str,
    },

    /// Text that is not an [`EntryId`](crate::EntryId): `millis-seq` in decimal.
    #[error("invalid entry id {text:?}")]
    InvalidEntryId {
        /// The rejected text, cut to a bounded length.
        text: String,
    },

    /// The supervisor has been shut down and starts nothing new.
    #[error("the supervisor is shut down")]
    ShutDown,

    /// A task was to be spawned outside a Tokio runtime.
    #[error("no Tokio runtime is running on this thread")]
    NoRuntime,
}

#[cfg(test)]
mod tests;
