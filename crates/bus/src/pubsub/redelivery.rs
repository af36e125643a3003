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

use super::{member::Member, queue::Entry, shared::Shared};

/// A nacked delivery on its way back: the subscription that nacked it, which holds its
/// in-flight slot until it is placed again, and the message.
#[derive(Debug)]
pub(super) struct Redelivery {
    pub(super) origin: Arc<Member>,
    pub(super) entry: Entry,
}

/// The shortest and longest wait before a pattern index rebuild that nothing forces.
const MIN_COMPACT_DELAY: Duration = Duration::from_millis(1);
const MAX_COMPACT_DELAY: Duration = Duration::from_secs(1);

/// Runs until the bus is cancelled. Nacks arrive on `requests`; each waits in the delay
/// queue for its backoff, then goes back to a subscription's retry lane. Memory is bounded
/// by the in-flight limits: every redelivery holds an in-flight slot of its subscription.
pub(super) async fn run(shared: Arc<Shared>, mut requests: UnboundedReceiver<Redelivery>) {
    let cancel = shared.cancel_token();
    let mut timers: DelayQueue<Redelivery> = DelayQueue::new();
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
                shared.redeliver(expired.into_inner());
            }
            Some(redelivery) = requests.recv() => {
                let delay = shared.config().backoff(redelivery.entry.deliveries);
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
    // The bus is closed: what waited for redelivery has no one to go to.
    requests.close();
    let mut pending = timers.len();
    while requests.try_recv().is_ok() {
        pending += 1;
    }
    shared.counters().discarded(pending, "closed");
}
