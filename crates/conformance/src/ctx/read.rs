//! Reading from a subscription with deadlines: every wait for a message either gets one
//! or fails with what was received so far.

use std::time::Duration;

use futures::StreamExt;
use switchyard_core::{Error, Message, MessageStream, deadline::deadline};
use tokio::time::{Instant, timeout, timeout_at};

use super::Ctx;
use crate::fixture::{batch::key_of, tally::Tally};

/// What waiting for the next item of a stream gave.
#[derive(Debug)]
pub(crate) enum Next {
    /// A delivery.
    Message(Message),
    /// An error item.
    Error(Error),
    /// The stream ended.
    End,
    /// Nothing within the wait.
    Timeout,
}

/// Waits up to `wait` for the next item of `stream`.
pub(crate) async fn next(stream: &mut MessageStream, wait: Duration) -> Next {
    match timeout(wait, stream.next()).await {
        Ok(Some(Ok(message))) => Next::Message(message),
        Ok(Some(Err(err))) => Next::Error(err),
        Ok(None) => Next::End,
        Err(_) => Next::Timeout,
    }
}

/// What a member stream of a merged group yields once it ends: see [`marking_end`].
pub(crate) const MEMBER_ENDED: &str = "a member's stream ended before its subscriber was closed";

/// `stream`, followed by one error item when it ends. Merging the streams of a group's
/// members hides the end of one of them, and the rest of the group may take over its
/// messages, so nothing else shows that a transport ended a stream whose subscriber was
/// not closed. Readers fail on the item; after a close, [`Ctx::expect_end`] skips it.
pub(crate) fn marking_end(stream: MessageStream) -> MessageStream {
    let end = futures::stream::once(async { Err(Error::permanent_transport(MEMBER_ENDED)) });
    Box::pin(stream.chain(end))
}

/// Whether a reader fails on an error item or skips transient ones (around a broker
/// restart, where a transport may report the lost connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamErrors {
    Fail,
    SkipTransient,
}

