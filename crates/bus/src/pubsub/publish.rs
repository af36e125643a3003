//! The publish path: check, record for replay, route, and offer to every matching target
//! under each subscription's slow-consumer policy.
//!
//! It is synchronous until a target blocks: only then does an async part, boxed, wait for
//! room. The common case thus builds no timer and moves no large future around.

use std::{
    sync::{Arc, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use switchyard_core::{Attributes, Error, Message, Result, deadline::deadline};
use tokio::time::Instant;

use super::{
    MAX_TOPIC_LEN,
    entry::{Entries, Entry},
    error::TopicError,
    member::Member,
    route::{RouteView, Routed},
    shared::{Shared, closed_error},
    target::{Offer, Target},
};

/// What is left of a publish when a target blocked.
pub(super) struct Blocked {
    routed: Routed,
    /// The target that blocked, and the timeout it blocked with.
    at: usize,
    timeout: Duration,
    /// The blocked target's entry.
    entry: Entry,
    /// The entries of the targets after it.
    rest: Entries,
    /// What the targets before the blocked one did.
    progress: Progress,
}

/// What a publish carries from target to target.
struct Progress {
    first_error: Option<Error>,
    /// Whether a live subscription took the message (or refused it with an error).
    routed_any: bool,
    /// The message's replay sequence number; 0 when replay is off.
    sequence: u64,
}

/// How far a publish got without waiting.
pub(super) enum Step {
    Done(Result<()>),
    Blocked(Box<Blocked>),
}

impl Shared {
    /// Publishes `message` to every target matching `topic`.
    ///
    /// Every matching target is offered the message even if an earlier one failed; the
    /// first failure is returned.
    pub(super) async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        match self.start_publish(topic, message) {
            Step::Done(result) => result,
            Step::Blocked(blocked) => Box::pin(self.finish_publish(blocked)).await,
        }
    }

    /// Checks, records and routes the message, and offers it to targets until one blocks.
    fn start_publish(&self, topic: &str, message: Message) -> Step {
        if self.is_closed() {
            return Step::Done(Err(closed_error()));
        }
        if topic.len() > MAX_TOPIC_LEN {
            return Step::Done(Err(TopicError::TooLong {
                len: topic.len(),
                max: MAX_TOPIC_LEN,
            }
            .into()));
        }
        if let Err(error) = self.config().limits().check(&message) {
            return Step::Done(Err(error));
        }
        // The publisher's own acker settles nothing here; it is released with the message.
        let (payload, attributes, _acker) = message.into_parts();
        match &self.replay {
            // Recorded and routed under the replay lock, which subscribing takes too, so
            // that a new subscriber gets each message either replayed or live.
            Some(store) => {
                let (routed, sequence) = {
                    let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
                    let sequence = store.record(topic, &payload, &attributes);
                    (self.registry().route(topic), sequence)
                };
                self.offer(routed.view(), payload, attributes, sequence)
            }
            None => self
                .registry()
                .with_route(topic, |view| self.offer(view, payload, attributes, 0)),
        }
    }

    /// Offers a new message, with replay sequence number `sequence`, to every target of
    /// `routed`.
    #[inline]
    fn offer(
        &self,
        routed: RouteView<'_>,
        payload: Bytes,
        attributes: Attributes,
        sequence: u64,
    ) -> Step {
        if routed.is_empty() {
            self.counters().unrouted();
            return Step::Done(Ok(()));
        }
        let entries = Entries::new(payload, attributes, routed.len());
        let progress = Progress {
            first_error: None,
            routed_any: false,
            sequence,
        };
        self.offer_from(routed, 0, entries, progress)
    }

    /// Offers the message to the targets from `start` on, until one blocks, each its own
    /// entry of `entries`; nothing is copied.
    fn offer_from(
        &self,
        routed: RouteView<'_>,
        start: usize,
        mut entries: Entries,
        progress: Progress,
    ) -> Step {
        let Progress {
            mut first_error,
            mut routed_any,
            sequence,
        } = progress;
        let last = routed.len().saturating_sub(1);
        for at in start..routed.len() {
            let Some(target) = routed.get(at) else { break };
            let mut entry = entries.take(at, at == last);
            let offer = target.offer(&mut entry);
            let result = match offer {
                Offer::Blocked { timeout } => {
                    let Some(entry) = entry else { break };
                    return Step::Blocked(Box::new(Blocked {
                        routed: routed.to_owned(),
                        at,
                        entry,
                        rest: entries,
                        timeout,
                        progress: Progress {
                            first_error,
                            routed_any,
                            sequence,
                        },
                    }));
                }
                offer => {
                    routed_any |= !matches!(offer, Offer::Gone);
                    self.settled(offer)
                }
            };
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        if !routed_any {
            self.counters().unrouted();
        }
        Step::Done(first_error.map_or(Ok(()), Err))
    }

    /// Waits for each blocked target in turn and offers to the rest.
    async fn finish_publish(&self, blocked: Box<Blocked>) -> Result<()> {
        let mut blocked = blocked;
        loop {
            let Blocked {
                routed,
                at,
                entry,
                rest,
                timeout,
                progress:
                    Progress {
                        mut first_error,
                        mut routed_any,
                        sequence,
                    },
            } = *blocked;
            if let Some(target) = routed.view().get(at) {
                match self.wait_for_room(target, entry, timeout, sequence).await {
                    Ok(taken) => routed_any |= taken,
                    Err(error) => {
                        routed_any = true;
                        first_error.get_or_insert(error);
                    }
                }
            }
            // The targets after this one were routed before the wait; some may be stale.
            let mut routed = routed;
            self.follow_groups(&mut routed, at + 1, sequence);
            let progress = Progress {
                first_error,
                routed_any,
                sequence,
            };
            match self.offer_from(routed.view(), at + 1, rest, progress) {
                Step::Done(result) => return result,
                Step::Blocked(next) => blocked = next,
            }
        }
    }

    /// The result of an offer that did not block.
    #[inline]
    fn settled(&self, offer: Offer) -> Result<()> {
        match offer {
            Offer::Accepted | Offer::Blocked { .. } => Ok(()),
            Offer::DroppedOldest(member) => {
                dropped_oldest(&member);
                Ok(())
            }
            Offer::Rejected(member) => Err(queue_full(&member)),
            // The target's last member left while publishing: nothing to deliver to,
            // unless the bus is closing.
            Offer::Gone if self.is_closed() => Err(closed_error()),
            Offer::Gone => Ok(()),
        }
    }

    /// Waits for room in `target`, up to `timeout`, and queues `entry` (replay sequence
    /// number `sequence`) there; `Ok(false)` if the target's subscriptions left meanwhile,
    /// so that the message went nowhere.
    async fn wait_for_room(
        &self,
        target: &Arc<Target>,
        entry: Entry,
        timeout: Duration,
        sequence: u64,
    ) -> Result<bool> {
        let deadline = deadline(Instant::now(), timeout);
        let mut slot = Some(entry);
        let mut target = Arc::clone(target);
        'wait: loop {
            let successor = 'offer: {
                // Registered before offering again, so that room made in between is not
                // missed.
                let room = target.space().notified();
                tokio::pin!(room);
                room.as_mut().enable();
                match target.offer(&mut slot) {
                    Offer::Blocked { .. } => {}
                    // A group whose last member left while this publish waited, and which a
                    // new member formed again, is the same group: the message goes to it,
                    // or it would be lost while the group has a member.
                    Offer::Gone => match self.successor(&target) {
                        // Unless the new member replays it: the message was recorded before
                        // the group was formed again, and is delivered once, never both
                        // replayed and live.
                        Some(successor) if successor.replayed(sequence) => return Ok(true),
                        Some(successor) => break 'offer successor,
                        None => return self.settled(Offer::Gone).map(|()| false),
                    },
                    offer => return self.settled(offer).map(|()| true),
                }
                if tokio::time::timeout_at(deadline, room).await.is_err() {
                    metrics::counter!("switchyard_bus_pubsub_publish_rejected_total", "reason" => "timeout")
                        .increment(1);
                    return Err(Error::Timeout {
                        operation: "publish to a full subscription queue",
                        after: timeout,
                    });
                }
                if self.is_closed() {
                    return Err(closed_error());
                }
                continue 'wait;
            };
            target = successor;
        }
    }

    /// Points the targets of a publish that waited, from `start` on, at the live targets of
    /// their groups: a group emptied and formed again while the publish waited is the same
    /// group under a new target, and the old one takes nothing. A group whose new target is
    /// routed already (the old one was still in the pattern index when the publish routed)
    /// is left as it is, so that it does not get the message twice; so is one whose new
    /// target replays the message (replay sequence number `sequence`).
    fn follow_groups(&self, routed: &mut Routed, start: usize, sequence: u64) {
        for at in start..routed.view().len() {
            let Some(target) = routed.view().get(at).cloned() else {
                break;
            };
            let successor = self.successor(&target).filter(|successor| {
                !routed.view().contains(successor) && !successor.replayed(sequence)
            });
            if let Some(successor) = successor {
                routed.replace(at, successor);
            }
        }
    }

    /// The live target of `target`'s consumer group if it is another one: the group was
    /// emptied and formed again. Only a removed target can have been replaced (a group's
    /// target is marked removed, under the registry's lock, before another can form), so
    /// the registry's lock is taken only for those.
    fn successor(&self, target: &Arc<Target>) -> Option<Arc<Target>> {
        let group = target.group.as_ref().filter(|_| target.is_removed())?;
        self.registry()
            .group(&target.subject, group)
            .filter(|live| !Arc::ptr_eq(live, target))
    }
}

fn dropped_oldest(member: &Member) {
    member.on_dropped();
    metrics::counter!("switchyard_bus_pubsub_dropped_total", "reason" => "drop_oldest")
        .increment(1);
}

fn queue_full(member: &Member) -> Error {
    metrics::counter!("switchyard_bus_pubsub_publish_rejected_total", "reason" => "queue_full")
        .increment(1);
    Error::QueueFull {
        queue: format!("pub/sub subscription {}", member.id),
    }
}
