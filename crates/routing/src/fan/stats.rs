//! A point-in-time snapshot of a [`FanOut`](super::FanOut)'s counters and queue depths.

use std::sync::Arc;

use super::SlowConsumerPolicy;

/// Which role an output plays in a [`FanOut`](super::FanOut).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutputKind {
    /// An output registered under a destination prefix.
    Route,
    /// The internal loop: destinations with the loop scheme.
    Loop,
    /// The dead letter: unroutable messages and overflow.
    DeadLetter,
}

/// The counters and queue depth of one output, read with
/// [`FanOut::stats`](super::FanOut::stats).
///
/// The counters only grow. Every message that reached this output's policy is in exactly
/// one of `routed`, `dropped`, `failed` or `overflowed`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputStats {
    /// The output's name.
    pub name: Arc<str>,
    /// Its role.
    pub kind: OutputKind,
    /// Its slow-consumer policy.
    pub policy: SlowConsumerPolicy,
    /// Messages put in its buffer.
    pub routed: u64,
    /// Messages dropped by [`SlowConsumerPolicy::DropNewest`].
    pub dropped: u64,
    /// Messages refused with a [`FanOutError`](super::FanOutError): full, timed out, or
    /// closed.
    pub failed: u64,
    /// Messages sent to the dead letter by [`SlowConsumerPolicy::DeadLetter`].
    pub overflowed: u64,
    /// Messages in the buffer now, not yet received.
    pub queued: usize,
    /// The buffer's size.
    pub capacity: usize,
    /// Whether the receiver is gone.
    pub closed: bool,
}

/// A snapshot of every output of a [`FanOut`](super::FanOut), read with
/// [`FanOut::stats`](super::FanOut::stats).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FanOutStats {
    /// Every output: routes in registration order, then the loop, then the dead letter.
    pub outputs: Vec<OutputStats>,
    /// Messages that matched no route (the `on_no_match` events), whether or not a dead
    /// letter took them.
    pub unroutable: u64,
}

impl FanOutStats {
    /// The stats of the output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputStats> {
        self.outputs.iter().find(|stats| &*stats.name == name)
    }
}
