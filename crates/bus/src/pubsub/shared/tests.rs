//! Unit tests of [`Shared`] that need its insides: states that only another thread's
//! timing reaches through the public API.

use bytes::Bytes;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use switchyard_core::Attributes;

use super::*;

/// The bus's task takes a due redelivery and, before it places it, another thread closes
/// the bus: the placement fails because of the close, not because the subscription left,
/// and the metric says so. (It used to say `unsubscribed`.)
#[tokio::test]
async fn a_redelivery_that_finds_the_bus_closed_is_discarded_as_closed() {
    let shared = Shared::start(PubSubConfig::default());
    let subscription = shared.subscribe("t", &SubscribeOptions::default()).unwrap();
    let [member] = <[Arc<Member>; 1]>::try_from(shared.registry().members()).unwrap();
    // The slot the nacked delivery held.
    assert!(member.try_acquire_slot());
    let redelivery = Redelivery {
        origin: Arc::clone(&member),
        entry: Entry::single(Bytes::from_static(b"m"), Attributes::new(), 1),
    };

    shared.shutdown();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || shared.redeliver(redelivery));

    let counted: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<_> = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect();
    assert_eq!(
        counted,
        [(
            "switchyard_bus_pubsub_dropped_total".to_owned(),
            vec!["reason=closed".to_owned()],
            DebugValue::Counter(1)
        )]
    );
    assert_eq!(shared.snapshot().stats.discarded, 1);
    assert_eq!(member.in_flight(), 0, "the slot is given back");
    drop(subscription);
}
