//! The main job, run whole on a paused clock: every order is accounted for.

use std::{sync::atomic::Ordering::Relaxed, time::Duration};

use super::{Args, run};

/// Orders with no amount (every 50th) and orders of an unknown type (every 97th) end in the
/// dead letter; an order that is both counts once.
fn dead_lettered(orders: u64) -> u64 {
    orders / 50 + orders / 97 - orders / (50 * 97)
}

#[tokio::test(start_paused = true)]
async fn a_run_publishes_at_its_rate_and_settles_every_order() {
    // 150 a second is not a multiple of 100: the rate is kept exactly all the same.
    let args = Args {
        duration: 4,
        rate: 150,
    };
    let run = run(&args, std::future::pending());
    let outcome = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the run ends by itself")
        .expect("the run succeeds");

    let published = outcome.progress.published.load(Relaxed);
    let ticks = outcome.progress.timeout_checks.load(Relaxed);
    // 4 s at 150 a second, give or take the last tick of 10 ms.
    assert!((600..=602).contains(&published), "published {published}");
    assert!(ticks >= 4, "timeout checks {ticks}");

    let counts = outcome.health.counts;
    assert_eq!(
        counts.received,
        published + ticks,
        "every message was taken in"
    );
    assert_eq!(counts.acked, counts.received, "every message was settled");
    assert_eq!(counts.nacked, 0);
    assert_eq!(counts.dead_lettered, dead_lettered(published));
    assert_eq!(
        outcome.progress.dead_letters.load(Relaxed),
        dead_lettered(published),
        "every dead letter reached its topic"
    );
    assert_eq!(
        outcome.progress.confirmed.load(Relaxed),
        published - dead_lettered(published),
        "every good order was confirmed through the loop"
    );
    assert!(outcome.report.quiescent);
    assert_eq!(outcome.report.left, 0);
    assert_eq!(outcome.report.unsettled, 0);
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_run_stops_gracefully() {
    let args = Args {
        duration: 0,
        rate: 1_000,
    };
    let interrupted = tokio::time::sleep(Duration::from_millis(1_500));
    let outcome = tokio::time::timeout(Duration::from_secs(60), run(&args, interrupted))
        .await
        .expect("the interruption ends the run")
        .expect("the run succeeds");
    let published = outcome.progress.published.load(Relaxed);
    assert!(published >= 1_000, "published {published}");
    assert_eq!(
        outcome.health.counts.acked,
        published + outcome.progress.timeout_checks.load(Relaxed)
    );
    assert!(outcome.report.quiescent);
}
