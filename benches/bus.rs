//! Benchmarks of `switchyard-bus`'s in-memory pub/sub: the G1 and G2 figures of the bus
//! issue.
//!
//! Every figure runs on a current-thread Tokio runtime, publisher and consumers joined in
//! one task, so that it measures the cost of the bus and not the scheduling noise of this
//! two-core machine; the baselines run the same way.
//!
//! - `G1.bus_1to1`: publish, receive and ack [`N_1TO1`] messages from one publisher to one
//!   subscriber through a queue of [`QUEUE_1TO1`] (so the publisher blocks and resumes),
//!   against a bounded tokio `mpsc` of the same size carrying the same messages (each
//!   received message acked, too). Goal: at least 50% of the baseline's throughput.
//! - `G2.bus_fanout4`: publish [`N_FANOUT`] messages to four subscribers, each receiving and
//!   acking every one, against tokio `broadcast` and four `mpsc` channels doing the same;
//!   the figure is compared with the faster of the two. The queues hold all
//!   [`N_FANOUT`] messages, since `broadcast` cannot apply backpressure. Goal: at least 60%
//!   of the baseline's throughput. Criterion reports the three; the row itself comes from
//!   rounds that run the three in turn (see `measure_g2`), so that the machine's drift hits
//!   them alike, and is written, with the better baseline, to `target/perf/figures/G2.json`.
//! - `G1.bus_publish_10k_patterns`: one publish to a bus with 10 000 pattern subscriptions
//!   (`tenant<k>.orders.*`), of which exactly one matches each published topic, against
//!   one publish to a bus with a single exact subscription. Neither consumer reads (their
//!   queues drop their oldest), so this is the publish path alone. Reported, no goal.

#![allow(
    clippy::print_stderr,
    reason = "a benchmark reports its own measurements on stderr"
)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use futures::{StreamExt, future::join_all};
use switchyard_benches::{quantile, row, write_figures};
use switchyard_bus::pubsub::{
    MemoryPubSub, PubSubConfig, SlowConsumerPolicy, SubscribeOptions, Subscription,
};
use switchyard_core::Message;
use tokio::{
    runtime::Runtime,
    sync::{broadcast, mpsc},
};

/// Messages per iteration of `G1.bus_1to1`.
const N_1TO1: usize = 4096;
/// Queue size of `G1.bus_1to1`, for the bus and the baseline alike.
const QUEUE_1TO1: usize = 256;
/// Messages per iteration of `G2.bus_fanout4`, and the size of its queues.
const N_FANOUT: usize = 1024;
/// Subscribers of `G2.bus_fanout4`.
const FANOUT: usize = 4;
/// Pattern subscriptions of `G1.bus_publish_10k_patterns`.
const PATTERNS: usize = 10_000;
/// Distinct topics that `G1.bus_publish_10k_patterns` publishes on, in turn.
const HOT_TENANTS: usize = 64;

const TOPIC: &str = "orders.created";

/// The G2 goal on the time ratio: 60% of the baseline's throughput.
const G2_MAX_RATIO: f64 = 1.0 / 0.6;
/// Rounds of `G2.bus_fanout4` run before its measured ones.
const G2_WARM_UP: usize = 10;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The message every benchmark sends: 256 bytes with the usual attributes. Each send is a
/// clone, which copies nothing.
fn template() -> Message {
    Message::builder()
        .message_type("orders.created")
        .payload(vec![7u8; 256])
        .build()
        .expect("a valid message")
}

fn blocking(buffer: usize) -> SubscribeOptions {
    SubscribeOptions::builder()
        .buffer(buffer)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .expect("valid options")
}

/// Receives and acks `count` messages.
async fn consume(subscription: &mut Subscription, count: usize) {
    for _ in 0..count {
        let message = subscription
            .next()
            .await
            .expect("the stream is open")
            .expect("a message");
        message.ack();
    }
}

