//! The main job: an order pipeline on the in-memory bus, with no server.
//!
//! Orders arrive on the bus; the engine routes them by type to the `order` and `payment`
//! routers; handlers emit follow-ups through the internal loop (`loop://`) and
//! confirmations to the bus; a ticker emits `order.timeout.check`; bad orders end in the
//! dead letter with a reason. A live progress line shows what is happening, and the engine
//! stops gracefully on Ctrl-C or after `--duration`, printing its final health.
//!
//! ```text
//! cargo run --example orders -- --duration 5 --rate 2000
//! RUST_LOG=debug cargo run --example orders
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows its results"
)]

use std::{
    io::{IsTerminal, Write as _},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use clap::Parser;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use switchyard::{
    Error, Message, Publisher, Subscriber,
    bus::{Bus, BusConfig},
    engine::{Engine, Health, StopReport, TickerSubscriber},
    handler_fn,
    routing::router::Router,
};
use tracing::{info, warn};

#[derive(Parser)]
#[command(about = "Switchyard's main job: an order pipeline on the in-memory bus")]
struct Args {
    /// Stop after this many seconds; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Orders published per second.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    order: u64,
    amount_cents: u64,
}

/// What the application itself observes, for the progress line.
#[derive(Default)]
struct Progress {
    published: AtomicU64,
    confirmed: AtomicU64,
    dead_letters: AtomicU64,
    timeout_checks: AtomicU64,
}

fn order_router(progress: Arc<Progress>) -> Result<Router, Box<dyn std::error::Error>> {
    let placed = handler_fn(|message: Message| async move {
        let order: Order = message.decode()?;
        if order.amount_cents == 0 {
            // A permanent error: the engine sends the order to the dead letter, with a reason.
            return Err(Error::permanent_handler(format!(
                "order {} has no amount",
                order.order
            )));
        }
        // The payment step runs in the same engine, through the internal loop.
        let payment = Message::builder()
            .message_type("payment.requested")
            .destination("loop://payments")
            .partition_key(order.order.to_string())
            .json(&order)
            .build()?;
        Ok(vec![payment])
    });
    let paid = handler_fn(|message: Message| async move {
        let order: Order = message.decode()?;
        let confirmation = Message::builder()
            .message_type("order.confirmed")
            .destination("mem://notifications")
            .json(&order)
            .build()?;
        Ok(vec![confirmation])
    });
    let timeout_check = handler_fn(move |_message: Message| {
        let progress = progress.clone();
        async move {
            progress.timeout_checks.fetch_add(1, Relaxed);
            Ok(vec![])
        }
    });
    Ok(Router::builder()
        .handle("order.placed", placed)?
        .handle("order.paid", paid)?
        .handle("order.timeout.check", timeout_check)?
        .build())
}

fn payment_router() -> Result<Router, Box<dyn std::error::Error>> {
    let requested = handler_fn(|message: Message| async move {
        let order: Order = message.decode()?;
        let paid = Message::builder()
            .message_type("order.paid")
            .destination("loop://orders")
            .json(&order)
            .build()?;
        Ok(vec![paid])
    });
    Ok(Router::builder()
        .handle("payment.requested", requested)?
        .build())
}

/// Publishes `rate` orders a second until cancelled: every 50th has no amount and every
/// 97th has a type that no router knows, so that the dead letter has something to show.
async fn produce(
    bus: Bus,
    rate: u64,
    progress: Arc<Progress>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Orders due after `ticks` ticks of 10 ms: `rate` a second exactly, also for rates that
    // are not a multiple of 100 or below it. Skipped ticks (a stalled machine) are not made
    // up for with a burst.
    let mut ticks = 0u64;
    let mut next = 1u64;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        ticks += 1;
        let due = rate.saturating_mul(ticks) / 100;
        while next <= due {
            let order = next;
            next += 1;
            let message_type = if order % 97 == 0 {
                "order.unknown"
            } else {
                "order.placed"
            };
            let amount_cents = if order % 50 == 0 {
                0
            } else {
                1_000 + order % 9_000
            };
            let message = Message::builder()
                .message_type(message_type)
                .source("/shop")
                .json(&Order {
                    order,
                    amount_cents,
                })
                .build();
            let published = match message {
                Ok(message) => bus.publish("orders.incoming", message).await,
                Err(err) => Err(err),
            };
            match published {
                Ok(()) => {
                    progress.published.fetch_add(1, Relaxed);
                }
                Err(err) => warn!(error = %err.report(), "could not publish an order"),
            }
        }
    }
}

/// Acks everything on `topic`, counting it.
async fn drain(bus: Bus, topic: &'static str, counter: impl Fn() + Send + 'static) {
    let Ok(mut subscription) = bus.subscribe(topic) else {
        return;
    };
    while let Some(Ok(message)) = subscription.next().await {
        counter();
        message.ack();
    }
}

