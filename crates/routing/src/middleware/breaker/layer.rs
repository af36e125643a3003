//! `CircuitBreakerLayer` and its builder: when to open, for how long, and how many probes,
//! set one by one or as a whole [`CircuitPolicy`].

use std::{fmt, sync::Arc, time::Duration};

use switchyard_core::Error;
use tower_layer::Layer;

use super::{
    CircuitBreaker, CircuitMachine, CircuitPolicy, CircuitPolicyBuilder, CircuitState, Shared,
};
use crate::middleware::{ConfigError, ErrorFilter};

/// Wraps handlers in a [`CircuitBreaker`].
///
/// - **Closed:** calls go through. After `consecutive_failures` failures in a row (or,
///   with [`failure_ratio`](CircuitBreakerLayerBuilder::failure_ratio), when too large a
///   share of the last calls failed) the circuit opens. A whole
///   [`CircuitPolicy`](super::CircuitPolicy), given to
///   [`policy`](CircuitBreakerLayerBuilder::policy), can combine a run of failures with a
///   failure rate, over calls or over a span of time.
/// - **Open:** calls fail at once with a transient
///   [`CircuitOpenError`](super::CircuitOpenError), without reaching the handler, for the
///   `cool_down`.
/// - **Half-open:** then up to `half_open_probes` calls go through (the others are refused);
///   if that many succeed the circuit closes, and the first failure opens it again.
///
/// Every error counts as a failure unless
/// [`failure_if`](CircuitBreakerLayerBuilder::failure_if) says otherwise; an error that does
/// not count is a success (the handler did answer). A call cancelled while running counts as
/// neither. Every handler the layer wraps shares the one breaker; [`state`](Self::state)
/// reports it, for health checks. Time is tokio's, so a paused clock drives the cool-down.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Error, Handler, Message, handler_fn};
/// use switchyard_routing::middleware::breaker::{CircuitBreakerLayer, CircuitState};
/// use tower_layer::Layer;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let breaker = CircuitBreakerLayer::builder()
///     .name("payments")
///     .consecutive_failures(2)
///     .cool_down(Duration::from_secs(30))
///     .build()?;
/// let handler = breaker.layer(handler_fn(|_message: Message| async {
///     Err::<Vec<Message>, _>(Error::transient_handler("payment service down"))
/// }));
///
/// for _ in 0..2 {
///     handler.handle(&Message::new("x")).await.unwrap_err();
/// }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// tokio::time::advance(Duration::from_secs(30)).await;
/// assert_eq!(breaker.state(), CircuitState::HalfOpen);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CircuitBreakerLayer {
    shared: Arc<Shared>,
}

impl CircuitBreakerLayer {
    /// A builder with the defaults: named `circuit`, opens after 5 failures in a row, for
    /// 30 s, then 1 probe.
    pub fn builder() -> CircuitBreakerLayerBuilder {
        CircuitBreakerLayerBuilder {
            name: "circuit".to_owned(),
            trip: Trip::Consecutive(5),
            cool_down: Duration::from_secs(30),
            probes: 1,
            failure_if: None,
        }
    }

    /// The state that a call arriving now would find.
    pub fn state(&self) -> CircuitState {
        self.shared.state()
    }

    /// How many calls the breaker refused so far.
    pub fn rejected(&self) -> u64 {
        self.shared.rejected()
    }

    /// The breaker's name, as logs and metrics label it.
    pub fn name(&self) -> &str {
        &self.shared.name
    }
}

impl<H> Layer<H> for CircuitBreakerLayer {
    type Service = CircuitBreaker<H>;

    fn layer(&self, inner: H) -> CircuitBreaker<H> {
        CircuitBreaker {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The layer's trip rules: the failure run, the ratio, or those of a whole policy,
/// whichever was set last.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trip {
    Consecutive(u32),
    Ratio { ratio: f64, window: u32 },
    Policy(CircuitPolicy),
}

/// Builds a [`CircuitBreakerLayer`]; created by [`CircuitBreakerLayer::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct CircuitBreakerLayerBuilder {
    name: String,
    trip: Trip,
    cool_down: Duration,
    probes: u32,
    failure_if: Option<ErrorFilter>,
}

impl CircuitBreakerLayerBuilder {
    /// The largest [`failure_ratio`](Self::failure_ratio) window, in calls.
    pub const MAX_WINDOW: u32 = CircuitPolicy::MAX_WINDOW_CALLS;

