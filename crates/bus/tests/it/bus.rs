//! The `Bus` facade: request/reply through endpoints and subscribers, timeouts,
//! cancellation, late responses, notifications, events, configuration and closing.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use switchyard_bus::{
    Bus, BusConfig, BusConfigError, REPLY_INBOX,
    endpoint::{CircuitState, Endpoint, EndpointConfig},
    kind::{KIND_ATTRIBUTE, MessageKind, REPLY_TO_ATTRIBUTE},
    pubsub::{SlowConsumerPolicy, SubscribeOptions},
    request::RequestError,
};
use switchyard_core::{Error, Message, handler_fn};

const DEADLINE: Duration = Duration::from_secs(10);

fn bus() -> Bus {
    Bus::new(BusConfig::default()).unwrap()
}

fn upper() -> Endpoint {
    let handler = handler_fn(|m: Message| async move {
        let text = String::from_utf8_lossy(m.payload()).to_uppercase();
        Ok(vec![Message::new(text)])
    });
    Endpoint::new("upper", "text.*", Arc::new(handler))
}

#[tokio::test]
async fn requests_are_answered_by_an_endpoint() {
    let bus = bus();
    bus.endpoints().register(upper()).unwrap();
    let reply = bus
        .request("text.shout", Message::new("hi"), DEADLINE)
        .await
        .unwrap();
    assert_eq!(reply.payload(), "HI");
    assert_eq!(MessageKind::of(&reply), MessageKind::Response);
    assert!(reply.attributes().correlation_id().is_some());
    let stats = bus.request_stats();
    assert_eq!((stats.pending, stats.resolved), (0, 1));
    bus.close(DEADLINE).await.unwrap();
}