impl Ctx<'_> {
    /// The next delivery, within the message timeout; anything else fails, with `tally`'s
    /// progress in the message.
    pub(crate) async fn receive(&self, stream: &mut MessageStream, tally: &Tally) -> Message {
        self.receive_within(
            stream,
            tally,
            self.config.message_timeout(),
            StreamErrors::Fail,
        )
        .await
    }

    /// The next delivery, within `wait`.
    pub(crate) async fn receive_within(
        &self,
        stream: &mut MessageStream,
        tally: &Tally,
        wait: Duration,
        errors: StreamErrors,
    ) -> Message {
        loop {
            match next(stream, wait).await {
                Next::Message(message) => return message,
                Next::Error(err) if errors == StreamErrors::SkipTransient && err.is_transient() => {
                    tracing::debug!(error = %err.report(), "conformance reader skipped an error");
                }
                Next::Error(err) => panic!(
                    "{}: the stream yielded an error: {} ({})",
                    tally.what(),
                    err.report(),
                    tally.progress()
                ),
                Next::End => panic!(
                    "{}: the stream ended before every message arrived ({})",
                    tally.what(),
                    tally.progress()
                ),
                Next::Timeout => panic!(
                    "{}: no message arrived within {wait:?} ({})",
                    tally.what(),
                    tally.progress()
                ),
            }
        }
    }

    /// Reads and acks until every expected message has arrived.
    pub(crate) async fn read_all(&self, stream: &mut MessageStream, tally: &Tally) {
        while !tally.is_complete() {
            let message = self.receive(stream, tally).await;
            tally.record(&message);
            message.ack();
        }
    }

    /// Reads and acks `count` deliveries, or fewer if every expected message arrived first.
    pub(crate) async fn read_some(&self, stream: &mut MessageStream, tally: &Tally, count: usize) {
        for _ in 0..count {
            if tally.is_complete() {
                return;
            }
            let message = self.receive(stream, tally).await;
            tally.record(&message);
            message.ack();
        }
    }

    /// Receives and nacks `count` deliveries.
    pub(crate) async fn nack_some(&self, stream: &mut MessageStream, tally: &Tally, count: usize) {
        for _ in 0..count {
            let message = self.receive(stream, tally).await;
            tally.inspect(&message);
            message.nack();
        }
    }

    /// Waits for `stream`, whose subscriber (or, with a single instance, the instance) was
    /// closed, to end within the close timeout. A message delivered now fails: once `close`
    /// has returned, the stream ends and delivers nothing more (its subscriber stopped
    /// consuming, so the message would reach no one). Error items are skipped, as a
    /// transport may report the close itself on the stream.
    pub(crate) async fn expect_end(&self, stream: &mut MessageStream, what: &str) {
        let limit = self.config.close_timeout();
        let deadline = deadline(Instant::now(), limit);
        loop {
            match timeout_at(deadline, stream.next()).await {
                Ok(None) => return,
                Ok(Some(Ok(message))) => panic!(
                    "{what}: `{}` was delivered after the close returned",
                    key_of(&message).unwrap_or("a message without a key")
                ),
                Ok(Some(Err(err))) => {
                    tracing::debug!(error = %err.report(), "conformance: an error item after close");
                }
                Err(_) => panic!("{what}: the stream did not end within {limit:?}"),
            }
        }
    }

    /// Watches `stream`, on which every expected message has arrived, for the quiet period:
    /// whatever still arrives is checked and counted by `tally`, so that a message of
    /// another topic fails (and, with exactly once, so does a second delivery). A reader
    /// stops at its last expected message, so without this a stray that arrives after it
    /// would go unnoticed.
    pub(crate) async fn expect_no_strays(&self, stream: &mut MessageStream, tally: &Tally) {
        let quiet = self.config.quiet_period();
        let until = deadline(Instant::now(), quiet);
        loop {
            match timeout_at(until, stream.next()).await {
                Err(_) => return,
                Ok(Some(Ok(message))) => {
                    tally.record(&message);
                    message.ack();
                }
                Ok(Some(Err(err))) => panic!(
                    "{}: the stream yielded an error after every message arrived: {}",
                    tally.what(),
                    err.report()
                ),
                Ok(None) => panic!(
                    "{}: the stream ended before its subscriber was closed",
                    tally.what()
                ),
            }
        }
    }

    /// Where exactly once is claimed, fails if anything arrives on `stream` (on which every
    /// message has been received and acked) within the quiet period: it would be a second
    /// delivery of an acked message.
    pub(crate) async fn expect_no_redelivery(&self, stream: &mut MessageStream) {
        if self.features.exactly_once {
            self.expect_quiet(
                stream,
                "a delivery after every message was acked once, although exactly-once \
                 delivery is claimed",
            )
            .await;
        }
    }

    /// Fails if anything arrives on `stream`, on which every message has been received and
    /// acked and nothing was nacked, within the quiet period, whatever the features claim.
    ///
    /// Delivery at least once allows a message to come back after a nack, a drop, a close,
    /// a restart or an expired lease, none of which happened here: an acked message that
    /// comes back to the live subscription that acked it means that acks are not honoured
    /// (a transport that turns them into nacks redelivers every message forever).
    pub(crate) async fn expect_acks_honoured(&self, stream: &mut MessageStream) {
        self.expect_quiet(
            stream,
            "a delivery after every message was acked, with nothing nacked: an ack was not \
             honoured",
        )
        .await;
    }

    /// Fails if anything arrives on `stream` within the quiet period.
    pub(crate) async fn expect_quiet(&self, stream: &mut MessageStream, what: &str) {
        let quiet = self.config.quiet_period();
        match next(stream, quiet).await {
            Next::Timeout => {}
            Next::Message(message) => panic!(
                "{what}: `{}` was delivered within {quiet:?}",
                key_of(&message).unwrap_or("a message without a key")
            ),
            Next::Error(err) => panic!("{what}: the stream yielded an error: {}", err.report()),
            Next::End => panic!("{what}: the stream ended"),
        }
    }
}