    /// The name in logs, errors and the `breaker` metrics label. It comes from your code,
    /// not from messages; keep it short and fixed. Must not be empty.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Opens after `failures` failures in a row. Must not be zero. Replaces a
    /// [`failure_ratio`](Self::failure_ratio), and the trip rules of a
    /// [`policy`](Self::policy).
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.trip = Trip::Consecutive(failures);
        self
    }

    /// Opens when at least `ratio` (in `(0, 1]`) of the last `window` calls failed, judged
    /// after each failure once `window` calls were made since the circuit last closed. `window` must not be
    /// zero nor above [`MAX_WINDOW`](Self::MAX_WINDOW). Replaces a [`consecutive_failures`](Self::consecutive_failures),
    /// and the trip rules of a [`policy`](Self::policy).
    pub fn failure_ratio(mut self, ratio: f64, window: u32) -> Self {
        self.trip = Trip::Ratio { ratio, window };
        self
    }

    /// Takes the trip rules, cool-down and probes of `policy`, which can open on a run of
    /// failures and on a failure rate at once, or on a rate over a span of time (see
    /// [`CircuitPolicyBuilder`](super::CircuitPolicyBuilder)). Replaces the rule of
    /// [`consecutive_failures`](Self::consecutive_failures) or
    /// [`failure_ratio`](Self::failure_ratio), and the cool-down and probes set so far;
    /// [`cool_down`](Self::cool_down) and [`half_open_probes`](Self::half_open_probes) called
    /// afterwards change the policy's.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use switchyard_routing::middleware::breaker::{CircuitBreakerLayer, CircuitPolicy};
    ///
    /// let policy = CircuitPolicy::builder()
    ///     .consecutive_failures(5)
    ///     .failure_rate_over(0.5, Duration::from_secs(60), 20)
    ///     .build()?;
    /// let breaker = CircuitBreakerLayer::builder()
    ///     .name("payments")
    ///     .policy(policy)
    ///     .build()?;
    /// # let _ = breaker;
    /// # Ok::<(), switchyard_routing::middleware::ConfigError>(())
    /// ```
    pub fn policy(mut self, policy: CircuitPolicy) -> Self {
        self.trip = Trip::Policy(policy);
        self.cool_down = policy.cool_down();
        self.probes = policy.half_open_probes();
        self
    }

    /// How long the circuit stays open before probing. Must not be zero nor above
    /// [`CircuitPolicy::MAX_DURATION`] (a year).
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }

    /// How many probe calls half-open lets through, and how many must succeed to close.
    /// Must not be zero.
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.probes = probes;
        self
    }

    /// Counts only the errors for which `predicate` is true as failures, for example
    /// `Error::is_transient` to ignore bad messages.
    pub fn failure_if(
        mut self,
        predicate: impl Fn(&Error) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.failure_if = Some(Arc::new(predicate));
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<CircuitBreakerLayer, ConfigError> {
        if self.name.is_empty() {
            return Err(ConfigError::Empty { setting: "name" });
        }
        let policy = match self.trip {
            Trip::Consecutive(failures) => CircuitPolicy::builder().consecutive_failures(failures),
            Trip::Ratio { ratio, window } => CircuitPolicy::builder().failure_ratio(ratio, window),
            Trip::Policy(policy) => CircuitPolicyBuilder::from_policy(policy),
        }
        .cool_down(self.cool_down)
        .half_open_probes(self.probes)
        .build()?;
        Ok(CircuitBreakerLayer {
            shared: Arc::new(Shared::new(
                self.name,
                CircuitMachine::new(policy),
                self.failure_if,
            )),
        })
    }
}

impl fmt::Debug for CircuitBreakerLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayerBuilder")
            .field("name", &self.name)
            .field("trip", &self.trip)
            .field("cool_down", &self.cool_down)
            .field("probes", &self.probes)
            .field("custom_failure_if", &self.failure_if.is_some())
            .finish()
    }
}
