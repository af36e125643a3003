//! [`PubSubConfig`]: the bus-wide settings of a [`MemoryPubSub`](super::MemoryPubSub), with
//! documented defaults, validated when built.

use std::time::Duration;

use switchyard_core::Limits;

use super::{error::ConfigError, options::SlowConsumerPolicy};

/// The settings of a [`MemoryPubSub`](super::MemoryPubSub).
///
/// Built with [`PubSubConfig::builder`], which validates on `build`. `Default` gives the
/// documented defaults, each a sensible production value:
///
/// | setting | default | why |
/// | --- | --- | --- |
/// | [`limits`](PubSubConfigBuilder::limits) | [`Limits::default`] (1 MiB payload) | what brokers accept by default |
/// | [`buffer`](PubSubConfigBuilder::buffer) | [`DEFAULT_BUFFER`](Self::DEFAULT_BUFFER) = 1024 messages | absorbs bursts; bounded |
/// | [`policy`](PubSubConfigBuilder::policy) | block up to [`DEFAULT_BLOCK_TIMEOUT`](Self::DEFAULT_BLOCK_TIMEOUT) = 1 s | backpressure, never a silent drop |
/// | [`max_in_flight`](PubSubConfigBuilder::max_in_flight) | [`DEFAULT_MAX_IN_FLIGHT`](Self::DEFAULT_MAX_IN_FLIGHT) = 1000 | NATS JetStream's `MaxAckPending` default |
/// | [`redelivery_delay`](PubSubConfigBuilder::redelivery_delay) | 100 ms | no hot loop on a nack |
/// | [`max_redelivery_delay`](PubSubConfigBuilder::max_redelivery_delay) | 10 s | the backoff's cap |
/// | [`replay`](PubSubConfigBuilder::replay) | 0: off | replay costs memory per topic |
/// | [`max_replay_topics`](PubSubConfigBuilder::max_replay_topics) | 1024 | bounds the replay rings |
/// | [`replay_on_subscribe`](PubSubConfigBuilder::replay_on_subscribe) | 0 | |
/// | [`max_subscriptions`](PubSubConfigBuilder::max_subscriptions) | 65 536 | bounds the subscription tables |
/// | [`close_timeout`](PubSubConfigBuilder::close_timeout) | 5 s | how long `close` waits for its task |
///
/// ```
/// use std::time::Duration;
/// use switchyard_bus::pubsub::{ConfigError, PubSubConfig, SlowConsumerPolicy};
///
/// let config = PubSubConfig::builder()
///     .buffer(256)
///     .policy(SlowConsumerPolicy::Fail)
///     .redelivery_delay(Duration::from_millis(10))
///     .replay(100)
///     .build()?;
/// assert_eq!(config.buffer(), 256);
/// assert_eq!(config.max_in_flight(), PubSubConfig::DEFAULT_MAX_IN_FLIGHT);
///
/// assert_eq!(
///     PubSubConfig::builder().buffer(0).build().unwrap_err(),
///     ConfigError::Zero { field: "buffer" }
/// );
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubSubConfig {
    limits: Limits,
    buffer: usize,
    policy: SlowConsumerPolicy,
    max_in_flight: usize,
    redelivery_delay: Duration,
    max_redelivery_delay: Duration,
    replay_capacity: usize,
    max_replay_topics: usize,
    replay_on_subscribe: usize,
    max_subscriptions: usize,
    close_timeout: Duration,
}

impl PubSubConfig {
    /// The default queue size of a subscription, in messages.
    pub const DEFAULT_BUFFER: usize = 1024;
    /// How long a publish waits for room under the default policy.
    pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_secs(1);
    /// The default limit on unacked deliveries per subscription.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;
    /// The default delay before the first redelivery of a nacked message.
    pub const DEFAULT_REDELIVERY_DELAY: Duration = Duration::from_millis(100);
    /// The default cap on the redelivery delay.
    pub const DEFAULT_MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(10);
    /// The default number of topics that keep a replay ring.
    pub const DEFAULT_MAX_REPLAY_TOPICS: usize = 1024;
    /// The default limit on live subscriptions.
    pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 65_536;
    /// How long `close` waits for the bus's task by default.
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
    /// The longest redelivery delay, whatever the settings: 30 days, far inside the range of
    /// the redelivery timer (about two years from the last time it moved), so that
    /// `Duration::MAX` can say "no cap".
    pub const MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// A builder holding the defaults.
    pub fn builder() -> PubSubConfigBuilder {
        PubSubConfigBuilder {
            config: PubSubConfig {
                limits: Limits::new(),
                buffer: Self::DEFAULT_BUFFER,
                policy: SlowConsumerPolicy::Block {
                    timeout: Self::DEFAULT_BLOCK_TIMEOUT,
                },
                max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
                redelivery_delay: Self::DEFAULT_REDELIVERY_DELAY,
                max_redelivery_delay: Self::DEFAULT_MAX_REDELIVERY_DELAY,
                replay_capacity: 0,
                max_replay_topics: Self::DEFAULT_MAX_REPLAY_TOPICS,
                replay_on_subscribe: 0,
                max_subscriptions: Self::DEFAULT_MAX_SUBSCRIPTIONS,
                close_timeout: Self::DEFAULT_CLOSE_TIMEOUT,
            },
        }
    }

    /// The size limits checked on publish.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The default queue size of a subscription.
    pub fn buffer(&self) -> usize {
        self.buffer
    }

    /// The default slow-consumer policy.
    pub fn policy(&self) -> SlowConsumerPolicy {
        self.policy
    }

