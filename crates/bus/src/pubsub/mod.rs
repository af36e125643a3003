//! The in-memory pub/sub: Switchyard's embedded default transport. [`MemoryPubSub`]
//! implements `switchyard_core`'s [`Publisher`](switchyard_core::Publisher) and
//! [`Subscriber`](switchyard_core::Subscriber), so anything written against those traits runs
//! with no server at all.
//!
//! ```
//! use futures::StreamExt;
//! use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SubscribeOptions};
//! use switchyard_core::Message;
//!
//! # tokio_test_block_on(async {
//! let bus = MemoryPubSub::new(PubSubConfig::builder().buffer(256).build()?);
//! let mut eu_orders = bus.subscribe_with("orders.eu.*", SubscribeOptions::default())?;
//!
//! bus.publish("orders.eu.created", Message::new("order 7")).await?;
//! let delivered = eu_orders.next().await.expect("a delivery")?;
//! assert_eq!(delivered.payload(), "order 7");
//! delivered.ack();
//! bus.close().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # Subscriptions and consumer groups
//!
//! A subscription names an exact topic (`orders.created`) or a pattern (`orders.*`,
//! `**.audit`, `re:^orders\.`; see [`switchyard_routing::pattern`]). Every subscription
//! outside a group gets every message published on a topic it matches. Subscriptions to
//! the same topic or pattern text in the same [group](SubscribeOptionsBuilder::group) share
//! the messages: each goes to one member, round-robin, skipping members whose queue is full
//! while another has room. A group is its topic and name: a publish that waits for room
//! while a group is emptied and formed again delivers to the group as it is then, as a
//! redelivery does.
//!
//! # Delivery and the ack contract
//!
//! Every delivered message carries an acker ([the contract](switchyard_core::ack)):
//!
//! - **acked:** forgotten;
//! - **nacked, or dropped unsettled:** redelivered after a delay:
//!   [`redelivery_delay`](PubSubConfigBuilder::redelivery_delay), doubled for each earlier
//!   delivery of the message, capped at
//!   [`max_redelivery_delay`](PubSubConfigBuilder::max_redelivery_delay). Never a hot loop.
//!   One task owned by the bus waits out every backoff in a single timer wheel
//!   (`tokio_util::time::DelayQueue`), not a task per message; a redelivery then goes to a
//!   member of the same group (the same subscription outside a group), ahead of messages
//!   not yet delivered.
//!
//! A message is never lost while the bus is open, with three documented, counted
//! exceptions: the [`DropOldest`](SlowConsumerPolicy::DropOldest) policy drops by choice;
//! a subscription that is dropped outside a group, or as the last member of its group,
//! takes its queued and unacked messages with it (nobody is left to deliver them to); and
//! closing discards what is queued. Delivery is at least once: a redelivered message may
//! have been processed already.
//!
//! **In-flight limit.** Each subscription holds at most
//! [`max_in_flight`](SubscribeOptionsBuilder::max_in_flight) unsettled messages (default
//! 1000); the next new message waits until one is acked. With 1, the next message is not
//! delivered until the previous one is acked, and a nacked one is redelivered before it.
//!
//! # Bounds
//!
//! - Every subscription queue is bounded by its [`buffer`](SubscribeOptionsBuilder::buffer).
//!   When it is full, the subscription's [`SlowConsumerPolicy`] decides: block the
//!   publisher up to a timeout ([`Error::Timeout`](switchyard_core::Error::Timeout)), drop
//!   the oldest (counted), or fail the publish
//!   ([`Error::QueueFull`](switchyard_core::Error::QueueFull)).
//! - A subscription holds at most twice its buffer of undelivered messages (its queue, and
//!   the batch its stream took from it), plus its in-flight slots and what it has yet to
//!   replay (at most its replay count, which the ring's capacity bounds): memory stays bounded
//!   under a slow consumer, and under one that nacks everything. Redeliveries moved to a
//!   member from another member of its group may take it past its in-flight limit by their
//!   number, which the other members' limits bound.
//! - Replay keeps at most [`replay`](PubSubConfigBuilder::replay) messages for each of at
//!   most [`max_replay_topics`](PubSubConfigBuilder::max_replay_topics) topics.
//! - Subscriptions are limited by
//!   [`max_subscriptions`](PubSubConfigBuilder::max_subscriptions); published topics by
//!   [`MAX_TOPIC_LEN`]; messages by the configured [`Limits`](switchyard_core::Limits),
//!   checked on publish ([`Error::TooLarge`](switchyard_core::Error::TooLarge)).
//!
//! # Replay
//!
//! Off by default. With [`replay`](PubSubConfigBuilder::replay) set, the bus keeps each
//! topic's last messages, and a subscription with
//! [`SubscribeOptionsBuilder::replay`] gets up to that many of them (for a pattern, the
//! last ones across the topics it matches) before live messages, each exactly once: a
//! message published while it subscribes is either replayed or delivered live, never both;
//! that holds too for a publish that waits for room while a consumer group is emptied and
//! formed again by a member that replays.
//! A consumer group replays once, to the member that forms it; members that join later
//! continue where the group is, and what a leaving member had not replayed yet goes to the
//! rest of the group.
//!
//! # Ordering
//!
//! Messages one publisher publishes one after the other (each `publish` awaited before
//! the next) on one topic reach a subscription in publish order; for a consumer group that
//! holds for the group as a whole but not per member. A redelivery comes after whatever
//! was delivered before its backoff ended, so a nacked message may arrive after newer
//! ones; with `max_in_flight = 1` nothing newer is delivered in between. Concurrent
//! publishes, or publishes on several topics, have no order among them.
//!
//! # Closing
//!
//! [`MemoryPubSub::close`] is idempotent and safe at any time, also while a stream waits
//! for an in-flight slot: every stream ends, blocked publishers fail with
//! [`Error::Closed`](switchyard_core::Error::Closed), and so do publish and subscribe from
//! then on. Dropping a [`Subscription`] unsubscribes it.
//!
//! # Hot path
//!
//! - **No wake-up per message.** A stream takes its whole queue in one lock (a `VecDeque`
//!   swap, the equivalent of `recv_many`) and delivers from that batch without locking; a
//!   publisher wakes the stream only when the stream found its queue empty and parked, and
//!   an ack wakes it only when it waits for an in-flight slot.
//! - **Allocations: one per message and subscriber at most, one per message in a
//!   fan-out up to four wide.** A message for one subscription (a redelivery, a replay)
//!   gets its acker at delivery (`switchyard_core::Acker::new`, freed soon after by the
//!   consumer that made it); a message published to several gets one block for all of
//!   them, which holds the payload and attributes once and one ack slot per subscription
//!   (a [`SlotSink`](switchyard_core::SlotSink)); past four, the slots after the fourth
//!   take a second allocation. Nothing else allocates per message once
//!   queues have grown: there is no table of in-flight messages (an acker reaches what a
//!   redelivery is made from, as reference counts), and an ack is a compare-and-swap and
//!   one atomic add, and takes no lock. A payload built from a `Vec` is made shareable once
//!   per message by `bytes`, on its first clone.
//! - **Publish** is synchronous until a queue is full under the `Block` policy; only then
//!   is a future boxed to wait. It looks the topic up without a lock (exact topics in
//!   copy-on-write maps sharded 64 ways with `arc-swap`; patterns in a routing
//!   [`PatternIndex`](switchyard_routing::pattern::PatternIndex) plus a short delta of
//!   recent subscriptions, skipped entirely while nothing subscribes to a pattern; see
//!   `registry.rs` for why), takes one short lock per receiving queue, and allocates
//!   nothing for exact topics; a topic matching patterns costs the index's list of
//!   matches. Each queue gets its own reference to the message; nothing is copied.
//!
//! `cargo xtask perf` measures it (`G1.bus_1to1`, `G2.bus_fanout4`,
//! `G1.bus_publish_10k_patterns`; see `benches/bus.rs`).

mod bus;
mod config;
mod entry;
mod error;
mod member;
mod options;
mod patterns;
mod publish;
mod queue;
mod redelivery;
mod registry;
mod replay;
mod route;
mod shared;
mod sink;
mod stats;
mod subscription;
mod target;
mod topics;

pub use bus::MemoryPubSub;
pub use config::{PubSubConfig, PubSubConfigBuilder};
pub use error::{ConfigError, TopicError};
pub use options::{MAX_GROUP_LEN, SlowConsumerPolicy, SubscribeOptions, SubscribeOptionsBuilder};
pub use stats::{PubSubSnapshot, PubSubStats, SubscriptionSnapshot, SubscriptionStats};
pub use subscription::Subscription;

/// The longest topic that can be published on, in bytes: the longest pattern that
/// subscriptions accept by default.
pub const MAX_TOPIC_LEN: usize = switchyard_routing::pattern::PatternLimits::DEFAULT_MAX_LEN;

#[cfg(test)]
mod tests;
