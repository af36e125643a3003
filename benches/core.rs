//! Benchmarks of `switchyard-core`: what it costs to clone a message for fan-out, and to
//! read and change its attributes on the dispatch path.

use std::{hint::black_box, sync::Arc};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use switchyard_core::{Attributes, Message};

/// Cloning a message with a 1 KiB payload and 8 attributes, beside cloning the bare
/// payload `Bytes`. The ratio shows that the payload is shared, not copied: a copy of 1 KiB
/// alone costs more than the whole bare clone.
fn message_clone(c: &mut Criterion) {
    let payload = Bytes::from(vec![0xAB; 1024]);
    let mut builder = Message::builder()
        .payload(payload.clone())
        .message_type("orders.created");
    for i in 0..5 {
        builder = builder.attribute(&format!("ext{i}"), format!("value-{i}"));
    }
    // With `type` and the generated `id` and `time`, that makes 8 attributes.
    let message = builder.build().expect("benchmark message is valid");
    assert_eq!(message.attributes().len(), 8);

    let mut group = c.benchmark_group("message_clone");
    group.bench_function("baseline", |b| b.iter(|| black_box(&payload).clone()));
    group.bench_function("message_1k_8attrs", |b| {
        b.iter(|| black_box(&message).clone());
    });
    group.finish();
}

/// The attributes of a typical routed message: `id`, `time`, `type`, `source`,
/// `destination`, one extension and `correlationid`.
fn routed_attributes() -> Attributes {
    let message = Message::builder()
        .message_type("orders.created")
        .source("/orders")
        .destination("kafka://orders")
        .attribute("tenant", "acme")
        .correlation_id("c-0192f1a4")
        .build()
        .expect("benchmark message is valid");
    let attributes = message.attributes().clone();
    assert_eq!(attributes.len(), 7);
    attributes
}

/// What a router reads of every message: `type`, `destination` and `partitionkey` (absent
/// here, so the lookup misses, as it does for most messages). The baseline reads three
/// `Option<Arc<str>>` fields of a plain struct: the floor for any representation.
fn attributes_read(c: &mut Criterion) {
    struct Typed {
        message_type: Option<Arc<str>>,
        destination: Option<Arc<str>>,
        partition_key: Option<Arc<str>>,
    }
    let attributes = routed_attributes();
    let typed = Typed {
        message_type: Some("orders.created".into()),
        destination: Some("kafka://orders".into()),
        partition_key: None,
    };

    let mut group = c.benchmark_group("attributes_read");
    group.bench_function("baseline", |b| {
        b.iter(|| {
            let typed = black_box(&typed);
            (
                typed.message_type.as_deref(),
                typed.destination.as_deref(),
                typed.partition_key.as_deref(),
            )
        });
    });
    group.bench_function("type_destination_partitionkey", |b| {
        b.iter(|| {
            let attributes = black_box(&attributes);
            (
                attributes.message_type(),
                attributes.destination(),
                attributes.partition_key(),
            )
        });
    });
    group.finish();
}

/// Fan-out's copy-on-write: clone the attributes, point the copy at a new destination, drop
/// it. The baseline is the clone and drop alone.
fn attributes_cow(c: &mut Criterion) {
    let attributes = routed_attributes();

    let mut group = c.benchmark_group("attributes_cow");
    group.bench_function("baseline", |b| {
        b.iter(|| drop(black_box(&attributes).clone()));
    });
    group.bench_function("clone_set_destination", |b| {
        b.iter(|| {
            let mut copy = black_box(&attributes).clone();
            copy.set_destination("loop://billing")
                .expect("a valid destination");
            drop(copy);
        });
    });
    group.finish();
}

/// Building the attributes of a received message one by one, as a transport decodes them,
/// then filling in the defaults that are already there. The baseline copies the same names
/// and values into a vector of shared strings: their allocations alone.
fn attributes_build(c: &mut Criterion) {
    let wire: Vec<(String, String)> = routed_attributes()
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

    let mut group = c.benchmark_group("attributes_build");
    group.bench_function("baseline", |b| {
        b.iter(|| {
            black_box(&wire)
                .iter()
                .map(|(name, value)| {
                    (
                        Arc::<str>::from(name.as_str()),
                        Arc::<str>::from(value.as_str()),
                    )
                })
                .collect::<Vec<_>>()
        });
    });
    group.bench_function("insert_7_fill_defaults", |b| {
        b.iter(|| {
            let mut attributes = Attributes::new();
            for (name, value) in black_box(&wire) {
                attributes
                    .insert(name, value.as_str())
                    .expect("a valid attribute");
            }
            attributes.fill_defaults();
            attributes
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    message_clone,
    attributes_read,
    attributes_cow,
    attributes_build
);
criterion_main!(benches);
