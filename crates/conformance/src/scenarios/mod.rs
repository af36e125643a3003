//! The scenarios of the suite, one public function each, and the list that
//! [`run_all`](crate::run_all) runs.
//!
//! Each function runs one scenario on a harness and returns its [`Outcome`], or panics
//! with what it observed. Each is bounded by [`SuiteConfig::scenario_timeout`], and every
//! wait inside it by the other deadlines of the [`SuiteConfig`].
//!
//! Wherever a scenario closes a subscriber (or, with
//! [`require_single_instance`](crate::Features::require_single_instance), the instance),
//! it then expects each of its streams to end within [`SuiteConfig::close_timeout`] with no
//! further delivery: a message delivered after `close` returned fails the scenario.

mod acking;
mod basic;
mod concurrency;
mod groups;
mod handover;
mod lifecycle;
mod order;
mod persistence;

#[cfg(test)]
mod tests;

use std::fmt;

use futures::future::BoxFuture;

use crate::{Features, Harness, Outcome, SuiteConfig, ctx::Ctx};

/// The signature shared by every scenario function.
pub type ScenarioFn =
    for<'a> fn(&'a dyn Harness, Features, &'a SuiteConfig) -> BoxFuture<'a, Outcome>;

/// One scenario: its name and how to run it.
#[derive(Clone, Copy)]
pub struct Scenario {
    name: &'static str,
    run: ScenarioFn,
}

impl Scenario {
    /// The scenario's name, which is also the name of its function in this module.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the scenario; see the function of the same name.
    pub fn run<'a>(
        &self,
        harness: &'a dyn Harness,
        features: Features,
        config: &'a SuiteConfig,
    ) -> BoxFuture<'a, Outcome> {
        (self.run)(harness, features, config)
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .finish()
    }
}

/// Defines one public function per scenario, and [`ALL`].
macro_rules! scenarios {
    ($( $(#[doc = $doc:literal])* $name:ident => $implementation:path; )*) => {
        $(
            $(#[doc = $doc])*
            pub async fn $name(
                harness: &dyn Harness,
                features: Features,
                config: &SuiteConfig,
            ) -> Outcome {
                let cx = Ctx::new(harness, features, config, stringify!($name));
                cx.bounded($implementation(&cx)).await
            }
        )*

        /// Every scenario, in the order [`run_all`](crate::run_all) runs them.
        pub const ALL: &[Scenario] = &[
            $(
                Scenario {
                    name: stringify!($name),
                    run: |harness, features, config| Box::pin($name(harness, features, config)),
                },
            )*
        ];
    };
}

scenarios! {
    /// 100 messages, half published one at a time and half with `publish_batch`, all
    /// arrive with payloads and attributes intact, and once all are acked none arrives
    /// again (watched for [`SuiteConfig::quiet_period`]; nothing was nacked, so this holds
    /// without `exactly_once` too); after close, the stream ends. A
    /// persistent transport gets them published before the subscription, as in Watermill;
    /// others subscribe first.
    publish_subscribe => basic::publish_subscribe;
    /// 5000 messages from 50 concurrent publishers. With consumer groups, 50 members of one
    /// group together receive every message (and none of their streams ends before the
    /// close); without, each of 4 subscribers receives every message.
    concurrent_subscribe => concurrency::concurrent_subscribe;
    /// 20 topics × 100 messages, each with its own publisher and subscriber, all at once:
    /// every message arrives, and only on its own topic (each subscription is watched for
    /// [`SuiteConfig::quiet_period`] once every topic is done, for strays).
    concurrent_subscribe_multiple_topics => basic::concurrent_subscribe_multiple_topics;
    /// The first 10 deliveries are nacked; all 100 messages still arrive (and with
    /// `exactly_once`, none after its ack). With `guaranteed_order`, the 10 nacked
    /// deliveries are all the first message, and the messages arrive in publish order.
    resend_on_error => acking::resend_on_error;
    /// With `guaranteed_order`: while a message is unacked the next one, already published,
    /// is not delivered (watched for [`SuiteConfig::quiet_period`]); once acked, the next
    /// one follows, and once that is acked nothing comes again.
    no_ack => acking::no_ack;
    /// With consumer groups: 5000 messages read by successive members of one group, 1000
    /// deliveries each, every one leaving mid-stream; together they receive everything
    /// (duplicates allowed unless `exactly_once`).
    continue_after_subscribe_close => handover::continue_after_subscribe_close;
    /// 20 subscribers subscribe at once and close at once while 200 messages are being
    /// published; afterwards a new subscriber receives 100 new messages.
    concurrent_close => concurrency::concurrent_close;
    /// With consumer groups: three successive members of a group each nack 100 deliveries
    /// of 50 messages and leave; a last member receives all 50.
    continue_after_errors => acking::continue_after_errors;
    /// With `guaranteed_order` or `guaranteed_order_single_subscriber`: 1000 messages over
    /// 16 partition keys from 4 concurrent publishers (each publishing its keys in runs of
    /// four) arrive at one subscriber in publish order per key, and with `guaranteed_order`
    /// in publish order per publisher.
    publish_subscribe_in_order => order::publish_subscribe_in_order;
    /// 10000 messages from 20 concurrent publishers, which then close: nothing is lost, and
    /// each publisher refuses to publish afterwards with `Error::Closed`.
    publisher_close => concurrency::publisher_close;
    /// Two topics published to in turn: each subscription receives its 100 messages and
    /// none of the other topic's, also in the [`SuiteConfig::quiet_period`] after the last
    /// one.
    topic => basic::topic;
    /// 20 deliveries arrive unsettled and are settled by their ack alone; a 21st, held
    /// unacked, does not stop the subscriber from closing, its stream ends, and settling
    /// it afterwards is harmless.
    message_cancellation => acking::message_cancellation;
    /// With consumer groups: a member nacks nine deliveries, holds a tenth and drops its
    /// stream; the next member receives every message, the nacked and held ones included.
    subscribe_cancel => handover::subscribe_cancel;
    /// With `new_subscriber_receives_old_messages`: 100 messages published before anyone
    /// subscribed reach each of two later subscribers.
    new_subscriber_receives_old_messages => persistence::new_subscriber_receives_old_messages;
    /// With `restart_service`: 10000 messages, with the broker restarted after a third and
    /// after half of them; everything arrives.
    reconnect => persistence::reconnect;
    /// With consumer groups: two groups of three members and one subscriber outside any
    /// group each receive all of 300 messages; no group broadcasts to all its members, and
    /// no member's stream ends before the close.
    consumer_groups => groups::consumer_groups;
    /// Close twice is fine; a closed publisher refuses `publish` and `publish_batch`, and
    /// a closed subscriber `subscribe`, with `Error::Closed`; a closed subscriber's
    /// stream ends; other publishers are unaffected unless every client is one instance.
    lifecycle => lifecycle::lifecycle;
}

/// The scenario called `name`.
pub fn by_name(name: &str) -> Option<&'static Scenario> {
    ALL.iter().find(|scenario| scenario.name == name)
}
