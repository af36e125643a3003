//! The delayed promoter: due messages become visible on time, never early, and a racing
//! double promotion delivers once.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use switchyard_core::{Message, Result};
use switchyard_scanners::{
    DelayedPromoter, DelayedStore, DueEntry, Lease, MemoryStore, Partition, ScanContext, Scanner,
    Supervisor,
};
use tokio::sync::Barrier;
use tokio_util::sync::CancellationToken;

use crate::support::{TIMER_SLACK, clock, config, epoch, wait_until, within};

#[tokio::test(start_paused = true)]
async fn delayed_messages_are_promoted_at_their_due_time_and_not_before() {
    let clock = clock();
    let interval = Duration::from_millis(750);
    let supervisor = Supervisor::with_clock(config(2).build().unwrap(), clock);
    let store = MemoryStore::builder(2).build().unwrap();
    let p = |index| Partition::new("default", index, 2).unwrap();
    // (partition, topic, due after the start): one message per topic.
    let schedule = [
        (0, "a", Duration::from_secs(10)),
        (0, "b", Duration::from_millis(10_400)),
        (1, "c", Duration::from_secs(3)),
        (1, "d", Duration::from_secs(30)),
    ];
    for (partition, topic, after) in schedule {
        store
            .schedule(
                &p(partition),
                topic,
                Message::new(topic),
                clock.after(after),
            )
            .unwrap();
    }
    supervisor
        .spawn(
            DelayedPromoter::builder(store.clone())
                .interval(interval)
                .build()
                .unwrap(),
        )
        .unwrap();

    // Checked after every tick of the promoter, the only time anything changes: each
    // message is first seen in its topic at a tick at or after its due time.
    let mut seen_at: Vec<Option<SystemTime>> = vec![None; schedule.len()];
    wait_until(&supervisor, || {
        let now = clock.now();
        for (i, (partition, topic, after)) in schedule.iter().enumerate() {
            let visible = store.len(&p(*partition), topic).unwrap() == 1;
            if visible && seen_at[i].is_none() {
                assert!(
                    now >= epoch() + *after,
                    "{topic} visible at {now:?}, before it was due"
                );
                seen_at[i] = Some(now);
            }
        }
        seen_at.iter().all(Option::is_some)
    })
    .await;
    for (i, (_, topic, after)) in schedule.iter().enumerate() {
        let late = seen_at[i]
            .unwrap()
            .duration_since(epoch() + *after)
            .unwrap();
        assert!(
            late <= interval + TIMER_SLACK,
            "{topic} became visible {late:?} after it was due"
        );
    }
    assert_eq!(
        store.scheduled(&p(0)).unwrap() + store.scheduled(&p(1)).unwrap(),
        0
    );
    assert_eq!(
        supervisor.health_of("delayed_promoter").unwrap().processed,
        4
    );
    assert!(supervisor.shutdown().await.is_clean());
}

/// A store whose first `due` call by each of two promoters waits for the other's, so that
/// both read the same due entries before either promotes.
struct Racing {
    inner: MemoryStore,
    barrier: Barrier,
    reads: Mutex<u32>,
}

#[async_trait]
impl DelayedStore for Racing {
    async fn due(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<DueEntry>> {
        let due = self.inner.due(partition, now, limit).await?;
        let first_two = {
            let mut reads = self.reads.lock().unwrap();
            *reads += 1;
            *reads <= 2
        };
        if first_two {
            self.barrier.wait().await;
        }
        Ok(due)
    }

    async fn promote(
        &self,
        partition: &Partition,
        entries: &[DueEntry],
        now: SystemTime,
    ) -> Result<u64> {
        self.inner.promote(partition, entries, now).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_racing_double_promotion_delivers_once() {
    let clock = clock();
    let store = MemoryStore::builder(1).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    for i in 0..50 {
        let message = Message::builder().id(format!("m{i}")).build().unwrap();
        store.schedule(&p, "t", message, clock.now()).unwrap();
    }
    let racing = Arc::new(Racing {
        inner: store.clone(),
        barrier: Barrier::new(2),
        reads: Mutex::new(0),
    });
    let one = DelayedPromoter::builder(racing.clone())
        .name("one")
        .build()
        .unwrap();
    let two = DelayedPromoter::builder(racing.clone())
        .name("two")
        .build()
        .unwrap();
    let ctx = ScanContext::new(clock, 1, CancellationToken::new());

    let (a, b) = within(async { tokio::join!(one.scan(&p, &ctx), two.scan(&p, &ctx)) }).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.examined(), b.examined()),
        (50, 50),
        "both saw every entry"
    );
    assert_eq!(
        a.acted() + b.acted(),
        50,
        "each entry was moved by one of them"
    );

    let mut delivered = Vec::new();
    while let Some(delivery) = store
        .deliver(&p, "t", clock.now(), Lease::new(Duration::from_secs(30)))
        .unwrap()
    {
        delivered.push(delivery.message().attributes().id().unwrap().to_owned());
        delivery.message().ack();
    }
    delivered.sort();
    let mut expected: Vec<_> = (0..50).map(|i| format!("m{i}")).collect();
    expected.sort();
    assert_eq!(delivered, expected, "every message delivered exactly once");
}
