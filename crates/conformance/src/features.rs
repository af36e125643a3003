//! `Features`: what a transport claims to guarantee, which decides the scenarios that apply.

/// What the transport under test guarantees. Each scenario reads these flags to decide
/// whether it applies and how it runs; one that does not apply reports
/// [`Outcome::NotApplicable`](crate::Outcome::NotApplicable) rather than passing.
///
/// The flags mirror the `Features` of Watermill's universal Pub/Sub tests. The
/// [`Default`] claims nothing: every flag is `false`, so that a transport states each
/// guarantee it makes.
///
/// ```
/// use switchyard_conformance::Features;
///
/// // An in-process pub/sub: consumer groups, per-subscriber order, nothing kept on disk.
/// let features = Features {
///     consumer_groups: true,
///     guaranteed_order_single_subscriber: true,
///     ..Features::default()
/// };
/// assert!(!features.persistent);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Features {
    /// Subscribers can join a named consumer group: within a group each message goes to
    /// one member, and every group gets every message. The harness provides members through
    /// [`Harness::subscriber_in_group`](crate::Harness::subscriber_in_group).
    ///
    /// The scenarios in which successive subscribers continue where the previous one left
    /// off need a group to carry that position, and do not apply without one.
    pub consumer_groups: bool,

    /// A message that was acked is never delivered again, even across closes and
    /// restarts. Without it, duplicates are allowed (delivery is at least once); but in
    /// `publish_subscribe` and `no_ack`, a delivery that comes once every message has
    /// arrived and been acked, nothing nacked, fails, as an ack the transport did not
    /// honour. (A transport whose consumer group can rebalance in that quiet period, and
    /// redeliver what it had not committed yet, should run them with no other member.)
    pub exactly_once: bool,

    /// Messages arrive in the order they were published (every message of one publisher,
    /// whatever its partition key), and a subscription delivers the next message only once
    /// the previous one is settled: a nacked message is redelivered before anything
    /// published after it.
    pub guaranteed_order: bool,

    /// Messages that one publisher publishes with the same partition key arrive in that
    /// order at a single subscriber, as long as nothing is nacked (Kafka's per-partition
    /// order; a transport may keep more). Implied by `guaranteed_order`.
    pub guaranteed_order_single_subscriber: bool,

    /// Messages outlive their subscribers: what is published after
    /// [`Harness::prepare_topic`](crate::Harness::prepare_topic) (or
    /// [`prepare_group`](crate::Harness::prepare_group)) is kept until a subscriber reads
    /// it, and a consumer group keeps its position while it has no member. Scenarios then
    /// publish before they subscribe, as Watermill's do; without it they subscribe first.
    pub persistent: bool,

    /// The harness can restart the broker with [`Harness::restart`](crate::Harness::restart),
    /// and clients reconnect by themselves. Enables the `reconnect` scenario.
    pub restart_service: bool,

    /// A subscriber that subscribes after messages were published, with no preparation,
    /// still receives them (a log read from its start, or a replay buffer).
    pub new_subscriber_receives_old_messages: bool,

    /// The transport is one in-process instance, and every publisher and subscriber the
    /// harness hands out is that instance: closing any of them closes all of them, as
    /// closing Watermill's in-memory Pub/Sub does. The suite then never closes a client
    /// while it still needs another: a subscription that must end mid-scenario is dropped
    /// instead, and the instance is closed only at the end of a scenario.
    pub require_single_instance: bool,
}

impl Features {
    /// Whether some ordering holds for a single subscriber: `guaranteed_order` or
    /// `guaranteed_order_single_subscriber`.
    pub fn ordered_for_single_subscriber(&self) -> bool {
        self.guaranteed_order || self.guaranteed_order_single_subscriber
    }
}