fn bus_1to1(c: &mut Criterion) {
    let runtime = runtime();
    let message = template();
    let mut group = c.benchmark_group("G1.bus_1to1");
    group.bench_function("baseline", |b| {
        b.to_async(&runtime).iter(|| async {
            let (tx, mut rx) = mpsc::channel::<Message>(QUEUE_1TO1);
            let publish = async {
                for _ in 0..N_1TO1 {
                    tx.send(message.clone()).await.expect("open");
                }
            };
            let receive = async {
                for _ in 0..N_1TO1 {
                    rx.recv().await.expect("open").ack();
                }
            };
            tokio::join!(publish, receive);
        });
    });
    let bus = runtime.block_on(async { MemoryPubSub::new(PubSubConfig::default()) });
    group.bench_function("bus", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (bus, message) = (bus.clone(), message.clone());
            async move {
                let mut subscription = bus.subscribe_with(TOPIC, blocking(QUEUE_1TO1)).unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    let publish = async {
                        for _ in 0..N_1TO1 {
                            bus.publish(TOPIC, message.clone())
                                .await
                                .expect("published");
                        }
                    };
                    tokio::join!(publish, consume(&mut subscription, N_1TO1));
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

/// One round of `G2.bus_fanout4`'s broadcast baseline: [`N_FANOUT`] messages to
/// [`FANOUT`] receivers, each receiving and acking every one.
async fn fanout_broadcast(message: &Message) {
    let (tx, _) = broadcast::channel::<Message>(N_FANOUT);
    let receivers: Vec<_> = (0..FANOUT).map(|_| tx.subscribe()).collect();
    let publish = async {
        for _ in 0..N_FANOUT {
            tx.send(message.clone()).expect("receivers");
        }
    };
    let receive = join_all(receivers.into_iter().map(|mut rx| async move {
        for _ in 0..N_FANOUT {
            rx.recv().await.expect("no lag").ack();
        }
    }));
    tokio::join!(publish, receive);
}

/// One round of the four-`mpsc` baseline.
async fn fanout_mpsc4(message: &Message) {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..FANOUT)
        .map(|_| mpsc::channel::<Message>(N_FANOUT))
        .unzip();
    let publish = async {
        for _ in 0..N_FANOUT {
            for tx in &senders {
                tx.send(message.clone()).await.expect("open");
            }
        }
    };
    let receive = join_all(receivers.into_iter().map(|mut rx| async move {
        for _ in 0..N_FANOUT {
            rx.recv().await.expect("open").ack();
        }
    }));
    tokio::join!(publish, receive);
}

/// One round of the bus, publishing to `subscriptions`, one per subscriber.
async fn fanout_bus(bus: &MemoryPubSub, subscriptions: &mut [Subscription], message: &Message) {
    let publish = async {
        for _ in 0..N_FANOUT {
            bus.publish(TOPIC, message.clone())
                .await
                .expect("published");
        }
    };
    let receive = join_all(
        subscriptions
            .iter_mut()
            .map(|subscription| consume(subscription, N_FANOUT)),
    );
    tokio::join!(publish, receive);
}

fn subscribe_fanout(bus: &MemoryPubSub) -> Vec<Subscription> {
    (0..FANOUT)
        .map(|_| bus.subscribe_with(TOPIC, blocking(N_FANOUT)).unwrap())
        .collect()
}

fn bus_fanout4(c: &mut Criterion) {
    let runtime = runtime();
    let message = template();
    let mut group = c.benchmark_group("G2.bus_fanout4");
    group.bench_function("baseline_broadcast", |b| {
        b.to_async(&runtime).iter(|| fanout_broadcast(&message));
    });
    group.bench_function("baseline_mpsc4", |b| {
        b.to_async(&runtime).iter(|| fanout_mpsc4(&message));
    });
    let bus = runtime.block_on(async { MemoryPubSub::new(PubSubConfig::default()) });
    group.bench_function("bus", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (bus, message) = (bus.clone(), message.clone());
            async move {
                let mut subscriptions = subscribe_fanout(&bus);
                let start = Instant::now();
                for _ in 0..iters {
                    fanout_bus(&bus, &mut subscriptions, &message).await;
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

/// Medians (ns per round) of the bus and its two baselines, measured in interleaved rounds:
/// each round runs all three once, in an order that rotates, so that the machine's drift
/// (2-3x on this one) hits the three alike, which criterion's one-after-another groups do
/// not.
fn measure_g2(rounds: usize) -> Fanout {
    let runtime = runtime();
    runtime.block_on(async {
        let message = template();
        let bus = MemoryPubSub::new(PubSubConfig::default());
        let mut subscriptions = subscribe_fanout(&bus);
        let mut samples: [Vec<f64>; 3] = Default::default();
        for round in 0..rounds + G2_WARM_UP {
            for turn in 0..3 {
                let which = (round + turn) % 3;
                let started = Instant::now();
                match which {
                    0 => fanout_bus(&bus, &mut subscriptions, &message).await,
                    1 => fanout_broadcast(&message).await,
                    _ => fanout_mpsc4(&message).await,
                }
                if round >= G2_WARM_UP {
                    samples[which].push(started.elapsed().as_nanos() as f64);
                }
            }
        }
        let [mut bus_ns, mut broadcast_ns, mut mpsc4_ns] = samples;
        Fanout {
            bus: quantile(&mut bus_ns, 0.5),
            broadcast: quantile(&mut broadcast_ns, 0.5),
            mpsc4: quantile(&mut mpsc4_ns, 0.5),
        }
    })
}

/// What [`measure_g2`] measured, ns per round.
struct Fanout {
    bus: f64,
    broadcast: f64,
    mpsc4: f64,
}

fn publish_10k_patterns(c: &mut Criterion) {
    let runtime = runtime();
    let message = template();
    let dropping = SubscribeOptions::builder()
        .buffer(64)
        .policy(SlowConsumerPolicy::DropOldest)
        .build()
        .expect("valid options");
    let topics: Vec<String> = (0..HOT_TENANTS)
        .map(|tenant| format!("tenant{tenant}.orders.created"))
        .collect();

    let mut group = c.benchmark_group("G1.bus_publish_10k_patterns");
    let (one, _exact) = runtime.block_on(async {
        let bus = MemoryPubSub::new(PubSubConfig::default());
        let exact = bus.subscribe_with(&topics[0], dropping.clone()).unwrap();
        (bus, exact)
    });
    group.bench_function("baseline", |b| {
        b.to_async(&runtime).iter(|| async {
            one.publish(&topics[0], message.clone())
                .await
                .expect("published");
        });
    });

    let (many, _patterns) = runtime.block_on(async {
        let bus = MemoryPubSub::new(PubSubConfig::default());
        let started = Instant::now();
        let patterns: Vec<_> = (0..PATTERNS)
            .map(|tenant| {
                bus.subscribe_with(&format!("tenant{tenant}.orders.*"), dropping.clone())
                    .unwrap()
            })
            .collect();
        eprintln!(
            "G1.bus_publish_10k_patterns: {PATTERNS} pattern subscriptions in {:?}",
            started.elapsed()
        );
        // Let the bus's task fold the last subscriptions into the pattern index.
        tokio::time::sleep(Duration::from_secs(1)).await;
        (bus, patterns)
    });
    group.bench_function("publish", |b| {
        let mut at = 0;
        b.to_async(&runtime).iter(|| {
            at = (at + 1) % topics.len();
            let topic = &topics[at];
            let (many, message) = (&many, message.clone());
            async move {
                many.publish(topic, message).await.expect("published");
            }
        });
    });
    group.finish();
}

/// Writes the G2 row: the bus against the faster of its two baselines.
fn write_g2(measured: &Fanout) {
    let (baseline, label) = if measured.broadcast <= measured.mpsc4 {
        (
            measured.broadcast,
            "tokio broadcast to 4 receivers (the faster of broadcast and 4x mpsc), interleaved rounds",
        )
    } else {
        (
            measured.mpsc4,
            "4 tokio mpsc channels (the faster of broadcast and 4x mpsc), interleaved rounds",
        )
    };
    let g2 = row(
        "G2.bus_fanout4",
        measured.bus,
        "ns",
        label,
        baseline,
        G2_MAX_RATIO,
    );
    write_figures("G2", &[g2]);
}

fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let mut criterion = Criterion::default().configure_from_args();
    bus_1to1(&mut criterion);
    bus_fanout4(&mut criterion);
    publish_10k_patterns(&mut criterion);
    criterion.final_summary();
    // Without `--bench` criterion only smoke-tests each function: so does G2 then.
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = match (measuring, quick) {
        (false, _) => 1,
        (true, true) => 100,
        (true, false) => 400,
    };
    let measured = measure_g2(rounds);
    if measuring {
        write_g2(&measured);
    }
}
