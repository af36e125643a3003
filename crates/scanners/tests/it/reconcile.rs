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
        Some("transport error: SUBSCRIBE failed: auth password=[REDACTED]")
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
