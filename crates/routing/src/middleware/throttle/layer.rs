//! `ThrottleLayer` and its builder: the rate and the longest wait.

use std::{sync::Arc, time::Duration};

use tower_layer::Layer;

use super::{Shared, Throttle, limiter::SlidingLog};
use crate::middleware::{ConfigError, error::non_zero};

/// Wraps handlers in [`Throttle`]: at most `calls` handler calls start in any window of one
/// `period`.
///
/// A call over the rate waits for its turn, in arrival order; one whose turn is more than
/// `max_wait` away fails at once with a transient
/// [`ThrottledError`](super::ThrottledError), so that waiting is bounded. Every handler the
/// layer wraps, and every clone of the layer, shares the one rate.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Handler, Message, handler_fn};
/// use switchyard_routing::middleware::throttle::ThrottleLayer;
/// use tokio::time::Instant;
/// use tower_layer::Layer;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let throttle = ThrottleLayer::builder(2, Duration::from_secs(1)).build()?;
/// let handler = throttle.layer(handler_fn(|_message: Message| async { Ok(vec![]) }));
/// let start = Instant::now();
/// for _ in 0..4 {
///     handler.handle(&Message::new("x")).await?;
/// }
/// assert_eq!(start.elapsed(), Duration::from_secs(1), "two now, two a period later");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ThrottleLayer {
    shared: Arc<Shared>,
}

impl ThrottleLayer {
    /// A builder for a rate of `calls` per `period`.
    pub fn builder(calls: u32, period: Duration) -> ThrottleLayerBuilder {
        ThrottleLayerBuilder {
            calls,
            period,
            max_wait: ThrottleLayerBuilder::DEFAULT_MAX_WAIT,
        }
    }
}

impl<H> Layer<H> for ThrottleLayer {
    type Service = Throttle<H>;

    fn layer(&self, inner: H) -> Throttle<H> {
        Throttle {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Builds a [`ThrottleLayer`]; created by [`ThrottleLayer::builder`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThrottleLayerBuilder {
    calls: u32,
    period: Duration,
    max_wait: Duration,
}

impl ThrottleLayerBuilder {
    /// The longest a call waits for its turn by default: 30 s.
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30);

    /// The most calls per period: the limiter keeps one instant per call of a period (and
    /// one per caller waiting for its turn).
    pub const MAX_CALLS: u32 = 100_000;

    /// The longest a call waits for its turn before it fails. Zero means never wait: a call
    /// over the rate fails at once.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<ThrottleLayer, ConfigError> {
        let calls = non_zero("calls", self.calls)?;
        let period = non_zero("period", self.period)?;
        // The limiter remembers the last `calls` grants (and the waiting callers' turns):
        // bound that memory.
        if calls > Self::MAX_CALLS {
            return Err(ConfigError::OutOfRange {
                setting: "calls",
                reason: "must be at most 100000 per period; use a shorter period",
            });
        }
        let calls = usize::try_from(calls).map_err(|_| ConfigError::OutOfRange {
            setting: "calls",
            reason: "must fit in memory on this platform",
        })?;
        Ok(ThrottleLayer {
            shared: Arc::new(Shared::new(SlidingLog::new(calls, period), self.max_wait)),
        })
    }
}
