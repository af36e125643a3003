//! [`Receipt`]: the future result of one message accepted into a batch.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use switchyard_core::Result;
use tokio::sync::oneshot;

use super::closed;

/// The result of one message accepted by
/// [`BatchingPublisher::enqueue`](super::BatchingPublisher::enqueue): resolves when the
/// batch that holds the message has been answered by the inner publisher.
///
/// It is `'static`, so a task can accept many messages and await their receipts later, or
/// hand them to another task. Dropping a receipt does not withdraw the message: it is sent
/// all the same, and only its result is lost.
///
/// Resolves to [`Error::Closed`](switchyard_core::Error::Closed) when the publisher stopped
/// without sending the message: every handle was dropped without
/// [`close`](switchyard_core::Publisher::close), or close gave up after its timeout.
#[derive(Debug)]
#[must_use = "the message is sent either way; await the receipt to learn whether it was published"]
pub struct Receipt {
    result: oneshot::Receiver<Result<()>>,
}

impl Receipt {
    pub(super) fn new(result: oneshot::Receiver<Result<()>>) -> Self {
        Self { result }
    }
}

impl Future for Receipt {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The sender is dropped unanswered only when the driver stopped without reaching
        // this message (its task was cancelled or its runtime shut down).
        Pin::new(&mut self.result)
            .poll(cx)
            .map(|answer| answer.unwrap_or_else(|_| Err(closed())))
    }
}
