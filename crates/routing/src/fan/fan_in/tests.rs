//! Unit tests of `FanIn`: both modes, ending, cancellation, pull-only backpressure and the
//! builder's checks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{
    StreamExt,
    stream::{self, BoxStream, FusedStream},
};
use tokio_util::sync::CancellationToken;

use super::{FanIn, FanInMode};
use crate::fan::BuildError;

/// Deadline for anything that could hang: a hang fails the test instead.
const DEADLINE: Duration = Duration::from_secs(5);

const MODES: [FanInMode; 2] = [FanInMode::Concurrent, FanInMode::RoundRobin];

/// Collects the whole output as `(input, item)` pairs, failing on a hang.
async fn collect<T>(fan_in: FanIn<T>) -> Vec<(String, T)> {
    tokio::time::timeout(
        DEADLINE,
        fan_in
            .map(|tagged| (tagged.input.to_string(), tagged.item))
            .collect(),
    )
    .await
    .expect("the fan-in ends")
}

/// The items of `input`, in output order.
fn items_of<T: Clone>(output: &[(String, T)], input: &str) -> Vec<T> {
    output
        .iter()
        .filter(|(name, _)| name == input)
        .map(|(_, item)| item.clone())
        .collect()
}

#[tokio::test]
async fn every_item_arrives_tagged_and_in_input_order_in_both_modes() {
    for mode in MODES {
        let fan_in = FanIn::builder()
            .mode(mode)
            .input("a", stream::iter(0..50))
            .input("b", stream::iter(100..130))
            .input("empty", stream::empty())
            .input("c", stream::iter([7]))
            .build()
            .expect("valid");
        let output = collect(fan_in).await;
        assert_eq!(output.len(), 81, "{mode:?}");
        assert_eq!(
            items_of(&output, "a"),
            (0..50).collect::<Vec<_>>(),
            "{mode:?}"
        );
        assert_eq!(
            items_of(&output, "b"),
            (100..130).collect::<Vec<_>>(),
            "{mode:?}"
        );
        assert_eq!(items_of(&output, "c"), [7], "{mode:?}");
    }
}

#[tokio::test]
async fn round_robin_alternates_between_always_ready_inputs() {
    let fan_in = FanIn::builder()
        .mode(FanInMode::RoundRobin)
        .input("a", stream::repeat('a').take(4))
        .input("b", stream::repeat('b').take(4))
        .build()
        .expect("valid");
    let order: String = collect(fan_in).await.into_iter().map(|(_, c)| c).collect();
    assert_eq!(order, "abababab");
}

#[tokio::test]
async fn round_robin_keeps_rotating_when_inputs_end_unevenly() {
    let fan_in = FanIn::builder()
        .mode(FanInMode::RoundRobin)
        .input("a", stream::iter(["a1", "a2", "a3", "a4"]))
        .input("b", stream::iter(["b1"]))
        .input("c", stream::iter(["c1", "c2"]))
        .build()
        .expect("valid");
    let order: Vec<&str> = collect(fan_in).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(order, ["a1", "b1", "c1", "a2", "c2", "a3", "a4"]);
}

#[tokio::test]
async fn round_robin_serves_ready_inputs_past_a_silent_one() {
    let mut fan_in = FanIn::builder()
        .mode(FanInMode::RoundRobin)
        .input("silent", stream::pending::<u32>())
        .input("busy", stream::iter([1, 2, 3]))
        .build()
        .expect("valid");
    for expected in [1, 2, 3] {
        let tagged = tokio::time::timeout(DEADLINE, fan_in.next())
            .await
            .expect("a ready item is not held up by a silent input")
            .expect("not ended");
        assert_eq!((&*tagged.input, tagged.item), ("busy", expected));
    }
    // The silent input is still open: the output waits instead of ending.
    assert!(futures::poll!(fan_in.next()).is_pending());
    assert_eq!(fan_in.open_inputs(), 1);
    assert_eq!(fan_in.open_input_names(), [Arc::from("silent")]);
}

