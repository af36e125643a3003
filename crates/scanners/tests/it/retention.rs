//! The retention trimmer: what it drops from each topic, by count and by age.

use std::time::Duration;

use switchyard_core::Message;
use switchyard_scanners::{MemoryStore, Partition, Retention, RetentionTrimmer, Supervisor};

use crate::support::{clock, config, epoch, wait_until};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn the_trimmer_reports_what_it_dropped_per_topic() {
    let clock = clock();
    let store = MemoryStore::builder(1).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    // (topic, ages of its entries in minutes, oldest first)
    let topics: [(&str, &[u64]); 5] = [
        ("audit", &[600, 300, 1]),
        ("both", &[180, 120, 90, 10, 5]),
        ("clicks", &[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
        ("events", &[180, 120, 30, 0]),
        ("other", &[600, 0]),
    ];
    for (topic, ages) in topics {
        for age in ages {
            let appended = epoch() + Duration::from_secs(24 * 3_600) - MINUTE * *age as u32;
            store
                .publish(&p, topic, Message::new(topic.to_owned()), appended)
                .unwrap();
        }
    }
    tokio::time::advance(Duration::from_secs(24 * 3_600)).await;
    let trimmer = RetentionTrimmer::builder(store.clone())
        .default_retention(Retention::new().max_age(MINUTE * 500))
        .topic("audit", Retention::new())
        .topic("both", Retention::new().max_len(4).max_age(MINUTE * 60))
        .topic("clicks", Retention::new().max_len(3))
        .topic("events", Retention::new().max_age(MINUTE * 60))
        .build()
        .unwrap();

    let trimmed = trimmer.trim_partition(&p, clock.now()).await.unwrap();
    let report: Vec<_> = trimmed
        .iter()
        .map(|t| (t.topic(), t.by_count(), t.by_age()))
        .collect();
    // (topic, dropped by count, dropped by age); `audit` keeps everything and is not listed.
    assert_eq!(
        report,
        [
            ("both", 1, 2),
            ("clicks", 7, 0),
            ("events", 0, 2),
            ("other", 0, 1)
        ]
    );
    let left =
        ["audit", "both", "clicks", "events", "other"].map(|topic| store.len(&p, topic).unwrap());
    assert_eq!(left, [3, 2, 3, 2, 1]);

    // Run by a supervisor, it finds nothing more to drop until time passes.
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock);
    supervisor.spawn(trimmer).unwrap();
    wait_until(&supervisor, || {
        supervisor.health_of("retention_trimmer").unwrap().runs >= 1
    })
    .await;
    let health = supervisor.health_of("retention_trimmer").unwrap();
    assert_eq!(
        (health.examined, health.processed),
        (4, 0),
        "four topics examined, none trimmed"
    );
    // The first entry to age out is the one of `events` appended 30 minutes before: it is
    // dropped at the first tick after it passes the hour, and nothing else is.
    let day = epoch() + Duration::from_secs(24 * 3_600);
    wait_until(&supervisor, || {
        supervisor.health_of("retention_trimmer").unwrap().processed > 0
    })
    .await;
    let waited = clock.now().duration_since(day).unwrap();
    assert!(
        waited > MINUTE * 30 && waited <= MINUTE * 31,
        "trimmed {waited:?} after the entries were written"
    );
    let left =
        ["audit", "both", "clicks", "events", "other"].map(|topic| store.len(&p, topic).unwrap());
    assert_eq!(left, [3, 2, 3, 1, 1]);
    assert_eq!(
        supervisor.health_of("retention_trimmer").unwrap().processed,
        1
    );
    assert!(supervisor.shutdown().await.is_clean());
}
