//! [`Shared`]: the state of one bus behind every handle, subscription and acker, with
//! subscribe, unsubscribe, redelivery and shutdown. Publishing is in `publish.rs`.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use switchyard_core::{Error, Result};
use switchyard_routing::pattern::Pattern;
use tokio::sync::{
    Notify,
    mpsc::{self, UnboundedSender},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    config::PubSubConfig,
    entry::Entry,
    error::TopicError,
    member::Member,
    options::SubscribeOptions,
    redelivery::{self, Redelivery},
    registry::{Registry, Subject},
    replay::ReplayStore,
    stats::{BusCounters, PubSubSnapshot, SubscriptionSnapshot},
    subscription::Subscription,
    target::Target,
};

/// One bus: configuration, tables, replay rings, counters and the owned task.
pub(super) struct Shared {
    config: PubSubConfig,
    closed: AtomicBool,
    registry: Registry,
    /// Present when replay is on.
    pub(super) replay: Option<Mutex<ReplayStore>>,
    redeliver: UnboundedSender<Redelivery>,
    counters: BusCounters,
    cancel: CancellationToken,
    tracker: TaskTracker,
    compact: Notify,
}

pub(super) fn closed_error() -> Error {
    Error::Closed {
        component: "memory pub/sub",
    }
}

impl Shared {
    /// Creates the bus and starts its task on the current Tokio runtime.
    pub(super) fn start(config: PubSubConfig) -> Arc<Self> {
        let (redeliver, requests) = mpsc::unbounded_channel();
        let replay = (config.replay_capacity() > 0).then(|| {
            Mutex::new(ReplayStore::new(
                config.replay_capacity(),
                config.max_replay_topics(),
            ))
        });
        let shared = Arc::new(Self {
            config,
            closed: AtomicBool::new(false),
            registry: Registry::new(),
            replay,
            redeliver,
            counters: BusCounters::default(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            compact: Notify::new(),
        });
        shared
            .tracker
            .spawn(redelivery::run(Arc::clone(&shared), requests));
        shared
    }

    pub(super) fn config(&self) -> &PubSubConfig {
        &self.config
    }

    pub(super) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(super) fn counters(&self) -> &BusCounters {
        &self.counters
    }

    pub(super) fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Resolves when a subscription change asked for a pattern index rebuild.
    pub(super) async fn compaction_requested(&self) {
        self.compact.notified().await;
    }

    pub(super) fn subscribe(
        self: &Arc<Self>,
        topic: &str,
        options: &SubscribeOptions,
    ) -> Result<Subscription> {
        if self.is_closed() {
            return Err(closed_error());
        }
        let pattern = Pattern::parse(topic).map_err(TopicError::InvalidPattern)?;
        let resolved = options.resolve(&self.config);
        let replay = self
            .replay
            .as_ref()
            .filter(|_| resolved.replay > 0)
            .map(|store| (store, resolved.replay));
        let subject = Subject {
            text: topic,
            pattern,
            group: resolved.group.clone(),
        };
        let registered = self.registry.subscribe(
            subject,
            self.config.max_subscriptions(),
            replay,
            |id, target| {
                Arc::new(Member::new(
                    id,
                    target,
                    Arc::from(topic),
                    &resolved,
                    self.redeliver.clone(),
                ))
            },
        )?;
        if registered.compact {
            self.compact.notify_one();
        }
        Ok(Subscription::new(
            registered.member,
            registered.target,
            Arc::clone(self),
            registered.replay,
        ))
    }

    /// Removes a subscription whose stream is dropped. What it still held goes to the
    /// other members of its group, or is discarded if none is left: `batch` (taken by the
    /// stream, no in-flight slot) and `retry` (redeliveries, each holding a slot).
    pub(super) fn unsubscribe(
        &self,
        member: &Arc<Member>,
        target: &Arc<Target>,
        batch: VecDeque<Entry>,
        retry: VecDeque<Entry>,
    ) {
        let (heir, compact) = self.registry.unsubscribe(member, target);
        if compact {
            self.compact.notify_one();
        }
        let (main, lane_retry) = member.close();
        let held = retry.into_iter().chain(lane_retry);
        let fresh = batch.into_iter().chain(main);
        // A held redelivery that no member takes gives its in-flight slot back.
        let discarded = match heir {
            Some(target) => {
                let mut lost_held = 0;
                for entry in held {
                    match target.place_retry(Some(member), entry) {
                        // A redelivery moved to another member's queue is counted there, as
                        // `SubscriptionStats::redelivered` says and as one the bus's task
                        // moves is.
                        Ok(heir) => heir.on_redelivered(),
                        Err(_) => {
                            member.release_slot();
                            lost_held += 1;
                        }
                    }
                }
                let lost_fresh = fresh
                    .map(|entry| target.place_retry(None, entry))
                    .filter(Result::is_err)
                    .count();
                lost_held + lost_fresh
            }
            None => held.inspect(|_| member.release_slot()).count() + fresh.count(),
        };
        self.counters.discarded(discarded, self.discard_reason());
    }

    /// Why a message that no member took is discarded: the bus closed (which also closes
    /// every subscription), or its subscriptions left.
    fn discard_reason(&self) -> &'static str {
        if self.is_closed() {
            "closed"
        } else {
            "unsubscribed"
        }
    }