#[tokio::test]
async fn the_output_ends_when_every_input_ended_and_stays_ended() {
    for mode in MODES {
        let mut fan_in = FanIn::builder()
            .mode(mode)
            .input("a", stream::iter([1]))
            .input("b", stream::iter([2]))
            .build()
            .expect("valid");
        assert_eq!(fan_in.open_inputs(), 2);
        let mut seen = Vec::new();
        while let Some(tagged) = tokio::time::timeout(DEADLINE, fan_in.next())
            .await
            .expect("ends")
        {
            seen.push(tagged.item);
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2], "{mode:?}");
        assert!(fan_in.is_terminated(), "{mode:?}");
        assert_eq!(fan_in.open_inputs(), 0, "{mode:?}");
        assert_eq!(fan_in.next().await, None, "{mode:?}: fused");
    }
}

#[tokio::test]
async fn no_input_at_all_ends_at_once() {
    for mode in MODES {
        let fan_in = FanIn::<u8>::builder().mode(mode).build().expect("valid");
        assert!(collect(fan_in).await.is_empty(), "{mode:?}");
    }
}

#[tokio::test]
async fn cancellation_ends_a_waiting_output_and_drops_the_inputs() {
    for mode in MODES {
        let token = CancellationToken::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(dropped.clone());
        // An input that never yields and counts when it is dropped.
        let silent = stream::pending::<u32>().map(move |item| {
            let _keep = &guard;
            item
        });
        let mut fan_in = FanIn::builder()
            .mode(mode)
            .input("silent", silent)
            .cancel_on(token.clone())
            .build()
            .expect("valid");
        let consumer = tokio::spawn(async move {
            let next = fan_in.next().await;
            (next.is_none(), fan_in.is_terminated())
        });
        // Let the consumer reach the point where it waits.
        tokio::task::yield_now().await;
        token.cancel();
        let (ended, terminated) = tokio::time::timeout(DEADLINE, consumer)
            .await
            .expect("cancellation wakes the consumer")
            .expect("consumer did not panic");
        assert!(ended && terminated, "{mode:?}");
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "{mode:?}: input dropped");
    }
}

#[tokio::test]
async fn cancellation_wins_over_ready_items() {
    for mode in MODES {
        let token = CancellationToken::new();
        let mut fan_in = FanIn::builder()
            .mode(mode)
            .input("endless", stream::repeat(1u8))
            .cancel_on(token.clone())
            .build()
            .expect("valid");
        assert!(fan_in.next().await.is_some(), "{mode:?}");
        token.cancel();
        assert_eq!(fan_in.next().await, None, "{mode:?}");
    }
}

#[tokio::test]
async fn items_are_pulled_only_when_the_consumer_asks() {
    for mode in MODES {
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut fan_in = FanIn::builder()
            .mode(mode)
            .input("a", counted(0..100, pulled.clone()))
            .input("b", counted(0..100, pulled.clone()))
            .build()
            .expect("valid");
        assert_eq!(
            pulled.load(Ordering::SeqCst),
            0,
            "{mode:?}: nothing before a poll"
        );
        for _ in 0..3 {
            assert!(fan_in.next().await.is_some());
        }
        assert_eq!(pulled.load(Ordering::SeqCst), 3, "{mode:?}: no read-ahead");
    }
}

#[test]
fn duplicate_and_empty_input_names_are_rejected() {
    let err = FanIn::builder()
        .input("a", stream::empty::<u8>())
        .input("b", stream::empty())
        .input("a", stream::empty())
        .build()
        .expect_err("duplicate");
    assert_eq!(err, BuildError::DuplicateInput { name: "a".into() });

    let err = FanIn::builder()
        .input("", stream::empty::<u8>())
        .build()
        .expect_err("empty name");
    assert_eq!(err, BuildError::EmptyName { what: "input" });
}

/// Counts in `pulled` every item taken from `items`.
fn counted<T: Send + 'static>(
    items: impl Iterator<Item = T> + Send + 'static,
    pulled: Arc<AtomicUsize>,
) -> BoxStream<'static, T> {
    stream::iter(items)
        .inspect(move |_| {
            pulled.fetch_add(1, Ordering::SeqCst);
        })
        .boxed()
}

/// Counts its own drop.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
