//! Tests of registration, freezing, matching, concurrent execution, failures and metrics.

use std::{sync::Arc, time::Duration};

use switchyard_core::{Error, Message, handler_fn};
use tokio::sync::Barrier;

use super::*;

const EVENT: MessageCategory = MessageCategory::Event;
const COMMAND: MessageCategory = MessageCategory::Command;
const NO_TYPES: [&str; 0] = [];

/// A dispatcher that answers with one message carrying its name.
fn answering(name: &'static str) -> impl Handler + 'static {
    handler_fn(move |_m: Message| async move { Ok(vec![Message::new(name)]) })
}

fn typed(message_type: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .build()
        .unwrap()
}

fn payloads(result: &DispatchResult) -> Vec<String> {
    result
        .outputs
        .iter()
        .map(|m| String::from_utf8(m.payload().to_vec()).unwrap())
        .collect()
}

#[test]
fn convention_parser() {
    let cases = [
        ("dev.user.events.v1", Some(EVENT)),
        ("prod.orders.commands.v12", Some(COMMAND)),
        ("prod.orders.intent.v1", Some(MessageCategory::Intent)),
        ("prod.orders.queries.v1", Some(MessageCategory::Query)),
        ("prod.orders.events", None),
        ("prod.orders.events.1", None),
        ("prod.orders.events.v", None),
        ("prod.orders.audits.v1", None),
        ("a.b.events.v1.extra", None),
        (".orders.events.v1", None),
        ("", None),
    ];
    for (topic, expected) in cases {
        assert_eq!(ConventionParser.category(topic), expected, "{topic}");
    }
}

#[test]
fn status_predicates_follow_the_design() {
    use DispatchStatus::*;
    // (status, terminal, successful, error, retry)
    let cases = [
        (Success, true, true, false, false),
        (Routed, false, false, false, false),
        (NoDispatcher, true, false, true, false),
        (DispatcherError, true, false, true, false),
        (Timeout, true, false, true, true),
        (InvalidMessage, true, false, true, false),
        (PublishFailed, true, false, true, true),
        (Skipped, true, false, false, false),
    ];
    for (status, terminal, successful, error, retry) in cases {
        assert_eq!(
            (
                status.is_terminal(),
                status.is_successful(),
                status.is_error(),
                status.requires_retry()
            ),
            (terminal, successful, error, retry),
            "{status}"
        );
    }
}

#[test]
fn freeze_validates_the_registry() {
    fn engine_with(route: Route) -> DispatchEngine {
        let mut engine = DispatchEngine::new();
        engine
            .register_dispatcher("users", EVENT, ["UserCreated"], answering("u"))
            .unwrap();
        engine.register_route(route).unwrap();
        engine
    }
    let unknown = engine_with(Route::new("r", "*.user.events.*", EVENT, "nobody")).freeze();
    assert!(
        matches!(unknown, Err(DispatchError::UnknownDispatcher { .. })),
        "{unknown:?}"
    );
    let category = engine_with(Route::new("r", "*.user.commands.*", COMMAND, "users")).freeze();
    assert!(
        matches!(category, Err(DispatchError::CategoryMismatch { .. })),
        "{category:?}"
    );
    let message_type =
        engine_with(Route::new("r", "*.user.events.*", EVENT, "users").message_type("Other"))
            .freeze();
    assert!(
        matches!(message_type, Err(DispatchError::TypeMismatch { .. })),
        "{message_type:?}"
    );
    let pattern = engine_with(Route::new("r", "dev..events", EVENT, "users")).freeze();
    assert!(
        matches!(pattern, Err(DispatchError::InvalidPattern { .. })),
        "{pattern:?}"
    );
    assert!(
        engine_with(Route::new("r", "*.user.events.*", EVENT, "users"))
            .freeze()
            .is_ok()
    );
}

#[test]
fn duplicates_and_registration_after_freeze_are_errors() {
    let mut engine = DispatchEngine::new();
    engine
        .register_dispatcher("d", EVENT, NO_TYPES, answering("d"))
        .unwrap();
    let dup = engine.register_dispatcher("d", EVENT, NO_TYPES, answering("d"));
    assert!(matches!(dup, Err(DispatchError::DuplicateDispatcher(ref id)) if id == "d"));
    engine
        .register_route(Route::new("r", "**", EVENT, "d"))
        .unwrap();
    let dup = engine.register_route(Route::new("r", "**", EVENT, "d"));
    assert!(matches!(dup, Err(DispatchError::DuplicateRoute(ref id)) if id == "r"));

    engine.freeze().unwrap();
    assert!(engine.is_frozen());
    assert!(matches!(
        engine.register_route(Route::new("r2", "**", EVENT, "d")),
        Err(DispatchError::Frozen)
    ));
    assert!(matches!(
        engine.register_dispatcher("e", EVENT, NO_TYPES, answering("e")),
        Err(DispatchError::Frozen)
    ));
    assert!(matches!(engine.freeze(), Err(DispatchError::Frozen)));
}

#[tokio::test]
async fn dispatch_before_freeze_is_an_error() {
    let engine = DispatchEngine::new();
    let err = engine
        .dispatch("dev.user.events.v1", &typed("X"))
        .await
        .unwrap_err();
    assert!(matches!(err, DispatchError::NotFrozen));
    assert!(engine.metrics().is_none());
}

/// An engine with three dispatchers and routes that exercise every filter.
fn sample_engine() -> DispatchEngine {
    let mut engine = DispatchEngine::new();
    engine
        .register_dispatcher("created", EVENT, ["UserCreated"], answering("created"))
        .unwrap();
    engine
        .register_dispatcher("all-users", EVENT, NO_TYPES, answering("all-users"))
        .unwrap();
    engine
        .register_dispatcher("audit", EVENT, NO_TYPES, answering("audit"))
        .unwrap();
    engine
        .register_dispatcher("commands", COMMAND, NO_TYPES, answering("commands"))
        .unwrap();
    let routes = [
        Route::new("created", "*.user.events.*", EVENT, "created").message_type("UserCreated"),
        Route::new("users", "*.user.events.*", EVENT, "all-users"),
        Route::new("audit-prod", "prod.**", EVENT, "audit"),
        Route::new("audit-again", "prod.user.**", EVENT, "audit"),
        Route::new("off", "**", EVENT, "audit").disabled(),
        Route::new("commands", "*.*.commands.*", COMMAND, "commands"),
    ];
    for route in routes {
        engine.register_route(route).unwrap();
    }
    engine.freeze().unwrap();
    engine
}

#[tokio::test]
async fn fans_out_to_every_matching_dispatcher_once_in_route_order() {
    let engine = sample_engine();
    let cases: [(&str, &str, &[&str], DispatchStatus); 6] = [
        (
            "dev.user.events.v1",
            "UserCreated",
            &["created", "all-users"],
            DispatchStatus::Success,
        ),
        (
            "dev.user.events.v1",
            "UserDeleted",
            &["all-users"],
            DispatchStatus::Success,
        ),
        (
            "prod.user.events.v1",
            "UserCreated",
            &["created", "all-users", "audit"],
            DispatchStatus::Success,
        ),
        (
            "prod.billing.events.v1",
            "Paid",
            &["audit"],
            DispatchStatus::Success,
        ),
        (
            "dev.billing.events.v1",
            "Paid",
            &[],
            DispatchStatus::NoDispatcher,
        ),
        (
            "dev.user.commands.v1",
            "CreateUser",
            &["commands"],
            DispatchStatus::Success,
        ),
    ];
    for (topic, message_type, expected, status) in cases {
        let result = engine.dispatch(topic, &typed(message_type)).await.unwrap();
        assert_eq!(payloads(&result), expected, "{topic} {message_type}");
        assert_eq!(result.status, status, "{topic} {message_type}");
        assert_eq!(result.output_count, expected.len());
        assert_eq!(result.message_type.as_deref(), Some(message_type));
    }
}

#[tokio::test]
async fn unparsable_topics_are_invalid_messages() {
    let engine = sample_engine();
    let result = engine
        .dispatch("not-a-convention", &typed("X"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::InvalidMessage);
    assert_eq!(result.error_code, Some(ErrorCode::UnparsableTopic));
    assert!(result.category.is_none());
}

#[tokio::test]
async fn topic_parser_is_pluggable() {
    let mut engine = DispatchEngine::new()
        .with_topic_parser(|topic: &str| topic.ends_with("/cmd").then_some(COMMAND));
    engine
        .register_dispatcher("c", COMMAND, NO_TYPES, answering("c"))
        .unwrap();
    engine
        .register_route(Route::new("r", "**", COMMAND, "c"))
        .unwrap();
    engine.freeze().unwrap();
    let result = engine
        .dispatch("billing/cmd", &typed("Charge"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Success, "{result:?}");
}

#[tokio::test]
async fn dispatchers_run_concurrently() {
    // Each dispatcher waits for the other at a barrier: only concurrent runs get through.
    let barrier = Arc::new(Barrier::new(2));
    let mut engine = DispatchEngine::new().with_timeout(Duration::from_secs(5));
    for id in ["a", "b"] {
        let barrier = barrier.clone();
        let handler = handler_fn(move |_m: Message| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok(vec![])
            }
        });
        engine
            .register_dispatcher(id, EVENT, NO_TYPES, handler)
            .unwrap();
        engine
            .register_route(Route::new(id, "**", EVENT, id))
            .unwrap();
    }
    engine.freeze().unwrap();
    let result = engine
        .dispatch("dev.x.events.v1", &typed("T"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Success, "{result:?}");
}

#[tokio::test]
async fn one_failure_does_not_stop_the_others_and_errors_are_redacted() {
    let mut engine = DispatchEngine::new();
    engine
        .register_dispatcher("ok", EVENT, NO_TYPES, answering("ok"))
        .unwrap();
    let failing = handler_fn(|_m: Message| async {
        Err(Error::permanent_handler(
            "login to postgres://app:hunter2@db failed",
        ))
    });
    engine
        .register_dispatcher("failing", EVENT, NO_TYPES, failing)
        .unwrap();
    let panicking = handler_fn(|_m: Message| async { panic!("token=abc123 was rejected") });
    engine
        .register_dispatcher("panicking", EVENT, NO_TYPES, panicking)
        .unwrap();
    for id in ["failing", "ok", "panicking"] {
        engine
            .register_route(Route::new(id, "**", EVENT, id))
            .unwrap();
    }
    engine.freeze().unwrap();

    let result = engine
        .dispatch("dev.x.events.v1", &typed("T"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::DispatcherError);
    assert_eq!(payloads(&result), ["ok"]);
    assert_eq!(result.error_code, Some(ErrorCode::DispatcherFailed));
    let message = result.error_message.unwrap();
    assert!(
        message.contains("failing:") && message.contains("panicking: panicked"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2") && !message.contains("abc123"),
        "{message}"
    );

    let metrics = engine.metrics().unwrap();
    let errors: Vec<(String, u64, u64)> = metrics
        .dispatchers
        .iter()
        .map(|d| (d.id.clone(), d.executions, d.errors))
        .collect();
    assert_eq!(
        errors,
        [
            ("ok".into(), 1, 0),
            ("failing".into(), 1, 1),
            ("panicking".into(), 1, 1)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn slow_dispatchers_time_out_and_ask_for_a_retry() {
    let mut engine = DispatchEngine::new().with_timeout(Duration::from_secs(1));
    let slow = handler_fn(|_m: Message| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(vec![])
    });
    engine
        .register_dispatcher("slow", EVENT, NO_TYPES, slow)
        .unwrap();
    engine
        .register_route(Route::new("r", "**", EVENT, "slow"))
        .unwrap();
    engine.freeze().unwrap();

    let started = Instant::now();
    let result = engine
        .dispatch("dev.x.events.v1", &typed("T"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Timeout);
    assert!(result.status.requires_retry());
    assert_eq!(result.error_code, Some(ErrorCode::DispatcherTimeout));
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(result.duration, Duration::from_secs(1));
}

#[tokio::test]
async fn blocking_dispatchers_run_off_the_runtime() {
    // On a current-thread runtime, the async dispatcher can only send after the blocking
    // one started waiting if the blocking one runs on another thread.
    let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
    let rx = std::sync::Mutex::new(rx);
    let mut engine = DispatchEngine::new().with_timeout(Duration::from_secs(10));
    engine
        .register_blocking_dispatcher("blocking", EVENT, NO_TYPES, move |_m: &Message| {
            rx.lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10))
                .map_err(Error::permanent_handler)?;
            Ok(vec![Message::new("blocking")])
        })
        .unwrap();
    let sender = handler_fn(move |_m: Message| {
        let tx = tx.clone();
        async move {
            tx.send(()).map_err(Error::permanent_handler)?;
            Ok(vec![Message::new("async")])
        }
    });
    engine
        .register_dispatcher("async", EVENT, NO_TYPES, sender)
        .unwrap();
    engine
        .register_route(Route::new("b", "**", EVENT, "blocking"))
        .unwrap();
    engine
        .register_route(Route::new("a", "**", EVENT, "async"))
        .unwrap();
    engine.freeze().unwrap();

    let result = engine
        .dispatch("dev.x.events.v1", &typed("T"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Success, "{result:?}");
    assert_eq!(payloads(&result), ["blocking", "async"]);
    assert!(engine.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn blocking_panics_are_caught() {
    let mut engine = DispatchEngine::new();
    engine
        .register_blocking_dispatcher(
            "b",
            EVENT,
            NO_TYPES,
            |_m: &Message| -> Result<Vec<Message>, Error> { panic!("boom") },
        )
        .unwrap();
    engine
        .register_route(Route::new("r", "**", EVENT, "b"))
        .unwrap();
    engine.freeze().unwrap();
    let result = engine
        .dispatch("dev.x.events.v1", &typed("T"))
        .await
        .unwrap();
    assert_eq!(result.status, DispatchStatus::DispatcherError);
    assert_eq!(result.error_code, Some(ErrorCode::DispatcherPanicked));
}

#[tokio::test]
async fn result_carries_correlation_and_trace_ids() {
    let engine = sample_engine();
    let message = Message::builder()
        .message_type("UserCreated")
        .correlation_id("c-42")
        .attribute(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .build()
        .unwrap();
    let result = engine
        .dispatch("dev.user.events.v1", &message)
        .await
        .unwrap();
    assert_eq!(result.correlation_id.as_deref(), Some("c-42"));
    assert_eq!(
        result.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(
        uuid::Uuid::parse_str(&result.dispatch_id)
            .unwrap()
            .get_version_num(),
        7
    );

    let bad_trace = Message::builder()
        .message_type("X")
        .attribute("traceparent", "garbage")
        .build()
        .unwrap();
    let result = engine
        .dispatch("dev.user.events.v1", &bad_trace)
        .await
        .unwrap();
    assert_eq!(result.trace_id, None);
}

#[tokio::test]
async fn metrics_snapshot_counts_dispatches() {
    let engine = sample_engine();
    for _ in 0..3 {
        engine
            .dispatch("dev.user.events.v1", &typed("UserCreated"))
            .await
            .unwrap();
    }
    engine
        .dispatch("dev.billing.events.v1", &typed("Paid"))
        .await
        .unwrap();
    let metrics = engine.metrics().unwrap();
    assert_eq!((metrics.dispatches, metrics.successes), (4, 3));
    assert!((metrics.success_rate - 0.75).abs() < 1e-9);
    assert!(metrics.latency_p99 >= metrics.latency_p50);
    let created = metrics
        .dispatchers
        .iter()
        .find(|d| d.id == "created")
        .unwrap();
    assert_eq!(
        (created.executions, created.errors, created.error_rate),
        (3, 0, 0.0)
    );
}

/// Second reading: a blocking dispatcher that hangs (a database call without a timeout)
/// times out every dispatch, but each timed-out dispatch leaves its blocking thread running:
/// nothing bounded how many pile up, so a steady stream of messages exhausted tokio's
/// blocking pool (512 threads, then an unbounded queue) for the whole process. Past the
/// engine's limit, the dispatch is refused at once, transiently, without starting a run.
#[tokio::test(start_paused = true)]
async fn timed_out_blocking_dispatches_do_not_pile_up_without_bound() {
    use std::sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    };

    let running = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let mut engine = DispatchEngine::new()
        .with_timeout(Duration::from_secs(1))
        .with_max_blocking_runs(1);
    {
        let running = running.clone();
        let started_tx = Mutex::new(started_tx);
        engine
            .register_blocking_dispatcher("hung", EVENT, NO_TYPES, move |_m: &Message| {
                running.fetch_add(1, Ordering::SeqCst);
                started_tx.lock().unwrap().send(()).unwrap();
                // Hangs until the test lets go (a closed channel ends the wait too).
                let _ = release_rx
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv_timeout(Duration::from_secs(30));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![])
            })
            .unwrap();
    }
    engine
        .register_route(Route::new("r", "**", EVENT, "hung"))
        .unwrap();
    engine.freeze().unwrap();
    // Set after the freeze, a limit changes nothing: the refusals below still name 1.
    let engine = Arc::new(engine.with_max_blocking_runs(5));
    let dispatch = || {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .dispatch("dev.user.events.v1", &Message::new("m"))
                .await
                .unwrap()
        })
    };

    // The first run starts, hangs, and times out; its thread goes on.
    let first = dispatch();
    tokio::task::yield_now().await;
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    tokio::time::advance(Duration::from_secs(2)).await;
    let result = tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("dispatch hung")
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Timeout);
    assert_eq!(result.error_code, Some(ErrorCode::DispatcherTimeout));

    // The next ones are refused at once, transiently, without starting a run.
    for _ in 0..3 {
        let result = tokio::time::timeout(Duration::from_secs(10), dispatch())
            .await
            .expect("a refusal does not wait")
            .unwrap();
        assert_eq!(result.status, DispatchStatus::Timeout);
        assert!(result.status.requires_retry());
        assert_eq!(result.error_code, Some(ErrorCode::TooManyBlockingRuns));
        assert!(
            result
                .error_message
                .as_deref()
                .is_some_and(|m| m.contains("hung: not started: 1 blocking run")),
            "{:?}",
            result.error_message
        );
    }
    assert!(started_rx.try_recv().is_err(), "a refused run started");
    assert_eq!(running.load(Ordering::SeqCst), 1);
    let snapshot = engine.metrics().unwrap();
    assert_eq!(snapshot.dispatchers[0].errors, 4);

    // Shutdown still waits for the run that outlived its dispatch; once it returned, its
    // place is free again.
    drop(release_tx);
    assert!(engine.shutdown(Duration::from_secs(10)).await);
    assert_eq!(running.load(Ordering::SeqCst), 0);
    let result = tokio::time::timeout(Duration::from_secs(10), dispatch())
        .await
        .expect("dispatch hung")
        .unwrap();
    assert_eq!(result.status, DispatchStatus::Success);
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
}

#[test]
fn the_limit_of_blocking_runs_is_checked_on_freeze() {
    let check = |max: usize, valid: bool| {
        let mut engine = DispatchEngine::new().with_max_blocking_runs(max);
        let outcome = engine.freeze();
        assert_eq!(outcome.is_ok(), valid, "{max}: {outcome:?}");
        if let Err(err) = outcome {
            assert!(matches!(
                err,
                DispatchError::OutOfRange {
                    setting: "max_blocking_runs",
                    ..
                }
            ));
        }
    };
    check(0, false);
    check(1, true);
    check(DispatchEngine::DEFAULT_MAX_BLOCKING_RUNS, true);
    check(DispatchEngine::MAX_BLOCKING_RUNS, true);
    check(DispatchEngine::MAX_BLOCKING_RUNS + 1, false);
}
