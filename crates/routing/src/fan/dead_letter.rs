//! Why a message went to the dead letter, and the attribute that records it.

use std::fmt;

/// The attribute that [`FanOut`](super::FanOut) sets on every dead-lettered message: a
/// CloudEvents extension name (lowercase letters, at most 20 characters) whose value is
/// [`DeadLetterReason::as_str`].
pub const DEAD_LETTER_REASON: &str = "deadletterreason";

/// Why a message went to the dead letter. Its [`as_str`](Self::as_str) form is the value of
/// the [`DEAD_LETTER_REASON`] attribute: a short, fixed, low-cardinality word, fit for a
/// metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The message has no `destination` attribute.
    NoDestination,
    /// No route prefix matches the destination.
    NoRoute,
    /// The destination uses the loop scheme but no loop output is configured.
    NoLoop,
    /// The chosen output was full and its policy is
    /// [`SlowConsumerPolicy::DeadLetter`](super::SlowConsumerPolicy::DeadLetter).
    Overflow,
    /// A reason given by the caller of
    /// [`FanOut::dead_letter`](super::FanOut::dead_letter), such as `"hop-limit"`. Keep it
    /// a fixed word: it becomes an attribute value and a metric label.
    Other(&'static str),
}

impl DeadLetterReason {
    /// The reason as the value of the [`DEAD_LETTER_REASON`] attribute.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeadLetterReason::NoDestination => "no-destination",
            DeadLetterReason::NoRoute => "no-route",
            DeadLetterReason::NoLoop => "no-loop",
            DeadLetterReason::Overflow => "overflow",
            DeadLetterReason::Other(reason) => reason,
        }
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
