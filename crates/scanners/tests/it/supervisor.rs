//! The supervisor: restarts with growing backoff, unhealthy scanners, the shutdown report,
//! jittered ticks, skipped ticks, and what `spawn` refuses.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use switchyard_core::Error as CoreError;
use switchyard_scanners::{Config, Error, ScanReport, Scanner, Supervisor, TaskKind};
use tokio::{sync::oneshot, time::Instant};

use crate::support::{FnScanner, TIMER_SLACK, clock, config, epoch, gaps, wait_until, within};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn restarts_after_a_panic_with_growing_backoff() {
    let config = config(1)
        .restart_backoff(SECOND, Duration::from_secs(60))
        .jitter(0.2)
        .unhealthy_after(10)
        .build()
        .unwrap();
    let supervisor = Supervisor::with_clock(config, clock());
    let failing = Arc::new(AtomicBool::new(true));
    let scanner = FnScanner::new("panicky", Duration::from_secs(30), {
        let failing = failing.clone();
        move |_, _| {
            let fail = failing.load(Ordering::SeqCst);
            async move {
                assert!(!fail, "boom with token=hunter2");
                Ok(ScanReport::new())
            }
        }
    });
    let starts = scanner.starts();
    supervisor.spawn(scanner).unwrap();

    wait_until(&supervisor, || {
        supervisor.health_of("panicky").unwrap().restarts >= 5
    })
    .await;
    let health = supervisor.health_of("panicky").unwrap();
    assert_eq!(
        (
            health.failures,
            health.consecutive_failures,
            health.restarts
        ),
        (6, 6, 5)
    );
    assert!(health.healthy, "still under the unhealthy threshold");
    assert_eq!(
        health.last_error.as_deref(),
        Some("panicked: boom with token=[REDACTED]")
    );

    // Each restart waits the backoff of its failure count, 1 s doubling, shortened by at
    // most 20 %: so every wait is longer than the one before.
    let instants: Vec<_> = starts.lock().unwrap().iter().map(|(at, _)| *at).collect();
    let waits = gaps(&instants);
    assert_eq!(waits.len(), 5);
    for (n, wait) in waits.iter().enumerate() {
        let backoff = SECOND * 2u32.pow(n as u32);
        assert!(
            *wait >= backoff.mul_f64(0.8) && *wait <= backoff + TIMER_SLACK,
            "restart {n} waited {wait:?}"
        );
    }
    assert!(
        waits.windows(2).all(|pair| pair[1] > pair[0]),
        "backoff grows: {waits:?}"
    );

    // Once the scans succeed, the scanner is back to its interval.
    failing.store(false, Ordering::SeqCst);
    wait_until(&supervisor, || {
        supervisor.health_of("panicky").unwrap().runs >= 9
    })
    .await;
    let health = supervisor.health_of("panicky").unwrap();
    assert_eq!(
        (
            health.failures,
            health.consecutive_failures,
            health.restarts
        ),
        (6, 0, 6)
    );
    let instants: Vec<_> = starts.lock().unwrap().iter().map(|(at, _)| *at).collect();
    for wait in &gaps(&instants)[6..] {
        assert!(
            *wait + TIMER_SLACK >= Duration::from_secs(24)
                && *wait <= Duration::from_secs(30) + TIMER_SLACK,
            "{wait:?}"
        );
    }
    assert!(supervisor.shutdown().await.is_clean());
}

