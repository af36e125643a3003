//! Push and reconcile: the reconciler finds what the fast path dropped during a reconnect.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use futures::{StreamExt, stream};
use switchyard_core::{Error as CoreError, Result};
use switchyard_scanners::{
    EventSource, EventStream, Partition, Reconcile, ScanContext, ScanReport, Supervisor, TaskKind,
};

use crate::support::{clock, config, wait_until};

/// Which path did the work for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Push,
    Reconcile,
}

/// The world: jobs that completed, and which path resolved their dependants.
#[derive(Default)]
struct World {
    completed: Vec<u32>,
    resolved: BTreeMap<u32, Path>,
}

impl World {
    fn resolve(&mut self, job: u32, path: Path) -> bool {
        let fresh = !self.resolved.contains_key(&job);
        self.resolved.entry(job).or_insert(path);
        fresh
    }
}

struct Dependencies {
    world: Arc<Mutex<World>>,
}

#[async_trait]
impl Reconcile for Dependencies {
    type Event = u32;

    fn name(&self) -> &str {
        "dependencies"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(15)
    }

    async fn handle(&self, job: u32) -> Result<()> {
        if job == 8 {
            // A fast-path failure is left to the reconciler too.
            return Err(CoreError::transient_handler("dependants of 8 are locked"));
        }
        self.world.lock().unwrap().resolve(job, Path::Push);
        Ok(())
    }

    async fn reconcile(&self, partition: &Partition, _ctx: &ScanContext) -> Result<ScanReport> {
        let mut world = self.world.lock().unwrap();
        let mine: Vec<u32> = world
            .completed
            .iter()
            .copied()
            .filter(|job| job % partition.count() == partition.index())
            .collect();
        let mut report = ScanReport::new();
        report.add_examined(mine.len() as u64);
        for job in mine {
            if world.resolve(job, Path::Reconcile) {
                report.add_acted(1);
            }
        }
        Ok(report)
    }
}

/// Completion notifications over a connection that drops once: jobs 1 to 3 arrive, the
/// stream ends, jobs 4 to 6 complete while the listener is reconnecting, and jobs 7 to 10
/// arrive on the new stream.
struct Completions {
    world: Arc<Mutex<World>>,
    subscriptions: Mutex<u32>,
}

impl Completions {
    fn publish(&self, jobs: std::ops::RangeInclusive<u32>) -> EventStream<u32> {
        let world = self.world.clone();
        stream::iter(jobs)
            .map(move |job| {
                world.lock().unwrap().completed.push(job);
                job
            })
            .boxed()
    }
}

#[async_trait]
impl EventSource for Completions {
    type Event = u32;

