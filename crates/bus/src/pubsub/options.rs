//! Per-subscription options: consumer group, slow-consumer policy, queue size, in-flight
//! limit and replay, each falling back to the bus's default when not set.

use std::{fmt, sync::Arc, time::Duration};

use super::{config::PubSubConfig, error::ConfigError};

/// The longest consumer group name accepted, in bytes.
pub const MAX_GROUP_LEN: usize = 256;

/// What a publish does when a subscription's queue is full.
///
/// The policy belongs to the subscription, so a slow consumer only ever costs what its own
/// subscriber chose. In a consumer group a full member is skipped when another member has
/// room; only when every member is full does the policy of the member whose turn it was
/// apply.
///
/// ```
/// use std::time::Duration;
/// use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};
///
/// let options = SubscribeOptions::builder()
///     .policy(SlowConsumerPolicy::Block { timeout: Duration::from_millis(50) })
///     .build()?;
/// assert_eq!(
///     options.policy(),
///     Some(SlowConsumerPolicy::Block { timeout: Duration::from_millis(50) })
/// );
/// # Ok::<(), switchyard_bus::pubsub::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlowConsumerPolicy {
    /// The publisher waits for room, up to `timeout`, then fails with
    /// [`Error::Timeout`](switchyard_core::Error::Timeout). Backpressure: a slow consumer
    /// slows its publishers.
    Block {
        /// How long a publish waits for room; not zero.
        timeout: Duration,
    },
    /// The oldest queued message is dropped to make room. Each drop is counted in
    /// [`SubscriptionStats::dropped`](super::SubscriptionStats::dropped) and in the
    /// `switchyard_bus_pubsub_dropped_total{reason="drop_oldest"}` counter, and the dropped
    /// message is not redelivered: it was never delivered, and the policy chose to lose it.
    DropOldest,
    /// The publish fails at once with [`Error::QueueFull`](switchyard_core::Error::QueueFull).
    Fail,
}

impl SlowConsumerPolicy {
    pub(super) fn validate(self) -> Result<Self, ConfigError> {
        match self {
            SlowConsumerPolicy::Block { timeout } if timeout.is_zero() => Err(ConfigError::Zero {
                field: "policy timeout",
            }),
            policy => Ok(policy),
        }
    }
}

impl fmt::Display for SlowConsumerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlowConsumerPolicy::Block { timeout } => write!(f, "block up to {timeout:?}"),
            SlowConsumerPolicy::DropOldest => f.write_str("drop oldest"),
            SlowConsumerPolicy::Fail => f.write_str("fail"),
        }
    }
}

/// How one subscription receives: made by [`SubscribeOptions::builder`] and passed to
/// [`MemoryPubSub::subscribe_with`](super::MemoryPubSub::subscribe_with).
///
/// Every setting left unset takes the bus's default from its
/// [`PubSubConfig`]; `SubscribeOptions::default()` is a subscription outside any group
/// that replays nothing.
///
/// ```
/// use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};
///
/// let options = SubscribeOptions::builder()
///     .group("billing")
///     .policy(SlowConsumerPolicy::DropOldest)
///     .buffer(64)
///     .max_in_flight(1)
///     .replay(10)
///     .build()?;
/// assert_eq!(options.group(), Some("billing"));
/// assert_eq!(options.buffer(), Some(64));
/// assert!(SubscribeOptions::builder().buffer(0).build().is_err());
/// # Ok::<(), switchyard_bus::pubsub::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeOptions {
    group: Option<Arc<str>>,
    policy: Option<SlowConsumerPolicy>,
    buffer: Option<usize>,
    max_in_flight: Option<usize>,
    replay: Option<usize>,
}

impl SubscribeOptions {
    /// A builder with nothing set.
    pub fn builder() -> SubscribeOptionsBuilder {
        SubscribeOptionsBuilder::default()
    }

