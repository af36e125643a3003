//! `Signal::unless_fired`: the work wins when it is ready, the signal when it is not.

use std::{future::pending, time::Duration};

use tokio::sync::oneshot;

use super::Signal;

/// A hang fails the test instead of stalling the suite.
const DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn work_ready_at_its_first_poll_wins_even_after_the_signal_fired() {
    let signal = Signal::default();
    assert_eq!(signal.unless_fired(async { 7 }).await, Some(7));
    signal.fire();
    // Polled first, as in a biased select: what is done is not thrown away.
    assert_eq!(signal.unless_fired(async { 8 }).await, Some(8));
}

#[tokio::test]
async fn pending_work_gives_way_to_the_signal() {
    let signal = Signal::default();
    signal.fire();
    let outcome = tokio::time::timeout(DEADLINE, signal.unless_fired(pending::<()>())).await;
    assert_eq!(outcome, Ok(None));
}

#[tokio::test]
async fn the_signal_fired_while_the_work_waits_ends_the_wait() {
    let signal = Signal::default();
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let work = async {
        drop(started_tx);
        pending::<()>().await;
    };
    let fire = async {
        // The work has been polled, and so the wait for the signal built, before it fires.
        let _ = started_rx.await;
        signal.fire();
    };
    let (outcome, ()) = tokio::time::timeout(DEADLINE, async {
        tokio::join!(signal.unless_fired(work), fire)
    })
    .await
    .expect("the signal ends the wait");
    assert_eq!(outcome, None);
}

#[tokio::test]
async fn work_that_completes_after_waiting_returns_its_output() {
    let signal = Signal::default();
    let (tx, rx) = oneshot::channel::<u32>();
    let work = async { rx.await.expect("sent") };
    let send = async {
        tokio::task::yield_now().await;
        tx.send(42).expect("the work waits for it");
    };
    let (outcome, ()) = tokio::time::timeout(DEADLINE, async {
        tokio::join!(signal.unless_fired(work), send)
    })
    .await
    .expect("the work completes");
    assert_eq!(outcome, Some(42));
    assert!(!signal.is_fired());
}
