//! Partition keys map to workers stably and within range.

use proptest::prelude::*;

use super::partition;

proptest! {
    #[test]
    fn a_key_always_maps_to_the_same_worker_in_range(key in ".{0,40}", workers in 1usize..64) {
        let first = partition(&key, workers);
        prop_assert!(first < workers);
        prop_assert_eq!(partition(&key, workers), first);
    }
}

#[test]
fn keys_spread_over_the_workers() {
    let mut used = [false; 4];
    for key in 0..64 {
        used[partition(&format!("customer-{key}"), 4)] = true;
    }
    assert_eq!(used, [true; 4], "64 keys reach every one of 4 workers");
}

mod placement {
    use std::sync::Arc;

    use switchyard_core::{AckState, Message};
    use tokio::sync::mpsc;

    use super::super::{Job, STICKY, Slot};
    use crate::{ComponentKind, KeyOrdering, stats::ComponentStats};

    fn slot(
        workers: usize,
        queue: usize,
        ordering: KeyOrdering,
    ) -> (Slot, Vec<mpsc::Receiver<Job>>) {
        let (senders, receivers) = (0..workers).map(|_| mpsc::channel(queue)).unzip();
        let stats = Arc::new(ComponentStats::new(ComponentKind::Router, Arc::from("r")));
        (
            Slot {
                workers: senders,
                ordering,
                stats,
                next: 0,
            },
            receivers,
        )
    }

    fn job(key: Option<&str>) -> Job {
        let mut builder = Message::builder().message_type("r.x");
        if let Some(key) = key {
            builder = builder.partition_key(key);
        }
        Job {
            message: builder.build().unwrap(),
            hops: 0,
        }
    }

    fn depths(receivers: &[mpsc::Receiver<Job>]) -> Vec<usize> {
        receivers.iter().map(mpsc::Receiver::len).collect()
    }

    #[test]
    fn unkeyed_messages_stay_on_one_worker_until_it_falls_behind() {
        let (mut slot, receivers) = slot(3, 8, KeyOrdering::PerPartitionKey);
        for _ in 0..=STICKY {
            assert!(slot.offer(job(None)).is_none());
        }
        assert_eq!(
            depths(&receivers),
            [STICKY + 1, 0, 0],
            "sticky while it keeps up"
        );
        assert!(slot.offer(job(None)).is_none());
        assert_eq!(
            depths(&receivers),
            [STICKY + 1, 1, 0],
            "then the shortest queue"
        );
    }

    #[test]
    fn a_key_always_goes_to_its_worker_and_waits_there_when_full() {
        let (mut slot, receivers) = slot(4, 1, KeyOrdering::PerPartitionKey);
        assert!(slot.offer(job(Some("k"))).is_none());
        let (_, index) = slot.offer(job(Some("k"))).expect("its worker is full");
        assert_eq!(depths(&receivers)[index], 1);
        assert_eq!(
            depths(&receivers).iter().sum::<usize>(),
            1,
            "never another worker"
        );
    }

    /// An empty `partitionkey` names no partition: such messages are spread like those
    /// without a key, rather than all queued behind one another on one worker.
    #[test]
    fn an_empty_key_is_no_key() {
        let (mut slot, receivers) = slot(2, 1, KeyOrdering::PerPartitionKey);
        assert!(slot.offer(job(Some(""))).is_none());
        assert!(
            slot.offer(job(Some(""))).is_none(),
            "the other worker has room"
        );
        assert_eq!(depths(&receivers), [1, 1]);
    }

    #[test]
    fn unordered_ignores_keys_and_fills_every_worker_before_waiting() {
        let (mut slot, receivers) = slot(2, 1, KeyOrdering::Unordered);
        assert!(slot.offer(job(Some("k"))).is_none());
        assert!(slot.offer(job(Some("k"))).is_none());
        assert_eq!(depths(&receivers), [1, 1]);
        assert!(slot.offer(job(Some("k"))).is_some(), "all full: wait");
    }

    #[test]
    fn a_closed_worker_nacks_the_message() {
        let (mut slot, receivers) = slot(1, 1, KeyOrdering::PerPartitionKey);
        drop(receivers);
        let job = job(None);
        let acker = job.message.acker().clone();
        assert!(slot.offer(job).is_none());
        assert_eq!(acker.state(), AckState::Nacked);
    }
}
