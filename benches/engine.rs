//! The engine figures of the engine issue, G1: messages end to end through the engine
//! (in-memory subscriber → FanIn → router by type → one handler → FanOut → in-memory
//! publisher, with ack), beside raw tokio `mpsc` SPSC of the same messages in the same run:
//! throughput, p50 and p99 latency, and the throughput of one hop through the internal loop.
//! For the record, the same two bus hops with only a relay task between them: the floor
//! that the engine's own work sits on.
//! Written to `target/perf/figures/G1-engine.json`.

use std::{
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::Value;
use switchyard_benches::{quantile, report, row, write_figures};
use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SubscribeOptions, Subscription};
use switchyard_core::{Message, Publisher, Subscriber, handler_fn};
use switchyard_engine::Engine;
use switchyard_routing::router::Router;
use tokio::sync::mpsc;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The engine under test, between an `in` and an `out` topic of one in-memory bus. With
/// `through_loop`, the first handler sends each message through `loop://` to a second one.
async fn pipeline(through_loop: bool) -> (Engine, MemoryPubSub, Subscription) {
    let bus = MemoryPubSub::new(PubSubConfig::default());
    let out = bus
        .subscribe_with("out", SubscribeOptions::default())
        .expect("a subscription");
    let forward = handler_fn(|message: Message| async move { Ok(vec![message.detached()]) });
    let to_loop = handler_fn(|message: Message| async move {
        let mut next = message.detached();
        next.attributes_mut().set_type("bench.hop")?;
        next.attributes_mut().set_destination("loop://bench")?;
        Ok(vec![next])
    });
    let hop = handler_fn(|message: Message| async move {
        let mut next = message.detached();
        next.attributes_mut().set_destination("mem://out")?;
        Ok(vec![next])
    });
    let router = if through_loop {
        Router::builder()
            .handle("bench.e2e", to_loop)
            .and_then(|r| r.handle("bench.hop", hop))
    } else {
        Router::builder().handle("bench.e2e", forward)
    }
    .expect("valid router")
    .build();
    let engine = Engine::new();
    let source: Arc<dyn Subscriber> = Arc::new(bus.clone());
    let sink: Arc<dyn Publisher> = Arc::new(bus.clone());
    engine
        .add_subscriber("in", source, "in")
        .expect("registration");
    engine.add_router("bench", router).expect("registration");
    engine.add_publisher("mem://", sink).expect("registration");
    engine.start().await.expect("the engine starts");
    (engine, bus, out)
}

fn message() -> Message {
    Message::builder()
        .message_type("bench.e2e")
        .destination("mem://out")
        .payload(vec![0u8; 64])
        .build()
        .expect("valid message")
}

/// ns per message of `n` messages published to `in` by a producer task as fast as the bus
/// takes them, and received and acked from `out`, whatever carries them from one to the
/// other.
async fn in_to_out(bus: &MemoryPubSub, out: &mut Subscription, n: usize) -> f64 {
    let template = message();
    let started = Instant::now();
    let producer = {
        let bus = bus.clone();
        tokio::spawn(async move {
            for _ in 0..n {
                bus.publish("in", template.detached())
                    .await
                    .expect("publish");
            }
        })
    };
    // One deadline for the whole run, not a timer per message, which the baseline has
    // no equivalent of: a hang still fails, and the figure measures what it names.
    let consume = async {
        for _ in 0..n {
            let delivered = out.next().await;
            delivered.expect("a delivery").expect("no error").ack();
        }
    };
    tokio::time::timeout(TIMEOUT, consume)
        .await
        .expect("in time");
    let elapsed = started.elapsed().as_nanos() as f64 / n as f64;
    producer.await.expect("the producer ends");
    elapsed
}

/// ns per message of `n` messages pushed through the engine as fast as the bus takes them.
async fn engine_throughput(n: usize, through_loop: bool) -> f64 {
    let (engine, bus, mut out) = pipeline(through_loop).await;
    let elapsed = in_to_out(&bus, &mut out, n).await;
    engine.stop(TIMEOUT).await.expect("the engine stops");
    bus.close().await.expect("the bus closes");
    elapsed
}

/// ns per message of `n` messages over the same two bus hops as the engine's path, `in` and
/// `out`, with nothing between them but a task that republishes each message and acks it:
/// the floor under the engine figure, which no work in the engine can go below.
async fn bus_floor_throughput(n: usize) -> f64 {
    let bus = MemoryPubSub::new(PubSubConfig::default());
    let mut out = bus
        .subscribe_with("out", SubscribeOptions::default())
        .expect("a subscription");
    let mut input = bus
        .subscribe_with("in", SubscribeOptions::default())
        .expect("a subscription");
    let relay = {
        let bus = bus.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = input.next().await {
                bus.publish("out", message.detached())
                    .await
                    .expect("publish");
                message.ack();
            }
        })
    };
    let elapsed = in_to_out(&bus, &mut out, n).await;
    // Closing ends the relay's subscription, and so the relay.
    bus.close().await.expect("the bus closes");
    relay.await.expect("the relay ends");
    elapsed
}

