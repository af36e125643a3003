//! The internal loop: with every buffer at 1 it completes or dead-letters and never hangs,
//! with counts that add up exactly; cycles end at the hop limit; a failure deep in the loop
//! reaches the root.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use switchyard_core::{Error, Handler, Message, NackCause, handler_fn};
use switchyard_engine::{Engine, EngineBuilder, HOPS_ATTRIBUTE, RouterOptions};
use switchyard_routing::{fan::DEAD_LETTER_REASON, router::Router};

use super::support::{
    Behaviour, ChannelSubscriber, Outcome, RecordingPublisher, Rig, attr, typed, within,
};

/// How deep the tree goes: a message at depth d < DEPTH emits two loop messages at d + 1.
const DEPTH: usize = 4;
/// Root messages.
const ROOTS: usize = 16;

fn depth_of(message: &Message) -> usize {
    attr(message, "depth")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// Every buffer of the engine at its smallest.
fn all_ones() -> EngineBuilder {
    Engine::builder().workers(1).worker_queue(1).loop_buffer(1)
}

/// A router whose handler counts each message by depth and emits two deeper loop messages,
/// or, at the bottom, one message to `mem://out`.
fn binary_tree(handled: Arc<[AtomicU64; DEPTH + 1]>) -> Router {
    let handler = handler_fn(move |message: Message| {
        let handled = handled.clone();
        async move {
            let depth = depth_of(&message);
            handled[depth].fetch_add(1, Ordering::SeqCst);
            let next = |destination: &str, depth: usize| {
                Message::builder()
                    .message_type("tree.node")
                    .destination(destination)
                    .attribute("depth", depth.to_string())
                    .build()
            };
            if depth < DEPTH {
                Ok(vec![
                    next("loop://tree", depth + 1)?,
                    next("loop://tree", depth + 1)?,
                ])
            } else {
                Ok(vec![next("mem://out", depth)?])
            }
        }
    });
    Router::builder()
        .handle("tree.node", handler)
        .unwrap()
        .build()
}

/// Runs the tree and checks the counts; returns how many loop messages overflowed.
async fn check_binary_tree_with_every_buffer_at_one() -> usize {
    let handled = Arc::new(std::array::from_fn::<_, { DEPTH + 1 }, _>(|_| {
        AtomicU64::new(0)
    }));
    let rig = Rig::for_source(
        all_ones(),
        "tree",
        binary_tree(handled.clone()),
        RecordingPublisher::new(),
    )
    .start()
    .await;
    for _ in 0..ROOTS {
        rig.feeder.send(typed("tree.node")).await;
    }
    // The deadline is what turns a deadlock into a failure.
    rig.feeder.log.settled(ROOTS).await;
    let report = within("stop", rig.engine.stop(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(report.quiescent);

    assert_eq!(
        rig.feeder.log.count(|o| o == Outcome::Acked),
        ROOTS,
        "every root acked"
    );
    let handled: Vec<u64> = handled.iter().map(|h| h.load(Ordering::SeqCst)).collect();
    let dead = rig.dead_letters();
    let mut overflowed = [0u64; DEPTH + 1];
    for message in &dead {
        assert_eq!(attr(message, DEAD_LETTER_REASON), Some("loop-overflow"));
        overflowed[depth_of(message)] += 1;
    }
    assert_eq!(handled[0], ROOTS as u64);
    for depth in 0..DEPTH {
        assert_eq!(
            2 * handled[depth],
            handled[depth + 1] + overflowed[depth + 1],
            "every loop message at depth {} was handled or dead-lettered: {handled:?} {overflowed:?}",
            depth + 1
        );
    }
    assert_eq!(rig.publisher.on("out").len() as u64, handled[DEPTH]);
    let counts = rig.engine.health().counts;
    assert_eq!(counts.loop_overflows, dead.len() as u64);
    assert_eq!(counts.dead_lettered, dead.len() as u64);
    assert_eq!(
        (counts.received, counts.acked, counts.nacked),
        (ROOTS as u64, ROOTS as u64, 0)
    );
    dead.len()
}

#[tokio::test]
async fn a_binary_tree_with_every_buffer_at_one_never_hangs_on_one_thread() {
    let overflowed = check_binary_tree_with_every_buffer_at_one().await;
    // On one thread the second of two loop outputs always finds the loop of one full.
    assert!(overflowed > 0, "the loop overflowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_tree_with_every_buffer_at_one_never_hangs_on_two_threads() {
    check_binary_tree_with_every_buffer_at_one().await;
}

#[tokio::test]
async fn a_cycle_ends_at_the_hop_limit() {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = calls.clone();
    let ping_pong = handler_fn(move |message: Message| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let next = match message.attributes().message_type() {
                Some("cycle.a") => "cycle.b",
                _ => "cycle.a",
            };
            Ok(vec![
                Message::builder()
                    .message_type(next)
                    .destination("loop://cycle")
                    .build()?,
            ])
        }
    });
    let rig = cycle_rig(ping_pong).await;
    let id = rig.feeder.send(typed("cycle.a")).await;
    assert_eq!(rig.feeder.log.outcome_of(&id).await, Outcome::Acked);
    // Hops 0 (the root) to 5 are handled; the output that would make hop 6 is dead.
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    let dead = rig.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(attr(&dead[0], DEAD_LETTER_REASON), Some("hop-limit"));
    assert_eq!(attr(&dead[0], HOPS_ATTRIBUTE), Some("6"));
    // a (0) → b (1) → a (2) → b (3) → a (4) → b (5) → the `cycle.a` that would be hop 6.
    assert_eq!(dead[0].attributes().message_type(), Some("cycle.a"));
    assert_eq!(rig.engine.health().counts.hop_limited, 1);
}

#[tokio::test]
async fn a_transient_failure_in_the_loop_nacks_the_root() {
    let router = Router::builder()
        .handle(
            "steps.first",
            handler_fn(|_m: Message| async {
                Ok(vec![
                    Message::builder()
                        .message_type("steps.second")
                        .destination("loop://steps")
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .handle(
            "steps.second",
            handler_fn(|_m: Message| async {
                Err::<Vec<Message>, _>(Error::transient_handler("not yet"))
            }),
        )
        .unwrap()
        .build();
    let engine = Engine::new();
    let (subscriber, feeder) = ChannelSubscriber::new(4);
    engine.add_subscriber("in", subscriber, "steps").unwrap();
    engine
        .add_router_with("steps", router, RouterOptions::new().workers(2))
        .unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    within("start", engine.start()).await.unwrap();
    let id = feeder.send(typed("steps.first")).await;
    assert_eq!(
        feeder.log.outcome_of(&id).await,
        Outcome::Nacked(NackCause::Explicit),
        "the root is redelivered, so the second step runs again"
    );
}

#[tokio::test]
async fn an_overflowed_output_acks_its_root_only_once_dead_lettered() {
    // Two loop outputs into a loop of one: the second overflows into a dead letter that
    // refuses it, so the root must be nacked even though the first output went through.
    let router = Router::builder()
        .handle(
            "split.start",
            handler_fn(|_m: Message| async {
                let next = || {
                    Message::builder()
                        .message_type("split.leaf")
                        .destination("loop://split")
                        .build()
                };
                Ok(vec![next()?, next()?])
            }),
        )
        .unwrap()
        .handle("split.leaf", handler_fn(|_m: Message| async { Ok(vec![]) }))
        .unwrap()
        .build();
    let publisher = RecordingPublisher::with(Behaviour {
        reject: vec!["dead-letter".to_owned()],
        ..Behaviour::default()
    });
    let rig = Rig::for_source(Engine::builder().loop_buffer(1), "split", router, publisher)
        .start()
        .await;
    let id = rig.feeder.send(typed("split.start")).await;
    assert_eq!(
        rig.feeder.log.outcome_of(&id).await,
        Outcome::Nacked(NackCause::Explicit)
    );
    assert_eq!(rig.engine.health().counts.loop_overflows, 1);
}

#[tokio::test]
async fn a_hops_attribute_from_outside_neither_shortens_nor_lifts_the_limit() {
    // The handler copies its input, attributes included, so a forged count rides along
    // into every loop output: the count passed along must win over it each time.
    for forged in ["0", "5", "4294967295", "99999999999999999999", "-1", "many"] {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let ping_pong = handler_fn(move |message: Message| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let next = match message.attributes().message_type() {
                    Some("cycle.a") => "cycle.b",
                    _ => "cycle.a",
                };
                let mut copy = message.detached();
                copy.attributes_mut().set_type(next)?;
                copy.attributes_mut().set_destination("loop://cycle")?;
                Ok(vec![copy])
            }
        });
        let rig = cycle_rig(ping_pong).await;
        let root = Message::builder()
            .message_type("cycle.a")
            .attribute(HOPS_ATTRIBUTE, forged)
            .build()
            .unwrap();
        let id = rig.feeder.send(root).await;
        assert_eq!(rig.feeder.log.outcome_of(&id).await, Outcome::Acked);
        assert_eq!(calls.load(Ordering::SeqCst), 6, "{forged}");
        let dead = rig.dead_letters();
        assert_eq!(dead.len(), 1, "{forged}");
        assert_eq!(attr(&dead[0], HOPS_ATTRIBUTE), Some("6"), "{forged}");
        assert_eq!(attr(&dead[0], DEAD_LETTER_REASON), Some("hop-limit"));
    }
}

/// A started engine whose `ping_pong` handles both `cycle.a` and `cycle.b` (source
/// `cycle`), with a hop limit of 5.
async fn cycle_rig(ping_pong: impl Handler + Clone + 'static) -> Rig {
    let router = Router::builder()
        .handle("cycle.a", ping_pong.clone())
        .unwrap()
        .handle("cycle.b", ping_pong)
        .unwrap()
        .build();
    Rig::for_source(
        Engine::builder().max_hops(5),
        "cycle",
        router,
        RecordingPublisher::new(),
    )
    .start()
    .await
}
