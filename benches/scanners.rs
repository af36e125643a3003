//! Benchmarks of the scanners: per-item cost of promoting and of expiring 10,000
//! messages, and the supervisor's overhead per tick of idle scanners.

use std::{
    hint::black_box,
    time::{Duration, UNIX_EPOCH},
};

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use switchyard_core::{Message, Result};
use switchyard_scanners::{
    Clock, Config, DelayedPromoter, Lease, LeaseExpiryScanner, MemoryStore, Partition, ScanContext,
    ScanReport, Scanner, Supervisor,
};
use tokio::runtime::{Builder, Runtime};
use tokio_util::sync::CancellationToken;

const ITEMS: u64 = 10_000;

fn runtime(paused: bool) -> Runtime {
    Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("a runtime")
}

/// A store whose one partition holds `ITEMS` entries in one topic, and a context one
/// second after they were written.
fn fixture() -> (MemoryStore, Partition, ScanContext) {
    let store = MemoryStore::builder(1)
        .max_entries(2 * ITEMS as usize)
        .build()
        .expect("a store");
    let partition = Partition::new("default", 0, 1).expect("a partition");
    let ctx = ScanContext::new(
        Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_700_000_001)),
        1,
        CancellationToken::new(),
    );
    (store, partition, ctx)
}

fn written_at() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn promote(c: &mut Criterion) {
    let rt = runtime(false);
    let mut group = c.benchmark_group("delayed_promoter");
    group.throughput(Throughput::Elements(ITEMS));
    // Baseline: the bare data-structure work of a promotion, 10k messages moved from a
    // due-time-ordered map (the ZSET) to a queue (the stream).
    group.bench_function("baseline", |b| {
        b.iter_batched(
            || {
                (0..ITEMS)
                    .map(|i| ((i, i), Message::new("x")))
                    .collect::<std::collections::BTreeMap<_, _>>()
            },
            |mut due| {
                let mut stream = std::collections::VecDeque::with_capacity(due.len());
                while let Some((_, message)) = due.pop_first() {
                    stream.push_back(message);
                }
                black_box(stream)
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("scan", |b| {
        b.iter_batched(
            || {
                let (store, partition, ctx) = fixture();
                for i in 0..ITEMS {
                    let message = Message::builder()
                        .id(format!("m{i}"))
                        .build()
                        .expect("a message");
                    store
                        .schedule(&partition, "t", message, written_at())
                        .expect("room");
                }
                let promoter = DelayedPromoter::builder(store).build().expect("a promoter");
                (promoter, partition, ctx)
            },
            |(promoter, partition, ctx)| {
                let report = rt
                    .block_on(promoter.scan(&partition, &ctx))
                    .expect("a scan");
                assert_eq!(report.acted(), ITEMS);
                black_box(report)
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn expire(c: &mut Criterion) {
    let rt = runtime(false);
    let mut group = c.benchmark_group("lease_expiry");
    group.throughput(Throughput::Elements(ITEMS));
    // Baseline: the bare data-structure work of an expiry, 10k in-flight entries checked
    // against the clock and moved back to the deliverable queue.
    group.bench_function("baseline", |b| {
        b.iter_batched(
            || {
                (0..ITEMS)
                    .map(|i| (i, Message::new("x")))
                    .collect::<Vec<_>>()
            },
            |in_flight| {
                let mut ready = std::collections::VecDeque::with_capacity(in_flight.len());
                for (deadline, message) in in_flight {
                    if black_box(deadline) < ITEMS {
                        ready.push_back(message);
                    }
                }
                black_box(ready)
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("scan", |b| {
        b.iter_batched(
            || {
                let (store, partition, ctx) = fixture();
                let mut deliveries = Vec::new();
                for _ in 0..ITEMS {
                    store
                        .publish(&partition, "t", Message::new("x"), written_at())
                        .expect("room");
                }
                let lease = Lease::new(Duration::from_millis(500));
                while let Some(delivery) = store
                    .deliver(&partition, "t", written_at(), lease)
                    .expect("a delivery")
                {
                    deliveries.push(delivery);
                }
                let scanner = LeaseExpiryScanner::builder(store)
                    .build()
                    .expect("a scanner");
                // The deliveries stay alive: dropping them would nack them.
                (scanner, partition, ctx, deliveries)
            },
            |(scanner, partition, ctx, deliveries)| {
                let report = rt.block_on(scanner.scan(&partition, &ctx)).expect("a scan");
                assert_eq!(report.acted(), ITEMS);
                black_box((report, deliveries))
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

/// A scanner with nothing to do.
struct Idle(String);

#[async_trait]
impl Scanner for Idle {
    fn name(&self) -> &str {
        &self.0
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    async fn scan(&self, _: &Partition, _: &ScanContext) -> Result<ScanReport> {
        Ok(ScanReport::new())
    }
}

fn supervise(c: &mut Criterion) {
    const SCANNERS: u64 = 20;
    // On the paused clock, time jumps to the next tick as soon as every task is idle: what
    // is measured is the supervisor's own work per tick, not the waiting.
    let rt = runtime(true);
    let config = Config::builder()
        .family("default", 1)
        .jitter(0.0)
        .build()
        .expect("a config");
    let (supervisor, mut changes) = rt.block_on(async {
        let supervisor = Supervisor::new(config);
        for i in 0..SCANNERS {
            supervisor
                .spawn(Idle(format!("idle-{i}")))
                .expect("spawned");
        }
        let changes = supervisor.subscribe();
        (supervisor, changes)
    });
    // Baseline: 20 bare tokio tasks, each ticking an interval and announcing it on a watch
    // channel, on the same kind of paused runtime.
    let bare_rt = runtime(true);
    let (bare_tasks, mut bare_changes) = bare_rt.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(0u64);
        let tx = std::sync::Arc::new(tx);
        let tasks: Vec<_> = (0..SCANNERS)
            .map(|_| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs(1));
                    loop {
                        tick.tick().await;
                        tx.send_modify(|n| *n = n.wrapping_add(1));
                    }
                })
            })
            .collect();
        (tasks, rx)
    });
    let mut group = c.benchmark_group("supervisor");
    group.throughput(Throughput::Elements(SCANNERS));
    group.bench_function("baseline", |b| {
        b.iter(|| {
            bare_rt.block_on(async {
                let target = bare_changes.borrow_and_update().wrapping_add(SCANNERS);
                while *bare_changes.borrow_and_update() < target {
                    bare_changes.changed().await.expect("the tasks are alive");
                }
            });
        });
    });
    for task in bare_tasks {
        task.abort();
    }
    group.bench_function("tick", |b| {
        b.iter(|| {
            rt.block_on(async {
                let target = changes.borrow_and_update().wrapping_add(SCANNERS);
                while *changes.borrow_and_update() < target {
                    changes.changed().await.expect("the supervisor is alive");
                }
            });
        });
    });
    group.finish();
    let report = rt.block_on(supervisor.shutdown_within(Duration::from_secs(1)));
    assert!(report.is_clean(), "{report}");
}

criterion_group!(benches, promote, expire, supervise);
criterion_main!(benches);