/// ns per message of `n` messages through one tokio mpsc channel to another task.
async fn mpsc_throughput(n: usize) -> f64 {
    let (tx, mut rx) = mpsc::channel::<Message>(1024);
    let template = message();
    let started = Instant::now();
    let producer = tokio::spawn(async move {
        for _ in 0..n {
            tx.send(template.detached()).await.expect("receiver alive");
        }
    });
    for _ in 0..n {
        black_box(rx.recv().await.expect("a message")).ack();
    }
    producer.await.expect("the producer ends");
    started.elapsed().as_nanos() as f64 / n as f64
}

/// Latencies (ns) of `n` messages sent one at a time through the engine.
async fn engine_latencies(n: usize) -> Vec<f64> {
    let (engine, bus, mut out) = pipeline(false).await;
    let template = message();
    let mut samples = Vec::with_capacity(n);
    let sample = async {
        for _ in 0..n {
            let started = Instant::now();
            bus.publish("in", template.detached())
                .await
                .expect("publish");
            let delivered = out.next().await;
            delivered.expect("a delivery").expect("no error").ack();
            samples.push(started.elapsed().as_nanos() as f64);
        }
    };
    tokio::time::timeout(TIMEOUT, sample)
        .await
        .expect("in time");
    engine.stop(TIMEOUT).await.expect("the engine stops");
    bus.close().await.expect("the bus closes");
    samples
}

/// Latencies (ns) of `n` messages sent one at a time through an mpsc channel to a task
/// that passes them back through another.
async fn mpsc_latencies(n: usize) -> Vec<f64> {
    let (to_task, mut task_in) = mpsc::channel::<Message>(1024);
    let (task_out, mut back) = mpsc::channel::<Message>(1024);
    let relay = tokio::spawn(async move {
        while let Some(message) = task_in.recv().await {
            if task_out.send(message).await.is_err() {
                return;
            }
        }
    });
    let template = message();
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        to_task
            .send(template.detached())
            .await
            .expect("relay alive");
        black_box(back.recv().await.expect("a message")).ack();
        samples.push(started.elapsed().as_nanos() as f64);
    }
    drop(to_task);
    relay.await.expect("the relay ends");
    samples
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (n, latency_n) = if quick {
        (100_000, 5_000)
    } else {
        (500_000, 20_000)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let rows: Vec<Value> = runtime.block_on(async {
        // Warm up both paths, then measure them alternately so that drift hits both.
        mpsc_throughput(n / 10).await;
        engine_throughput(n / 10, false).await;
        let (mut bare, mut engine, mut looped, mut floor) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..3 {
            bare += mpsc_throughput(n).await / 3.0;
            engine += engine_throughput(n, false).await / 3.0;
            looped += engine_throughput(n, true).await / 3.0;
            floor += bus_floor_throughput(n).await / 3.0;
        }
        let mut bare_latency = mpsc_latencies(latency_n).await;
        let mut engine_latency = engine_latencies(latency_n).await;
        vec![
            row(
                "G1.engine_e2e",
                engine,
                "ns/msg",
                "raw tokio mpsc SPSC of the same messages (ratio <= 2 is >= 50% of its throughput)",
                bare,
                2.0,
            ),
            report(
                "G1.engine_bus_floor",
                floor,
                "ns/msg",
                "raw tokio mpsc SPSC of the same messages; the engine's two bus hops alone, for the record",
                bare,
            ),
            row(
                "G1.engine_msgs_per_s",
                engine,
                "ns/msg",
                "0.5M msg/s, i.e. 2000 ns per message",
                2_000.0,
                1.0,
            ),
            row(
                "G1.engine_p50",
                quantile(&mut engine_latency, 0.50),
                "ns",
                "p50 of one message to a task and back through tokio mpsc",
                quantile(&mut bare_latency, 0.50),
                10.0,
            ),
            row(
                "G1.engine_p99",
                quantile(&mut engine_latency, 0.99),
                "ns",
                "p99 of one message to a task and back through tokio mpsc",
                quantile(&mut bare_latency, 0.99),
                10.0,
            ),
            row(
                "G1.engine_loop_hop",
                looped,
                "ns/msg",
                "the same path without the loop hop",
                engine,
                2.0,
            ),
        ]
    });
    write_figures("G1-engine", &rows);
}