/// Requests `time.now`, which a subscriber answers, as no endpoint routes it; then closes
/// the bus.
async fn a_subscriber_answers_the_time(bus: Bus) {
    let mut requests = bus.subscribe("time.now").unwrap();
    let responder = {
        let bus = bus.clone();
        tokio::spawn(async move {
            let request = requests.next().await.unwrap().unwrap();
            assert_eq!(MessageKind::of(&request), MessageKind::Request);
            assert_eq!(
                request.attributes().get(REPLY_TO_ATTRIBUTE),
                Some(REPLY_INBOX)
            );
            bus.respond(&request, Message::new("noon")).await.unwrap();
            request.ack();
        })
    };
    let reply = bus
        .request("time.now", Message::new("?"), DEADLINE)
        .await
        .unwrap();
    assert_eq!(reply.payload(), "noon");
    tokio::time::timeout(DEADLINE, responder)
        .await
        .unwrap()
        .unwrap();
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn requests_without_a_time_limit_get_their_response() {
    // `Duration::MAX`, given to `request` or as the `correlation_timeout` of `call`, used
    // to overflow the deadline and panic the caller.
    let config = BusConfig::builder()
        .correlation_timeout(Duration::MAX)
        .build()
        .unwrap();
    let bus = Bus::new(config).unwrap();
    let mut requests = bus.subscribe("svc").unwrap();
    let responder = bus.clone();
    let answer = async move {
        for _ in 0..2 {
            let request = requests.next().await.unwrap().unwrap();
            responder
                .respond(&request, Message::new("pong"))
                .await
                .unwrap();
            request.ack();
        }
    };
    let ask = async {
        let request = bus.request("svc", Message::new("ping"), Duration::MAX);
        let reply = request.await.expect("a response to request");
        assert_eq!(reply.payload(), "pong");
        let reply = bus.call("svc", Message::new("ping")).await;
        assert_eq!(reply.expect("a response to call").payload(), "pong");
    };
    tokio::time::timeout(DEADLINE, futures::future::join(ask, answer))
        .await
        .expect("answered before the deadline");
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_that_hangs_past_request_timeouts_opens_its_circuit() {
    // A request's timeout ends the endpoint's call as a failure: a hanging endpoint used
    // to count as neither success nor failure, and its circuit never opened.
    let endpoints = EndpointConfig::builder()
        .consecutive_failures(2)
        .build()
        .unwrap();
    let bus = Bus::new(BusConfig::builder().endpoints(endpoints).build().unwrap()).unwrap();
    let hangs = handler_fn(|_request: Message| std::future::pending());
    bus.endpoints()
        .register(Endpoint::new("stuck", "svc.*", Arc::new(hangs)))
        .unwrap();
    for _ in 0..2 {
        let err = bus
            .request("svc.call", Message::new("?"), Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(matches!(err, RequestError::Timeout { .. }), "{err}");
    }
    let stuck = bus.endpoints().endpoint("stuck").unwrap();
    assert_eq!((stuck.failures, stuck.in_flight), (2, 0));
    assert_eq!(stuck.circuit, CircuitState::Open);

    // Refused at once now, without waiting out the timeout.
    let started = tokio::time::Instant::now();
    let err = bus
        .request("svc.call", Message::new("?"), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Delivery(_)), "{err}");
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn requests_without_an_endpoint_go_to_subscribers_that_respond() {
    a_subscriber_answers_the_time(bus()).await;
}

#[tokio::test]
async fn a_request_on_a_topic_without_an_endpoint_goes_to_subscribers_when_others_have_one() {
    let bus = bus();
    bus.endpoints().register(upper()).unwrap();
    a_subscriber_answers_the_time(bus).await;
}

#[tokio::test(start_paused = true)]
async fn unanswered_requests_time_out_and_leave_nothing_pending() {
    let bus = bus();
    let _silent = bus.subscribe("void").unwrap();
    let err = bus
        .request("void", Message::new("x"), Duration::from_millis(250))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Timeout { after } if after == Duration::from_millis(250)),
        "{err}"
    );
    assert!(err.is_transient());
    let stats = bus.request_stats();
    assert_eq!((stats.pending, stats.timed_out), (0, 1));
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_held_back_by_a_full_queue_times_out_and_leaves_nothing_pending() {
    let bus = bus();
    let options = SubscribeOptions::builder()
        .buffer(1)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    // Nobody reads: the first message fills the queue, and the request waits for room.
    let mut jammed = bus.subscribe_with("jam", options).unwrap();
    bus.pubsub()
        .publish("jam", Message::new("first"))
        .await
        .unwrap();
    let err = bus
        .request("jam", Message::new("x"), Duration::from_millis(250))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Timeout { after } if after == Duration::from_millis(250)),
        "{err}"
    );
    assert_eq!(bus.request_stats().pending, 0);
    // The request never got into the queue: it timed out waiting for room.
    let first = jammed.next().await.unwrap().unwrap();
    assert_eq!(first.payload(), "first");
    first.ack();
    let nothing = tokio::time::timeout(Duration::from_secs(1), jammed.next()).await;
    assert!(nothing.is_err(), "the request was queued after all");
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_slow_endpoint_times_the_request_out() {
    let bus = bus();
    let slow = handler_fn(|_m: Message| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(vec![Message::new("too late")])
    });
    bus.endpoints()
        .register(Endpoint::new("slow", "slow", Arc::new(slow)))
        .unwrap();
    let err = bus
        .request("slow", Message::new("x"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Timeout { .. }), "{err}");
    assert_eq!(bus.request_stats().pending, 0);
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test]
async fn cancelled_requests_leave_nothing_pending_and_late_answers_are_counted() {
    let bus = bus();
    let mut requests = bus.subscribe("late").unwrap();
    let request = {
        let mut call = Box::pin(bus.request("late", Message::new("x"), DEADLINE));
        assert!(futures::poll!(&mut call).is_pending());
        let request = tokio::time::timeout(DEADLINE, requests.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(bus.request_stats().pending, 1);
        drop(call);
        request
    };
    assert_eq!(bus.request_stats().pending, 0);
    bus.respond(&request, Message::new("late answer"))
        .await
        .unwrap();
    assert_eq!(bus.request_stats().late, 1);
    request.ack();
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test]
async fn responding_needs_a_correlation_id() {
    let bus = bus();
    let err = bus
        .respond(&Message::new("not a request"), Message::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::MissingCorrelationId { .. }),
        "{err}"
    );
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test]
async fn endpoint_failures_are_delivery_errors() {
    let bus = bus();
    let failing = handler_fn(|_m: Message| async { Err(Error::permanent_handler("bad input")) });
    bus.endpoints()
        .register(Endpoint::new("failing", "fail", Arc::new(failing)))
        .unwrap();
    let err = bus
        .request("fail", Message::new("x"), DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Delivery(_)), "{err}");
    assert!(!err.is_transient());
    assert_eq!(bus.request_stats().pending, 0);
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test]
async fn notifications_reach_every_matching_endpoint_and_events_every_subscriber() {
    let bus = bus();
    for id in ["a", "b"] {
        let handler = handler_fn(|m: Message| async move {
            assert_eq!(MessageKind::of(&m), MessageKind::Notification);
            Ok(vec![])
        });
        bus.endpoints()
            .register(Endpoint::new(id, "audit.**", Arc::new(handler)))
            .unwrap();
    }
    let report = bus.notify("audit.login", Message::new("x")).await;
    assert_eq!(report.delivered(), 2, "{report:?}");

    let mut first = bus.subscribe("news.*").unwrap();
    let mut second = bus.subscribe("news.sport").unwrap();
    bus.publish("news.sport", Message::new("goal"))
        .await
        .unwrap();
    for subscription in [&mut first, &mut second] {
        let event = tokio::time::timeout(DEADLINE, subscription.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(event.attributes().get(KIND_ATTRIBUTE), Some("event"));
        assert!(event.ack());
    }
    bus.close(DEADLINE).await.unwrap();
}

#[tokio::test]
async fn closing_fails_waiting_requests_and_ends_subscriptions() {
    let bus = bus();
    let mut subscription = bus.subscribe("quiet").unwrap();
    let waiting = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request("quiet", Message::new("x"), DEADLINE).await })
    };
    // The request is published before the bus closes: wait for it to arrive.
    let request = tokio::time::timeout(DEADLINE, subscription.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    request.ack();
    bus.close(DEADLINE).await.unwrap();
    bus.close(DEADLINE).await.unwrap();
    let result = tokio::time::timeout(DEADLINE, waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(result, Err(RequestError::Closed)), "{result:?}");
    assert!(
        tokio::time::timeout(DEADLINE, subscription.next())
            .await
            .unwrap()
            .is_none()
    );
    let err = bus.publish("quiet", Message::new("x")).await.unwrap_err();
    assert!(matches!(err, Error::Closed { .. }), "{err}");
    assert!(matches!(
        bus.request("x", Message::new("x"), DEADLINE).await,
        Err(RequestError::Closed)
    ));
}

