//! Batching of any [`Publisher`](switchyard_core::Publisher): [`BatchingPublisher`] gathers
//! messages into batches per topic and sends each batch with one call to the inner
//! publisher's `publish_batch`.
//!
//! # When a batch is sent
//!
//! Messages are grouped by topic. A topic's open batch is sealed, and sent, when it
//! reaches [`max_batch_size`](BatchConfig::max_batch_size) messages or when its oldest
//! message has waited [`max_latency`](BatchConfig::max_latency) since it was accepted,
//! whichever comes first; also on [`flush`](BatchingPublisher::flush) and on `close`.
//! A sealed batch may wait a little longer before it reaches the inner publisher: behind
//! the batch of the same topic that is still being sent (so that a topic's batches stay in
//! order), and for a slot when [`max_concurrent_batches`](BatchConfig::max_concurrent_batches)
//! batches are in flight.
//!
//! # Guarantees
//!
//! - **Every message's result reaches its caller.** `publish` returns when the batch
//!   holding its message has been answered, with that batch's result; so does a
//!   [`Receipt`] from [`enqueue`](BatchingPublisher::enqueue). When a batch fails, every
//!   caller of that batch gets an error of the same kind and transience, with the same
//!   text (see [Errors shared by a batch](#errors-shared-by-a-batch)). A caller never gets
//!   another batch's result.
//! - **Cancellation never loses an accepted message silently.** `enqueue` (and the
//!   waiting part of `publish`) is cancel-safe: dropped before it accepted the message, it
//!   did not accept it. Once accepted, the message is sent even if the `publish` future or
//!   the receipt is dropped; only its result goes unread.
//! - **Bounded.** At most [`max_pending`](BatchConfig::max_pending) messages are accepted
//!   and not yet answered, across all topics and batches in flight. A caller that finds
//!   that many waits (backpressure), first come first served; wrap `publish` or `enqueue`
//!   in [`tokio::time::timeout`] for a deadline, or use
//!   [`try_enqueue`](BatchingPublisher::try_enqueue) to get
//!   [`Error::QueueFull`](switchyard_core::Error::QueueFull) at once. The per-topic map is
//!   keyed by outside input, but it only holds topics with pending messages, so the same
//!   bound holds it.
//! - **A batch succeeds or fails as a whole**, as the inner publisher answers it. Set
//!   [`limits`](BatchConfigBuilder::limits) so that an oversized message is refused on its
//!   own, at once, instead of failing the batch it would have joined.
//! - **Order.** Messages of one topic reach the inner publisher in the order they were
//!   accepted (for one task: the order it published them), because a topic has at most one
//!   batch in flight. Different topics are sent concurrently and have no order between
//!   them.
//!
//! # Closing and dropping
//!
//! One background task per publisher, owned through a `TaskTracker` and a
//! `CancellationToken`, runs the timers and the inner publisher; all clones of a
//! [`BatchingPublisher`] share it. `close` stops taking messages (publishing afterwards is
//! [`Error::Closed`](switchyard_core::Error::Closed)), sends everything pending, waits for
//! the batches in flight, then closes the inner publisher, all within
//! [`close_timeout`](BatchConfig::close_timeout). It is idempotent.
//!
//! Dropping the last handle without `close` cancels the task: every message still pending
//! is failed with `Error::Closed` to its caller (a [`Receipt`] outlives the handles, so
//! someone may be waiting), a warning is logged and `switchyard_bus_batch_abandoned_total`
//! counts them; nothing is dropped without an answer. A batch that was in flight at that
//! moment may or may not have been published, as for any failed publish. The inner
//! publisher is not closed then: it may be shared.
//!
//! # Errors shared by a batch
//!
//! [`switchyard_core::Error`] is not `Clone`: its transport and handler variants own a
//! boxed source. When a batch of N messages fails, each of the N callers still gets an
//! `Error` of its own, of the kind and transience that the inner publisher returned. The
//! failure is taken apart once and rebuilt for each caller:
//!
//! - variants whose fields are plain data (`TooLarge`, `Timeout`, `Closed`, `QueueFull`,
//!   `UnknownDestination`, the attribute errors) are rebuilt field by field, equal to the
//!   original;
//! - `Transport` and `Handler` keep their variant and `transient` flag, and their source
//!   moves into an `Arc` that every copy shares through a [`SharedError`], which displays
//!   as the original and forwards `source()`: `Error::report` reads the same, and the
//!   original source can still be downcast with [`SharedError::downcast_ref`];
//! - anything else (`Encode` and `Decode`, whose `serde_json::Error` cannot be copied, and
//!   variants that `core` may add, since `Error` is non-exhaustive) becomes an
//!   `Error::Transport` with the original's transience, whose source is a [`SharedError`]
//!   over the whole original error. Text, chain and `is_transient` are kept; only the
//!   variant changes. Publishers seldom return these.
//!
//! A batch of one message hands its caller the original error itself.
//!
//! # Metrics
//!
//! `switchyard_bus_batch_flushes_total{reason=size|latency|flush|close}` counts sealed
//! batches, `switchyard_bus_batch_size` records each sent batch's size,
//! `switchyard_bus_batch_failures_total{transient}` counts failed batches and
//! `switchyard_bus_batch_abandoned_total` messages failed because the publisher stopped
//! without closing.

mod config;
mod driver;
mod error;
mod publisher;
mod receipt;
mod topics;

pub use self::{
    config::{BatchConfig, BatchConfigBuilder},
    error::{BatchConfigError, SharedError},
    publisher::BatchingPublisher,
    receipt::Receipt,
};

/// How the batching publisher names itself in [`Error::Closed`](switchyard_core::Error)
/// and [`Error::QueueFull`](switchyard_core::Error).
const COMPONENT: &str = "batching publisher";

fn closed() -> switchyard_core::Error {
    switchyard_core::Error::Closed {
        component: COMPONENT,
    }
}
