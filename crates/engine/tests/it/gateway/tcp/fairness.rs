//! Fairness between TCP connections: one client that pipelines many requests takes at most
//! its connection's share of the gateway's concurrency limit, never all of it.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use switchyard_core::{Message, handler_fn};
use switchyard_engine::gateway::{Gateway, TcpJsonChannel};
use tokio::sync::{Semaphore, mpsc};

use super::{Client, closing_slow_readers, register};
use crate::gateway::support::within;

/// The gateway's concurrency limit.
const GATEWAY_LIMIT: usize = 4;
/// The cap per connection, below the gateway's limit.
const PER_CONNECTION: usize = 2;
/// Far more requests than the gateway's limit and its inbox of one.
const PIPELINED: usize = 20;

/// A reply of `message_type`.
fn reply(message_type: &str) -> switchyard_core::Result<Message> {
    Message::builder().message_type(message_type).build()
}

#[tokio::test]
async fn a_pipelining_client_cannot_starve_another_connection() {
    // `greedy` requests block on the gate, which the test opens one permit at a time; any
    // other request is answered at once.
    let gate = Arc::new(Semaphore::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel::<()>();
    let handler = {
        let (gate, running, peak) = (Arc::clone(&gate), Arc::clone(&running), Arc::clone(&peak));
        handler_fn(move |request: Message| {
            let (gate, running, peak, entered) = (
                Arc::clone(&gate),
                Arc::clone(&running),
                Arc::clone(&peak),
                entered_tx.clone(),
            );
            async move {
                if request.attributes().message_type() != Some("greedy") {
                    return Ok(vec![reply("other.reply")?]);
                }
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let _ = entered.send(());
                gate.acquire().await.expect("the gate stays open").forget();
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![reply("greedy.reply")?])
            }
        })
    };
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(GATEWAY_LIMIT)
        .inbox_capacity(1)
        .build()
        .unwrap();
    let (_channel, address) = register(
        &gateway,
        TcpJsonChannel::builder("tcp").max_in_flight_per_connection(PER_CONNECTION),
    )
    .await;

    // One write: the greedy client's requests are all on the wire before any is answered.
    let mut greedy = Client::connect(address).await;
    let requests: String = (0..PIPELINED)
        .map(|n| format!("{{\"type\":\"greedy\",\"attributes\":{{\"correlationid\":\"g{n}\"}}}}\n"))
        .collect();
    greedy.send(requests).await;
    for _ in 0..PER_CONNECTION {
        within(entered.recv())
            .await
            .expect("a greedy request started");
    }

    // With every greedy request blocked, another connection is still served: without the
    // cap, the greedy requests would hold every permit and fill the inbox ahead of it.
    let mut other = Client::connect(address).await;
    other.send("{\"type\":\"other\"}\n").await;
    assert_eq!(other.recv().await["type"], "other.reply");
    assert_eq!(running.load(Ordering::SeqCst), PER_CONNECTION);

    // Opened one request at a time, the greedy client gets every reply, and never had more
    // than its cap in the handler at once.
    let mut answered = BTreeSet::new();
    for _ in 0..PIPELINED {
        gate.add_permits(1);
        let reply = greedy.recv().await;
        assert_eq!(reply["type"], "greedy.reply", "{reply}");
        let correlation = reply["attributes"]["correlationid"].as_str().unwrap();
        assert!(answered.insert(correlation.to_owned()), "{reply}");
    }
    assert_eq!(answered.len(), PIPELINED);
    assert_eq!(
        peak.load(Ordering::SeqCst),
        PER_CONNECTION,
        "the cap was reached, never exceeded"
    );

    drop((greedy, other));
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// A handler whose `greedy` requests wait on `gate`, counting into `entered` as they start.
fn gated(gate: &Arc<Semaphore>, entered: &Arc<AtomicUsize>) -> Gateway {
    let (gate, entered) = (Arc::clone(gate), Arc::clone(entered));
    Gateway::builder()
        .handler(handler_fn(move |_request: Message| {
            let (gate, entered) = (Arc::clone(&gate), Arc::clone(&entered));
            async move {
                entered.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.expect("the gate stays open").forget();
                Ok(vec![reply("greedy.reply")?])
            }
        }))
        .max_in_flight(GATEWAY_LIMIT)
        .build()
        .unwrap()
}

/// Waits, with the test's deadline, until `done` holds, yielding to the other tasks.
async fn until(done: impl Fn() -> bool) {
    within(async {
        while !done() {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

/// The shutdown stops a reader that waits for a slot, as it stops one that waits for bytes:
/// the requests in the handler are abandoned at the deadline, the rest of what the client
/// pipelined never reaches the handler, and the channel stops by itself.
#[tokio::test]
async fn the_shutdown_stops_a_connection_waiting_at_its_cap() {
    let gate = Arc::new(Semaphore::new(0));
    let entered = Arc::new(AtomicUsize::new(0));
    let gateway = gated(&gate, &entered);
    let (_channel, address) = register(
        &gateway,
        TcpJsonChannel::builder("tcp").max_in_flight_per_connection(PER_CONNECTION),
    )
    .await;
    let mut greedy = Client::connect(address).await;
    greedy
        .send("{\"type\":\"greedy\"}\n".repeat(PIPELINED))
        .await;
    until(|| entered.load(Ordering::SeqCst) == PER_CONNECTION).await;

    let report = within(gateway.shutdown(Duration::from_millis(100))).await;
    assert_eq!(report.abandoned(), PER_CONNECTION as u64, "{report:?}");
    assert_eq!(report.not_stopped().count(), 0, "{report:?}");
    assert_eq!(entered.load(Ordering::SeqCst), PER_CONNECTION);
    // What the client gets: at most an `unavailable` error for a request the reader took
    // before the channel stopped, never a reply from the handler; then the end.
    while let Some(line) = within(greedy.lines.next_line()).await.expect("read") {
        assert!(line.contains("\"category\":\"unavailable\""), "{line}");
    }
}

/// A connection evicted as a slow reader while its reader waits at its cap pushes none of
/// the requests it had read from the socket.
#[tokio::test]
async fn an_evicted_connection_at_its_cap_pushes_no_more_requests() {
    let after = Arc::new(AtomicUsize::new(0));
    let payload = switchyard_core::Bytes::from(vec![b'x'; super::BIG]);
    let handler = {
        let after = Arc::clone(&after);
        handler_fn(move |request: Message| {
            let (after, payload) = (Arc::clone(&after), payload.clone());
            async move {
                if request.attributes().message_type() != Some("evict") {
                    after.fetch_add(1, Ordering::SeqCst);
                    return Ok(vec![reply("r")?]);
                }
                // A reply that blocks the writer for good (the client does not read), then
                // more than the queue of one holds: the connection is evicted.
                let mut attributes = switchyard_core::Attributes::new();
                attributes.insert("type", "big")?;
                let big = Message::from_parts(payload, attributes, switchyard_core::Acker::noop());
                Ok(vec![big, reply("r")?, reply("r")?, reply("r")?])
            }
        })
    };
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (channel, address) = register(
        &gateway,
        closing_slow_readers().max_in_flight_per_connection(1),
    )
    .await;

    // With a cap of one, the reader holds the `after` lines while `evict` is unanswered.
    let mut evicted = within(tokio::net::TcpStream::connect(address))
        .await
        .unwrap();
    let batch = format!(
        "{{\"type\":\"evict\"}}\n{}",
        "{\"type\":\"after\"}\n".repeat(10)
    );
    within(tokio::io::AsyncWriteExt::write_all(
        &mut evicted,
        batch.as_bytes(),
    ))
    .await
    .unwrap();
    until(|| channel.slow_readers_closed() == 1).await;
    let mut unread = Vec::new();
    // EOF or a reset: either way, the evicted connection ends, cut off in its first reply.
    let _ = within(tokio::io::AsyncReadExt::read_to_end(
        &mut evicted,
        &mut unread,
    ))
    .await;
    assert!(unread.len() < super::BIG, "{} bytes", unread.len());
    until(|| channel.connections() == 0).await;
    assert_eq!(
        after.load(Ordering::SeqCst),
        0,
        "a request read before the eviction was handled"
    );
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}