#[tokio::test]
async fn oversized_messages_are_refused_on_publish() {
    let bus = Bus::new(BusConfig::builder().max_message_bytes(8).build().unwrap()).unwrap();
    let err = bus
        .publish("t", Message::new("123456789"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 8, .. }), "{err}");
    bus.close(DEADLINE).await.unwrap();
}

#[test]
fn configuration_defaults_and_validation() {
    let config = BusConfig::default();
    assert_eq!(
        config.correlation_timeout(),
        BusConfig::DEFAULT_CORRELATION_TIMEOUT
    );
    assert_eq!(
        config.max_pending_requests(),
        BusConfig::DEFAULT_MAX_PENDING_REQUESTS
    );
    assert_eq!(config.batch().max_batch_size(), 100);

    let custom = BusConfig::builder()
        .health_check_interval(Duration::from_secs(1))
        .max_concurrent_deliveries(7)
        .batch_size(3)
        .build()
        .unwrap();
    assert_eq!(
        custom.endpoints().health_check_interval(),
        Duration::from_secs(1)
    );
    assert_eq!(custom.endpoints().max_concurrent_deliveries(), 7);
    assert_eq!(custom.batch().max_batch_size(), 3);

    let zeros = [
        BusConfig::builder()
            .correlation_timeout(Duration::ZERO)
            .build(),
        BusConfig::builder().max_pending_requests(0).build(),
        BusConfig::builder().max_message_bytes(0).build(),
    ];
    for result in zeros {
        assert!(
            matches!(result, Err(BusConfigError::Zero { .. })),
            "{result:?}"
        );
    }
    assert!(matches!(
        BusConfig::builder().batch_size(0).build(),
        Err(BusConfigError::Batch(_))
    ));
    assert!(matches!(
        BusConfig::builder().max_concurrent_deliveries(0).build(),
        Err(BusConfigError::Endpoints(_))
    ));
    let conflict = BusConfig::builder()
        .batch_size(5)
        .batch(*BusConfig::default().batch())
        .build();
    assert!(
        matches!(conflict, Err(BusConfigError::Conflict { .. })),
        "{conflict:?}"
    );
}