    /// The default limit on unacked deliveries per subscription.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The delay before the first redelivery of a nacked message.
    pub fn redelivery_delay(&self) -> Duration {
        self.redelivery_delay
    }

    /// The cap on the redelivery delay.
    pub fn max_redelivery_delay(&self) -> Duration {
        self.max_redelivery_delay
    }

    /// How many recent messages each topic keeps for replay; 0 when replay is off.
    pub fn replay_capacity(&self) -> usize {
        self.replay_capacity
    }

    /// How many topics keep a replay ring at most.
    pub fn max_replay_topics(&self) -> usize {
        self.max_replay_topics
    }

    /// How many messages a subscription replays when its options do not say.
    pub fn replay_on_subscribe(&self) -> usize {
        self.replay_on_subscribe
    }

    /// The limit on live subscriptions.
    pub fn max_subscriptions(&self) -> usize {
        self.max_subscriptions
    }

    /// How long `close` waits for the bus's task to stop.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The delay before redelivering a message nacked after its `deliveries`-th delivery:
    /// [`redelivery_delay`](Self::redelivery_delay) doubled for each earlier delivery,
    /// capped at [`max_redelivery_delay`](Self::max_redelivery_delay), and at
    /// [`MAX_REDELIVERY_DELAY`](Self::MAX_REDELIVERY_DELAY) whatever the settings.
    pub fn backoff(&self, deliveries: u32) -> Duration {
        let doublings = deliveries.saturating_sub(1).min(31);
        self.redelivery_delay
            .saturating_mul(1 << doublings)
            .min(self.max_redelivery_delay)
            .min(Self::MAX_REDELIVERY_DELAY)
    }
}

impl Default for PubSubConfig {
    fn default() -> Self {
        Self::builder().config
    }
}

/// Builds a [`PubSubConfig`]; see there for the defaults.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PubSubConfigBuilder {
    config: PubSubConfig,
}

impl PubSubConfigBuilder {
    /// The size limits checked on publish: a larger message fails with
    /// [`Error::TooLarge`](switchyard_core::Error::TooLarge).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// The queue size of subscriptions that do not set theirs; not zero.
    pub fn buffer(mut self, messages: usize) -> Self {
        self.config.buffer = messages;
        self
    }

    /// The slow-consumer policy of subscriptions that do not set theirs.
    pub fn policy(mut self, policy: SlowConsumerPolicy) -> Self {
        self.config.policy = policy;
        self
    }

    /// The limit on unacked deliveries of subscriptions that do not set theirs; not zero.
    pub fn max_in_flight(mut self, messages: usize) -> Self {
        self.config.max_in_flight = messages;
        self
    }

    /// The delay before the first redelivery of a nacked or dropped message; it doubles on
    /// each further redelivery of the same message. Not zero: a nack never causes a hot
    /// loop.
    pub fn redelivery_delay(mut self, delay: Duration) -> Self {
        self.config.redelivery_delay = delay;
        self
    }

    /// The cap on the redelivery delay; at least the [`redelivery_delay`](Self::redelivery_delay).
    /// Delays never exceed [`PubSubConfig::MAX_REDELIVERY_DELAY`], 30 days, so
    /// `Duration::MAX` means "no cap".
    pub fn max_redelivery_delay(mut self, delay: Duration) -> Self {
        self.config.max_redelivery_delay = delay;
        self
    }

    /// Keeps the last `messages` of each topic for subscribers that ask to replay them;
    /// 0 (the default) turns replay off. Costs one short lock per publish while on.
    pub fn replay(mut self, messages: usize) -> Self {
        self.config.replay_capacity = messages;
        self
    }

    /// How many topics keep a replay ring; past it, the ring of the topic published least
    /// recently is dropped. Not zero.
    pub fn max_replay_topics(mut self, topics: usize) -> Self {
        self.config.max_replay_topics = topics;
        self
    }

    /// How many past messages a subscription replays when its options do not say, which
    /// is what [`Subscriber::subscribe`](switchyard_core::Subscriber::subscribe) gets. At
    /// most the [`replay`](Self::replay) capacity.
    pub fn replay_on_subscribe(mut self, messages: usize) -> Self {
        self.config.replay_on_subscribe = messages;
        self
    }

    /// The limit on live subscriptions; a subscribe beyond it fails with
    /// [`Error::QueueFull`](switchyard_core::Error::QueueFull). Not zero.
    pub fn max_subscriptions(mut self, subscriptions: usize) -> Self {
        self.config.max_subscriptions = subscriptions;
        self
    }

    /// How long `close` waits for the bus's redelivery task to stop. Not zero.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting that is zero where it must not be, or
    /// inconsistent with another.
    pub fn build(self) -> Result<PubSubConfig, ConfigError> {
        let config = self.config;
        let zero = [
            ("buffer", config.buffer == 0),
            ("max_in_flight", config.max_in_flight == 0),
            ("redelivery_delay", config.redelivery_delay.is_zero()),
            ("max_replay_topics", config.max_replay_topics == 0),
            ("max_subscriptions", config.max_subscriptions == 0),
            ("close_timeout", config.close_timeout.is_zero()),
        ];
        if let Some((field, _)) = zero.into_iter().find(|(_, is_zero)| *is_zero) {
            return Err(ConfigError::Zero { field });
        }
        config.policy.validate()?;
        if config.max_redelivery_delay < config.redelivery_delay {
            return Err(ConfigError::Invalid {
                field: "max_redelivery_delay",
                reason: "it is shorter than redelivery_delay",
            });
        }
        if config.replay_on_subscribe > config.replay_capacity {
            return Err(ConfigError::Invalid {
                field: "replay_on_subscribe",
                reason: "it is larger than the replay capacity",
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