    /// Places a nacked message whose backoff is over: with a member of its subscription's
    /// target, or, if that group was emptied and formed again, with the new group's.
    pub(super) fn redeliver(&self, redelivery: Redelivery) {
        let Redelivery { origin, entry } = redelivery;
        let placed = match origin.target.upgrade() {
            Some(target) => target.place_retry(Some(&origin), entry),
            None => Err(entry),
        };
        let placed = match placed {
            Err(entry) => match origin
                .group
                .as_ref()
                .and_then(|group| self.registry.group(&origin.subject, group))
            {
                Some(heir) => heir.place_retry(Some(&origin), entry),
                None => Err(entry),
            },
            placed => placed,
        };
        match placed {
            Ok(member) => {
                member.on_redelivered();
                metrics::counter!("switchyard_bus_pubsub_redelivered_total").increment(1);
            }
            Err(_) => {
                origin.release_slot();
                // A close on another thread, while this task placed the message, also
                // fails the placement: that is not an unsubscribe.
                self.counters.discarded(1, self.discard_reason());
            }
        }
    }

    /// The synchronous part of closing, also run when the last handle is dropped: refuse
    /// new work, stop the task, end every stream and wake blocked publishers. Idempotent.
    pub(super) fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.cancel.cancel();
        self.tracker.close();
        let mut discarded = 0;
        for member in self.registry.close() {
            let (main, retry) = member.close();
            discarded += main.len() + retry.len();
            // A redelivery holds its in-flight slot until it is delivered: given back here.
            for _ in 0..retry.len() {
                member.release_slot();
            }
        }
        self.counters.discarded(discarded, "closed");
        tracing::debug!(discarded, "memory pub/sub closed");
    }

    /// Closes and waits for the task to stop, up to the configured timeout.
    pub(super) async fn close(&self) -> Result<()> {
        self.shutdown();
        let timeout = self.config.close_timeout();
        tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .map_err(|_| Error::Timeout {
                operation: "closing the memory pub/sub",
                after: timeout,
            })
    }

    pub(super) fn snapshot(&self) -> PubSubSnapshot {
        let mut subscriptions: Vec<_> = self
            .registry
            .members()
            .into_iter()
            .map(|member| SubscriptionSnapshot {
                id: member.id,
                topic: member.subject.to_string(),
                group: member.group.as_deref().map(str::to_owned),
                stats: member.stats(0),
            })
            .collect();
        subscriptions.sort_unstable_by_key(|subscription| subscription.id);
        PubSubSnapshot {
            stats: self.counters.snapshot(subscriptions.len()),
            subscriptions,
        }
    }
}

#[cfg(test)]
mod tests;
