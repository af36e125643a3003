//! What an output does with a message when its buffer is full: the slow-consumer policy.

use std::time::Duration;

/// What [`FanOut::route`](super::FanOut::route) does when the chosen output's buffer is
/// full, set per output with [`Output::policy`](super::Output::policy).
///
/// Whatever the policy, a message is never dropped silently: it is queued, handed back in
/// a [`FanOutError`](super::FanOutError), diverted to the dead letter with a reason, or
/// dropped with the observer's [`on_drop`](super::FanOutObserver::on_drop) hook and the
/// output's `dropped` counter. A dropped message's [`Acker`](switchyard_core::Acker) counts
/// it as nacked once its last clone is gone, so its delivery is retried upstream.
///
/// ```
/// use std::time::Duration;
/// use switchyard_routing::fan::{Output, SlowConsumerPolicy};
///
/// let publisher = Output::new("kafka", 256).policy(SlowConsumerPolicy::BlockFor(Duration::from_secs(5)));
/// let metrics = Output::new("stats", 16).policy(SlowConsumerPolicy::DropNewest);
/// # let _ = (publisher, metrics);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlowConsumerPolicy {
    /// Wait until the output has room: the slow consumer slows the caller down. The default.
    ///
    /// Never use it on an output whose consumer may itself wait on the caller (the internal
    /// loop feeding back into the worker that routes): that cycle deadlocks once the
    /// buffers are full. Use [`DeadLetter`](Self::DeadLetter) or [`Fail`](Self::Fail)
    /// there.
    #[default]
    Block,
    /// Wait up to the timeout for room, then fail with
    /// [`FanOutError::Timeout`](super::FanOutError::Timeout), which gives the message back.
    BlockFor(Duration),
    /// Fail at once with [`FanOutError::Full`](super::FanOutError::Full), which gives the
    /// message back.
    Fail,
    /// Drop the new message: count it, call
    /// [`FanOutObserver::on_drop`](super::FanOutObserver::on_drop), and report
    /// [`Delivery::Dropped`](super::Delivery::Dropped). For data where the newest sample
    /// may be lost, such as metrics.
    DropNewest,
    /// Send the message to the dead-letter output instead, with the reason
    /// [`DeadLetterReason::Overflow`](super::DeadLetterReason::Overflow), and call
    /// [`FanOutObserver::on_overflow`](super::FanOutObserver::on_overflow). The overflow
    /// policy for the internal loop. Needs a dead-letter output, which may not use it itself.
    DeadLetter,
}