    /// The consumer group, if any.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The slow-consumer policy, if set.
    pub fn policy(&self) -> Option<SlowConsumerPolicy> {
        self.policy
    }

    /// The queue size, if set.
    pub fn buffer(&self) -> Option<usize> {
        self.buffer
    }

    /// The in-flight limit, if set.
    pub fn max_in_flight(&self) -> Option<usize> {
        self.max_in_flight
    }

    /// How many past messages to replay, if set.
    pub fn replay(&self) -> Option<usize> {
        self.replay
    }

    /// These options with every unset value taken from `config`.
    pub(super) fn resolve(&self, config: &PubSubConfig) -> Resolved {
        Resolved {
            group: self.group.clone(),
            policy: self.policy.unwrap_or(config.policy()),
            buffer: self.buffer.unwrap_or(config.buffer()),
            max_in_flight: self.max_in_flight.unwrap_or(config.max_in_flight()),
            // Never more than the ring keeps.
            replay: self
                .replay
                .unwrap_or(config.replay_on_subscribe())
                .min(config.replay_capacity()),
        }
    }
}

/// Options with the bus's defaults filled in.
#[derive(Debug, Clone)]
pub(super) struct Resolved {
    pub(super) group: Option<Arc<str>>,
    pub(super) policy: SlowConsumerPolicy,
    pub(super) buffer: usize,
    pub(super) max_in_flight: usize,
    pub(super) replay: usize,
}

/// Builds [`SubscribeOptions`]; validated on [`build`](Self::build).
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SubscribeOptionsBuilder {
    options: SubscribeOptions,
    group: Option<String>,
}

impl SubscribeOptionsBuilder {
    /// Joins the consumer group `name`: among the subscriptions to the same topic (or
    /// pattern) in the same group, each message goes to one member, round-robin. Not empty,
    /// at most [`MAX_GROUP_LEN`] bytes.
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = Some(name.into());
        self
    }

    /// What a publish does when this subscription's queue is full.
    pub fn policy(mut self, policy: SlowConsumerPolicy) -> Self {
        self.options.policy = Some(policy);
        self
    }

    /// How many messages the subscription's queue holds; not zero.
    pub fn buffer(mut self, messages: usize) -> Self {
        self.options.buffer = Some(messages);
        self
    }

    /// How many delivered messages may be unacked at once; the next delivery waits while
    /// the limit is reached. With 1, the next message is not delivered until the previous
    /// one is acked (a nacked one is redelivered first). Not zero.
    pub fn max_in_flight(mut self, messages: usize) -> Self {
        self.options.max_in_flight = Some(messages);
        self
    }

    /// Replays up to `messages` of the topic's most recent messages before live ones, as
    /// far as the bus keeps them (see [`PubSubConfigBuilder::replay`]); 0 replays none. In
    /// a consumer group only the member that forms the group replays.
    ///
    /// [`PubSubConfigBuilder::replay`]: super::PubSubConfigBuilder::replay
    pub fn replay(mut self, messages: usize) -> Self {
        self.options.replay = Some(messages);
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a zero buffer, in-flight limit or block timeout, or a group
    /// name that is empty or too long.
    pub fn build(self) -> Result<SubscribeOptions, ConfigError> {
        let mut options = self.options;
        if let Some(group) = self.group {
            if group.is_empty() {
                return Err(ConfigError::Invalid {
                    field: "group",
                    reason: "the name is empty",
                });
            }
            if group.len() > MAX_GROUP_LEN {
                return Err(ConfigError::Invalid {
                    field: "group",
                    reason: "the name is longer than 256 bytes",
                });
            }
            options.group = Some(group.into());
        }
        if options.buffer == Some(0) {
            return Err(ConfigError::Zero { field: "buffer" });
        }
        if options.max_in_flight == Some(0) {
            return Err(ConfigError::Zero {
                field: "max_in_flight",
            });
        }
        if let Some(policy) = options.policy {
            policy.validate()?;
        }
        Ok(options)
    }
}
