//! [`ReplyLine`]: one encoded line on its way to a client, which counts itself as
//! undelivered if it is dropped before the socket took all of it.

use std::sync::Arc;

/// One line (with its newline) in a connection's reply queue.
///
/// The count of undelivered replies lives in the line itself, not in the task that drains
/// the queue, because a line can be dropped on many paths: by the writer when its
/// connection is evicted or its socket fails, with the queue when the writer's task is
/// aborted (the gateway's shutdown gave up on the channel), or by tokio when a sender that
/// had reserved a slot before the queue closed pushes it after the queue's receiver is
/// gone (the line then waits in the channel until its last sender drops it). Whichever
/// drops it, the line is counted once, unless the writer marked it
/// [`written`](Self::written).
pub(super) struct ReplyLine {
    text: String,
    /// The channel's name, for the counter's label; `None` once the line was written.
    channel: Option<Arc<str>>,
}

impl ReplyLine {
    /// A line of `channel` that is not delivered yet.
    pub(super) fn new(text: String, channel: &Arc<str>) -> Self {
        Self {
            text,
            channel: Some(Arc::clone(channel)),
        }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The socket took the whole line: it is delivered, and not counted when dropped.
    pub(super) fn written(mut self) {
        self.channel = None;
    }
}

impl Drop for ReplyLine {
    fn drop(&mut self) {
        if let Some(channel) = self.channel.take() {
            // A reply the channel had accepted (so its request was acked) that the client
            // never got: counted, so that no reply is lost without a trace.
            metrics::counter!(
                "switchyard_gateway_replies_undelivered_total",
                "channel" => channel.to_string()
            )
            .increment(1);
        }
    }
}

#[cfg(test)]
mod tests;
