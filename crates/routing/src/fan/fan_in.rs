//! [`FanIn`]: merges named input streams into one stream, concurrently or in fair
//! round-robin, with backpressure and cancellation.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::stream::{FusedStream, SelectAll, Stream, StreamExt};
use tokio_util::sync::WaitForCancellationFutureOwned;

mod builder;
mod named;
mod round_robin;

pub use builder::FanInBuilder;
use named::Named;
use round_robin::RoundRobin;

/// How a [`FanIn`] chooses among inputs that have items ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FanInMode {
    /// Forward items as they arrive. Only inputs that woke up are polled, so the cost per
    /// item does not grow with the number of inputs; inputs that are ready together are
    /// served in roughly the order they woke, with no strict guarantee. The default.
    #[default]
    Concurrent,
    /// Strict rotation: each poll goes around the inputs from where the last one stopped
    /// and takes at most one item from the first input that has one, so an input with a
    /// flood of ready items never starves the others (two always-ready inputs alternate).
    /// Each item may poll every input once, so the cost per item grows with their number.
    RoundRobin,
}

/// One item of a [`FanIn`]'s output, tagged with the name of the input it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged<T> {
    /// The name the input was registered under.
    pub input: Arc<str>,
    /// The item.
    pub item: T,
}

/// Merges named input streams into one [`Stream`] of [`Tagged`] items.
///
/// Build it with [`FanIn::builder`], giving each input a unique name, then consume it as a
/// stream. The engine merges its subscribers' [`MessageStream`]s this way, so
/// `T` is then `switchyard_core::Result<Message>`; any `Send` stream works.
///
/// # Design: a stream, not tasks and a channel
///
/// The merge is done by polling the inputs from the consumer's own `poll_next`
/// ([`SelectAll`] for [`FanInMode::Concurrent`], a hand-written rotation for
/// [`FanInMode::RoundRobin`]), not by spawning a task per input that forwards into a
/// channel as the seed does. That choice gives, by construction:
///
/// - **Nothing to own.** No task is spawned, so there is nothing to track, cancel or await
///   on shutdown, and nothing can leak. Dropping the `FanIn` drops every input at once.
/// - **Exact backpressure, no buffer.** An item is pulled from an input only when the
///   consumer asks for one, and handed over at once: the `FanIn` holds no item between
///   polls, so a slow consumer slows every input down and nothing is buffered, without a
///   buffer size to tune. (A consumer that wants read-ahead puts a bounded channel after
///   the `FanIn` itself.) For the same reason there is no `buffer` setting.
/// - **Cancel safety.** `next()` may be dropped in a `tokio::select!` without losing an
///   item, so a consumer can race the `FanIn` against its own loop queue or a shutdown
///   signal.
///
/// The price is that inputs only make progress while the consumer polls, which is what
/// backpressure asks for; a transport whose connection needs driving independently does
/// that in its own task behind its stream.
///
/// # Ending
///
/// The stream ends when every input has ended, or as soon as the
/// [`CancellationToken`](tokio_util::sync::CancellationToken) given to
/// [`FanInBuilder::cancel_on`] is cancelled, even if items are ready; the inputs are
/// dropped then. Each input's own items keep their order in both modes.
///
/// ```
/// use futures::{StreamExt, stream};
/// use switchyard_routing::fan::{FanIn, FanInMode};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), switchyard_routing::fan::BuildError> {
/// let merged = FanIn::builder()
///     .mode(FanInMode::RoundRobin)
///     .input("orders", stream::iter([1, 2]))
///     .input("payments", stream::iter([10, 20]))
///     .build()?;
/// let order: Vec<(String, i32)> = merged
///     .map(|tagged| (tagged.input.to_string(), tagged.item))
///     .collect()
///     .await;
/// assert_eq!(
///     order,
///     [("orders".into(), 1), ("payments".into(), 10), ("orders".into(), 2), ("payments".into(), 20)]
/// );
/// # Ok(())
/// # }
/// ```
///
/// [`MessageStream`]: switchyard_core::MessageStream
pub struct FanIn<T> {
    mode: FanInMode,
    /// `None` once the output has ended.
    inputs: Option<Inputs<T>>,
    /// The cancellation to watch, if any; `None` once the output has ended.
    cancelled: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
}

/// The inputs still open, in the structure that their mode polls.
enum Inputs<T> {
    Concurrent(SelectAll<Named<T>>),
    RoundRobin(RoundRobin<T>),
}

impl<T> FanIn<T> {
    /// A builder; see [`FanInBuilder`].
    pub fn builder() -> FanInBuilder<T> {
        FanInBuilder::default()
    }

    /// The mode.
    pub fn mode(&self) -> FanInMode {
        self.mode
    }

    /// How many inputs have not ended yet; 0 once the output has ended.
    pub fn open_inputs(&self) -> usize {
        match &self.inputs {
            Some(Inputs::Concurrent(inputs)) => inputs.len(),
            Some(Inputs::RoundRobin(inputs)) => inputs.len(),
            None => 0,
        }
    }

    /// The names of the inputs that have not ended yet, in no particular order.
    pub fn open_input_names(&self) -> Vec<Arc<str>> {
        match &self.inputs {
            Some(Inputs::Concurrent(inputs)) => {
                inputs.iter().map(|input| input.name().clone()).collect()
            }
            Some(Inputs::RoundRobin(inputs)) => inputs.names().cloned().collect(),
            None => Vec::new(),
        }
    }

    /// Drops every input and ends the output.
    fn finish(&mut self) {
        self.inputs = None;
        self.cancelled = None;
    }
}

impl<T> Stream for FanIn<T> {
    type Item = Tagged<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // Cancellation is looked at first, so that a flood of ready items cannot delay it.
        if let Some(cancelled) = &mut this.cancelled
            && cancelled.as_mut().poll(cx).is_ready()
        {
            this.finish();
        }
        let next = match &mut this.inputs {
            Some(Inputs::Concurrent(inputs)) => inputs.poll_next_unpin(cx),
            Some(Inputs::RoundRobin(inputs)) => inputs.poll_next(cx),
            None => return Poll::Ready(None),
        };
        if let Poll::Ready(None) = next {
            this.finish();
        }
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.inputs {
            Some(_) => (0, None),
            None => (0, Some(0)),
        }
    }
}

impl<T> FusedStream for FanIn<T> {
    fn is_terminated(&self) -> bool {
        self.inputs.is_none()
    }
}

impl<T> fmt::Debug for FanIn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanIn")
            .field("mode", &self.mode)
            .field("open_inputs", &self.open_input_names())
            .field("cancellable", &self.cancelled.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests;