    async fn subscribe(&self) -> Result<EventStream<u32>> {
        let attempt = {
            let mut subscriptions = self.subscriptions.lock().unwrap();
            *subscriptions += 1;
            *subscriptions
        };
        Ok(match attempt {
            1 => self.publish(1..=3),
            2 => {
                // Completed while nobody was subscribed: these notifications are lost.
                self.world.lock().unwrap().completed.extend(4..=6);
                self.publish(7..=10).chain(stream::pending()).boxed()
            }
            _ => stream::pending().boxed(),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_reconciler_finds_what_the_fast_path_dropped() {
    let supervisor = Supervisor::with_clock(config(3).build().unwrap(), clock());
    let world = Arc::new(Mutex::new(World::default()));
    let source = Completions {
        world: world.clone(),
        subscriptions: Mutex::new(0),
    };
    supervisor
        .spawn_push_reconcile(
            Dependencies {
                world: world.clone(),
            },
            source,
        )
        .unwrap();

    wait_until(&supervisor, || world.lock().unwrap().resolved.len() == 10).await;
    let resolved = world.lock().unwrap().resolved.clone();
    let by = |path| {
        resolved
            .iter()
            .filter(|(_, p)| **p == path)
            .map(|(job, _)| *job)
            .collect::<Vec<_>>()
    };
    assert_eq!(by(Path::Push), [1, 2, 3, 7, 9, 10]);
    assert_eq!(
        by(Path::Reconcile),
        [4, 5, 6, 8],
        "lost in the reconnect, or failed on the fast path"
    );

    let listener = supervisor.health_of("dependencies.listener").unwrap();
    assert_eq!(listener.kind, TaskKind::Listener);
    assert_eq!(
        (listener.examined, listener.processed, listener.restarts),
        (7, 6, 1)
    );
    assert_eq!(
        listener.failures, 2,
        "one handler error, one dropped stream"
    );
    assert!(listener.healthy);
    let reconciler = supervisor.health_of("dependencies").unwrap();
    assert_eq!(reconciler.kind, TaskKind::Scanner);
    assert_eq!(reconciler.processed, 4);

    let report = supervisor.shutdown().await;
    assert_eq!(report.stopped(), ["dependencies.listener", "dependencies"]);
}

#[tokio::test(start_paused = true)]
async fn a_listener_that_cannot_subscribe_becomes_unhealthy() {
    struct Down;

    #[async_trait]
    impl EventSource for Down {
        type Event = u32;

        async fn subscribe(&self) -> Result<EventStream<u32>> {
            Err(CoreError::transient_transport(
                "SUBSCRIBE failed: auth password=hunter2",
            ))
        }
    }

    let supervisor = Supervisor::with_clock(config(1).unhealthy_after(3).build().unwrap(), clock());
    let world = Arc::new(Mutex::new(World::default()));
    supervisor
        .spawn_push_reconcile(Dependencies { world }, Down)
        .unwrap();
    wait_until(&supervisor, || !supervisor.is_healthy()).await;
    let listener = supervisor.health_of("dependencies.listener").unwrap();
    assert_eq!((listener.failures, listener.restarts), (3, 2));
    assert_eq!(
        listener.last_error.as_deref(),
        // A lower-case `auth` before a password-shaped argument is Redis's command, and the
        // whole argument goes.
        Some("transport error: SUBSCRIBE failed: auth [REDACTED]")
    );
    assert!(
        supervisor.health_of("dependencies").unwrap().healthy,
        "the reconciler still runs"
    );
    assert!(supervisor.shutdown().await.is_clean());
}

#[tokio::test(start_paused = true)]
async fn a_pair_is_started_whole_or_not_at_all() {
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock());
    let world = Arc::new(Mutex::new(World::default()));
    supervisor
        .spawn(crate::support::FnScanner::idle(
            "dependencies.listener",
            Duration::from_secs(1),
        ))
        .unwrap();
    let source = Completions {
        world: world.clone(),
        subscriptions: Mutex::new(0),
    };
    let err = supervisor
        .spawn_push_reconcile(Dependencies { world }, source)
        .unwrap_err();
    assert_eq!(
        err,
        switchyard_scanners::Error::DuplicateName {
            name: "dependencies.listener".into()
        }
    );
    assert_eq!(supervisor.health().len(), 1, "neither half was started");
    assert!(supervisor.shutdown().await.is_clean());
}

/// Second reading: a source whose subscription is accepted but whose stream ends at once
/// (a server that drops the connection right after SUBSCRIBE) is a restart loop too; its
/// restarts must back off exponentially like any other failure, not every `initial`.
/// When a listener subscribed, in order.
type Subscribes = Arc<Mutex<Vec<tokio::time::Instant>>>;

/// A supervisor whose restarts back off from 1 s to 60 s without jitter, a log of the
/// listener's subscriptions, and an empty world.
fn restarting() -> (Supervisor, Subscribes, Arc<Mutex<World>>) {
    let config = config(1)
        .restart_backoff(Duration::from_secs(1), Duration::from_secs(60))
        .jitter(0.0)
        .build()
        .unwrap();
    (
        Supervisor::with_clock(config, clock()),
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(World::default())),
    )
}

#[tokio::test(start_paused = true)]
async fn a_subscription_that_ends_at_once_backs_off_exponentially() {
    struct Flapping(Arc<Mutex<Vec<tokio::time::Instant>>>);

    #[async_trait]
    impl EventSource for Flapping {
        type Event = u32;

        async fn subscribe(&self) -> Result<EventStream<u32>> {
            self.0.lock().unwrap().push(tokio::time::Instant::now());
            Ok(stream::empty().boxed())
        }
    }

    let (supervisor, subscribes, world) = restarting();
    supervisor
        .spawn_push_reconcile(Dependencies { world }, Flapping(subscribes.clone()))
        .unwrap();
    wait_until(&supervisor, || subscribes.lock().unwrap().len() >= 6).await;
    let subscribes = subscribes.lock().unwrap().clone();
    let gaps = crate::support::gaps(&subscribes);
    assert!(supervisor.shutdown().await.is_clean());
    // Failures in a row: 1, 2, 3, 4, 5 → 1 s, 2 s, 4 s, 8 s, 16 s.
    assert!(
        gaps[4] >= Duration::from_secs(16),
        "the fifth restart in a row came after {:?}; gaps {gaps:?}",
        gaps[4]
    );
}

/// The backoff starts over once a stream proves itself: by delivering an event, or by
/// staying up for at least the backoff's cap (60 s here); a stream that ends sooner with
/// nothing is one more failure in a row.
#[tokio::test(start_paused = true)]
async fn the_backoff_starts_over_after_an_event_or_a_long_enough_stream() {
    #[derive(Clone, Copy)]
    enum Plan {
        EndAtOnce,
        OneEvent,
        UpFor(u64),
    }
    struct Scripted {
        plans: Vec<Plan>,
        subscribes: Arc<Mutex<Vec<tokio::time::Instant>>>,
    }

    #[async_trait]
    impl EventSource for Scripted {
        type Event = u32;

        async fn subscribe(&self) -> Result<EventStream<u32>> {
            let mut subscribes = self.subscribes.lock().unwrap();
            let plan = self
                .plans
                .get(subscribes.len())
                .copied()
                .unwrap_or(Plan::EndAtOnce);
            subscribes.push(tokio::time::Instant::now());
            Ok(match plan {
                Plan::EndAtOnce => stream::empty().boxed(),
                Plan::OneEvent => stream::iter([1]).boxed(),
                Plan::UpFor(secs) => stream::once(tokio::time::sleep(Duration::from_secs(secs)))
                    .filter_map(|()| async { None })
                    .boxed(),
            })
        }
    }

    use Plan::*;
    let plans = vec![
        EndAtOnce,
        EndAtOnce,
        EndAtOnce,
        OneEvent,
        EndAtOnce,
        UpFor(60),
        UpFor(30),
    ];
    // The time from each subscription to the next: how long the stream was up, then the
    // backoff after the failures in a row (1 s, 2 s, 4 s, ...).
    let expected = [
        1,      // 1st failure in a row
        2,      // 2nd
        4,      // 3rd
        1,      // an event: the count starts over, and the end is the 1st failure
        2,      // 2nd
        60 + 1, // up for the cap: the count starts over
        30 + 2, // up for less: the 2nd failure in a row
    ];
    let (supervisor, subscribes, world) = restarting();
    let source = Scripted {
        plans,
        subscribes: subscribes.clone(),
    };
    supervisor
        .spawn_push_reconcile(
            Dependencies {
                world: world.clone(),
            },
            source,
        )
        .unwrap();
    wait_until(&supervisor, || {
        subscribes.lock().unwrap().len() > expected.len()
    })
    .await;
    let subscribes = subscribes.lock().unwrap().clone();
    assert!(supervisor.shutdown().await.is_clean());
    let gaps = crate::support::gaps(&subscribes);
    for (at, (gap, secs)) in gaps.iter().zip(expected).enumerate() {
        let secs = Duration::from_secs(secs);
        assert!(
            *gap >= secs && *gap < secs + Duration::from_millis(100),
            "gap {at}: {gap:?}, expected {secs:?}; gaps {gaps:?}"
        );
    }
    assert_eq!(world.lock().unwrap().resolved.get(&1), Some(&Path::Push));
}

/// A stream that panics while it is polled (a decoding bug in a transport's stream) is a
/// broken subscription like any other: the listener records the failure and subscribes
/// again after the backoff, instead of dying while its health still reads "healthy".
#[tokio::test(start_paused = true)]
async fn a_stream_that_panics_is_resubscribed_not_fatal() {
    struct Panicky(Arc<Mutex<u32>>);

    #[async_trait]
    impl EventSource for Panicky {
        type Event = u32;

        async fn subscribe(&self) -> Result<EventStream<u32>> {
            let mut subscriptions = self.0.lock().unwrap();
            *subscriptions += 1;
            Ok(if *subscriptions == 1 {
                stream::poll_fn(|_| -> std::task::Poll<Option<u32>> {
                    panic!("bad frame with token=hunter2")
                })
                .boxed()
            } else {
                stream::iter([1]).chain(stream::pending()).boxed()
            })
        }
    }

    let (supervisor, _, world) = restarting();
    let subscriptions = Arc::new(Mutex::new(0));
    supervisor
        .spawn_push_reconcile(
            Dependencies {
                world: world.clone(),
            },
            Panicky(subscriptions.clone()),
        )
        .unwrap();
    wait_until(&supervisor, || {
        world.lock().unwrap().resolved.get(&1) == Some(&Path::Push)
            || !supervisor
                .health_of("dependencies.listener")
                .unwrap()
                .running
    })
    .await;
    let listener = supervisor.health_of("dependencies.listener").unwrap();
    assert!(listener.running, "the listener survived the panic");
    assert_eq!(*subscriptions.lock().unwrap(), 2);
    assert_eq!((listener.failures, listener.restarts), (1, 1));
    assert_eq!(
        listener.last_error.as_deref(),
        Some("panicked: bad frame with token=[REDACTED]")
    );
    assert!(supervisor.shutdown().await.is_clean());
}
