//! Benchmarks of `switchyard-core`: what it costs to clone a message for fan-out.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use switchyard_core::Message;

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

criterion_group!(benches, message_clone);
criterion_main!(benches);