fn progress_line(health: &Health, progress: &Progress) -> String {
    format!(
        "published {:>7}  received {:>7}  acked {:>7}  confirmed {:>7}  dead-lettered {:>5}  in flight {:>4}  ticks {:>3}",
        progress.published.load(Relaxed),
        health.counts.received,
        health.counts.acked,
        progress.confirmed.load(Relaxed),
        progress.dead_letters.load(Relaxed),
        health.in_flight,
        progress.timeout_checks.load(Relaxed),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,orders=info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log redirected to a file stays plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let interrupted = async {
        // Without a signal handler (an unusual platform), only `--duration` stops the run.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let outcome = run(&args, interrupted).await?;
    print_outcome(&outcome);
    Ok(())
}

/// What a run did, as the final report shows it.
struct Outcome {
    progress: Arc<Progress>,
    report: StopReport,
    health: Health,
}

/// Runs the pipeline until `--duration` is over or `interrupted` completes, then stops it
/// gracefully.
async fn run(
    args: &Args,
    interrupted: impl Future<Output = ()>,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let progress = Arc::new(Progress::default());
    let bus = Bus::new(BusConfig::default())?;
    let bus_handle: Arc<dyn Publisher> = Arc::new(bus.pubsub().clone());
    let bus_source: Arc<dyn Subscriber> = Arc::new(bus.pubsub().clone());

    let engine = Engine::new();
    engine.add_subscriber("orders", bus_source, "orders.incoming")?;
    let ticker = TickerSubscriber::new(Duration::from_secs(1), |_tick| async {
        Ok(vec![
            Message::builder()
                .message_type("order.timeout.check")
                .build()?,
        ])
    })?;
    engine.add_subscriber("ticker", Arc::new(ticker), "ticks")?;
    engine.add_router("order", order_router(progress.clone())?)?;
    engine.add_router("payment", payment_router()?)?;
    engine.add_publisher("mem://", bus_handle)?;
    engine.set_dead_letter("mem://dead-letter")?;

    let stop = tokio_util::sync::CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    let confirmed = progress.clone();
    tasks.spawn(drain(bus.clone(), "notifications", move || {
        confirmed.confirmed.fetch_add(1, Relaxed);
    }));
    let dead_letters = progress.clone();
    tasks.spawn(drain(bus.clone(), "dead-letter", move || {
        dead_letters.dead_letters.fetch_add(1, Relaxed);
    }));
    engine.start().await?;
    info!(
        rate = args.rate,
        duration_s = args.duration,
        "engine running"
    );
    let producer = tasks.spawn(produce(
        bus.clone(),
        args.rate,
        progress.clone(),
        stop.clone(),
    ));

    let live = std::io::stderr().is_terminal();
    let mut interrupted = std::pin::pin!(interrupted);
    let deadline = (args.duration > 0)
        .then(|| tokio::time::Instant::now() + Duration::from_secs(args.duration));
    let mut every = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            () = &mut interrupted => break,
            () = async { tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)).await },
                if deadline.is_some() => break,
            _ = every.tick() => {
                let line = progress_line(&engine.health(), &progress);
                if live {
                    eprint!("\r{line}");
                    let _ = std::io::stderr().flush();
                } else {
                    eprintln!("{line}");
                }
            }
        }
    }
    if live {
        eprintln!();
    }

    // Stop the producer first, then the engine: it drains what is in flight, the loop
    // included, acks what it processed and nacks the rest for redelivery.
    stop.cancel();
    if producer.await.is_err() {
        warn!("the producer task failed");
    }
    // Let the engine take in what the producer already published (bounded: 5 s), so that
    // nothing is left queued on the bus when it closes.
    let drained_by = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    while tokio::time::Instant::now() < drained_by {
        let expected = progress.published.load(Relaxed) + progress.timeout_checks.load(Relaxed);
        if engine.health().counts.received >= expected {
            break;
        }
        poll.tick().await;
    }
    let report = engine.stop(Duration::from_secs(10)).await?;
    bus.close(Duration::from_secs(5)).await?;
    tasks.close();
    if tokio::time::timeout(Duration::from_secs(5), tasks.wait())
        .await
        .is_err()
    {
        warn!("helper tasks did not stop within 5 s");
    }

    Ok(Outcome {
        progress,
        report,
        health: engine.health(),
    })
}

fn print_outcome(outcome: &Outcome) {
    let Outcome {
        progress,
        report,
        health,
    } = outcome;
    println!("{}", progress_line(health, progress));
    println!(
        "stopped in {:?}: {} drained, {} left for redelivery, {} unsettled, quiescent: {}",
        report.elapsed, report.drained, report.left, report.unsettled, report.quiescent
    );
    let counts = health.counts;
    println!(
        "final health: {:?}; subscribers {}, routers {}, publishers {}; received {}, acked {}, \
         nacked {}, dead-lettered {}, loop overflows {}, hop-limited {}",
        health.state,
        health.subscribers,
        health.routers,
        health.publishers,
        counts.received,
        counts.acked,
        counts.nacked,
        counts.dead_lettered,
        counts.loop_overflows,
        counts.hop_limited,
    );
    if let Some(reason) = &health.degraded {
        println!("  degraded: {reason}");
    }
    for component in health
        .components
        .iter()
        .filter(|component| component.errors > 0)
    {
        println!(
            "  {:?} `{}`: {} errors, last: {}",
            component.kind,
            component.name,
            component.errors,
            component.last_error.as_deref().unwrap_or("-"),
        );
    }
}

#[cfg(test)]
#[path = "orders/tests.rs"]
mod tests;
