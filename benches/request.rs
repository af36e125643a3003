//! The request/reply figures of the bus issue, G3 and G5: the round trip of one request
//! through [`Bus::request`] to a responder task and back, beside a bare `mpsc` + `oneshot`
//! round trip to a task, in the same run: p50 and p99 latency, and throughput with 64
//! requests in flight. Written to `target/perf/figures/G3.json`.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::Value;
use switchyard_benches::{quantile, row, write_figures};
use switchyard_bus::{Bus, BusConfig};
use switchyard_core::Message;
use tokio::sync::{mpsc, oneshot};

const TIMEOUT: Duration = Duration::from_secs(10);
const IN_FLIGHT: usize = 64;

/// The baseline: a task that answers each `(request, reply sender)` it receives.
fn bare_responder() -> mpsc::Sender<(Message, oneshot::Sender<Message>)> {
    let (tx, mut rx) = mpsc::channel::<(Message, oneshot::Sender<Message>)>(1024);
    tokio::spawn(async move {
        while let Some((request, reply)) = rx.recv().await {
            let _ = reply.send(request.detached());
        }
    });
    tx
}

async fn bare_round_trip(tx: &mpsc::Sender<(Message, oneshot::Sender<Message>)>, message: Message) {
    let (reply_tx, reply_rx) = oneshot::channel();
    tx.send((message, reply_tx))
        .await
        .expect("responder is running");
    black_box(reply_rx.await.expect("responder answers"));
}

/// The subject: a bus whose topic `echo` has a subscriber task that responds to each
/// request, the same shape as the baseline.
async fn bus_with_responder() -> Bus {
    let bus = Bus::new(BusConfig::default()).expect("inside a runtime");
    let mut requests = bus.subscribe("echo").expect("a subscription");
    let responder = bus.clone();
    tokio::spawn(async move {
        while let Some(Ok(request)) = requests.next().await {
            let response = request.detached();
            let _ = responder.respond(&request, response).await;
            request.ack();
        }
    });
    bus
}

/// Latencies of `n` sequential round trips, in ns.
async fn sequential<F, Fut>(n: usize, mut round_trip: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        round_trip().await;
        samples.push(started.elapsed().as_nanos() as f64);
    }
    samples
}

/// Mean ns per request of `n` requests with `IN_FLIGHT` of them outstanding at a time.
async fn concurrent<F, Fut>(n: usize, round_trip: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut issued = 0;
    while issued < n.min(IN_FLIGHT) {
        in_flight.push(round_trip());
        issued += 1;
    }
    while in_flight.next().await.is_some() {
        if issued < n {
            in_flight.push(round_trip());
            issued += 1;
        }
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (warm_up, measured) = if quick {
        (2_000, 20_000)
    } else {
        (10_000, 100_000)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let rows: Vec<Value> = runtime.block_on(async {
        let bare = bare_responder();
        let bus = bus_with_responder().await;
        let message = Message::builder()
            .message_type("ping")
            .payload(vec![0u8; 64])
            .build()
            .expect("valid");
        let bare_trip = || bare_round_trip(&bare, message.clone());
        let bus_trip = || async {
            black_box(
                bus.request("echo", message.clone(), TIMEOUT)
                    .await
                    .expect("a response"),
            );
        };

        sequential(warm_up, bare_trip).await;
        sequential(warm_up, bus_trip).await;
        // Interleave the two measurements so that drift in the machine's speed hits both.
        let (mut bare_samples, mut bus_samples) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            bare_samples.extend(sequential(measured / 10, bare_trip).await);
            bus_samples.extend(sequential(measured / 10, bus_trip).await);
        }
        let bare_concurrent = concurrent(measured, bare_trip).await;
        let bus_concurrent = concurrent(measured, bus_trip).await;
        bus.close(TIMEOUT).await.expect("the bus closes");

        let bare_p50 = quantile(&mut bare_samples, 0.50);
        let bare_p99 = quantile(&mut bare_samples, 0.99);
        let bus_p50 = quantile(&mut bus_samples, 0.50);
        let bus_p99 = quantile(&mut bus_samples, 0.99);
        vec![
            row(
                "G3.request_p50",
                bus_p50,
                "ns",
                "p50 of a bare mpsc + oneshot round trip to a task",
                bare_p50,
                3.0,
            ),
            row(
                "G5.request_p99",
                bus_p99,
                "ns",
                "the issue's absolute goal, 20 µs",
                20_000.0,
                1.0,
            ),
            row(
                "G5.request_p99_vs_bare",
                bus_p99,
                "ns",
                "p99 of the bare mpsc + oneshot round trip",
                bare_p99,
                20.0,
            ),
            row(
                "G3.request_throughput_64",
                bus_concurrent,
                "ns/request",
                "the bare round trip with 64 in flight (ratio <= 2 is >= 50% of its throughput)",
                bare_concurrent,
                2.0,
            ),
        ]
    });
    write_figures("G3", &rows);
}
