//! The concurrency limit and the duration that replies report, on tokio's paused clock.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use switchyard_core::{Message, handler_fn};
use switchyard_engine::gateway::{Gateway, InProcessChannel};
use tokio::sync::{Semaphore, mpsc};

use super::support::{duration_ms, request, within};

#[tokio::test(start_paused = true)]
async fn never_more_than_max_in_flight_handlers_run_at_once() {
    const LIMIT: usize = 3;
    const MESSAGES: usize = 10;
    let gate = Arc::new(Semaphore::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (entered_tx, mut entered) = mpsc::channel::<()>(MESSAGES);

    let handler = {
        let (gate, running, peak) = (Arc::clone(&gate), Arc::clone(&running), Arc::clone(&peak));
        handler_fn(move |_request: Message| {
            let (gate, running, peak, entered) = (
                Arc::clone(&gate),
                Arc::clone(&running),
                Arc::clone(&peak),
                entered_tx.clone(),
            );
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let _ = entered.send(()).await;
                gate.acquire().await.expect("the gate stays open").forget();
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![Message::new("done")])
            }
        })
    };
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(LIMIT)
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", MESSAGES).unwrap();
    gateway.register(channel).await.unwrap();

    for n in 0..MESSAGES {
        within(handle.send(format!("s{n}"), request("work", "")))
            .await
            .unwrap();
    }
    for _ in 0..LIMIT {
        within(entered.recv()).await.expect("a handler started");
    }
    // Every started handler is blocked on the gate: with the clock paused, a second of
    // virtual time passes at once, and no further handler may start in it.
    let more = tokio::time::timeout(Duration::from_secs(1), entered.recv()).await;
    assert!(more.is_err(), "a handler started beyond the limit");
    assert_eq!(gateway.in_flight(), LIMIT);

    for _ in 0..MESSAGES {
        gate.add_permits(1);
        within(handle.recv()).await.expect("a reply");
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        LIMIT,
        "the limit was reached, never exceeded"
    );
    assert_eq!(running.load(Ordering::SeqCst), 0);
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

#[tokio::test(start_paused = true)]
async fn the_reported_duration_includes_the_wait_for_a_permit() {
    let gateway = Gateway::builder()
        .handler(handler_fn(|request: Message| async move {
            let message_type = request
                .attributes()
                .message_type()
                .unwrap_or_default()
                .to_owned();
            if message_type == "slow" {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Ok(vec![Message::new(message_type)])
        }))
        .max_in_flight(1)
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();

    // The slow request takes the only permit for 5 s; the fast one waits for it, then
    // takes no time at all in its handler.
    within(handle.send("a", request("slow", ""))).await.unwrap();
    within(handle.send("b", request("fast", ""))).await.unwrap();
    let first = within(handle.recv()).await.unwrap();
    let second = within(handle.recv()).await.unwrap();
    assert_eq!(first.message().payload(), "slow");
    assert_eq!(second.message().payload(), "fast");
    assert!(duration_ms(&first) >= 5_000, "{}", duration_ms(&first));
    assert!(
        duration_ms(&second) >= 5_000,
        "the wait for the permit counts: {} ms",
        duration_ms(&second)
    );
}
