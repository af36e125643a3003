//! A tour of `switchyard-core`: build typed messages, handle them, settle their deliveries
//! under the ack contract, and see bad input turned into typed errors.
//!
//! Run it with `cargo run -p switchyard-core --example quickstart`.

#![allow(clippy::print_stdout, reason = "an example shows its results")]

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use serde::{Deserialize, Serialize};
use switchyard_core::{
    AckSink, Acker, Error, Handler, Limits, Message, NackCause, handler_fn, redact,
};

#[derive(Debug, Serialize, Deserialize)]
struct OrderPlaced {
    order: u64,
    amount_cents: u64,
}

/// Stands in for a broker: counts what the consumer told it.
#[derive(Default)]
struct Broker {
    acked: AtomicUsize,
    redelivered: AtomicUsize,
}

struct Delivery(Arc<Broker>);

impl AckSink for Delivery {
    fn ack(&self) {
        self.0.acked.fetch_add(1, Ordering::Relaxed);
    }
    fn nack(&self, _cause: NackCause) {
        self.0.redelivered.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() -> Result<(), Error> {
    let broker = Arc::new(Broker::default());

    // A handler that bills every order and emits a receipt for the next hop.
    let billing = handler_fn(|message: Message| async move {
        let order: OrderPlaced = message.decode()?;
        if order.amount_cents == 0 {
            return Err(Error::permanent_handler("an order must cost something"));
        }
        if order.amount_cents > 100_000 {
            return Err(Error::transient_handler(
                "the payment provider did not answer",
            ));
        }
        let receipt = Message::builder()
            .message_type("billing.charged")
            .destination("loop://receipts")
            .causation_id(message.attributes().id().unwrap_or_default())
            .json(&serde_json::json!({ "order": order.order, "charged": order.amount_cents }))
            .build()?;
        Ok(vec![receipt])
    });

    let orders = [(1, 1_250), (2, 0), (3, 990), (4, 250_000)];
    for (order, amount_cents) in orders {
        let delivered = Message::builder()
            .message_type("orders.placed")
            .source("/shop")
            .json(&OrderPlaced {
                order,
                amount_cents,
            })
            .acker(Acker::new(Delivery(broker.clone())))
            .build()?;

        // The caller owns the delivery: ack after success, nack so that it is redelivered.
        match futures::executor::block_on(billing.handle(&delivered)) {
            Ok(outputs) => {
                for output in &outputs {
                    println!(
                        "order {order}: {} -> {} {}",
                        output.attributes().message_type().unwrap_or("?"),
                        output.attributes().destination().unwrap_or("?"),
                        String::from_utf8_lossy(output.payload()),
                    );
                }
                delivered.ack();
            }
            // A transient failure is worth another try: nack, and the broker redelivers.
            Err(err) if err.is_transient() => {
                println!("order {order}: {err}, will be redelivered");
                delivered.nack();
            }
            // A permanent one would fail forever: park it in a dead letter, then ack.
            Err(err) => {
                println!("order {order}: {err}, dead-lettered");
                delivered.ack();
            }
        }
    }
    println!(
        "broker: {} settled, {} to redeliver",
        broker.acked.load(Ordering::Relaxed),
        broker.redelivered.load(Ordering::Relaxed)
    );

    // Bad input is a typed error, never a panic.
    let too_big = Message::builder()
        .payload(vec![0; 2048])
        .limits(Limits::new().with_max_payload_bytes(1024))
        .build();
    println!("oversized: {}", too_big.unwrap_err());
    println!(
        "bad name: {}",
        Message::builder()
            .attribute("Tenant", "acme")
            .build()
            .unwrap_err()
    );

    // Credentials never reach a log line.
    println!(
        "redacted: {}",
        redact("connect to redis://app:hunter2@cache:6379 failed")
    );
    Ok(())
}