#[tokio::test(start_paused = true)]
async fn a_scanner_that_keeps_failing_becomes_unhealthy_until_it_succeeds() {
    let config = config(2)
        .restart_backoff(SECOND, Duration::from_secs(4))
        .unhealthy_after(3)
        .build()
        .unwrap();
    let supervisor = Supervisor::with_clock(config, clock());
    let failing = Arc::new(AtomicBool::new(true));
    supervisor
        .spawn(FnScanner::new("broken", SECOND, {
            let failing = failing.clone();
            move |_, _| {
                let fail = failing.load(Ordering::SeqCst);
                async move {
                    if fail {
                        Err(CoreError::transient_transport(
                            "cannot reach redis://app:hunter2@cache:6379",
                        ))
                    } else {
                        Ok(ScanReport::new())
                    }
                }
            }
        }))
        .unwrap();
    supervisor.spawn(FnScanner::idle("fine", SECOND)).unwrap();

    wait_until(&supervisor, || !supervisor.is_healthy()).await;
    let broken = supervisor.health_of("broken").unwrap();
    assert!(!broken.healthy);
    assert_eq!(
        (broken.runs, broken.consecutive_failures, broken.failures),
        (3, 3, 6),
        "both partitions failed thrice"
    );
    assert_eq!(
        broken.last_error.as_deref(),
        Some("transport error: cannot reach redis://[REDACTED]@cache:6379")
    );
    assert!(supervisor.health_of("fine").unwrap().healthy);

    // It keeps being retried, at the capped backoff of 4 s less at most 10 %: not spinning.
    let (runs_before, began) = (broken.runs, Instant::now());
    wait_until(&supervisor, || {
        supervisor.health_of("broken").unwrap().runs >= runs_before + 4
    })
    .await;
    let elapsed = Instant::now() - began;
    assert!(
        elapsed + TIMER_SLACK >= Duration::from_millis(4 * 3_600),
        "4 retries in {elapsed:?}"
    );
    assert!(!supervisor.health_of("broken").unwrap().healthy);

    failing.store(false, Ordering::SeqCst);
    wait_until(&supervisor, || supervisor.is_healthy()).await;
    assert_eq!(
        supervisor.health_of("broken").unwrap().consecutive_failures,
        0
    );
    assert!(supervisor.shutdown().await.is_clean());
}

#[tokio::test(start_paused = true)]
async fn the_shutdown_report_names_a_scanner_that_will_not_stop() {
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock());
    let (started_tx, started_rx) = oneshot::channel();
    let (dropped_tx, dropped_rx) = oneshot::channel::<()>();
    let started_tx = Mutex::new(Some(started_tx));
    let dropped_tx = Arc::new(Mutex::new(Some(dropped_tx)));
    supervisor
        .spawn(FnScanner::new("stuck", SECOND, move |_, _| {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            let guard = DropSignal(dropped_tx.clone());
            async move {
                // A hung call that ignores the shutdown signal.
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok(ScanReport::new())
            }
        }))
        .unwrap();
    supervisor
        .spawn(FnScanner::new("polite", SECOND, |_, ctx| async move {
            // A long scan that returns at the shutdown signal.
            tokio::select! {
                () = ctx.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(3_600)) => {}
            }
            Ok(ScanReport::new())
        }))
        .unwrap();
    supervisor.spawn(FnScanner::idle("idle", SECOND)).unwrap();
    within(started_rx).await.unwrap();

    let began = Instant::now();
    let report = supervisor.shutdown_within(Duration::from_secs(2)).await;
    assert_eq!(
        Instant::now() - began,
        Duration::from_secs(2),
        "waited the whole timeout"
    );
    assert_eq!(report.stopped(), ["polite", "idle"]);
    assert_eq!(report.not_stopped(), ["stuck"]);
    assert_eq!(
        report.to_string(),
        "2 tasks stopped; not stopped within 2s: stuck"
    );

    // The stuck scan is aborted: its future is dropped.
    within(dropped_rx).await.unwrap();
    wait_until(&supervisor, || {
        !supervisor.health_of("stuck").unwrap().running
    })
    .await;
    assert_eq!(
        supervisor.spawn(FnScanner::idle("late", SECOND)),
        Err(Error::ShutDown)
    );
    assert!(
        supervisor.shutdown_within(Duration::ZERO).await.is_clean(),
        "nothing is left running"
    );
}