#[test]
fn a_bus_needs_a_runtime() {
    assert!(Bus::new(BusConfig::default()).is_err());
}

/// Second reading: a request whose endpoint hangs past the timeout returns `Timeout`, but
/// it is not counted in `request_stats().timed_out`, unlike a request answered by no one
/// through a subscriber (see `unanswered_requests_time_out_and_leave_nothing_pending`).
#[tokio::test(start_paused = true)]
async fn a_request_timed_out_by_a_hanging_endpoint_is_counted_as_timed_out() {
    let bus = bus();
    let hangs = handler_fn(|_request: Message| std::future::pending());
    bus.endpoints()
        .register(Endpoint::new("stuck", "svc.*", Arc::new(hangs)))
        .unwrap();
    let err = tokio::time::timeout(
        DEADLINE,
        bus.request("svc.call", Message::new("?"), Duration::from_millis(100)),
    )
    .await
    .expect("the request ends at its timeout")
    .unwrap_err();
    assert!(matches!(err, RequestError::Timeout { .. }), "{err}");
    let stats = bus.request_stats();
    assert_eq!((stats.pending, stats.timed_out), (0, 1), "{stats:?}");
}

/// Second reading: an endpoint may answer with `respond` rather than return its answer.
/// One that answers at once and then goes on working past the request's timeout has its
/// call ended as `TimedOut`: the request returns `Timeout` and drops the response that
/// came in time (counted as resolved), and the endpoint is charged a failure.
#[tokio::test(start_paused = true)]
async fn a_response_sent_in_time_by_an_endpoint_still_working_is_returned() {
    let bus = bus();
    let responder = bus.clone();
    let answers_then_works = handler_fn(move |request: Message| {
        let bus = responder.clone();
        async move {
            bus.respond(&request, Message::new("done"))
                .await
                .expect("the response is handed over");
            // Clean-up work that outlasts the caller's timeout.
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(Vec::new())
        }
    });
    bus.endpoints()
        .register(Endpoint::new("slow", "svc.*", Arc::new(answers_then_works)))
        .unwrap();
    let answer = tokio::time::timeout(
        DEADLINE,
        bus.request("svc.call", Message::new("?"), Duration::from_millis(100)),
    )
    .await
    .expect("the request ends at its timeout");
    let stats = bus.request_stats();
    let slow = bus.endpoints().endpoint("slow").unwrap();
    assert!(
        answer.is_ok(),
        "{answer:?}; resolved {}, timed out {}, endpoint failures {}",
        stats.resolved,
        stats.timed_out,
        slow.failures
    );
}
