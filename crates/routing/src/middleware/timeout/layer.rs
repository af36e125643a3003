//! `TimeoutLayer`: the deadline setting.

use std::time::Duration;

use tower_layer::Layer;

use super::Timeout;
use crate::middleware::{ConfigError, error::non_zero};

/// Wraps handlers in [`Timeout`]: each call that runs longer than the deadline is dropped
/// and fails with [`Error::Timeout`](switchyard_core::Error::Timeout).
///
/// Dropping the call cancels whatever it was awaiting; work it handed to another task keeps
/// running. Under [retry](crate::middleware::retry), put the timeout inside so that each
/// attempt gets the whole deadline.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Error, Handler, Message, handler_fn};
/// use switchyard_routing::middleware::timeout::TimeoutLayer;
/// use tower_layer::Layer;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let slow = TimeoutLayer::new(Duration::from_secs(1))?.layer(handler_fn(|_message: Message| async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     Ok(vec![])
/// }));
/// let err = slow.handle(&Message::new("x")).await.unwrap_err();
/// assert!(matches!(err, Error::Timeout { .. }) && err.is_transient());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    /// A layer whose calls fail after `after`; [`ConfigError::Zero`] if it is zero.
    pub fn new(after: Duration) -> Result<Self, ConfigError> {
        Ok(Self {
            after: non_zero("after", after)?,
        })
    }
}

impl<H> Layer<H> for TimeoutLayer {
    type Service = Timeout<H>;

    fn layer(&self, inner: H) -> Timeout<H> {
        Timeout {
            inner,
            after: self.after,
        }
    }
}