struct DropSignal(Arc<Mutex<Option<oneshot::Sender<()>>>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn ticks_are_jittered_within_one_interval() {
    let interval = Duration::from_secs(10);
    let supervisor = Supervisor::with_clock(config(1).jitter(0.3).build().unwrap(), clock());
    let spawned = Instant::now();
    let mut all_starts = Vec::new();
    for i in 0..5 {
        let scanner = FnScanner::idle(&format!("s{i}"), interval);
        all_starts.push(scanner.starts());
        supervisor.spawn(scanner).unwrap();
    }
    wait_until(&supervisor, || {
        supervisor.health().iter().all(|health| health.runs >= 20)
    })
    .await;

    let mut firsts = Vec::new();
    for starts in &all_starts {
        let instants: Vec<_> = starts.lock().unwrap().iter().map(|(at, _)| *at).collect();
        // The first tick falls anywhere within the first interval...
        assert!(
            instants[0] - spawned <= interval + TIMER_SLACK,
            "first tick at {:?}",
            instants[0] - spawned
        );
        firsts.push(instants[0]);
        // ... and each later one between 70 % and 100 % of an interval after the last.
        for gap in gaps(&instants) {
            assert!(
                gap + TIMER_SLACK >= interval.mul_f64(0.7) && gap <= interval + TIMER_SLACK,
                "gap {gap:?}"
            );
        }
    }
    firsts.dedup();
    assert!(
        firsts.len() > 1,
        "scanners started together do not fire together"
    );
    assert!(supervisor.shutdown().await.is_clean());
}

#[tokio::test(start_paused = true)]
async fn scans_never_overlap_and_missed_ticks_are_skipped() {
    let supervisor = Supervisor::with_clock(config(3).jitter(0.0).build().unwrap(), clock());
    let running = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    // Each scan takes 4 s, so a tick over 3 partitions takes 12 s: longer than the interval.
    let scanner = FnScanner::new("slow", Duration::from_secs(10), {
        let (running, most) = (running.clone(), most.clone());
        move |_, _| {
            let (running, most) = (running.clone(), most.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(4)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(ScanReport::with_counts(1, 0))
            }
        }
    });
    let starts = scanner.starts();
    supervisor.spawn(scanner).unwrap();
    wait_until(&supervisor, || {
        supervisor.health_of("slow").unwrap().runs >= 4
    })
    .await;

    assert_eq!(most.load(Ordering::SeqCst), 1, "one scan at a time");
    let starts = starts.lock().unwrap().clone();
    let partitions: Vec<_> = starts.iter().map(|(_, p)| *p).collect();
    assert_eq!(
        partitions[..12],
        [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2],
        "every partition, in order, each tick"
    );
    // The tick due at +10 s was missed while the first ran; the next is at +20 s, not at once.
    let tick_starts: Vec<_> = starts
        .iter()
        .filter(|(_, p)| *p == 0)
        .map(|(at, _)| *at)
        .collect();
    for gap in gaps(&tick_starts) {
        assert!(
            gap.abs_diff(Duration::from_secs(20)) <= TIMER_SLACK,
            "{gap:?}"
        );
    }
    let health = supervisor.health_of("slow").unwrap();
    assert_eq!(
        health.skipped_ticks, health.runs,
        "one tick skipped per run"
    );
    assert_eq!(health.last_duration, Some(Duration::from_secs(12)));
    assert_eq!(health.examined, 3 * health.runs);
    assert!(supervisor.shutdown().await.is_clean());
}

#[tokio::test(start_paused = true)]
async fn health_adds_up_every_partition() {
    let supervisor = Supervisor::with_clock(config(4).build().unwrap(), clock());
    supervisor
        .spawn(FnScanner::new(
            "counting",
            Duration::from_secs(5),
            |_, _| async {
                let mut report = ScanReport::with_counts(3, 1);
                report.add_error(&CoreError::Closed {
                    component: "one item",
                });
                Ok(report)
            },
        ))
        .unwrap();
    wait_until(&supervisor, || {
        supervisor.health_of("counting").unwrap().runs >= 2
    })
    .await;
    let health = supervisor.health_of("counting").unwrap();
    assert_eq!(
        (
            health.examined,
            health.processed,
            health.item_errors,
            health.failures
        ),
        (24, 8, 8, 0)
    );
    assert_eq!(health.kind, TaskKind::Scanner);
    assert!(health.healthy && health.running);
    let last_run = health.last_run.unwrap();
    assert!(last_run > epoch() && last_run <= clock_now(&supervisor));
    assert_eq!(health.last_duration, Some(Duration::ZERO));
    assert!(supervisor.shutdown().await.is_clean());
    assert!(!supervisor.health_of("counting").unwrap().running);
}

fn clock_now(supervisor: &Supervisor) -> std::time::SystemTime {
    supervisor.clock().now()
}

#[tokio::test(start_paused = true)]
async fn a_hung_scan_times_out_and_counts_as_a_failure() {
    let config = config(1)
        .scan_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let supervisor = Supervisor::with_clock(config, clock());
    supervisor
        .spawn(FnScanner::new("hung", SECOND, |_, _| async {
            std::future::pending::<()>().await;
            Ok(ScanReport::new())
        }))
        .unwrap();
    wait_until(&supervisor, || {
        supervisor.health_of("hung").unwrap().failures >= 2
    })
    .await;
    let health = supervisor.health_of("hung").unwrap();
    assert_eq!(
        health.last_error.as_deref(),
        Some("scan timed out after 5s")
    );
    assert_eq!(health.last_duration, Some(Duration::from_secs(5)));
    assert!(
        supervisor.shutdown().await.is_clean(),
        "a backing-off scanner stops at once"
    );
}

#[tokio::test(start_paused = true)]
async fn spawn_refuses_what_it_cannot_run() {
    let config = Config::builder().family("flow", 2).build().unwrap();
    let supervisor = Supervisor::with_clock(config, clock());
    let in_flow = |name: &str| Flow(FnScanner::idle(name, SECOND));
    supervisor.spawn(in_flow("taken")).unwrap();
    let cases = [
        (
            supervisor.spawn(FnScanner::idle("other", SECOND)),
            Error::UnknownFamily {
                family: "default".into(),
            },
        ),
        (
            supervisor.spawn(in_flow("taken")),
            Error::DuplicateName {
                name: "taken".into(),
            },
        ),
        (
            supervisor.spawn(Flow(FnScanner::idle("zero", Duration::ZERO))),
            Error::ZeroInterval {
                scanner: "zero".into(),
            },
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result, Err(expected));
    }
    assert_eq!(supervisor.health().len(), 1);
    assert!(supervisor.shutdown().await.is_clean());
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    let supervisor = Supervisor::new(Config::default());
    assert_eq!(
        supervisor.spawn(FnScanner::idle("idle", SECOND)),
        Err(Error::NoRuntime)
    );
}

/// A scanner in the `flow` family.
struct Flow(FnScanner);

#[async_trait::async_trait]
impl Scanner for Flow {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn interval(&self) -> Duration {
        self.0.interval()
    }

    fn family(&self) -> &str {
        "flow"
    }

    async fn scan(
        &self,
        partition: &switchyard_scanners::Partition,
        ctx: &switchyard_scanners::ScanContext,
    ) -> switchyard_core::Result<ScanReport> {
        self.0.scan(partition, ctx).await
    }
}

/// A task aborted by a shutdown before it was ever polled (a zero timeout right after
/// `spawn`) has stopped all the same: its health must say so.
#[tokio::test(start_paused = true)]
async fn a_task_aborted_before_its_first_poll_is_no_longer_running() {
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock());
    supervisor.spawn(FnScanner::idle("idle", SECOND)).unwrap();
    let report = supervisor.shutdown_within(Duration::ZERO).await;
    assert_eq!(report.not_stopped(), ["idle"], "it had not run at all yet");
    wait_until(&supervisor, || {
        !supervisor.health_of("idle").unwrap().running
    })
    .await;
    assert!(supervisor.shutdown_within(Duration::ZERO).await.is_clean());
}
