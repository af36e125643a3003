//! `PendingReply`: one request's place in the correlator, and the wait for its response.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use pin_project_lite::pin_project;
use switchyard_core::{Attribute, Message, deadline::deadline};
use tokio::time::{Instant, Sleep};

use super::{
    Correlator, RequestError,
    correlator::{Key, Slot},
};

/// A request's place in the [`Correlator`]: wait on it for the response. Dropping it
/// abandons the request and removes its entry.
#[must_use = "a pending reply removes itself when dropped"]
pub struct PendingReply {
    key: Key,
    /// Its slot in the correlator, where the response comes.
    slot: usize,
    /// The `correlationid` attribute that the request carries.
    correlation_id: Attribute,
    owner: Correlator,
    /// Whether its slot is gone (the response or the closing taken, or the timeout passed),
    /// so that dropping this need not look for it.
    done: bool,
}

impl PendingReply {
    pub(super) fn new(key: Key, slot: usize, correlation_id: Attribute, owner: Correlator) -> Self {
        Self {
            key,
            slot,
            correlation_id,
            owner,
            done: false,
        }
    }

    /// [`wait`](Self::wait) until `deadline`; a timeout reports `timeout`, the request's
    /// whole timeout, which `deadline` ends.
    pub(crate) fn wait_until(self, deadline: Instant, timeout: Duration) -> WaitUntil {
        WaitUntil {
            reply: self,
            deadline,
            timeout,
            timer: None,
        }
    }

    /// Waits up to `timeout` for the response.
    pub async fn wait(self, timeout: Duration) -> Result<Message, RequestError> {
        self.wait_until(deadline(Instant::now(), timeout), timeout)
            .await
    }

    /// Whether the response has arrived, without waiting for it.
    pub(crate) fn is_answered(&self) -> bool {
        !self.done && self.owner.is_answered(self.slot)
    }

    /// The correlation id to put on the request.
    pub fn correlation_id(&self) -> &str {
        self.correlation_id.value()
    }

    /// The correlation id as the attribute to put on the request: shared, not copied.
    pub(crate) fn correlation_attribute(&self) -> Attribute {
        self.correlation_id.clone()
    }

    /// The response, or `close`'s failure, if either has come; else `cx` is woken when one
    /// does.
    fn poll_response(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, RequestError>> {
        if self.done {
            // Polled again after it ended: its slot may be another request's by now.
            return Poll::Ready(Err(RequestError::Closed));
        }
        let Some(polled) = self.owner.poll_slot(self.slot, cx.waker()) else {
            // Unreachable: the slot of a request that is not done is there. Were it gone,
            // the request could not be answered any more.
            self.done = true;
            return Poll::Ready(Err(RequestError::Closed));
        };
        let slot = ready!(polled);
        self.done = true;
        Poll::Ready(match slot {
            Slot::Answered(response) => Ok(response),
            Slot::Waiting(_) | Slot::Closed => Err(RequestError::Closed),
        })
    }

    /// Ends the wait at its deadline: a `Timeout`, the entry removed, unless a response
    /// came just before, which is returned rather than lost (it was counted as resolved).
    fn expire(&mut self, timeout: Duration) -> Result<Message, RequestError> {
        self.done = true;
        match self.owner.finish(self.key, self.slot, true) {
            Some(Slot::Answered(response)) => Ok(response),
            Some(Slot::Closed) => Err(RequestError::Closed),
            Some(Slot::Waiting(_)) | None => Err(RequestError::Timeout { after: timeout }),
        }
    }
}

#[cfg(test)]
impl PendingReply {
    /// Ends the wait as if its deadline passed at this moment, whatever arrived: what a
    /// timeout that races a response sees.
    pub(super) fn time_out_now_for_test(
        mut self,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        self.expire(timeout)
    }
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        // After a response or a timeout the slot is already gone: nothing to look up.
        if !self.done {
            self.owner.finish(self.key, self.slot, false);
        }
    }
}

pin_project! {
    /// The wait of a [`PendingReply`] for its response, up to a deadline.
    ///
    /// The timer is made and registered only when the response is not there at the first
    /// poll: a response that came first (an endpoint's, answered while it was called) costs
    /// no timer at all. The slot is polled before the timer, so that a response that came
    /// as the deadline passed is returned, not reported as a timeout.
    #[must_use = "futures do nothing unless polled"]
    pub(crate) struct WaitUntil {
        reply: PendingReply,
        deadline: Instant,
        timeout: Duration,
        #[pin]
        timer: Option<Sleep>,
    }
}

impl Future for WaitUntil {
    type Output = Result<Message, RequestError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(outcome) = this.reply.poll_response(cx) {
            return Poll::Ready(outcome);
        }
        if this.timer.is_none() {
            this.timer
                .set(Some(tokio::time::sleep_until(*this.deadline)));
        }
        if let Some(timer) = this.timer.as_pin_mut() {
            ready!(timer.poll(cx));
        }
        Poll::Ready(this.reply.expire(*this.timeout))
    }
}
