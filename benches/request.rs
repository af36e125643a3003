//! The request/reply figures of the bus issue, G3 and G5: the round trip of one request
//! through [`Bus::request`] to a responder task and back, beside a bare `mpsc` + `oneshot`
//! round trip to a task, in the same run: p50 and p99 latency, and throughput with 64
//! requests in flight. Written to `target/perf/figures/G3.json`.
//!
//! Everything is measured twice, on two runtime flavors, each bus figure beside the bare
//! baseline on the same flavor, and with the same goals on both:
//!
//! - **multi-thread** (ids without a suffix): the requester on the benchmark's `block_on`
//!   thread, the responder tasks on a two-worker runtime, so every hop is a cross-thread
//!   wake-up. On this two-core VM the bare round trip's own p99 is several times 20 µs on
//!   this flavor, which the row says.
//! - **current-thread** (ids ending in `.current_thread`): the requester and the responder
//!   task share one thread, as a latency-sensitive service deploys them and as
//!   `benches/bus.rs` measures G1 and G2.
//!
//! On both, the responder is a real task that receives each request through the bus's
//! subscription and answers it with `respond`; nothing is precomputed. It answers with the
//! request itself, detached, as the bare responder does: that response already carries its
//! correlation id, which `respond` then need not set. The bus has no endpoint registered,
//! so requests go straight to the topic's subscribers.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::Value;
use switchyard_benches::{quantile, report, row, write_figures};
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

/// What one runtime flavor measured: bus and bare baseline side by side.
struct Measured {
    bare_p50: f64,
    bare_p99: f64,
    bus_p50: f64,
    bus_p99: f64,
    bare_concurrent: f64,
    bus_concurrent: f64,
}

/// Measures the bus and the bare baseline on the runtime this runs on: warm-up, then
/// `measured` sequential round trips of each (interleaved in tenths, so that drift in the
/// machine's speed hits both), then `measured` round trips of each with [`IN_FLIGHT`]
/// outstanding.
async fn measure(warm_up: usize, measured: usize) -> Measured {
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
    let (mut bare_samples, mut bus_samples) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        bare_samples.extend(sequential(measured / 10, bare_trip).await);
        bus_samples.extend(sequential(measured / 10, bus_trip).await);
    }
    let bare_concurrent = concurrent(measured, bare_trip).await;
    let bus_concurrent = concurrent(measured, bus_trip).await;
    bus.close(TIMEOUT).await.expect("the bus closes");

    Measured {
        bare_p50: quantile(&mut bare_samples, 0.50),
        bare_p99: quantile(&mut bare_samples, 0.99),
        bus_p50: quantile(&mut bus_samples, 0.50),
        bus_p99: quantile(&mut bus_samples, 0.99),
        bare_concurrent,
        bus_concurrent,
    }
}

/// The rows of one runtime flavor, with the goals whatever the flavor: p50 <= 3x the
/// bare round trip, p99 <= 20 µs, throughput with 64 in flight >= 50% of the bare one; and,
/// for the record, the p99 beside the bare round trip's own. `suffix` ends the ids of the
/// flavor; `flavor` says how it runs.
fn rows(measured: &Measured, suffix: &str, flavor: &str) -> Vec<Value> {
    vec![
        row(
            &format!("G3.request_p50{suffix}"),
            measured.bus_p50,
            "ns",
            &format!("p50 of a bare mpsc + oneshot round trip to a task, {flavor}"),
            measured.bare_p50,
            3.0,
        ),
        row(
            &format!("G5.request_p99{suffix}"),
            measured.bus_p99,
            "ns",
            &format!(
                "the issue's absolute goal, 20 µs; {flavor}; the bare round trip's own p99 \
                 here is {:.1} µs",
                measured.bare_p99 / 1000.0
            ),
            20_000.0,
            1.0,
        ),
        report(
            &format!("G5.request_p99_vs_bare{suffix}"),
            measured.bus_p99,
            "ns",
            &format!("p99 of the bare mpsc + oneshot round trip, {flavor}"),
            measured.bare_p99,
        ),
        row(
            &format!("G3.request_throughput_64{suffix}"),
            measured.bus_concurrent,
            "ns/request",
            &format!(
                "the bare round trip with 64 in flight, {flavor} \
                 (ratio <= 2 is >= 50% of its throughput)"
            ),
            measured.bare_concurrent,
            2.0,
        ),
    ]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (warm_up, measured) = if quick {
        (2_000, 20_000)
    } else {
        (10_000, 100_000)
    };

    // The responder tasks run on the requester's thread: no wake-up crosses threads, as in a
    // latency-sensitive service that keeps a request's path on one core.
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(measure(warm_up, measured));
    // The requester on the benchmark's own thread (`block_on`), the responders on two
    // workers: every wake-up crosses threads, and on this two-core VM the bare round
    // trip's own p99 is far above 20 µs.
    let multi_thread = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(measure(warm_up, measured));

    let mut figures = rows(
        &multi_thread,
        "",
        "requester on the block_on thread, responder task on a 2-worker multi-thread runtime",
    );
    figures.extend(rows(
        &current_thread,
        ".current_thread",
        "requester and responder task on one current-thread runtime",
    ));
    write_figures("G3", &figures);
}
