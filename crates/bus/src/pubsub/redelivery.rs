//! The bus's one task: it redelivers nacked messages after their backoff, from a single
//! timer wheel (`DelayQueue`), and rebuilds the pattern index when subscriptions changed.

use std::{
    sync::Arc,
    time::{Duration, Instant as StdInstant},
};

use futures::StreamExt;
use tokio::{
    sync::mpsc::UnboundedReceiver,
    time::{Instant, sleep_until},
};
use tokio_util::time::DelayQueue;

use super::{entry::Entry, member::Member, shared::Shared};

/// A nacked delivery on its way back: the subscription that nacked it, which holds its
/// in-flight slot until it is placed again, and the message.
#[derive(Debug)]
pub(super) struct Redelivery {
    pub(super) origin: Arc<Member>,
    pub(super) entry: Entry,
}

/// How long an empty timer queue may sit unpolled before it is replaced by a fresh one.
///
/// `DelayQueue` takes deadlines only within about two years of the last time its wheel
/// moved, and its wheel moves only when an entry expires: after a long idle spell, a nack
/// with a long backoff would be out of its range and panic this task. While it holds
/// entries, one expires at least every
/// [`MAX_REDELIVERY_DELAY`](super::PubSubConfig::MAX_REDELIVERY_DELAY), so its wheel is
/// never further behind than that.
const STALE_TIMERS: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest and longest wait before a pattern index rebuild that nothing forces.
const MIN_COMPACT_DELAY: Duration = Duration::from_millis(1);
const MAX_COMPACT_DELAY: Duration = Duration::from_secs(1);

/// Runs until the bus is cancelled. Nacks arrive on `requests`; each waits in the delay
/// queue for its backoff, then goes back to a subscription's retry lane. Memory is bounded
/// by the in-flight limits: every redelivery holds an in-flight slot of its subscription.
pub(super) async fn run(shared: Arc<Shared>, mut requests: UnboundedReceiver<Redelivery>) {
    let cancel = shared.cancel_token();
    let mut timers: DelayQueue<Redelivery> = DelayQueue::new();
    // When the timer wheel last moved: made, or an entry expired.
    let mut timers_moved = Instant::now();
    let compact_timer = sleep_until(Instant::now());
    tokio::pin!(compact_timer);
    let mut compact_armed = false;
    // Rebuilds wait some multiple of the last one's cost, so that a burst of subscriptions
    // is folded into few rebuilds and rebuilding takes a bounded share of this task.
    let mut compact_delay = MIN_COMPACT_DELAY;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            // Due redeliveries before new nacks: a flood of nacks cannot hold them back.
            Some(expired) = timers.next(), if !timers.is_empty() => {
                timers_moved = Instant::now();
                shared.redeliver(expired.into_inner());
            }
            Some(redelivery) = requests.recv() => {
                if timers.is_empty() && timers_moved.elapsed() > STALE_TIMERS {
                    timers = DelayQueue::new();
                    timers_moved = Instant::now();
                }
                let delay = shared.config().backoff(redelivery.entry.deliveries());
                timers.insert(redelivery, delay);
            }
            () = shared.compaction_requested(), if !compact_armed => {
                compact_timer.as_mut().reset(Instant::now() + compact_delay);
                compact_armed = true;
            }
            () = &mut compact_timer, if compact_armed => {
                compact_armed = false;
                let started = StdInstant::now();
                shared.registry().compact();
                compact_delay = (started.elapsed() * 8).clamp(MIN_COMPACT_DELAY, MAX_COMPACT_DELAY);
            }
        }
    }
    // The bus is closed: what waited for redelivery has no one to go to. Each gives its
    // in-flight slot back, as a nack made after the close does.
    requests.close();
    let mut pending = 0;
    while let Some(key) = timers.peek() {
        timers.remove(&key).into_inner().origin.release_slot();
        pending += 1;
    }
    while let Ok(redelivery) = requests.try_recv() {
        redelivery.origin.release_slot();
        pending += 1;
    }
    shared.counters().discarded(pending, "closed");
}
