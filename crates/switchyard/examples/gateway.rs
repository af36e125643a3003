//! A request/reply service that any client with a socket can drive: the gateway's
//! line-delimited JSON channel over TCP, in front of a router.
//!
//! ```text
//! cargo run --example gateway                        # listens on 127.0.0.1:7878
//! printf '{"type":"quote.request","data":{"sku":"A-1","qty":3}}\n' | nc -q1 127.0.0.1 7878
//! printf '{"type":"ping"}\n{"type":"nope"}\nnot json\n' | nc -q1 127.0.0.1 7878
//! ```
//!
//! Each line is one request, and each reply comes back as one line on the same connection:
//! `quote.request` is answered with `quote.created`, or `quote.rejected` with the reason for
//! a quantity out of range, and `ping` with `pong`. A quote request whose `data` does not
//! decode, a type that no handler takes and a line that is not a request get a
//! `bad_request` error reply, and the connection goes on. Ctrl-C (or `--duration`) shuts
//! the gateway down gracefully: the requests in flight are answered first.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows its results"
)]

use std::{future::Future, io::IsTerminal as _, net::SocketAddr, time::Duration};

use clap::Parser;
use serde::{Deserialize, Serialize};
use switchyard::{
    Message,
    engine::gateway::{Gateway, ShutdownReport, TcpJsonChannel},
    handler_fn,
    routing::router::{Router, RouterError},
};
use tracing::info;

#[derive(Parser)]
#[command(about = "A request/reply service over line-delimited JSON on TCP")]
struct Args {
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Stop after this many seconds; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 0)]
    duration: u64,
}

#[derive(Debug, Deserialize)]
struct QuoteRequest {
    sku: String,
    qty: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Quote {
    sku: String,
    qty: u32,
    total_cents: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Rejection {
    reason: String,
}

/// The price of one item of any SKU, in cents.
const UNIT_PRICE_CENTS: u64 = 1_250;

/// The most items one quote covers.
const MAX_QTY: u32 = 1_000;

fn router() -> Result<Router, RouterError> {
    let quote = handler_fn(|request: Message| async move {
        // A payload that does not decode is bad input: the client gets a `bad_request`.
        let QuoteRequest { sku, qty } = request.decode()?;
        // A request the business turns down is answered, not failed: the client learns why.
        let reply = if qty == 0 || qty > MAX_QTY {
            Message::builder()
                .message_type("quote.rejected")
                .json(&Rejection {
                    reason: format!("qty must be between 1 and {MAX_QTY}, not {qty}"),
                })
                .build()?
        } else {
            let quote = Quote {
                sku,
                qty,
                total_cents: u64::from(qty) * UNIT_PRICE_CENTS,
            };
            Message::builder()
                .message_type("quote.created")
                .json(&quote)
                .build()?
        };
        Ok(vec![reply])
    });
    let ping = handler_fn(|_request: Message| async move {
        Ok(vec![Message::builder().message_type("pong").build()?])
    });
    Ok(Router::builder()
        .handle("quote.request", quote)?
        .handle("ping", ping)?
        .build())
}

/// Serves on `args.listen` until `args.duration` has passed or `interrupted` resolves,
/// calling `listening` with the bound address once clients can connect, then shuts the
/// gateway down and returns its report.
async fn run(
    args: &Args,
    interrupted: impl Future<Output = ()>,
    listening: impl FnOnce(SocketAddr),
) -> Result<ShutdownReport, Box<dyn std::error::Error>> {
    let gateway = Gateway::builder()
        .router(router()?)
        .max_in_flight(64)
        .request_timeout(Duration::from_secs(5))
        .build()?;
    let channel = TcpJsonChannel::builder("tcp").bind(args.listen).await?;
    let address = channel.local_addr();
    gateway.register(channel).await?;
    info!(%address, "gateway listening");
    listening(address);

    let until = async {
        if args.duration == 0 {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_secs(args.duration)).await;
    };
    tokio::select! {
        () = interrupted => info!("interrupted"),
        () = until => info!("duration over"),
    }
    // Takes nothing more, answers what is in flight, then stops the channel.
    Ok(gateway.shutdown(Duration::from_secs(10)).await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log redirected to a file stays plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let interrupted = async {
        // Without a signal handler, the run ends only by its duration.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let report = run(&args, interrupted, |address| {
        println!("listening on {address}; try:");
        println!(
            r#"  printf '{{"type":"quote.request","data":{{"sku":"A-1","qty":3}}}}\n' | nc -q1 {} {}"#,
            address.ip(),
            address.port()
        );
    })
    .await?;
    println!(
        "stopped in {:?}: {} drained, {} abandoned, clean: {}",
        report.elapsed(),
        report.drained(),
        report.abandoned(),
        report.is_clean()
    );
    Ok(())
}

#[cfg(test)]
#[path = "gateway/tests.rs"]
mod tests;
